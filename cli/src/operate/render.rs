//! How the operator commands print: aligned text for people (coloured on a terminal), JSON
//! for programs.

use glidepath_aws::ports::HistoryEntry;
use glidepath_core::{PlanStep, Rollout, Status, UnixSeconds, format_duration};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Whether text gets ANSI colours: on a terminal, unless `NO_COLOR` is set or `TERM=dumb`
/// ([`Paint::for_terminal`]); never when piped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    pub enabled: bool,
}

impl Paint {
    /// No colours.
    pub const PLAIN: Paint = Paint { enabled: false };

    /// Colours when `terminal` (stdout is one) and the environment does not opt out.
    pub fn for_terminal(terminal: bool) -> Paint {
        let opted_out = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var("TERM").is_ok_and(|term| term == "dumb");
        Paint {
            enabled: terminal && !opted_out,
        }
    }

    fn ansi(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// `text` (a status, padded by the caller) in its status's colour: green for success,
    /// red for a rollback or failure, yellow for a hold, cyan while it moves.
    pub fn status(self, status: Status, text: &str) -> String {
        let code = match status {
            Status::Succeeded => "32",
            Status::RolledBack | Status::Failed => "31",
            Status::RollingBack => "1;31",
            Status::Paused => "33",
            Status::PreTraffic | Status::Shifting | Status::Baking | Status::PostTraffic => "36",
        };
        self.ansi(code, text)
    }

    /// An alarm's state: `ALARM` red, `OK` green, anything else yellow.
    pub fn alarm(self, state: &str) -> String {
        let code = match state {
            "ALARM" => "1;31",
            "OK" => "32",
            _ => "33",
        };
        self.ansi(code, state)
    }
}

/// A rollout as `status --json` and `list --json` print it.
pub fn rollout_json(rollout: &Rollout) -> Value {
    json!({
        "rolloutId": rollout.id,
        "function": rollout.spec.function,
        "alias": rollout.spec.alias,
        "currentVersion": rollout.spec.current_version,
        "targetVersion": rollout.spec.target_version,
        "strategy": rollout.spec.strategy,
        "status": rollout.status,
        "weight": rollout.weight,
        "seq": rollout.seq,
        "step": rollout.step_index,
        "steps": rollout.plan.len(),
        "nextTickAt": rollout.next_tick_at,
        "alarms": rollout.spec.alarms,
        "hooks": rollout.spec.hooks,
        "reason": rollout.reason,
        "requestedBy": rollout.spec.requested_by,
        "authorizedBy": rollout.spec.authorized_by,
        "createdAt": rollout.created_at,
        "updatedAt": rollout.updated_at,
    })
}

/// What `start` answered.
pub fn started(answer: &Value) -> String {
    let existing = if answer["existing"] == true {
        " (the same request was made before: this is its rollout)"
    } else {
        ""
    };
    format!(
        "rollout {} of {}:{}: version {} -> {}, {} at {}%{existing}\n",
        text(&answer["rolloutId"]),
        text(&answer["function"]),
        text(&answer["alias"]),
        text(&answer["currentVersion"]),
        text(&answer["targetVersion"]),
        text(&answer["status"]),
        answer["weight"],
    )
}

/// What a command answered: the rollout's new state.
pub fn answer(answer: &Value) -> String {
    if answer.get("members").is_some() {
        return super::release::answer(answer);
    }
    let mut line = format!(
        "rollout {}: {} at {}%",
        text(&answer["rolloutId"]),
        text(&answer["status"]),
        answer["weight"]
    );
    if let Some(reason) = answer["reason"].as_str() {
        let _ = write!(line, " ({reason})");
    }
    line + "\n"
}

/// `status`: the rollout and its plan, the step in effect marked with `>`.
pub fn status(rollout: &Rollout, alarm_states: &BTreeMap<String, String>, paint: Paint) -> String {
    let spec = &rollout.spec;
    let mut out = String::new();
    let _ = writeln!(out, "rollout   {}", rollout.id);
    let _ = writeln!(out, "alias     {}:{}", spec.function, spec.alias);
    let _ = writeln!(
        out,
        "versions  {} -> {}",
        spec.current_version, spec.target_version
    );
    let _ = writeln!(
        out,
        "status    {} at {}%",
        paint.status(rollout.status, rollout.status.as_str()),
        rollout.weight
    );
    if let Some(reason) = &rollout.reason {
        let _ = writeln!(out, "reason    {reason}");
    }
    if let Some(at) = rollout.next_tick_at {
        let _ = writeln!(out, "next tick {} (unix seconds)", at);
    }
    for alarm in &spec.alarms {
        let state = alarm_states.get(alarm).map(String::as_str).unwrap_or("?");
        let _ = writeln!(out, "alarm     {alarm}: {}", paint.alarm(state));
    }
    for (phase, hook) in [
        ("pre-traffic", &spec.hooks.pre_traffic),
        ("post-traffic", &spec.hooks.post_traffic),
    ] {
        if let Some(hook) = hook {
            let _ = writeln!(out, "hook      {phase}: {hook}");
        }
    }
    if let Some(actor) = &spec.requested_by {
        let rule = spec.authorized_by.as_deref().unwrap_or("-");
        let _ = writeln!(out, "by        {actor} (rule {rule})");
    }
    let _ = writeln!(out, "plan      {}", spec.strategy);
    for (index, step) in rollout.plan.steps().iter().enumerate() {
        let marker = if rollout.step_index == Some(index) {
            ">"
        } else {
            " "
        };
        let what = match step {
            PlanStep::Shift {
                weight,
                wait_seconds,
            } => format!("{weight:>3}%  then wait {}", format_duration(*wait_seconds)),
            PlanStep::Pause => "gate: waits for resume".to_string(),
        };
        let _ = writeln!(out, "  {marker} {:>2}. {what}", index + 1);
    }
    out
}

/// `history`: one line a transition.
pub fn history(history: &[HistoryEntry], paint: Paint) -> String {
    let mut out = format!(
        "{:>4}  {:<12}  {:<14}  {:<12}  {:>6}  {:<32}  reason\n",
        "seq", "at", "event", "status", "weight", "actor"
    );
    for entry in history {
        let _ = writeln!(out, "{}", row(entry, paint));
    }
    out
}

fn row(entry: &HistoryEntry, paint: Paint) -> String {
    format!(
        "{:>4}  {:<12}  {:<14}  {}  {:>5}%  {:<32}  {}",
        entry.seq,
        entry.at,
        entry.event,
        paint.status(entry.status, &format!("{:<12}", entry.status.as_str())),
        entry.weight,
        entry
            .actor
            .as_ref()
            .map(|a| a.principal.as_str())
            .unwrap_or("-"),
        entry.reason.as_deref().unwrap_or("")
    )
}

/// `watch`: one transition.
pub fn transition(entry: &HistoryEntry, paint: Paint) -> String {
    let mut line = format!(
        "seq {:>3}  {:<14} {} {:>3}%",
        entry.seq,
        entry.event,
        paint.status(entry.status, &format!("{:<12}", entry.status.as_str())),
        entry.weight
    );
    if let Some(reason) = &entry.reason {
        let _ = write!(line, "  {reason}");
    }
    line
}

/// `watch`: how the rollout ended.
pub fn ending(rollout: &Rollout, paint: Paint) -> String {
    let status = paint.status(rollout.status, rollout.status.as_str());
    match &rollout.reason {
        Some(reason) => format!("rollout {} ended {status}: {reason}", rollout.id),
        None => format!("rollout {} ended {status}", rollout.id),
    }
}

/// `watch` on a terminal: the line beside the progress bar: status, the step in effect of
/// the plan, the time to the next step, and each alarm's state.
pub fn progress(
    rollout: &Rollout,
    alarm_states: &BTreeMap<String, String>,
    now: UnixSeconds,
    paint: Paint,
) -> String {
    let mut line = format!(
        "{:>5}%  {}",
        rollout.weight.to_string(),
        paint.status(rollout.status, rollout.status.as_str())
    );
    let steps = rollout.plan.len();
    if let Some(step) = rollout.step_index {
        let _ = write!(line, "  step {}/{steps}", step + 1);
    }
    if let Some(at) = rollout.next_tick_at
        && !rollout.status.is_terminal()
    {
        let _ = write!(
            line,
            "  next step in {}",
            format_duration(at.saturating_sub(now))
        );
    }
    for (alarm, state) in alarm_states {
        let _ = write!(line, "  {alarm} {}", paint.alarm(state));
    }
    line
}

/// `list`: one line a rollout, newest first.
pub fn list(rollouts: &[Rollout], paint: Paint) -> String {
    let mut out = format!(
        "{:<24}  {:<12}  {:>6}  {:<9}  {:<12}  reason\n",
        "rollout", "status", "weight", "versions", "created"
    );
    for rollout in rollouts {
        let _ = writeln!(
            out,
            "{:<24}  {}  {:>5}%  {:<9}  {:<12}  {}",
            rollout.id,
            paint.status(rollout.status, &format!("{:<12}", rollout.status.as_str())),
            rollout.weight,
            format!(
                "{}->{}",
                rollout.spec.current_version, rollout.spec.target_version
            ),
            rollout.created_at,
            rollout.reason.as_deref().unwrap_or("")
        );
    }
    out
}

/// A JSON string's text (`?` when it is not one).
pub fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}
