//! A model of a CloudWatch alarm on the new version's error rate: one datapoint per period
//! (errors / invocations of the `ExecutedVersion`), `ALARM` when a datapoint is above the
//! threshold, `INSUFFICIENT_DATA` when the version served nothing in the period.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

#[derive(Debug, Clone)]
pub struct ErrorRateAlarm {
    threshold: f64,
    period_seconds: u64,
    state: AlarmState,
    requests: u64,
    errors: u64,
    /// The error rate of the datapoint that last set the state.
    last_rate: f64,
}

impl ErrorRateAlarm {
    pub fn new(threshold: f64, period_seconds: u64) -> Self {
        ErrorRateAlarm {
            threshold,
            period_seconds: period_seconds.max(1),
            state: AlarmState::InsufficientData,
            requests: 0,
            errors: 0,
            last_rate: 0.0,
        }
    }

    pub fn state(&self) -> AlarmState {
        self.state
    }

    /// Counts one second of the new version's traffic.
    pub fn record(&mut self, requests: u64, errors: u64) {
        self.requests += requests;
        self.errors += errors;
    }

    /// Evaluates at the start of second `now`: a period closes every `period_seconds`.
    /// Returns the new state when it changed.
    pub fn evaluate(&mut self, now: u64) -> Option<AlarmState> {
        if now == 0 || now % self.period_seconds != 0 {
            return None;
        }
        let next = if self.requests == 0 {
            AlarmState::InsufficientData
        } else {
            self.last_rate = self.errors as f64 / self.requests as f64;
            if self.last_rate > self.threshold {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            }
        };
        self.requests = 0;
        self.errors = 0;
        (next != self.state).then(|| {
            self.state = next;
            next
        })
    }

    /// Why the alarm is in `ALARM`, for the rollback reason.
    pub fn describe(&self) -> String {
        format!(
            "alarm new-version-errors is ALARM: error rate {:.2}% > {:.2}% over {}s",
            self.last_rate * 100.0,
            self.threshold * 100.0,
            self.period_seconds
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarms_only_at_period_boundaries_and_on_a_rate_above_threshold() {
        let mut alarm = ErrorRateAlarm::new(0.01, 60);
        alarm.record(100, 5);
        assert_eq!(alarm.evaluate(30), None);
        assert_eq!(alarm.evaluate(60), Some(AlarmState::Alarm));
        alarm.record(100, 1);
        assert_eq!(
            alarm.evaluate(120),
            Some(AlarmState::Ok),
            "1% is not above 1%"
        );
        assert_eq!(alarm.evaluate(180), Some(AlarmState::InsufficientData));
        assert!(alarm.describe().contains("1.00% > 1.00% over 60s"));
    }
}
