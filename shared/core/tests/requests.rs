//! Rollout requests: the accepted shapes, and an error naming the field for each bad one.

use glidepath_core::{InsufficientData, RolloutRequest, Target, Weight};
use serde_json::{Value, json};

fn parse(value: Value) -> Result<RolloutRequest, String> {
    RolloutRequest::from_json(&value).map_err(|e| e.to_string())
}

#[test]
fn a_full_request_is_read() {
    let request = parse(json!({
        "function": "orders", "alias": "live", "targetVersion": "7",
        "strategy": {"type": "canary", "percent": 10, "interval": "5m"},
        "bake": "10m", "alarms": ["a", "b"], "insufficientData": "breach",
        "hooks": {"preTraffic": "smoke"}, "idempotencyKey": "build-42"
    }))
    .unwrap();
    assert_eq!(request.target, Target::Version("7".into()));
    assert_eq!(request.bake_seconds, 600);
    assert_eq!(
        request.plan.weights().collect::<Vec<_>>(),
        vec![Weight::percent(10), Weight::FULL]
    );
    assert_eq!(request.insufficient_data, InsufficientData::Breach);
    assert_eq!(request.hooks.pre_traffic.as_deref(), Some("smoke"));
    assert_eq!(request.hooks.post_traffic, None);
    let minimal = parse(
        json!({"function": "orders", "alias": "live", "publish": true, "strategy": "AllAtOnce"}),
    )
    .unwrap();
    assert_eq!(minimal.target, Target::PublishLatest);
    assert!(minimal.alarms.is_empty());
}

#[test]
fn each_bad_field_is_named() {
    let base = json!({"function": "orders", "alias": "live", "targetVersion": "7", "strategy": "AllAtOnce"});
    let with = |key: &str, value: Value| {
        let mut request = base.clone();
        request[key] = value;
        request
    };
    let without = |key: &str| {
        let mut request = base.clone();
        request.as_object_mut().unwrap().remove(key);
        request
    };
    let cases = [
        (without("function"), "`function`: missing"),
        (with("function", json!("orders api")), "`function`"),
        (without("alias"), "`alias`: missing"),
        (with("alias", json!("$LATEST")), "`alias`"),
        (with("alias", json!("42")), "`alias`"),
        (without("targetVersion"), "`targetVersion`: missing"),
        (
            with("targetVersion", json!("$LATEST")),
            "`targetVersion`: $LATEST is mutable",
        ),
        (with("targetVersion", json!("v7")), "`targetVersion`"),
        (
            with("targetVersion", json!(7)),
            "`targetVersion`: 7 is not a string",
        ),
        (with("publish", json!(true)), "not both"),
        (with("publish", json!("yes")), "`publish`"),
        (without("strategy"), "`strategy`: missing"),
        (
            with("strategy", json!("Canary5")),
            "`strategy`: unknown strategy `Canary5`",
        ),
        (
            with(
                "strategy",
                json!({"type": "linear", "percent": 0, "interval": "1m"}),
            ),
            "`strategy`: strategy field `percent`",
        ),
        (with("bake", json!("soon")), "`bake`"),
        (with("alarms", json!("a")), "`alarms`"),
        (
            with("alarms", json!(["a", "a"])),
            "`alarms[1]`: `a` is listed twice",
        ),
        (with("alarms", json!(["a", 3])), "`alarms[1]`"),
        (
            with(
                "alarms",
                json!((0..21).map(|i| format!("a{i}")).collect::<Vec<_>>()),
            ),
            "at most 20",
        ),
        (
            with("insufficientData", json!("panic")),
            "`insufficientData`",
        ),
        (
            with("hooks", json!({"preTrafic": "x"})),
            "`hooks.preTrafic`",
        ),
        (
            with("hooks", json!({"postTraffic": 1})),
            "`hooks.postTraffic`",
        ),
        (
            with("idempotencyKey", json!("has space")),
            "`idempotencyKey`",
        ),
        (with("expectCodeSha256", json!("abc")), "`expectCodeSha256`"),
        (
            with("colour", json!("blue")),
            "`colour`: is not a known field",
        ),
        (json!([1]), "expected a JSON object"),
    ];
    for (request, expected) in cases {
        let message = parse(request.clone()).expect_err(&request.to_string());
        assert!(
            message.contains(expected),
            "{request}: `{message}` should contain {expected}"
        );
    }
}

#[test]
fn function_arns_are_read_one_way() {
    use glidepath_core::{arn_account, function_name, unqualified_function_arn};
    let arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
    for qualified in [arn, &format!("{arn}:7"), &format!("{arn}:live")] {
        assert_eq!(unqualified_function_arn(qualified), arn);
        assert_eq!(function_name(qualified), "orders");
        assert_eq!(arn_account(qualified), Some("123456789012"));
    }
    assert_eq!(unqualified_function_arn("orders"), "orders");
    assert_eq!(
        unqualified_function_arn("arn:aws:cloudwatch:eu-west-1:1:alarm:a:b"),
        "arn:aws:cloudwatch:eu-west-1:1:alarm:a:b"
    );
    assert_eq!(arn_account("orders"), None);
    assert_eq!(arn_account("arn:aws:lambda:eu-west-1::function:x"), None);
}
