//! [`Weight`]: the share of an alias's traffic on the new version, in hundredths of a percent
//! (0.01 % steps), so that a high-traffic function can start at 0.5 % or 0.1 %.
//!
//! Lambda takes the share as a double in [0, 1] (`AdditionalVersionWeights`) and documents no
//! coarser precision; Glidepath writes `hundredths / 10 000` (at most four decimal places of
//! the fraction) and reads a routing weight back to the nearest hundredth of a percent. In
//! JSON (requests, strategies, records, answers) a weight is a number of percent: `10`,
//! `0.5`, `0.25`; more than two decimals are refused.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Hundredths of a percent in 100 %.
const FULL: u16 = 10_000;

/// A share of traffic, 0 to 100 %, in hundredths of a percent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(u16);

/// Why a number is not a weight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightError {
    #[error("{0} is not a number of percent from 0 to 100")]
    OutOfRange(String),
    #[error("{0} has more than two decimals; weights go in steps of 0.01 %")]
    TooPrecise(String),
}

impl Weight {
    /// No traffic on the new version.
    pub const ZERO: Weight = Weight(0);
    /// All the traffic on the new version.
    pub const FULL: Weight = Weight(FULL);

    /// A whole number of percent (above 100 counts as 100).
    pub const fn percent(percent: u8) -> Weight {
        if percent >= 100 {
            Weight(FULL)
        } else {
            Weight(percent as u16 * 100)
        }
    }

    /// `hundredths` of a percent, when at most 100 %.
    pub const fn from_hundredths(hundredths: u16) -> Option<Weight> {
        if hundredths <= FULL {
            Some(Weight(hundredths))
        } else {
            None
        }
    }

    /// A number of percent with at most two decimals, in [0, 100].
    pub fn from_percent(percent: f64) -> Result<Weight, WeightError> {
        let text = || format_number(percent);
        if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
            return Err(WeightError::OutOfRange(text()));
        }
        let hundredths = percent * 100.0;
        if (hundredths - hundredths.round()).abs() > 1e-6 {
            return Err(WeightError::TooPrecise(text()));
        }
        Ok(Weight(hundredths.round() as u16))
    }

    /// A routing weight as Lambda reports it (a fraction in [0, 1]), to the nearest
    /// hundredth of a percent; `None` outside [0, 1].
    pub fn from_fraction(fraction: f64) -> Option<Weight> {
        if !fraction.is_finite() || !(0.0..=1.0).contains(&fraction) {
            return None;
        }
        Some(Weight((fraction * f64::from(FULL)).round() as u16))
    }

    pub fn hundredths(self) -> u16 {
        self.0
    }

    /// The share as a fraction in [0, 1], as Lambda's routing config takes it.
    pub fn fraction(self) -> f64 {
        f64::from(self.0) / f64::from(FULL)
    }

    /// The share in percent.
    pub fn as_percent(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_full(self) -> bool {
        self.0 == FULL
    }

    /// Whether it is a whole number of percent.
    pub fn is_whole(self) -> bool {
        self.0 % 100 == 0
    }

    /// `self` plus `step`, capped at 100 %.
    pub fn saturating_add(self, step: Weight) -> Weight {
        Weight(self.0.saturating_add(step.0).min(FULL))
    }
}

fn format_number(value: f64) -> String {
    let text = format!("{value}");
    if text.len() > 24 {
        format!("{value:e}")
    } else {
        text
    }
}

/// `10`, `0.5`, `0.25` (percent, without the sign).
impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, hundredths) = (self.0 / 100, self.0 % 100);
        let text = match hundredths {
            0 => format!("{whole}"),
            h if h % 10 == 0 => format!("{whole}.{}", h / 10),
            h => format!("{whole}.{h:02}"),
        };
        // Honours width and alignment (`{:>3}`).
        f.pad(&text)
    }
}

/// A JSON number of percent: an integer when whole (`10`), else a decimal (`0.5`).
impl Serialize for Weight {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_whole() {
            serializer.serialize_u64(u64::from(self.0 / 100))
        } else {
            serializer.serialize_f64(self.as_percent())
        }
    }
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let percent = f64::deserialize(deserializer)?;
        Weight::from_percent(percent).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_fractional_percents() {
        assert_eq!(Weight::percent(10).hundredths(), 1_000);
        assert_eq!(Weight::from_percent(0.5), Ok(Weight(50)));
        assert_eq!(Weight::from_percent(0.25), Ok(Weight(25)));
        assert_eq!(Weight::from_percent(100.0), Ok(Weight::FULL));
        assert_eq!(
            Weight::from_percent(0.125),
            Err(WeightError::TooPrecise("0.125".into()))
        );
        assert_eq!(
            Weight::from_percent(100.5),
            Err(WeightError::OutOfRange("100.5".into()))
        );
        assert!(Weight::from_percent(f64::NAN).is_err());
        assert!(Weight::from_percent(-1.0).is_err());
    }

    #[test]
    fn shown_and_written_as_percent() {
        for (weight, text, json) in [
            (Weight::percent(10), "10", "10"),
            (Weight(50), "0.5", "0.5"),
            (Weight(25), "0.25", "0.25"),
            (Weight(1_005), "10.05", "10.05"),
            (Weight::ZERO, "0", "0"),
        ] {
            assert_eq!(weight.to_string(), text);
            assert_eq!(format!("{weight:>6}"), format!("{text:>6}"));
            assert_eq!(serde_json::to_string(&weight).ok().as_deref(), Some(json));
            assert_eq!(serde_json::from_str::<Weight>(json).ok(), Some(weight));
        }
        assert!(serde_json::from_str::<Weight>("0.001").is_err());
    }

    #[test]
    fn the_fraction_lambda_takes_and_reports() {
        assert_eq!(Weight(50).fraction(), 0.005);
        assert_eq!(Weight::percent(10).fraction(), 0.1);
        // A double read back is rounded to the nearest hundredth of a percent.
        assert_eq!(Weight::from_fraction(0.005_000_000_1), Some(Weight(50)));
        assert_eq!(Weight::from_fraction(0.1), Some(Weight::percent(10)));
        assert_eq!(Weight::from_fraction(1.5), None);
        for hundredths in 0..=FULL {
            let weight = Weight(hundredths);
            assert_eq!(Weight::from_fraction(weight.fraction()), Some(weight));
        }
    }
}
