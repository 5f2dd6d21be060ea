//! A `Plan` is what a strategy turns into: the ordered list of traffic weights, the wait
//! after each one, and manual gates. It always ends with 100 % on the new version.

use crate::weight::Weight;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most entries a plan may have; keeps a rollout record well inside DynamoDB's item limit.
pub const MAX_PLAN_STEPS: usize = 100;

/// One entry of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStep {
    /// Put `weight` % of traffic on the new version, then watch for `wait_seconds`
    /// before the next entry.
    Shift { weight: Weight, wait_seconds: u64 },
    /// A manual gate: hold the current weight until an operator resumes or promotes.
    Pause,
}

/// The ordered steps of a rollout. Built by [`crate::Strategy::plan`], which guarantees
/// strictly increasing weights in (0, 100] that end at 100.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Plan {
    steps: Vec<PlanStep>,
}

impl Plan {
    pub(crate) fn new(steps: Vec<PlanStep>) -> Self {
        debug_assert!(matches!(
            steps
                .iter()
                .rev()
                .find(|s| matches!(s, PlanStep::Shift { .. })),
            Some(PlanStep::Shift { weight, .. }) if weight.is_full()
        ));
        Plan { steps }
    }

    pub fn steps(&self) -> &[PlanStep] {
        &self.steps
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<PlanStep> {
        self.steps.get(index).copied()
    }

    /// Sum of every wait in the plan (manual gates count as zero).
    pub fn total_wait_seconds(&self) -> u64 {
        self.steps
            .iter()
            .map(|step| match step {
                PlanStep::Shift { wait_seconds, .. } => *wait_seconds,
                PlanStep::Pause => 0,
            })
            .sum()
    }

    /// The shift weights in order, without the gates.
    pub fn weights(&self) -> impl Iterator<Item = Weight> + '_ {
        self.steps.iter().filter_map(|step| match step {
            PlanStep::Shift { weight, .. } => Some(*weight),
            PlanStep::Pause => None,
        })
    }

    /// Whether the plan has a manual gate (such a rollout never finishes by itself).
    pub fn has_gate(&self) -> bool {
        self.steps.contains(&PlanStep::Pause)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PlanStepWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight: Option<Weight>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wait_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pause: Option<bool>,
}

impl Serialize for PlanStep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match *self {
            PlanStep::Shift {
                weight,
                wait_seconds,
            } => PlanStepWire {
                weight: Some(weight),
                wait_seconds: Some(wait_seconds),
                pause: None,
            },
            PlanStep::Pause => PlanStepWire {
                weight: None,
                wait_seconds: None,
                pause: Some(true),
            },
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PlanStep {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = PlanStepWire::deserialize(deserializer)?;
        match wire {
            PlanStepWire {
                weight: Some(weight),
                wait_seconds,
                pause: None,
            } if !weight.is_zero() => Ok(PlanStep::Shift {
                weight,
                wait_seconds: wait_seconds.unwrap_or(0),
            }),
            PlanStepWire {
                weight: None,
                wait_seconds: None,
                pause: Some(true),
            } => Ok(PlanStep::Pause),
            _ => Err(D::Error::custom(
                "a plan step is {\"weight\": 0.01-100, \"waitSeconds\": N} or {\"pause\": true}",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_serialize_in_the_documented_shape() {
        let plan = Plan::new(vec![
            PlanStep::Shift {
                weight: Weight::percent(10),
                wait_seconds: 300,
            },
            PlanStep::Pause,
            PlanStep::Shift {
                weight: Weight::percent(100),
                wait_seconds: 0,
            },
        ]);
        let json = serde_json::to_string(&plan).unwrap();
        assert_eq!(
            json,
            r#"[{"weight":10,"waitSeconds":300},{"pause":true},{"weight":100,"waitSeconds":0}]"#
        );
        let back: Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, plan);
        assert_eq!(plan.total_wait_seconds(), 300);
        assert!(plan.has_gate());
    }

    #[test]
    fn malformed_steps_are_refused() {
        for bad in [
            r#"[{"pause":false}]"#,
            r#"[{"weight":0}]"#,
            r#"[{"weight":101}]"#,
            r#"[{"weight":10,"pause":true}]"#,
            r#"[{}]"#,
        ] {
            assert!(serde_json::from_str::<Plan>(bad).is_err(), "{bad}");
        }
    }
}
