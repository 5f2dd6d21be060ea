//! Human durations as Glidepath accepts them: `90s`, `5m`, `1h`, and compounds such as
//! `1h30m`. Every duration is a whole number of seconds.

use std::fmt;

/// Why a duration string was refused. The caller adds the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("is empty; expected a duration such as \"90s\", \"5m\" or \"1h30m\"")]
    Empty,
    #[error(
        "`{0}` is not a duration; expected a whole number followed by s, m or h, e.g. \"90s\", \"5m\" or \"1h30m\""
    )]
    Malformed(String),
    #[error("`{0}` is too long")]
    Overflow(String),
    #[error("`{0}` is longer than the longest duration Glidepath accepts (7 days)")]
    AboveMaximum(String),
}

/// The longest wait, interval or bake Glidepath accepts: a rollout that needs longer should
/// use a manual gate (`{"pause": true}`) instead of a timer.
pub const MAX_DURATION_SECONDS: u64 = 7 * 86_400;

/// Parses `90s`, `5m`, `2h`, `1h30m`, `0s` into seconds.
pub fn parse_duration(text: &str) -> Result<u64, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    let malformed = || DurationError::Malformed(text.to_string());
    let mut total: u64 = 0;
    let mut digits = String::new();
    for ch in trimmed.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let unit: u64 = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(malformed()),
        };
        if digits.is_empty() {
            return Err(malformed());
        }
        let amount: u64 = digits
            .parse()
            .map_err(|_| DurationError::Overflow(text.to_string()))?;
        total = amount
            .checked_mul(unit)
            .and_then(|seconds| total.checked_add(seconds))
            .ok_or_else(|| DurationError::Overflow(text.to_string()))?;
        digits.clear();
    }
    if !digits.is_empty() {
        // A bare number such as "300" is ambiguous: refuse it rather than guess a unit.
        return Err(malformed());
    }
    if total > MAX_DURATION_SECONDS {
        return Err(DurationError::AboveMaximum(text.to_string()));
    }
    Ok(total)
}

/// Writes seconds back in the shortest exact form: `90s`, `5m`, `1h30m`, `0s`.
pub fn format_duration(seconds: u64) -> String {
    DisplaySeconds(seconds).to_string()
}

/// A number of seconds displayed as a compact human duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisplaySeconds(pub u64);

impl fmt::Display for DisplaySeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0;
        if seconds == 0 {
            return f.write_str("0s");
        }
        let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit_and_compounds() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("1m30s"), Ok(90));
        assert_eq!(parse_duration(" 0s "), Ok(0));
        assert_eq!(parse_duration("168h"), Ok(MAX_DURATION_SECONDS));
        assert_eq!(
            parse_duration("168h1s"),
            Err(DurationError::AboveMaximum("168h1s".into()))
        );
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        for bad in ["300", "5 m", "m", "5d", "-5m", "1.5m", "5m3"] {
            assert!(
                matches!(parse_duration(bad), Err(DurationError::Malformed(_))),
                "{bad} should be refused"
            );
        }
        assert!(matches!(
            parse_duration("99999999999999999999h"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn formats_round_trip() {
        for seconds in [0, 1, 59, 60, 90, 300, 3600, 5400, 86_461] {
            assert_eq!(parse_duration(&format_duration(seconds)), Ok(seconds));
        }
        assert_eq!(format_duration(5400), "1h30m");
    }
}
