//! `glidepath history --svg`: the share of traffic on the new version over time, with the
//! health checks, gates, the trouble that started a rollback, and the finish marked, drawn
//! with plotters' SVG backend, to attach to an incident ticket.

use glidepath_aws::ports::HistoryEntry;
use glidepath_core::{Rollout, Status, UnixSeconds};
use plotters::prelude::*;

/// What a transition marks on the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A health check or hook that passed and let the rollout go on.
    Check,
    /// The rollout held: an operator's pause, a manual gate, or canary analysis waiting for
    /// evidence.
    Gate,
    /// What sent it back: an alarm, a failed hook, drift, an abort, a failure.
    Trouble,
    /// It ended with everything on the new version.
    Succeeded,
    /// It ended with everything on the old version.
    RolledBack,
}

impl Mark {
    /// The legend's words.
    pub fn label(self) -> &'static str {
        match self {
            Mark::Check => "health check or hook passed",
            Mark::Gate => "paused, gate or held",
            Mark::Trouble => "rollback started",
            Mark::Succeeded => "succeeded",
            Mark::RolledBack => "rolled back",
        }
    }

    const ALL: [Mark; 5] = [
        Mark::Check,
        Mark::Gate,
        Mark::Trouble,
        Mark::Succeeded,
        Mark::RolledBack,
    ];
}

/// Which mark, if any, each transition gets: by the status it led to first, then by its
/// event. A health check that left the status and weight as they were (canary analysis
/// holding for evidence) is a hold, not a passed check.
pub fn marks(history: &[HistoryEntry]) -> Vec<Option<Mark>> {
    let mut previous: Option<&HistoryEntry> = None;
    history
        .iter()
        .map(|entry| {
            let held =
                previous.is_some_and(|p| p.status == entry.status && p.weight == entry.weight);
            previous = Some(entry);
            match entry.status {
                Status::Succeeded => Some(Mark::Succeeded),
                Status::RolledBack | Status::Failed => Some(Mark::RolledBack),
                Status::RollingBack => Some(Mark::Trouble),
                Status::Paused => Some(Mark::Gate),
                _ if !matches!(entry.event.as_str(), "tick" | "health" | "hook-completed") => None,
                _ if held => Some(Mark::Gate),
                _ => Some(Mark::Check),
            }
        })
        .collect()
}

/// The x axis's unit for a history `span_seconds` long: seconds, minutes or hours, so that a
/// rollout of any length fills the chart. Returns (seconds per unit, the unit's name).
pub fn time_unit(span_seconds: f64) -> (f64, &'static str) {
    if span_seconds <= 180.0 {
        (1.0, "seconds")
    } else if span_seconds <= 3.0 * 3600.0 {
        (60.0, "minutes")
    } else {
        (3600.0, "hours")
    }
}

/// The weight line as (seconds since the first transition, percent) points, drawn as steps:
/// a weight holds until the next transition, and an unfinished rollout's last weight holds
/// until `now`.
pub fn weight_line(
    rollout: &Rollout,
    history: &[HistoryEntry],
    now: UnixSeconds,
) -> Vec<(f64, f64)> {
    let Some(first) = history.first() else {
        return Vec::new();
    };
    let seconds = |at: UnixSeconds| at.saturating_sub(first.at) as f64;
    let mut points: Vec<(f64, f64)> = Vec::new();
    for entry in history {
        let x = seconds(entry.at);
        if let Some(&(_, previous)) = points.last() {
            points.push((x, previous));
        }
        points.push((x, entry.weight.as_percent()));
    }
    if !rollout.status.is_terminal()
        && let Some(&(_, last)) = points.last()
    {
        points.push((seconds(now.max(first.at)), last));
    }
    points
}

/// The chart as an SVG document.
pub fn history_svg(
    rollout: &Rollout,
    history: &[HistoryEntry],
    now: UnixSeconds,
) -> Result<String, String> {
    let seconds = weight_line(rollout, history, now);
    let span = seconds.iter().map(|&(x, _)| x).fold(1.0_f64, f64::max);
    let (unit, unit_name) = time_unit(span);
    let line: Vec<(f64, f64)> = seconds.into_iter().map(|(x, y)| (x / unit, y)).collect();
    let marked = marks(history);
    let end = span / unit;
    let first_at = history.first().map(|h| h.at).unwrap_or(0);
    let spec = &rollout.spec;
    let caption = format!(
        "{}  {}:{}  v{} -> v{}  {}",
        rollout.id,
        spec.function,
        spec.alias,
        spec.current_version,
        spec.target_version,
        rollout.status
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(draw)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end * 1.05, 0.0..105.0)
            .map_err(draw)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .y_labels(11)
            .y_label_formatter(&|percent| format!("{percent:.0}%"))
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 16))
            .x_desc(format!("{unit_name} since the rollout was created"))
            .y_desc("% of traffic on the new version")
            .draw()
            .map_err(draw)?;
        chart
            .draw_series(LineSeries::new(line, BLUE.stroke_width(2)))
            .map_err(draw)?
            .label("weight")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
        for kind in Mark::ALL {
            let points: Vec<(f64, f64)> = history
                .iter()
                .zip(&marked)
                .filter(|(_, mark)| **mark == Some(kind))
                .map(|(entry, _)| {
                    (
                        entry.at.saturating_sub(first_at) as f64 / unit,
                        entry.weight.as_percent(),
                    )
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            let style = style_of(kind);
            let label = kind.label();
            // Each shape is its own element type: one series per mark, the legend drawing the
            // same shape in pixels.
            match kind {
                Mark::Trouble => {
                    chart
                        .draw_series(points.into_iter().map(|p| Cross::new(p, 7, style)))
                        .map_err(draw)?
                        .label(label)
                        .legend(move |(x, y)| Cross::new((x + 8, y), 5, style));
                }
                Mark::Gate => {
                    chart
                        .draw_series(points.into_iter().map(|p| TriangleMarker::new(p, 7, style)))
                        .map_err(draw)?
                        .label(label)
                        .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 5, style));
                }
                Mark::Check | Mark::Succeeded | Mark::RolledBack => {
                    let size = if kind == Mark::Check { 4 } else { 8 };
                    chart
                        .draw_series(points.into_iter().map(|p| Circle::new(p, size, style)))
                        .map_err(draw)?
                        .label(label)
                        .legend(move |(x, y)| Circle::new((x + 8, y), size.min(6), style));
                }
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(draw)?;
        root.present().map_err(draw)?;
    }
    Ok(svg)
}

fn style_of(kind: Mark) -> ShapeStyle {
    match kind {
        Mark::Check => GREEN.mix(0.9).filled(),
        Mark::Gate => RGBColor(128, 128, 128).filled(),
        Mark::Trouble => RED.stroke_width(3),
        Mark::Succeeded => RGBColor(0, 128, 0).filled(),
        Mark::RolledBack => RED.filled(),
    }
}

fn draw<E: std::error::Error + Send + Sync>(
    error: plotters::drawing::DrawingAreaErrorKind<E>,
) -> String {
    format!("could not draw the chart: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use glidepath_core::RolloutRequest;

    fn entry(seq: u64, event: &str, status: Status, weight: u8, at: UnixSeconds) -> HistoryEntry {
        HistoryEntry {
            seq,
            event: event.into(),
            status,
            weight: glidepath_core::Weight::percent(weight),
            at,
            reason: None,
            actor: None,
        }
    }

    fn rollout(status: Status) -> Rollout {
        let request = RolloutRequest::from_json(&serde_json::json!({"function": "orders",
            "alias": "live", "targetVersion": "7", "strategy": "Linear10PercentEvery1Minute"}))
        .expect("a valid request");
        let mut rollout = Rollout::new("r-chart", request.spec("6", "7"), request.plan, 1_000);
        rollout.status = status;
        rollout
    }

    /// A canary that an alarm sent back: created, 10 %, 20 %, breach, back at 0 %.
    fn rolled_back() -> Vec<HistoryEntry> {
        vec![
            entry(0, "create", Status::PreTraffic, 0, 1_000),
            entry(1, "start", Status::Shifting, 10, 1_000),
            entry(2, "tick", Status::Shifting, 20, 1_060),
            entry(3, "breach", Status::RollingBack, 0, 1_090),
            entry(4, "alias-applied", Status::RolledBack, 0, 1_091),
        ]
    }

    #[test]
    fn each_transition_gets_the_mark_of_what_it_led_to() {
        assert_eq!(
            marks(&rolled_back()),
            [
                None,
                None,
                Some(Mark::Check),
                Some(Mark::Trouble),
                Some(Mark::RolledBack)
            ]
        );
        let one = |e: HistoryEntry| marks(&[e])[0];
        assert_eq!(
            one(entry(5, "hook-completed", Status::RollingBack, 0, 0)),
            Some(Mark::Trouble),
            "a failed hook starts a rollback"
        );
        assert_eq!(
            one(entry(5, "tick", Status::Paused, 50, 0)),
            Some(Mark::Gate)
        );
        assert_eq!(
            one(entry(5, "alias-applied", Status::Succeeded, 100, 0)),
            Some(Mark::Succeeded)
        );
        // Canary analysis holding at 10 %: the same status and weight again is no pass.
        let held = [
            entry(1, "start", Status::Shifting, 10, 1_000),
            entry(2, "health", Status::Shifting, 10, 1_300),
            entry(3, "health", Status::Shifting, 100, 1_360),
        ];
        assert_eq!(marks(&held), [None, Some(Mark::Gate), Some(Mark::Check)]);
    }

    #[test]
    fn the_weight_holds_until_the_next_transition_and_until_now_while_unfinished() {
        let history = rolled_back();
        assert_eq!(
            weight_line(&rollout(Status::RolledBack), &history, 5_000),
            [
                (0.0, 0.0),
                (0.0, 0.0),
                (0.0, 10.0),
                (60.0, 10.0),
                (60.0, 20.0),
                (90.0, 20.0),
                (90.0, 0.0),
                (91.0, 0.0),
                (91.0, 0.0),
            ],
            "a finished rollout's line ends at its last transition"
        );
        let unfinished = &history[..3];
        let line = weight_line(&rollout(Status::Shifting), unfinished, 1_240);
        assert_eq!(
            line.last(),
            Some(&(240.0, 20.0)),
            "held until now: {line:?}"
        );
        assert!(weight_line(&rollout(Status::PreTraffic), &[], 0).is_empty());
    }

    #[test]
    fn the_time_axis_fits_the_rollout() {
        assert_eq!(time_unit(91.0).1, "seconds");
        assert_eq!(time_unit(30.0 * 60.0).1, "minutes");
        assert_eq!(time_unit(26.0 * 3600.0).1, "hours");
    }

    #[test]
    fn the_svg_is_a_valid_document_with_the_marks_that_happened() {
        let svg = history_svg(&rollout(Status::RolledBack), &rolled_back(), 5_000).expect("drawn");
        let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let texts: Vec<&str> = document
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        let has = |wanted: &str| texts.iter().any(|t| t.contains(wanted));
        assert!(
            has("r-chart") && has("orders:live"),
            "the caption: {texts:?}"
        );
        assert!(has("rollback started") && has("rolled back") && has("weight"));
        assert!(
            !has("succeeded") && !has("paused, gate or held"),
            "only marks that happened are in the legend: {texts:?}"
        );
        assert!(
            document.descendants().any(|n| n.has_tag_name("polyline")),
            "the weight line"
        );
    }

    #[test]
    fn an_empty_history_still_draws_axes() {
        let svg = history_svg(&rollout(Status::PreTraffic), &[], 0).expect("drawn");
        roxmltree::Document::parse(&svg).expect("well-formed XML");
    }
}
