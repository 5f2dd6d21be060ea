//! How a rollout names an alarm, and what Glidepath can do with it.
//!
//! - **By name** (`orders-errors`): an alarm of Glidepath's own account and region. `start`
//!   checks it exists and is not in `ALARM`, every tick reads it (`DescribeAlarms`), and its
//!   state changes reach `check-alarms` through EventBridge or as a direct alarm action.
//! - **By ARN** (`arn:aws:cloudwatch:eu-west-1:222233334444:alarm:orders-errors`): an alarm
//!   of **another account**, which calls `check-alarms` directly as its alarm action.
//!   Glidepath cannot read it (`DescribeAlarms` sees one account), so it is **pushed only**:
//!   it can roll the rollout back, when the authorisation policy lets that alarm `abort` the
//!   rollout's alias, but `start` cannot check it and ticks do not read it. It therefore does
//!   not count as the health signal the guardrails ask for.

/// An alarm named by its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
}

/// Reads `text` as a CloudWatch alarm ARN (`arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`);
/// `None` for a plain name. `Err` for something that starts like an ARN but is not an alarm's.
pub fn parse(text: &str) -> Result<Option<AlarmArn<'_>>, String> {
    if !text.starts_with("arn:") {
        return Ok(None);
    }
    let fields: Vec<&str> = text.splitn(7, ':').collect();
    match fields.as_slice() {
        [
            "arn",
            partition,
            "cloudwatch",
            region,
            account,
            "alarm",
            name,
        ] if !partition.is_empty()
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty() =>
        {
            Ok(Some(AlarmArn {
                region,
                account,
                name,
            }))
        }
        _ => Err(format!(
            "`{text}` is not a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>)"
        )),
    }
}

/// Whether `alarm` is pushed only (named by ARN: another account's).
pub fn is_pushed_only(alarm: &str) -> bool {
    alarm.starts_with("arn:")
}

/// The alarms Glidepath reads itself (named by name), in order.
pub fn readable(alarms: &[String]) -> Vec<String> {
    alarms
        .iter()
        .filter(|a| !is_pushed_only(a))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_are_told_apart() {
        assert_eq!(parse("orders-errors"), Ok(None));
        assert_eq!(
            parse("arn:aws:cloudwatch:eu-west-1:222233334444:alarm:orders: p99 > 1s"),
            Ok(Some(AlarmArn {
                region: "eu-west-1",
                account: "222233334444",
                name: "orders: p99 > 1s",
            }))
        );
        for bad in [
            "arn:aws:sns:eu-west-1:222233334444:topic",
            "arn:aws:cloudwatch:eu-west-1:2222:alarm:x",
            "arn:aws:cloudwatch:eu-west-1:222233334444:alarm:",
            "arn:aws:cloudwatch::222233334444:alarm:x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let alarms = vec![
            "a".to_string(),
            "arn:aws:cloudwatch:eu-west-1:222233334444:alarm:b".to_string(),
        ];
        assert_eq!(readable(&alarms), vec!["a".to_string()]);
    }
}
