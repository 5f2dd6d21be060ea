//! Rollouts on publish: the tags a function carries to opt in, read into the rollout request
//! a published version starts.
//!
//! Lambda tag values may hold only letters, digits, spaces and `_ . : / = + - @` (no JSON), so
//! the grammar is small:
//!
//! | tag | value | request field |
//! |---|---|---|
//! | `glidepath:alias` | the alias to roll out on, e.g. `live`; **the opt-in**: without it the function is ignored | `alias` |
//! | `glidepath:strategy` | a predefined name (`Canary10Percent5Minutes`, `Linear10PercentEvery1Minute`, ...), or `canary:<percent>:<wait>` / `linear:<percent>:<interval>` (e.g. `canary:5:10m`) | `strategy` |
//! | `glidepath:alarms` | alarm names separated by spaces, or `auto` (alarms Glidepath makes) | `alarms` |
//! | `glidepath:hooks` | `pre=<function>` and/or `post=<function>`, separated by a space | `hooks` |
//! | `glidepath:bake` | optional: a duration such as `10m` | `bake` |
//!
//! Any other `glidepath:` tag is refused by name (a typo must not silently drop a setting),
//! except `glidepath:managed`, which the stack's IAM conditions read. The request built here
//! is then checked like any other ([`crate::RolloutRequest::from_json`]): a bad strategy or
//! duration is refused there, naming the request field; [`TagError`] names the tag.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// The opt-in tag.
pub const ALIAS_TAG: &str = "glidepath:alias";
/// The tags this module reads.
pub const TAGS: &[&str] = &[
    ALIAS_TAG,
    "glidepath:strategy",
    "glidepath:alarms",
    "glidepath:hooks",
    "glidepath:bake",
];
/// A `glidepath:` tag that belongs to the stack's IAM conditions, not to rollouts.
pub const MANAGED_TAG: &str = "glidepath:managed";

/// A tag that cannot be read: which, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagError {
    pub tag: String,
    pub problem: String,
}

impl fmt::Display for TagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tag `{}`: {}", self.tag, self.problem)
    }
}

impl std::error::Error for TagError {}

fn bad(tag: &str, problem: impl Into<String>) -> TagError {
    TagError {
        tag: tag.to_string(),
        problem: problem.into(),
    }
}

/// The rollout request a function's `tags` ask for when `version` of `function` is
/// published; `None` when the function has not opted in (no `glidepath:alias`).
pub fn request_from_tags(
    tags: &BTreeMap<String, String>,
    function: &str,
    version: &str,
) -> Result<Option<Value>, TagError> {
    let Some(alias) = tags.get(ALIAS_TAG) else {
        return Ok(None);
    };
    if let Some(unknown) = tags
        .keys()
        .find(|k| k.starts_with("glidepath:") && !TAGS.contains(&k.as_str()) && *k != MANAGED_TAG)
    {
        return Err(bad(
            unknown,
            format!("is not a Glidepath tag; known: {}", TAGS.join(", ")),
        ));
    }
    let alias = alias.trim();
    if alias.is_empty() {
        return Err(bad(ALIAS_TAG, "empty; name the alias to roll out on"));
    }
    let mut request = Map::new();
    request.insert("function".into(), Value::from(function));
    request.insert("alias".into(), Value::from(alias));
    request.insert("targetVersion".into(), Value::from(version));
    let strategy = tags.get("glidepath:strategy").ok_or_else(|| {
        bad(
            "glidepath:strategy",
            "missing; e.g. Canary10Percent5Minutes or canary:10:5m",
        )
    })?;
    request.insert("strategy".into(), strategy_value(strategy)?);
    if let Some(alarms) = tags.get("glidepath:alarms") {
        request.insert("alarms".into(), alarms_value(alarms)?);
    }
    if let Some(hooks) = tags.get("glidepath:hooks") {
        request.insert("hooks".into(), hooks_value(hooks)?);
    }
    if let Some(bake) = tags.get("glidepath:bake") {
        request.insert("bake".into(), Value::from(bake.trim()));
    }
    Ok(Some(Value::Object(request)))
}

/// A predefined name as it is; `canary:<percent>:<wait>` and `linear:<percent>:<interval>` as
/// the JSON form.
fn strategy_value(text: &str) -> Result<Value, TagError> {
    const TAG: &str = "glidepath:strategy";
    let text = text.trim();
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [name] if !name.is_empty() => Ok(Value::from(*name)),
        [kind @ ("canary" | "linear"), percent, wait] => {
            let percent: f64 = percent.parse().map_err(|_| {
                bad(
                    TAG,
                    format!("`{percent}` is not a percentage (in `{text}`)"),
                )
            })?;
            Ok(json!({"type": kind, "percent": percent, "interval": wait}))
        }
        _ => Err(bad(
            TAG,
            format!(
                "`{text}` is neither a predefined strategy name nor canary:<percent>:<wait> / linear:<percent>:<interval>"
            ),
        )),
    }
}

fn alarms_value(text: &str) -> Result<Value, TagError> {
    let names: Vec<&str> = text.split_whitespace().collect();
    match names.as_slice() {
        [] => Err(bad(
            "glidepath:alarms",
            "empty; name the alarms (separated by spaces), or `auto`",
        )),
        ["auto"] => Ok(Value::from("auto")),
        names => Ok(Value::from(names.to_vec())),
    }
}

fn hooks_value(text: &str) -> Result<Value, TagError> {
    const TAG: &str = "glidepath:hooks";
    let mut hooks = Map::new();
    for part in text.split_whitespace() {
        let (stage, function) = part.split_once('=').ok_or_else(|| {
            bad(
                TAG,
                format!("`{part}` is not pre=<function> or post=<function>"),
            )
        })?;
        let field = match stage {
            "pre" => "preTraffic",
            "post" => "postTraffic",
            other => {
                return Err(bad(
                    TAG,
                    format!("`{other}` is not a hook stage; use pre= or post="),
                ));
            }
        };
        if function.is_empty() || hooks.contains_key(field) {
            return Err(bad(TAG, format!("`{part}`: name one function per stage")));
        }
        hooks.insert(field.into(), Value::from(function));
    }
    if hooks.is_empty() {
        return Err(bad(TAG, "empty; e.g. pre=orders-smoke post=orders-smoke"));
    }
    Ok(Value::Object(hooks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RolloutRequest;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_function_without_the_alias_tag_is_not_opted_in() {
        let tags = tags(&[("glidepath:managed", "true"), ("team", "orders")]);
        assert_eq!(request_from_tags(&tags, "orders", "7"), Ok(None));
    }

    #[test]
    fn every_tag_becomes_its_request_field_and_the_request_is_valid() {
        let tags = tags(&[
            ("glidepath:alias", "live"),
            ("glidepath:strategy", "canary:5:10m"),
            ("glidepath:alarms", "orders-errors  orders-latency"),
            ("glidepath:hooks", "pre=orders-smoke post=orders-e2e"),
            ("glidepath:bake", "15m"),
            ("glidepath:managed", "true"),
        ]);
        let body = request_from_tags(&tags, "arn:aws:lambda:eu-west-1:1:function:orders", "7")
            .unwrap()
            .unwrap();
        assert_eq!(
            body,
            json!({"function": "arn:aws:lambda:eu-west-1:1:function:orders", "alias": "live",
                   "targetVersion": "7",
                   "strategy": {"type": "canary", "percent": 5.0, "interval": "10m"},
                   "alarms": ["orders-errors", "orders-latency"],
                   "hooks": {"preTraffic": "orders-smoke", "postTraffic": "orders-e2e"},
                   "bake": "15m"})
        );
        let request = RolloutRequest::from_json(&body).unwrap();
        assert_eq!(request.bake_seconds, 900);
        assert_eq!(request.plan.weights().next().unwrap().to_string(), "5");
    }

    #[test]
    fn names_and_auto_alarms_pass_through() {
        let tags = tags(&[
            ("glidepath:alias", "live"),
            ("glidepath:strategy", "Linear10PercentEvery1Minute"),
            ("glidepath:alarms", "auto"),
        ]);
        let body = request_from_tags(&tags, "orders", "3").unwrap().unwrap();
        assert_eq!(body["strategy"], "Linear10PercentEvery1Minute");
        assert_eq!(body["alarms"], "auto");
    }

    /// Tags, the tag an error must name, and a phrase of its problem.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

    #[test]
    fn a_bad_tag_is_refused_by_name() {
        let cases: &[Case] = &[
            (
                &[("glidepath:alias", "live")],
                "glidepath:strategy",
                "missing",
            ),
            (
                &[
                    ("glidepath:alias", " "),
                    ("glidepath:strategy", "AllAtOnce"),
                ],
                "glidepath:alias",
                "empty",
            ),
            (
                &[
                    ("glidepath:alias", "live"),
                    ("glidepath:strategy", "canary:ten:5m"),
                ],
                "glidepath:strategy",
                "`ten` is not a percentage",
            ),
            (
                &[
                    ("glidepath:alias", "live"),
                    ("glidepath:strategy", "canary:5"),
                ],
                "glidepath:strategy",
                "neither",
            ),
            (
                &[
                    ("glidepath:alias", "live"),
                    ("glidepath:strategy", "AllAtOnce"),
                    ("glidepath:alarms", ""),
                ],
                "glidepath:alarms",
                "empty",
            ),
            (
                &[
                    ("glidepath:alias", "live"),
                    ("glidepath:strategy", "AllAtOnce"),
                    ("glidepath:hooks", "pre=a pre=b"),
                ],
                "glidepath:hooks",
                "one function per stage",
            ),
            (
                &[
                    ("glidepath:alias", "live"),
                    ("glidepath:strategy", "AllAtOnce"),
                    ("glidepath:hooks", "during=a"),
                ],
                "glidepath:hooks",
                "not a hook stage",
            ),
            (
                &[
                    ("glidepath:alias", "live"),
                    ("glidepath:strategy", "AllAtOnce"),
                    ("glidepath:hooks", "smoke"),
                ],
                "glidepath:hooks",
                "not pre=<function>",
            ),
            (
                &[
                    ("glidepath:alias", "live"),
                    ("glidepath:strategy", "AllAtOnce"),
                    ("glidepath:alarm", "x"),
                ],
                "glidepath:alarm",
                "not a Glidepath tag",
            ),
        ];
        for (pairs, tag, problem) in cases {
            let error = request_from_tags(&tags(pairs), "orders", "2").unwrap_err();
            assert_eq!(error.tag, *tag, "{pairs:?}");
            assert!(error.problem.contains(problem), "{pairs:?}: {error}");
        }
    }

    #[test]
    fn a_bad_value_the_request_checks_is_refused_naming_the_request_field() {
        let tags = tags(&[
            ("glidepath:alias", "live"),
            ("glidepath:strategy", "Canary99Percent"),
        ]);
        let body = request_from_tags(&tags, "orders", "2").unwrap().unwrap();
        let error = RolloutRequest::from_json(&body).unwrap_err().to_string();
        assert!(error.contains("`strategy`"), "{error}");
    }
}
