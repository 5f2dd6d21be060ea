//! Wall-clock helpers for the adapters: the current time, UTC calendar formatting for
//! Scheduler's `at()` expressions, and rollout ids.

use glidepath_core::UnixSeconds;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> UnixSeconds {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, the form of Scheduler's `at()` and of ISO timestamps.
pub fn utc_datetime(seconds: UnixSeconds) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

/// A new rollout id: the creation time in milliseconds and 32 random bits, in hex, so ids
/// sort by creation time and fit in a Scheduler schedule name.
pub fn new_rollout_id() -> String {
    format!("r{}", time_ordered_suffix())
}

/// A new release id (`rel…`); its members are `rel…-0`, `rel…-1`, ...
/// ([`glidepath_core::release::member_id`]).
pub fn new_release_id() -> String {
    format!("rel{}", time_ordered_suffix())
}

/// The creation time in milliseconds and 32 random bits, in hex.
fn time_ordered_suffix() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0);
    // RandomState is seeded from the operating system's randomness for each instance.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as u32;
    format!("{millis:012x}{random:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_calendar_times() {
        assert_eq!(utc_datetime(0), "1970-01-01T00:00:00");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(utc_datetime(1_795_348_800), "2026-11-22T12:00:00");
    }

    #[test]
    fn ids_are_unique_and_short() {
        let (a, b) = (new_rollout_id(), new_rollout_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 21);
    }
}
