//! Who may move traffic: the [`Actor`] behind a request, the authorisation [`Policy`] (rules
//! mapping principals to actions on functions and aliases), and the [`Guardrail`]s a new
//! rollout must pass unless its request explicitly overrides them and a rule lets its actor.
//!
//! The policy is JSON, kept in the stack's configuration (`GLIDEPATH_POLICY`):
//!
//! ```json
//! {"rules": [
//!    {"name": "release-bots", "principals": ["arn:aws:sts::123456789012:assumed-role/deployer/*"],
//!     "actions": ["start", "abort"], "functions": ["arn:aws:lambda:eu-west-1:123456789012:function:shop-*"],
//!     "aliases": ["live"]},
//!    {"name": "on-call", "principals": ["arn:aws:sts::123456789012:assumed-role/oncall/*"],
//!     "actions": ["*"], "mayOverride": ["downgrade", "allAtOnce"]},
//!    {"name": "no-one-touches-payments", "effect": "deny", "principals": ["*"], "actions": ["start"],
//!     "functions": ["*:function:payments"]}],
//!  "guardrails": {"requireHealthSignal": true, "maxFirstStepPercent": 25}}
//! ```
//!
//! A request is allowed when no `deny` rule matches it and an `allow` rule does; the first such
//! rule is recorded as what authorised it. Patterns are globs (`*`: any run of characters,
//! `?`: one), matched against the actor's principal, the function's ARN and the alias name.
//! Every check fails closed: no matching rule is a refusal naming the actor and the request.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The principal of a direct `lambda:InvokeFunction` call: Lambda passes no caller identity,
/// so this stands for "whoever IAM lets invoke the function".
pub const DIRECT_INVOKE_PRINCIPAL: &str = "lambda:invoke";

/// How a request reached Glidepath, which decides how far its principal can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// A function URL with `AWS_IAM` auth: the principal is the caller's IAM ARN, as Lambda
    /// authenticated it.
    FunctionUrl,
    /// An EventBridge `Rollout Requested` event: the principal is `eventbridge:<account>`,
    /// the account that put it on the bus.
    EventBridge,
    /// A direct invoke: no identity beyond IAM's permission to invoke
    /// ([`DIRECT_INVOKE_PRINCIPAL`]).
    DirectInvoke,
    /// A CodePipeline job delivered to the `pipeline` function: the principal is
    /// `codepipeline:<account>`, the job's account (which must be Glidepath's own). Like a
    /// direct invoke, it is only as strong as IAM's permission to invoke that function, but
    /// it is a separate function, so a policy can tell pipelines apart from other callers.
    CodePipeline,
    /// A version published of a function that opted in by tags (the CloudTrail event of the
    /// call, through EventBridge): the principal is `publish:<account>`. The publisher's own
    /// ARN is in the event but not trusted: `start` cannot tell an event EventBridge delivered
    /// from one a caller invoked it with.
    Publish,
    /// A CloudWatch alarm of another account invoking `check-alarms` as its alarm action: the
    /// principal is the alarm's ARN. It can only roll back, and only where the policy lets it
    /// `abort`. (An alarm of Glidepath's own account acts as Glidepath.)
    AlarmAction,
    /// Glidepath itself: a tick, an alarm event, the watchdog, a hand-off.
    Glidepath,
}

/// Who asked for a change, and through which channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub principal: String,
    pub via: Channel,
}

impl Actor {
    /// An authenticated IAM caller of a function URL.
    pub fn iam(principal_arn: impl Into<String>) -> Actor {
        Actor {
            principal: principal_arn.into(),
            via: Channel::FunctionUrl,
        }
    }

    /// The account that put a `Rollout Requested` event on the bus.
    pub fn event_bridge(account: &str) -> Actor {
        Actor {
            principal: format!("eventbridge:{account}"),
            via: Channel::EventBridge,
        }
    }

    /// A direct invoke, with no identity.
    pub fn direct_invoke() -> Actor {
        Actor {
            principal: DIRECT_INVOKE_PRINCIPAL.to_string(),
            via: Channel::DirectInvoke,
        }
    }

    /// A CodePipeline job of `account`, through the `pipeline` function.
    pub fn code_pipeline(account: &str) -> Actor {
        Actor {
            principal: format!("codepipeline:{account}"),
            via: Channel::CodePipeline,
        }
    }

    /// A version published in `account` of a function that opted in.
    pub fn publish(account: &str) -> Actor {
        Actor {
            principal: format!("publish:{account}"),
            via: Channel::Publish,
        }
    }

    /// An alarm of another account, by its ARN.
    pub fn alarm(alarm_arn: &str) -> Actor {
        Actor {
            principal: alarm_arn.to_string(),
            via: Channel::AlarmAction,
        }
    }

    /// Glidepath's own `component` (`step`, `check-alarms`, `watchdog`...).
    pub fn glidepath(component: &str) -> Actor {
        Actor {
            principal: format!("glidepath:{component}"),
            via: Channel::Glidepath,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.principal)
    }
}

/// What a principal may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Start,
    Pause,
    Resume,
    Promote,
    Abort,
    /// Answer for a callback hook (`step`'s `hookResult`), besides the hook function's own
    /// role, which may always.
    #[serde(rename = "hookResult")]
    HookResult,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Start,
        Action::Pause,
        Action::Resume,
        Action::Promote,
        Action::Abort,
        Action::HookResult,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Promote => "promote",
            Action::Abort => "abort",
            Action::HookResult => "hookResult",
        }
    }
}

/// A check every new rollout passes unless its request names it in `allow` and a rule lets
/// the actor override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Guardrail {
    /// The rollout watches no alarm, so nothing would roll it back by itself.
    NoHealthSignal,
    /// The first step sends more of the traffic than `maxFirstStepPercent` (but not all).
    LargeFirstStep,
    /// The first step sends all the traffic at once.
    AllAtOnce,
    /// The target version is older than the one the alias serves.
    Downgrade,
}

impl Guardrail {
    pub const ALL: [Guardrail; 4] = [
        Guardrail::NoHealthSignal,
        Guardrail::LargeFirstStep,
        Guardrail::AllAtOnce,
        Guardrail::Downgrade,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Guardrail::NoHealthSignal => "noHealthSignal",
            Guardrail::LargeFirstStep => "largeFirstStep",
            Guardrail::AllAtOnce => "allAtOnce",
            Guardrail::Downgrade => "downgrade",
        }
    }

    /// Reads a guardrail's name as requests and policies spell it.
    pub fn parse(name: &str) -> Option<Guardrail> {
        Guardrail::ALL.into_iter().find(|g| g.as_str() == name)
    }
}

impl fmt::Display for Guardrail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request the policy refuses; the message names the rule or guardrail and the actor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub String);

/// Why a policy document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("authorisation policy: {0}")]
pub struct PolicyError(pub String);

/// Whether a rule allows or refuses what it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    #[default]
    Allow,
    Deny,
}

/// One rule of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub effect: Effect,
    /// Globs over the actor's principal.
    pub principals: Vec<String>,
    /// Action names, or `*`.
    pub actions: Vec<String>,
    /// Globs over the function's ARN (default: any).
    #[serde(default = "any")]
    pub functions: Vec<String>,
    /// Globs over the alias name (default: any).
    #[serde(default = "any")]
    pub aliases: Vec<String>,
    /// Guardrail names this rule lets its principals override, or `*`.
    #[serde(default)]
    pub may_override: Vec<String>,
}

impl Rule {
    /// Whether the rule names `actor`'s principal and `action` (whatever the alias).
    fn covers(&self, actor: &Actor, action: Action) -> bool {
        self.principals.iter().any(|p| glob(p, &actor.principal))
            && self
                .actions
                .iter()
                .any(|a| a == "*" || a == action.as_str())
    }
}

fn any() -> Vec<String> {
    vec!["*".to_string()]
}

/// The limits every new rollout is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Guardrails {
    /// A rollout must watch at least one alarm (default true).
    #[serde(default = "yes")]
    pub require_health_signal: bool,
    /// The most traffic a first step may send, in percent (default 50).
    #[serde(default = "half")]
    pub max_first_step_percent: u8,
    /// Sending all the traffic at once needs `allow` for `allAtOnce` (default true); when
    /// false, a first step of 100 % is held to `maxFirstStepPercent` like any other.
    #[serde(default = "yes")]
    pub all_at_once_needs_allow: bool,
    /// Rolling out an older version than the alias's needs `allow` (default true).
    #[serde(default = "yes")]
    pub downgrade_needs_allow: bool,
}

fn yes() -> bool {
    true
}

fn half() -> u8 {
    50
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            require_health_signal: true,
            max_first_step_percent: 50,
            all_at_once_needs_allow: true,
            downgrade_needs_allow: true,
        }
    }
}

/// The authorisation policy: rules and guardrails.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub guardrails: Guardrails,
}

/// What an allowed request was allowed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The name of the allow rule that matched.
    pub rule: String,
    may_override: Vec<String>,
}

impl Grant {
    /// Whether the granting rule lets its principal override `guardrail`.
    pub fn may_override(&self, guardrail: Guardrail) -> bool {
        self.may_override
            .iter()
            .any(|name| name == "*" || name == guardrail.as_str())
    }
}

/// What a new rollout would do, as the guardrails judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutFacts {
    /// What would roll the rollout back by itself: its alarms, and its canary analysis.
    pub health_signals: usize,
    /// The weight of its first step.
    pub first_step_percent: crate::weight::Weight,
    /// Whether the target version is older than the current one.
    pub downgrade: bool,
}

impl Policy {
    /// Reads and checks a policy document.
    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = serde_json::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
        policy.check()?;
        Ok(policy)
    }

    fn check(&self) -> Result<(), PolicyError> {
        if self.rules.is_empty() {
            return Err(PolicyError(
                "`rules` is empty: nobody could do anything".into(),
            ));
        }
        let limit = self.guardrails.max_first_step_percent;
        if limit == 0 || limit > 100 {
            return Err(PolicyError(format!(
                "`guardrails.maxFirstStepPercent`: {limit} is not between 1 and 100"
            )));
        }
        for (index, rule) in self.rules.iter().enumerate() {
            let at = |field: &str| format!("`rules[{index}].{field}`");
            if rule.name.trim().is_empty() {
                return Err(PolicyError(format!("{}: a rule needs a name", at("name"))));
            }
            if self.rules[..index].iter().any(|r| r.name == rule.name) {
                return Err(PolicyError(format!(
                    "{}: `{}` names two rules",
                    at("name"),
                    rule.name
                )));
            }
            for (field, patterns) in [
                ("principals", &rule.principals),
                ("actions", &rule.actions),
                ("functions", &rule.functions),
                ("aliases", &rule.aliases),
            ] {
                if patterns.is_empty() || patterns.iter().any(|p| p.is_empty()) {
                    return Err(PolicyError(format!(
                        "{}: give at least one pattern, none empty",
                        at(field)
                    )));
                }
            }
            if let Some(bad) = rule
                .actions
                .iter()
                .find(|a| *a != "*" && !Action::ALL.iter().any(|x| x.as_str() == *a))
            {
                return Err(PolicyError(format!(
                    "{}: `{bad}` is not one of start, pause, resume, promote, abort, hookResult or *",
                    at("actions")
                )));
            }
            if let Some(bad) = rule
                .may_override
                .iter()
                .find(|g| *g != "*" && Guardrail::parse(g).is_none())
            {
                return Err(PolicyError(format!(
                    "{}: `{bad}` is not one of noHealthSignal, largeFirstStep, allAtOnce, downgrade or *",
                    at("mayOverride")
                )));
            }
        }
        Ok(())
    }

    /// Whether some allow rule could let `actor` do `action` somewhere (before looking up
    /// what it would act on): a cheap refusal of strangers.
    pub fn may_ever(&self, actor: &Actor, action: Action) -> bool {
        self.rules
            .iter()
            .any(|rule| rule.effect == Effect::Allow && rule.covers(actor, action))
    }

    /// Whether `actor` may do `action` to `alias` of the function `function_arn`.
    pub fn authorize(
        &self,
        actor: &Actor,
        action: Action,
        function_arn: &str,
        alias: &str,
    ) -> Result<Grant, Forbidden> {
        let matching = |effect: Effect| {
            self.rules.iter().filter(move |rule| {
                rule.effect == effect
                    && rule.covers(actor, action)
                    && rule.functions.iter().any(|p| glob(p, function_arn))
                    && rule.aliases.iter().any(|p| glob(p, alias))
            })
        };
        if let Some(deny) = matching(Effect::Deny).next() {
            return Err(Forbidden(format!(
                "rule `{}` of the authorisation policy denies {actor} ({:?}) {} on {function_arn}:{alias}",
                deny.name,
                actor.via,
                action.as_str()
            )));
        }
        match matching(Effect::Allow).next() {
            Some(rule) => Ok(Grant {
                rule: rule.name.clone(),
                may_override: rule.may_override.clone(),
            }),
            None => Err(Forbidden(format!(
                "no rule of the authorisation policy lets {actor} ({:?}) {} on {function_arn}:{alias}",
                actor.via,
                action.as_str()
            ))),
        }
    }

    /// The guardrails a new rollout trips. Each must be named in the request's `allow` and
    /// be one the granting rule lets its principal override; the answer is the overridden
    /// ones, to record. A refusal names the guardrail and what would be needed.
    pub fn guard(
        &self,
        grant: &Grant,
        facts: RolloutFacts,
        allow: &[Guardrail],
    ) -> Result<Vec<Guardrail>, Forbidden> {
        let limit = self.guardrails.max_first_step_percent;
        let mut tripped = Vec::new();
        if self.guardrails.require_health_signal && facts.health_signals == 0 {
            tripped.push((
                Guardrail::NoHealthSignal,
                "the rollout watches no alarm and has no analysis, so nothing would roll it back by itself".to_string(),
            ));
        }
        if facts.first_step_percent.is_full() && self.guardrails.all_at_once_needs_allow {
            tripped.push((
                Guardrail::AllAtOnce,
                "the first step sends all the traffic at once".to_string(),
            ));
        } else if facts.first_step_percent > crate::weight::Weight::percent(limit) {
            tripped.push((
                Guardrail::LargeFirstStep,
                format!(
                    "the first step sends {}% of the traffic, more than the policy's maxFirstStepPercent of {limit}",
                    facts.first_step_percent
                ),
            ));
        }
        if facts.downgrade && self.guardrails.downgrade_needs_allow {
            tripped.push((
                Guardrail::Downgrade,
                "the target version is older than the one the alias serves".to_string(),
            ));
        }
        let mut overridden = Vec::new();
        for (guardrail, why) in tripped {
            if !allow.contains(&guardrail) {
                return Err(Forbidden(format!(
                    "guardrail `{guardrail}`: {why}; add \"{guardrail}\" to `allow` to override it, if the authorisation policy lets you"
                )));
            }
            if !grant.may_override(guardrail) {
                return Err(Forbidden(format!(
                    "guardrail `{guardrail}`: {why}; rule `{}`, which authorised this request, does not let its principals override it (`mayOverride`)",
                    grant.rule
                )));
            }
            overridden.push(guardrail);
        }
        Ok(overridden)
    }
}

/// Whether `caller` (the IAM ARN a function URL authenticated) is a session of the role
/// `role_arn` (a function's execution role): `arn:aws:sts::<account>:assumed-role/<name>/<session>`
/// against `arn:aws:iam::<account>:role/<path/><name>`, same partition and account.
pub fn is_session_of(caller: &str, role_arn: &str) -> bool {
    let caller: Vec<&str> = caller.splitn(6, ':').collect();
    let role: Vec<&str> = role_arn.splitn(6, ':').collect();
    let (
        ["arn", partition, "sts", "", account, resource],
        [
            "arn",
            role_partition,
            "iam",
            "",
            role_account,
            role_resource,
        ],
    ) = (caller.as_slice(), role.as_slice())
    else {
        return false;
    };
    let Some(session) = resource.strip_prefix("assumed-role/") else {
        return false;
    };
    let Some(name) = session.split('/').next() else {
        return false;
    };
    let Some(path_and_name) = role_resource.strip_prefix("role/") else {
        return false;
    };
    partition == role_partition
        && account == role_account
        && !name.is_empty()
        && path_and_name.rsplit('/').next() == Some(name)
}

/// `*` matches any run of characters (`:` and `/` included), `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it is matching up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether `target` is an older published version than `current` (both numbers; anything
/// else is not judged a downgrade).
pub fn is_downgrade(current: &str, target: &str) -> bool {
    match (current.parse::<u64>(), target.parse::<u64>()) {
        (Ok(current), Ok(target)) => target < current,
        _ => false,
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
