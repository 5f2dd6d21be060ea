//! Property tests: random strategies, options and event sequences, checked after every
//! transition against the invariants in ARCHITECTURE.md ("Lifecycle", "Invariants").

mod support;

use glidepath_core::{
    AnalysisSpec, Command, Event, HealthVerdict, HookOutcome, HookPhase, PlanStep, Rollout, Status,
    Weight, transition,
};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn strategy_text() -> impl proptest::strategy::Strategy<Value = String> {
    let predefined = proptest::sample::select(
        glidepath_core::PREDEFINED
            .iter()
            .map(|(name, _)| name.to_string())
            .collect::<Vec<_>>(),
    );
    // Percents in hundredths, written with two decimals (0.05 is 5 hundredths).
    let percent = |hundredths: u16| format!("{}.{:02}", hundredths / 100, hundredths % 100);
    let canary = (1u16..=9_999, 1u64..=900).prop_map(move |(p, i)| {
        format!(
            r#"{{"type":"canary","percent":{},"interval":"{i}s"}}"#,
            percent(p)
        )
    });
    // At least 1 % a step: a linear plan has at most 100 steps.
    let linear = (100u16..=9_900, 1u64..=900).prop_map(move |(p, i)| {
        format!(
            r#"{{"type":"linear","percent":{},"interval":"{i}s"}}"#,
            percent(p)
        )
    });
    let steps = proptest::collection::vec((1u16..=10_000, 0u64..=600, any::<bool>()), 1..8)
        .prop_map(move |raw| {
            let mut weights: Vec<u16> = raw.iter().map(|(w, _, _)| *w).collect();
            weights.sort_unstable();
            weights.dedup();
            let mut parts = Vec::new();
            for (weight, (_, bake, gate)) in weights.iter().zip(raw.iter()) {
                if *gate {
                    parts.push(r#"{"pause":true}"#.to_string());
                }
                parts.push(format!(
                    r#"{{"weight":{},"bake":"{bake}s"}}"#,
                    percent(*weight)
                ));
            }
            format!(r#"{{"type":"steps","steps":[{}]}}"#, parts.join(","))
        });
    prop_oneof![predefined, canary, linear, steps]
}

/// What the test harness does next; turned into an event against the current state.
#[derive(Debug, Clone)]
enum Action {
    Start,
    /// A due tick with the current seq, and a healthy verdict if it asks for one.
    HealthyTick,
    DueTickOnly,
    EarlyTick,
    StaleTick(u64),
    StaleHealthy(u64),
    Breach,
    BreachedHealth,
    /// Canary analysis found too little traffic (the rollout's `noData` decides).
    NoDataHealth,
    PreHook(bool),
    PostHook(bool),
    /// A callback hook's answer: for the waiting stage's execution id, or (stale) another.
    HookAnswer {
        ok: bool,
        stale: bool,
    },
    Pause,
    Resume,
    Promote,
    Abort,
    Drift,
    /// The runner carries out the record's owed effects and confirms them.
    Confirm,
    /// A confirmation for another record's write.
    StaleAliasApplied(u64),
    Failed,
    Redrive,
    Wait(u64),
}

fn action() -> impl proptest::strategy::Strategy<Value = Action> {
    prop_oneof![
        3 => Just(Action::Start),
        12 => Just(Action::HealthyTick),
        2 => Just(Action::DueTickOnly),
        2 => Just(Action::EarlyTick),
        2 => (0u64..3).prop_map(Action::StaleTick),
        2 => (0u64..3).prop_map(Action::StaleHealthy),
        1 => Just(Action::Breach),
        1 => Just(Action::BreachedHealth),
        3 => Just(Action::NoDataHealth),
        3 => any::<bool>().prop_map(Action::PreHook),
        3 => any::<bool>().prop_map(Action::PostHook),
        3 => (any::<bool>(), any::<bool>()).prop_map(|(ok, stale)| Action::HookAnswer { ok, stale }),
        1 => Just(Action::Pause),
        3 => Just(Action::Resume),
        1 => Just(Action::Promote),
        1 => Just(Action::Abort),
        1 => Just(Action::Drift),
        10 => Just(Action::Confirm),
        1 => (1u64..3).prop_map(Action::StaleAliasApplied),
        1 => Just(Action::Failed),
        2 => Just(Action::Redrive),
        2 => (0u64..400).prop_map(Action::Wait),
    ]
}

/// What the harness has observed, to judge the engine's claims against.
#[derive(Default)]
struct Model {
    /// The weight the alias would have after every `SetWeight` so far.
    alias_weight: Weight,
    pre_hook_requested: bool,
    pre_hook_succeeded: bool,
    post_hook_requested: bool,
    post_hook_succeeded: bool,
    promoted: bool,
    visited_steps: BTreeSet<usize>,
    baking_since: Option<u64>,
    baked_for: u64,
}

fn run(r0: Rollout, actions: Vec<Action>) -> Result<(), TestCaseError> {
    let mut r = r0;
    let mut now = r.created_at;
    let mut model = Model::default();
    let plan_weights: BTreeSet<Weight> = r.plan.weights().collect();
    for action in actions {
        let event = match action {
            Action::Start => Event::Start,
            Action::HealthyTick | Action::DueTickOnly => {
                now = now.max(r.next_tick_at.unwrap_or(now));
                Event::Tick { seq: r.seq }
            }
            Action::EarlyTick => Event::Tick { seq: r.seq },
            Action::StaleTick(k) => Event::Tick {
                seq: if k % 2 == 0 {
                    r.seq + 1 + k
                } else {
                    r.seq.saturating_sub(k)
                },
            },
            Action::StaleHealthy(k) => Event::Health {
                seq: r.seq + 1 + k,
                verdict: HealthVerdict::Healthy,
            },
            Action::Breach => Event::Breach {
                reason: "alarm".into(),
            },
            Action::BreachedHealth => Event::Health {
                seq: r.seq,
                verdict: HealthVerdict::Breached {
                    reason: "metric".into(),
                },
            },
            Action::NoDataHealth => {
                now = now.max(r.next_tick_at.unwrap_or(now));
                Event::Health {
                    seq: r.seq,
                    verdict: HealthVerdict::NoData {
                        reason: "3 invocations".into(),
                    },
                }
            }
            Action::PreHook(ok) | Action::PostHook(ok) => Event::HookCompleted {
                phase: if matches!(action, Action::PreHook(_)) {
                    HookPhase::PreTraffic
                } else {
                    HookPhase::PostTraffic
                },
                outcome: if ok {
                    HookOutcome::Succeeded
                } else {
                    HookOutcome::Failed {
                        reason: "smoke".into(),
                    }
                },
            },
            Action::HookAnswer { ok, stale } => Event::HookResult {
                execution_id: match (stale, r.hook_execution_id()) {
                    (false, Some(id)) => id,
                    _ => format!("PreTraffic-{}", r.seq + 7),
                },
                outcome: if ok {
                    HookOutcome::Succeeded
                } else {
                    HookOutcome::Failed {
                        reason: "callback".into(),
                    }
                },
            },
            Action::Pause => Event::Pause,
            Action::Resume => Event::Resume,
            Action::Promote => Event::Promote,
            Action::Abort => Event::Abort {
                reason: "operator".into(),
            },
            Action::Drift => Event::Drift {
                detail: "moved".into(),
            },
            Action::Confirm => {
                if r.owed.is_empty() {
                    continue;
                }
                let alias = r.owed.alias.is_some();
                r.owed = Default::default();
                if !alias {
                    continue;
                }
                Event::AliasApplied { seq: r.seq }
            }
            Action::StaleAliasApplied(k) => Event::AliasApplied { seq: r.seq + k },
            Action::Failed => Event::Failed {
                reason: "effect failed".into(),
            },
            Action::Redrive => Event::Redrive,
            Action::Wait(seconds) => {
                now += seconds;
                continue;
            }
        };
        let before = r.clone();
        let is_stale_tick = matches!(event, Event::Tick { seq } if seq != before.seq)
            || matches!(event, Event::AliasApplied { seq } if seq != before.seq);
        // A re-drive only asks again for owed work, except where it stands in for the
        // first event or finishes a post-traffic stage that has nothing left to do.
        let is_redrive = event == Event::Redrive
            && !(before.status == Status::PreTraffic && before.seq == 0)
            && !(before.status == Status::PostTraffic
                && before.spec.hooks.post_traffic.is_none()
                && before.owed.is_empty())
            // A hook stage re-driven past its limit fails safely.
            && !(matches!(before.status, Status::PreTraffic | Status::PostTraffic)
                && now >= before.updated_at + glidepath_core::HOOK_STAGE_LIMIT_SECONDS)
            // So does a callback hook's stage re-driven past its deadline (its tick lost).
            && !(before.hook_execution_id().is_some()
                && before.owed.is_empty()
                && before.next_tick_at.is_some_and(|due| {
                    now + glidepath_core::EARLY_TICK_TOLERANCE_SECONDS >= due
                }));
        let is_stale_health = matches!(&event, Event::Health { seq, verdict: HealthVerdict::Healthy } if *seq != before.seq);
        let result = transition(&before, event.clone(), now);
        let Ok(t) = result else {
            // Refusals only ever answer operator commands, and change nothing.
            prop_assert!(event.is_operator_command(), "{event:?} refused");
            continue;
        };
        // A callback answer for the waiting stage counts as that stage's hook completing.
        let answered = match &event {
            Event::HookResult {
                execution_id,
                outcome: HookOutcome::Succeeded,
            } if before.hook_execution_id().as_ref() == Some(execution_id) => Some(before.status),
            _ => None,
        };
        if answered == Some(Status::PreTraffic) && model.pre_hook_requested {
            model.pre_hook_succeeded = true;
        }
        if answered == Some(Status::PostTraffic) && model.post_hook_requested {
            model.post_hook_succeeded = true;
        }
        if let Event::HookCompleted {
            phase: HookPhase::PreTraffic,
            outcome: HookOutcome::Succeeded,
        } = event
        {
            if model.pre_hook_requested {
                model.pre_hook_succeeded = true;
            }
        }
        if let Event::HookCompleted {
            phase: HookPhase::PostTraffic,
            outcome: HookOutcome::Succeeded,
        } = event
        {
            if model.post_hook_requested && before.status == Status::PostTraffic {
                model.post_hook_succeeded = true;
            }
        }
        let mut commands = t.commands.clone();

        // The harness runs the health check a due tick asks for.
        if matches!(action, Action::HealthyTick)
            && commands == [Command::CheckHealth { seq: before.seq }]
        {
            let health = transition(
                &before,
                Event::Health {
                    seq: before.seq,
                    verdict: HealthVerdict::Healthy,
                },
                now,
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            check_step(&before, &health, &event, &mut model, &plan_weights, now)?;
            commands = health.commands.clone();
            r = health.rollout;
        } else {
            check_step(&before, &t, &event, &mut model, &plan_weights, now)?;
            r = t.rollout;
        }
        if is_redrive {
            prop_assert_eq!(&r, &before, "a redrive changed the rollout");
        }
        if is_stale_tick || is_stale_health {
            prop_assert_eq!(&r, &before, "a stale tick or verdict changed the rollout");
            prop_assert!(commands.is_empty(), "a stale tick produced {:?}", commands);
        }
    }
    Ok(())
}

/// Checks one transition against every invariant, and updates the model.
fn check_step(
    before: &Rollout,
    t: &glidepath_core::Transition,
    event: &Event,
    model: &mut Model,
    plan_weights: &BTreeSet<Weight>,
    now: u64,
) -> Result<(), TestCaseError> {
    let after = &t.rollout;
    // Terminal states absorb.
    if before.status.is_terminal() {
        prop_assert_eq!(after, before);
        prop_assert!(t.commands.is_empty());
        return Ok(());
    }
    // seq is bumped exactly on a change; an unchanged transition returns the same record.
    if t.changed {
        prop_assert_eq!(after.seq, before.seq + 1);
        prop_assert!(
            matches!(t.commands.last(), Some(Command::Notify(_))),
            "a change is always notified"
        );
    } else {
        prop_assert_eq!(after, before);
    }
    for command in &t.commands {
        match command {
            Command::SetWeight { weight, .. } => {
                prop_assert!(
                    weight.is_zero() || plan_weights.contains(weight),
                    "weight {} is not in the plan",
                    weight
                );
                if !weight.is_zero() && before.spec.hooks.pre_traffic.is_some() {
                    prop_assert!(
                        model.pre_hook_succeeded,
                        "traffic shifted before the pre-traffic hook succeeded"
                    );
                }
                model.alias_weight = *weight;
            }
            Command::RunHook {
                phase: HookPhase::PreTraffic,
                ..
            } => model.pre_hook_requested = true,
            Command::RunHook {
                phase: HookPhase::PostTraffic,
                ..
            } => model.post_hook_requested = true,
            Command::ScheduleTick { seq, at } => {
                prop_assert_eq!(*seq, after.seq);
                prop_assert_eq!(Some(*at), after.next_tick_at);
                // A re-drive asks again for the tick the record owes, which may be due.
                prop_assert!(*at >= now || *event == Event::Redrive);
            }
            _ => {}
        }
    }
    if matches!(event, Event::Promote) && t.changed {
        model.promoted = true;
    }
    if let Some(index) = after.step_index {
        model.visited_steps.insert(index);
    }
    // Weight: the record matches the alias, and only rises unless rolling back.
    let rolling_back = matches!(
        after.status,
        Status::RollingBack | Status::RolledBack | Status::Failed
    );
    if !rolling_back {
        prop_assert!(
            after.weight >= before.weight,
            "weight fell from {} to {} while healthy",
            before.weight,
            after.weight
        );
        prop_assert_eq!(after.weight, model.alias_weight);
    }
    if after.status == Status::Shifting {
        match after.current_step() {
            Some(PlanStep::Shift { weight, .. }) => prop_assert_eq!(after.weight, weight),
            other => prop_assert!(false, "shifting on {:?}", other),
        }
    }
    // Pause holds until resume or promote (or a rollback).
    if before.status == Status::Paused
        && !matches!(
            event,
            Event::Resume
                | Event::Promote
                | Event::Abort { .. }
                | Event::Breach { .. }
                | Event::Failed { .. }
                | Event::Health {
                    verdict: HealthVerdict::Breached { .. },
                    ..
                }
        )
    {
        prop_assert_eq!(after.status, Status::Paused);
        prop_assert_eq!(after.weight, before.weight);
    }
    // Bake time is measured from entering Baking to leaving it.
    if before.status != Status::Baking && after.status == Status::Baking {
        model.baking_since = Some(now);
    }
    if before.status == Status::Baking && after.status != Status::Baking {
        if let Some(since) = model.baking_since.take() {
            model.baked_for += now - since;
        }
    }
    match after.status {
        Status::RolledBack | Status::Failed => {
            prop_assert_eq!(after.weight, Weight::ZERO);
            prop_assert_eq!(
                model.alias_weight,
                Weight::ZERO,
                "ended with traffic on the new version"
            );
        }
        Status::Succeeded if before.status != Status::Succeeded => {
            prop_assert_eq!(model.alias_weight, Weight::FULL);
            if !model.promoted {
                let shifts: BTreeSet<usize> = after
                    .plan
                    .steps()
                    .iter()
                    .enumerate()
                    .map(|(i, _)| i)
                    .collect();
                prop_assert!(
                    shifts.is_subset(&model.visited_steps),
                    "succeeded with steps skipped"
                );
                prop_assert!(
                    model.baked_for + glidepath_core::EARLY_TICK_TOLERANCE_SECONDS
                        >= after.spec.bake_seconds,
                    "bake cut short"
                );
            }
            if after.spec.hooks.post_traffic.is_some() {
                // The hook's success, returned or (a callback) answered for this stage.
                let after_post_hook = matches!(
                    event,
                    Event::HookCompleted {
                        phase: HookPhase::PostTraffic,
                        outcome: HookOutcome::Succeeded
                    }
                ) || matches!(
                    event,
                    Event::HookResult { execution_id, outcome: HookOutcome::Succeeded }
                        if before.hook_execution_id().as_ref() == Some(execution_id)
                );
                prop_assert!(after_post_hook, "succeeded without the post-traffic hook");
            }
        }
        _ => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_random_event_sequences(
        strategy in strategy_text(),
        bake in prop_oneof![Just(0u64), 1u64..900],
        pre in any::<bool>(),
        post in any::<bool>(),
        actions in proptest::collection::vec(action(), 1..80),
        no_data in prop_oneof![Just(None), Just(Some("hold")), Just(Some("pass")), Just(Some("fail"))],
        callback in any::<bool>(),
    ) {
        let mut r = support::rollout(&strategy, bake, pre, post);
        // Callback hooks (issue 12): answered by `HookAnswer`, failed by a due tick after 2 min.
        r.spec.hooks.callback = callback;
        r.spec.hooks.timeout_seconds = callback.then_some(120);
        // With an analysis, NoData verdicts hold (for at most 2 minutes), pass or fail.
        r.spec.analysis = no_data.map(|policy| {
            let mut block = serde_json::json!({"noData": policy});
            if policy == "hold" {
                block["holdFor"] = serde_json::json!("2m");
            }
            AnalysisSpec::from_json(&block).expect("a valid analysis")
        });
        run(r, actions)?;
    }

    /// With only healthy ticks, hook successes and gate resumes, every rollout succeeds, and
    /// takes at least the plan's waits plus the bake.
    #[test]
    fn healthy_rollouts_always_succeed(
        strategy in strategy_text(),
        bake in prop_oneof![Just(0u64), 1u64..900],
        pre in any::<bool>(),
        post in any::<bool>(),
    ) {
        let mut r = support::rollout(&strategy, bake, pre, post);
        let started_at = r.created_at;
        let mut now = started_at;
        let mut events = vec![Event::Start];
        for _ in 0..1000 {
            let Some(event) = events.pop() else {
                events.push(match (r.status, r.pause) {
                    (Status::PreTraffic, _) => Event::HookCompleted { phase: HookPhase::PreTraffic, outcome: HookOutcome::Succeeded },
                    (Status::PostTraffic, _) => Event::HookCompleted { phase: HookPhase::PostTraffic, outcome: HookOutcome::Succeeded },
                    (Status::Paused, Some(_)) => Event::Resume,
                    _ => {
                        now = now.max(r.next_tick_at.unwrap_or(now));
                        Event::Tick { seq: r.seq }
                    }
                });
                continue;
            };
            let t = transition(&r, event, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for command in &t.commands {
                if let Command::CheckHealth { seq } = command {
                    events.push(Event::Health { seq: *seq, verdict: HealthVerdict::Healthy });
                }
            }
            r = t.rollout;
            // The runner carries out and confirms the owed effects.
            if r.owed.alias.is_some() {
                events.push(Event::AliasApplied { seq: r.seq });
            }
            r.owed = Default::default();
            if r.status.is_terminal() {
                break;
            }
        }
        prop_assert_eq!(r.status, Status::Succeeded);
        prop_assert_eq!(r.weight, Weight::FULL);
        prop_assert_eq!(now - started_at, r.plan.total_wait_seconds() + bake);
    }
}
