use super::*;
use crate::Weight;
use proptest::prelude::*;

const ORDERS: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
const PAYMENTS: &str = "arn:aws:lambda:eu-west-1:123456789012:function:payments";

fn policy() -> Policy {
    Policy::from_json(
        r#"{"rules": [
            {"name": "payments-frozen", "effect": "deny", "principals": ["*"], "actions": ["start", "promote"],
             "functions": ["*:function:payments"]},
            {"name": "deployer", "principals": ["arn:aws:sts::123456789012:assumed-role/deployer/*"],
             "actions": ["start", "abort"], "functions": ["arn:aws:lambda:eu-west-1:123456789012:function:*"],
             "aliases": ["live"]},
            {"name": "on-call", "principals": ["arn:aws:sts::123456789012:assumed-role/oncall/*"],
             "actions": ["*"], "mayOverride": ["downgrade", "allAtOnce"]}],
          "guardrails": {"maxFirstStepPercent": 25}}"#,
    )
    .unwrap()
}

fn deployer() -> Actor {
    Actor::iam("arn:aws:sts::123456789012:assumed-role/deployer/build-42")
}

fn on_call() -> Actor {
    Actor::iam("arn:aws:sts::123456789012:assumed-role/oncall/alice")
}

#[test]
fn allowed_requests_name_the_rule_that_allowed_them() {
    let policy = policy();
    let grant = policy
        .authorize(&deployer(), Action::Start, ORDERS, "live")
        .unwrap();
    assert_eq!(grant.rule, "deployer");
    assert_eq!(
        policy
            .authorize(&on_call(), Action::Promote, ORDERS, "beta")
            .unwrap()
            .rule,
        "on-call"
    );
}

#[test]
fn refusals_name_the_actor_and_the_rule() {
    let policy = policy();
    let refused = policy
        .authorize(&deployer(), Action::Promote, ORDERS, "live")
        .unwrap_err();
    assert!(
        refused.0.contains("no rule of the authorisation policy lets arn:aws:sts::123456789012:assumed-role/deployer/build-42 (FunctionUrl) promote on"),
        "{refused}"
    );
    // Wrong alias, and an unknown principal, are refused too.
    assert!(
        policy
            .authorize(&deployer(), Action::Start, ORDERS, "beta")
            .is_err()
    );
    assert!(
        policy
            .authorize(&Actor::direct_invoke(), Action::Abort, ORDERS, "live")
            .is_err()
    );
    // A deny rule wins over every allow rule, and is named.
    let denied = policy
        .authorize(&on_call(), Action::Start, PAYMENTS, "live")
        .unwrap_err();
    assert!(denied.0.contains("rule `payments-frozen`"), "{denied}");
    // ...but only for what it names.
    assert!(
        policy
            .authorize(&on_call(), Action::Abort, PAYMENTS, "live")
            .is_ok()
    );
}

#[test]
fn guardrails_need_an_explicit_allow_and_a_rule_that_permits_it() {
    let policy = policy();
    let facts = RolloutFacts {
        health_signals: 1,
        first_step_percent: Weight::percent(10),
        downgrade: false,
    };
    let deployer_grant = policy
        .authorize(&deployer(), Action::Start, ORDERS, "live")
        .unwrap();
    let on_call_grant = policy
        .authorize(&on_call(), Action::Start, ORDERS, "live")
        .unwrap();
    assert_eq!(policy.guard(&deployer_grant, facts, &[]), Ok(vec![]));

    let no_alarm = RolloutFacts {
        health_signals: 0,
        ..facts
    };
    let refused = policy.guard(&deployer_grant, no_alarm, &[]).unwrap_err();
    assert!(
        refused.0.contains("guardrail `noHealthSignal`"),
        "{refused}"
    );

    let large = RolloutFacts {
        first_step_percent: Weight::percent(30),
        ..facts
    };
    assert!(
        policy
            .guard(&on_call_grant, large, &[])
            .unwrap_err()
            .0
            .contains("more than the policy's maxFirstStepPercent of 25")
    );

    let all_at_once = RolloutFacts {
        first_step_percent: Weight::percent(100),
        ..facts
    };
    // Not asked for: refused even for a principal allowed to override.
    assert!(
        policy
            .guard(&on_call_grant, all_at_once, &[])
            .unwrap_err()
            .0
            .contains("add \"allAtOnce\" to `allow`")
    );
    // Asked for by someone whose rule does not allow it: refused, naming the rule.
    let refused = policy
        .guard(&deployer_grant, all_at_once, &[Guardrail::AllAtOnce])
        .unwrap_err();
    assert!(
        refused.0.contains("rule `deployer`") && refused.0.contains("mayOverride"),
        "{refused}"
    );
    // Asked for, and allowed: recorded.
    assert_eq!(
        policy.guard(&on_call_grant, all_at_once, &[Guardrail::AllAtOnce]),
        Ok(vec![Guardrail::AllAtOnce])
    );
    let downgrade = RolloutFacts {
        downgrade: true,
        ..facts
    };
    assert_eq!(
        policy.guard(&on_call_grant, downgrade, &[Guardrail::Downgrade]),
        Ok(vec![Guardrail::Downgrade])
    );
}

#[test]
fn bad_policies_are_refused_naming_the_field() {
    for (text, problem) in [
        ("{}", "missing field `rules`"),
        (r#"{"rules": []}"#, "`rules` is empty"),
        (
            r#"{"rules": [{"name": "a", "principals": ["*"], "actions": ["deploy"]}]}"#,
            "`rules[0].actions`: `deploy`",
        ),
        (
            r#"{"rules": [{"name": "a", "principals": [], "actions": ["*"]}]}"#,
            "`rules[0].principals`",
        ),
        (
            r#"{"rules": [{"name": "a", "principals": ["*"], "actions": ["*"]}, {"name": "a", "principals": ["*"], "actions": ["*"]}]}"#,
            "`a` names two rules",
        ),
        (
            r#"{"rules": [{"name": "a", "principals": ["*"], "actions": ["*"], "mayOverride": ["everything"]}]}"#,
            "`rules[0].mayOverride`",
        ),
        (
            r#"{"rules": [{"name": "a", "principals": ["*"], "actions": ["*"]}], "guardrails": {"maxFirstStepPercent": 0}}"#,
            "maxFirstStepPercent",
        ),
        (
            r#"{"rules": [{"name": "a", "principal": ["*"], "actions": ["*"]}]}"#,
            "unknown field `principal`",
        ),
    ] {
        let error = Policy::from_json(text).unwrap_err().to_string();
        assert!(error.contains(problem), "{text}: {error}");
    }
}

#[test]
fn globs() {
    assert!(glob("*", ""));
    assert!(glob(
        "arn:aws:sts::1:assumed-role/ops/*",
        "arn:aws:sts::1:assumed-role/ops/alice"
    ));
    assert!(!glob(
        "arn:aws:sts::1:assumed-role/ops/*",
        "arn:aws:sts::1:assumed-role/opsx/alice"
    ));
    assert!(glob(
        "*:function:orders-*",
        "arn:aws:lambda:eu-west-1:1:function:orders-api"
    ));
    assert!(!glob(
        "*:function:orders",
        "arn:aws:lambda:eu-west-1:1:function:orders-api"
    ));
    assert!(glob("v?", "v1"));
    assert!(!glob("v?", "v12"));
    assert!(glob("a*b*c", "aXXbYYbc"));
    assert!(!glob("a*b*c", "aXXbYY"));
}

#[test]
fn downgrades() {
    assert!(is_downgrade("7", "6"));
    assert!(!is_downgrade("7", "8"));
    assert!(!is_downgrade("9", "10"), "numbers, not strings");
    assert!(!is_downgrade("$LATEST", "3"));
}

/// A reference matcher: the glob as a regular language, by dynamic programming.
fn reference_glob(pattern: &[char], text: &[char]) -> bool {
    let mut matches = vec![vec![false; text.len() + 1]; pattern.len() + 1];
    matches[0][0] = true;
    for i in 1..=pattern.len() {
        matches[i][0] = matches[i - 1][0] && pattern[i - 1] == '*';
        for j in 1..=text.len() {
            matches[i][j] = match pattern[i - 1] {
                '*' => matches[i - 1][j] || matches[i][j - 1],
                '?' => matches[i - 1][j - 1],
                c => c == text[j - 1] && matches[i - 1][j - 1],
            };
        }
    }
    matches[pattern.len()][text.len()]
}

proptest! {
    #[test]
    fn glob_agrees_with_the_reference(pattern in "[ab*?:/]{0,8}", text in "[ab:/]{0,10}") {
        let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
        prop_assert_eq!(glob(&pattern, &text), reference_glob(&p, &t));
    }
}

#[test]
fn a_caller_is_a_session_of_its_role_only() {
    use crate::policy::is_session_of;
    let role = "arn:aws:iam::123456789012:role/service/orders-smoke-role";
    assert!(is_session_of(
        "arn:aws:sts::123456789012:assumed-role/orders-smoke-role/orders-smoke",
        role
    ));
    for other in [
        "arn:aws:sts::999999999999:assumed-role/orders-smoke-role/orders-smoke",
        "arn:aws:sts::123456789012:assumed-role/orders-smoke-role-2/x",
        "arn:aws:sts::123456789012:assumed-role/smoke-role/x",
        "arn:aws:iam::123456789012:user/orders-smoke-role",
        "arn:aws-cn:sts::123456789012:assumed-role/orders-smoke-role/x",
        "lambda:invoke",
    ] {
        assert!(!is_session_of(other, role), "{other}");
    }
}
