//! A release request: several members shifted together ([`crate::release`]), checked field by
//! field before anything touches AWS:
//!
//! ```json
//! {"release": "checkout-42",
//!  "members": [
//!    {"function": "orders-api", "alias": "live", "targetVersion": "7", "alarms": ["orders-api-5xx"]},
//!    {"function": "orders-worker", "alias": "live", "publish": true},
//!    {"function": "orders-consumer", "alias": "live", "targetVersion": "12"}],
//!  "strategy": "Linear10PercentEvery1Minute", "bake": "5m", "alarms": ["checkout-errors"],
//!  "hooks": {"preTraffic": "checkout-smoke"}, "idempotencyKey": "build-42"}
//! ```
//!
//! Or, in waves (each started once the one before has finished, see [`crate::release`]):
//!
//! ```json
//! {"release": "checkout-43", "earlierWaves": "rollBack",
//!  "waves": [{"members": [{"function": "arn:aws:lambda:eu-west-1:111122223333:function:orders-api", "alias": "live", "targetVersion": "7"}]},
//!            {"members": [{"function": "arn:aws:lambda:us-east-1:111122223333:function:orders-api", "alias": "live", "targetVersion": "9"}]}],
//!  "strategy": "Canary10Percent5Minutes"}
//! ```
//!
//! Everything but the members is shared: one strategy, bake, set of hooks, analysis and
//! idempotency key. A member names its function, alias and version (`targetVersion`,
//! `publish`, `expectCodeSha256`) and may add alarms of its own to the shared ones. Each
//! member is then checked as the single-rollout request ([`RolloutRequest`]) it amounts to,
//! and a bad field is named with its member (`members[1].targetVersion`).

use crate::release::MAX_MEMBERS;
use crate::request::{RequestError, RolloutRequest};
use serde_json::{Map, Value};

/// The fields of the release as a whole.
const RELEASE_FIELDS: &[&str] = &[
    "release",
    "members",
    "waves",
    "earlierWaves",
    "strategy",
    "bake",
    "alarms",
    "insufficientData",
    "hooks",
    "idempotencyKey",
    "allow",
    "analysis",
];

/// The fields of one member.
const MEMBER_FIELDS: &[&str] = &[
    "function",
    "alias",
    "targetVersion",
    "publish",
    "alarms",
    "expectCodeSha256",
];

/// A release request whose fields are all well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRequest {
    /// The release's name (`release`), for people: notifications and views carry it.
    pub name: Option<String>,
    /// Each member as the single-rollout request it amounts to (the shared fields, its own
    /// function, alias, version and alarms).
    pub members: Vec<RolloutRequest>,
    /// The wave of each member (all 0 without `waves`).
    pub waves: Vec<usize>,
    /// What a failure in a later wave does to the waves before it.
    pub earlier_waves: crate::release::EarlierWaves,
}

fn bad(field: impl Into<String>, problem: impl Into<String>) -> RequestError {
    RequestError {
        field: field.into(),
        problem: problem.into(),
    }
}

impl ReleaseRequest {
    /// What makes member `index` (of `ids`, every member's id) a member of release `id`.
    pub fn membership(
        &self,
        id: &str,
        ids: &[String],
        index: usize,
    ) -> crate::release::ReleaseMembership {
        crate::release::ReleaseMembership {
            id: id.to_string(),
            name: self.name.clone(),
            index,
            members: ids.to_vec(),
            rolled_back_for: None,
            wave: self.waves[index],
            earlier_waves: self.earlier_waves,
            settled: false,
        }
    }

    /// Whether a request body asks for a release (it has `members` or `waves`).
    pub fn is_release(value: &Value) -> bool {
        value.get("members").is_some() || value.get("waves").is_some()
    }

    /// Parses and checks the release and every member; the first bad field is reported by
    /// name (`members[2].alias`).
    pub fn from_json(value: &Value) -> Result<ReleaseRequest, RequestError> {
        let object = value
            .as_object()
            .ok_or_else(|| bad("(request)", "expected a JSON object"))?;
        for key in object.keys() {
            if MEMBER_FIELDS.contains(&key.as_str()) && key != "alarms" {
                return Err(bad(
                    key.as_str(),
                    "belongs to each member of a release (`members[].".to_string()
                        + key
                        + "`), not to the release",
                ));
            }
            if !RELEASE_FIELDS.contains(&key.as_str()) {
                return Err(bad(
                    key.as_str(),
                    format!(
                        "is not a known field of a release; known fields: {}",
                        RELEASE_FIELDS.join(", ")
                    ),
                ));
            }
        }
        let name = match object.get("release") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(check_name(name.trim())?),
            Some(other) => return Err(bad("release", format!("{other} is not a string"))),
        };
        // Each member with the name its fields are reported under, and its wave.
        let mut listed: Vec<(String, &Value, usize)> = Vec::new();
        match (object.get("members"), object.get("waves")) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "waves",
                    "give either `members` or `waves` (each with its `members`), not both",
                ));
            }
            (Some(Value::Array(members)), None) => {
                for (index, member) in members.iter().enumerate() {
                    listed.push((format!("members[{index}]"), member, 0));
                }
            }
            (None, Some(Value::Array(waves))) if !waves.is_empty() => {
                for (wave, entry) in waves.iter().enumerate() {
                    let members = match entry.get("members") {
                        Some(Value::Array(members)) if !members.is_empty() => members,
                        _ => {
                            return Err(bad(
                                format!("waves[{wave}]"),
                                "expected {\"members\": [...]} with at least one member",
                            ));
                        }
                    };
                    if let Some(unknown) = entry
                        .as_object()
                        .and_then(|o| o.keys().find(|k| k.as_str() != "members"))
                    {
                        return Err(bad(
                            format!("waves[{wave}].{unknown}"),
                            "is not a field of a wave (a wave has `members`)",
                        ));
                    }
                    for (index, member) in members.iter().enumerate() {
                        listed.push((format!("waves[{wave}].members[{index}]"), member, wave));
                    }
                }
            }
            (None, Some(_)) => {
                return Err(bad(
                    "waves",
                    "expected a list of waves, each {\"members\": [...]}",
                ));
            }
            _ => {
                return Err(bad(
                    "members",
                    "expected a list of members, each {\"function\", \"alias\", \"targetVersion\"}",
                ));
            }
        }
        if listed.len() < 2 {
            return Err(bad(
                "members",
                "a release needs at least 2 members; roll out one function with a rollout request",
            ));
        }
        if listed.len() > MAX_MEMBERS {
            return Err(bad(
                "members",
                format!(
                    "{} members; a release has at most {MAX_MEMBERS} (its members, their alias locks and alarm watches are created in one DynamoDB transaction of at most 100 items)",
                    listed.len()
                ),
            ));
        }
        let earlier_waves = match object.get("earlierWaves") {
            None | Some(Value::Null) => crate::release::EarlierWaves::default(),
            Some(Value::String(text)) if text == "rollBack" => {
                crate::release::EarlierWaves::RollBack
            }
            Some(Value::String(text)) if text == "keep" => crate::release::EarlierWaves::Keep,
            Some(other) => {
                return Err(bad(
                    "earlierWaves",
                    format!(
                        "{other} is not \"rollBack\" (finished waves go back when a later one fails) or \"keep\""
                    ),
                ));
            }
        };
        let auto_alarms = object.get("alarms") == Some(&Value::String("auto".into()));
        let shared_alarms = match object.get("alarms") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(alarms)) => alarms.clone(),
            Some(_) if auto_alarms => Vec::new(),
            Some(other) => {
                return Err(bad(
                    "alarms",
                    format!("{other} is not a list of alarm names or \"auto\""),
                ));
            }
        };
        let mut requests: Vec<RolloutRequest> = Vec::with_capacity(listed.len());
        let mut waves = Vec::with_capacity(listed.len());
        for (place, member, wave) in &listed {
            let at = |field: &str| format!("{place}.{field}");
            let member = member.as_object().ok_or_else(|| {
                bad(
                    place.as_str(),
                    "expected an object {\"function\", \"alias\", \"targetVersion\"}",
                )
            })?;
            if let Some(unknown) = member
                .keys()
                .find(|key| !MEMBER_FIELDS.contains(&key.as_str()))
            {
                return Err(bad(
                    at(unknown),
                    format!(
                        "is not a field of a member (a member has {}; the rest is shared by the release)",
                        MEMBER_FIELDS.join(", ")
                    ),
                ));
            }
            let mut single: Map<String, Value> = object
                .iter()
                .filter(|(key, _)| {
                    !matches!(
                        key.as_str(),
                        "release" | "members" | "waves" | "earlierWaves"
                    )
                })
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            for (key, value) in member {
                if key == "alarms" {
                    continue;
                }
                single.insert(key.clone(), value.clone());
            }
            if let Some(own) = member.get("alarms") {
                if auto_alarms {
                    return Err(bad(
                        at("alarms"),
                        "the release's alarms are \"auto\": Glidepath makes each member's; name no others",
                    ));
                }
                let Value::Array(own) = own else {
                    return Err(bad(
                        at("alarms"),
                        format!("{own} is not a list of alarm names"),
                    ));
                };
                let mut alarms = shared_alarms.clone();
                alarms.extend(own.iter().cloned());
                single.insert("alarms".into(), Value::Array(alarms));
            }
            let request = RolloutRequest::from_json(&Value::Object(single)).map_err(|e| {
                // Shared fields keep their own name; a member's field is named with its place.
                let field = if MEMBER_FIELDS.contains(&e.field.as_str())
                    && (e.field != "alarms" || member.contains_key("alarms"))
                {
                    at(&e.field)
                } else {
                    e.field
                };
                bad(field, e.problem)
            })?;
            if let Some(earlier) = requests
                .iter()
                .position(|r| r.function == request.function && r.alias == request.alias)
            {
                return Err(bad(
                    at("function"),
                    format!(
                        "{}:{} is already {}; each alias is in a release once",
                        request.function, request.alias, listed[earlier].0
                    ),
                ));
            }
            requests.push(request);
            waves.push(*wave);
        }
        Ok(ReleaseRequest {
            name,
            members: requests,
            waves,
            earlier_waves,
        })
    }
}

/// A release name: 1 to 64 letters, digits, `.`, `_` or `-`.
fn check_name(name: &str) -> Result<String, RequestError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(bad(
            "release",
            format!("`{name}` is not a name of 1 to 64 letters, digits, `.`, `_` or `-`"),
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> Value {
        json!({
            "release": "checkout-42",
            "members": [
                {"function": "orders-api", "alias": "live", "targetVersion": "7", "alarms": ["api-5xx"]},
                {"function": "orders-worker", "alias": "live", "publish": true},
            ],
            "strategy": "Linear10PercentEvery1Minute",
            "bake": "5m",
            "alarms": ["checkout-errors"],
            "hooks": {"preTraffic": "checkout-smoke"},
            "idempotencyKey": "build-42",
        })
    }

    fn refusal(value: Value) -> RequestError {
        ReleaseRequest::from_json(&value).expect_err("refused")
    }

    #[test]
    fn members_share_everything_but_their_function_version_and_own_alarms() {
        let release = ReleaseRequest::from_json(&request()).expect("valid");
        assert_eq!(release.name.as_deref(), Some("checkout-42"));
        let [api, worker] = &release.members[..] else {
            panic!("two members")
        };
        assert_eq!(api.alarms, ["checkout-errors", "api-5xx"]);
        assert_eq!(worker.alarms, ["checkout-errors"]);
        assert_eq!(worker.target, crate::Target::PublishLatest);
        for member in [api, worker] {
            assert_eq!(member.bake_seconds, 300);
            assert_eq!(member.plan, api.plan);
            assert_eq!(member.idempotency_key.as_deref(), Some("build-42"));
            assert_eq!(member.hooks.pre_traffic.as_deref(), Some("checkout-smoke"));
        }
    }

    #[test]
    fn a_bad_field_is_named_with_its_member() {
        let mut bad_version = request();
        bad_version["members"][1] =
            json!({"function": "orders-worker", "alias": "live", "targetVersion": "$LATEST"});
        assert_eq!(refusal(bad_version).field, "members[1].targetVersion");

        let mut missing_alias = request();
        missing_alias["members"][0]
            .as_object_mut()
            .expect("object")
            .remove("alias");
        assert_eq!(refusal(missing_alias).field, "members[0].alias");

        let mut unknown = request();
        unknown["members"][0]["strategy"] = json!("AllAtOnce");
        let error = refusal(unknown);
        assert_eq!(error.field, "members[0].strategy");
        assert!(error.problem.contains("shared by the release"), "{error}");

        let mut shared_bad = request();
        shared_bad["bake"] = json!("soon");
        assert_eq!(refusal(shared_bad).field, "bake");

        let mut misplaced = request();
        misplaced["function"] = json!("orders-api");
        assert_eq!(refusal(misplaced).field, "function");
    }

    #[test]
    fn members_are_counted_and_distinct() {
        let mut one = request();
        one["members"] = json!([{"function": "a", "alias": "live", "targetVersion": "2"}]);
        assert_eq!(refusal(one).field, "members");

        let mut many = request();
        many["members"] = Value::Array(
            (0..=MAX_MEMBERS)
                .map(
                    |i| json!({"function": format!("f{i}"), "alias": "live", "targetVersion": "2"}),
                )
                .collect(),
        );
        let error = refusal(many);
        assert!(error.problem.contains("at most 10"), "{error}");

        let mut twice = request();
        twice["members"][1] =
            json!({"function": "orders-api", "alias": "live", "targetVersion": "8"});
        let error = refusal(twice);
        assert_eq!(error.field, "members[1].function");
        assert!(error.problem.contains("members[0]"), "{error}");
    }

    #[test]
    fn auto_alarms_are_the_release_s_alone() {
        let mut auto = request();
        auto["alarms"] = json!("auto");
        auto["analysis"] = json!({"metrics": ["errors"], "maxErrorRate": 0.05});
        let error = refusal(auto.clone());
        assert_eq!(error.field, "members[0].alarms");
        auto["members"][0]
            .as_object_mut()
            .expect("object")
            .remove("alarms");
        let release = ReleaseRequest::from_json(&auto).expect("valid");
        assert!(release.members.iter().all(|m| m.managed_alarms));
    }

    #[test]
    fn waves_number_their_members_and_name_fields_by_wave() {
        let body = json!({
            "waves": [
                {"members": [{"function": "a", "alias": "live", "targetVersion": "2"}]},
                {"members": [{"function": "b", "alias": "live", "targetVersion": "2"},
                             {"function": "c", "alias": "live", "targetVersion": "2"}]},
            ],
            "earlierWaves": "keep",
            "strategy": "AllAtOnce",
        });
        let release = ReleaseRequest::from_json(&body).expect("valid");
        assert_eq!(release.waves, [0, 1, 1]);
        assert_eq!(release.earlier_waves, crate::release::EarlierWaves::Keep);
        assert!(ReleaseRequest::is_release(&body));

        let mut bad_member = body.clone();
        bad_member["waves"][1]["members"][1]["alias"] = json!("");
        assert_eq!(refusal(bad_member).field, "waves[1].members[1].alias");
        let mut empty = body.clone();
        empty["waves"][0] = json!({"members": []});
        assert_eq!(refusal(empty).field, "waves[0]");
        let mut both = body.clone();
        both["members"] = json!([]);
        assert_eq!(refusal(both).field, "waves");
        let mut policy = body;
        policy["earlierWaves"] = json!("sometimes");
        assert_eq!(refusal(policy).field, "earlierWaves");
    }

    #[test]
    fn a_release_name_is_checked() {
        let mut name = request();
        name["release"] = json!("no spaces please");
        assert_eq!(refusal(name).field, "release");
    }
}
