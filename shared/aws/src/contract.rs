//! Port contract tests: one set of test bodies that every implementation of a port must
//! pass. `tests/contract.rs` runs them against the in-memory fakes; the end-to-end suite
//! runs the same bodies against the DynamoDB and Lambda adapters on the local emulator. A
//! fake that drifts from its adapter fails one of the two runs.
//!
//! The bodies panic on a broken contract, like any test. Each takes a `prefix` that makes
//! its ids and function names unique, so runs can share a table with other tests.

use crate::error::PortError;
use crate::ports::{AliasRouter, Created, RolloutStore};
use glidepath_core::{
    Event, Grace, Plan, Rollout, RolloutSpec, Status, Strategy, UnixSeconds, Weight, transition,
};
use std::collections::BTreeSet;

fn spec(function: &str, alias: &str) -> RolloutSpec {
    RolloutSpec {
        function: function.to_string(),
        alias: alias.to_string(),
        current_version: "1".into(),
        target_version: "2".into(),
        strategy: "Linear10PercentEvery1Minute".into(),
        bake_seconds: 0,
        alarms: vec![format!("{function}-errors")],
        insufficient_data: Default::default(),
        hooks: Default::default(),
        analysis: None,
        managed_alarms: Vec::new(),
        idempotency_key: None,
        function_arn: None,
        requested_by: None,
        authorized_by: None,
        overridden: Vec::new(),
    }
}

fn plan() -> Plan {
    Strategy::parse("Linear10PercentEvery1Minute")
        .expect("a valid strategy")
        .plan()
}

/// A new rollout of `<prefix>-<name>:live` created at `at`.
fn rollout(prefix: &str, name: &str, at: UnixSeconds) -> Rollout {
    let mut rollout = Rollout::new(
        format!("{prefix}-{name}"),
        spec(&format!("{prefix}-{name}"), "live"),
        plan(),
        at,
    );
    rollout.alias_revision = Some("rev-0".into());
    let operator =
        glidepath_core::Actor::iam("arn:aws:sts::123456789012:assumed-role/ops/contract");
    rollout.spec.requested_by = Some(operator.clone());
    rollout.actor = Some(operator);
    rollout
}

/// Applies `event` at `now` and saves the result.
async fn advance<S: RolloutStore>(store: &S, rollout: &Rollout, event: Event, now: u64) -> Rollout {
    let step = transition(rollout, event.clone(), now).expect("a valid transition");
    assert!(step.changed, "{} changes the rollout", event.name());
    store
        .save(rollout.seq, &step.rollout, Some(event.name()))
        .await
        .expect("saved");
    step.rollout
}

/// A release's members: created all or none with their locks, moved on all or none, and
/// their locks released by the joint write that ends them.
pub async fn store_releases<S: RolloutStore>(store: &S, prefix: &str, at: UnixSeconds) {
    let release = format!("{prefix}-rel");
    let members: Vec<Rollout> = (0..3)
        .map(|i| {
            let mut member = rollout(prefix, &format!("m{i}"), at);
            member.id = glidepath_core::release::member_id(&release, i);
            member
        })
        .collect();
    // One alias twice, or more than one transaction takes: refused before anything is written.
    let mut twice = members.clone();
    twice[1].spec = twice[0].spec.clone();
    assert!(matches!(
        store.create_all(&twice).await,
        Err(PortError::Invalid(_))
    ));
    let mut crowded = members.clone();
    crowded[0].spec.alarms = (0..100).map(|i| format!("{prefix}-alarm-{i}")).collect();
    assert!(matches!(
        store.create_all(&crowded).await,
        Err(PortError::Invalid(_))
    ));
    // The third member's alias is held by another rollout: nothing is created.
    let holder = rollout(prefix, "m2", at);
    assert_eq!(store.create(&holder).await.expect("created"), Created::New);
    match store.create_all(&members).await {
        Err(PortError::Conflict(message)) => assert!(
            message.contains(&members[2].spec.function) && message.contains(&holder.id),
            "names the locked alias and its holder: {message}"
        ),
        other => panic!("a release with a locked member: {other:?}"),
    }
    for member in &members[..2] {
        assert_eq!(store.load(&member.id).await.expect("loaded"), None);
        assert_eq!(
            store
                .active_rollout(member.spec.function_key(), "live")
                .await
                .expect("lock read"),
            None,
            "no lock taken for {}",
            member.id
        );
    }
    let holder = advance(
        store,
        &holder,
        Event::Abort {
            reason: "contract".into(),
        },
        at + 1,
    )
    .await;
    let mut done = holder.clone();
    done.owed = Default::default();
    advance(store, &done, Event::AliasApplied { seq: done.seq }, at + 1).await;

    assert_eq!(
        store.create_all(&members).await.expect("created"),
        Created::New
    );
    // A retry of the committed create.
    assert_eq!(
        store.create_all(&members).await.expect("retried"),
        Created::New
    );
    for member in &members {
        assert_eq!(
            store
                .active_rollout(member.spec.function_key(), "live")
                .await
                .expect("lock read"),
            Some(member.id.clone())
        );
    }
    // All move on together, or none: one stale seq refuses the whole write.
    let started: Vec<(u64, Rollout)> = members
        .iter()
        .map(|m| {
            let next = transition(m, Event::Start, at + 2).expect("starts");
            (m.seq, next.rollout)
        })
        .collect();
    let mut stale = started.clone();
    stale[1].0 = 7;
    match store.save_all(&stale, "start").await {
        Err(PortError::Conflict(_)) => {}
        other => panic!("a joint write with a stale seq: {other:?}"),
    }
    for member in &members {
        assert_eq!(
            store.load(&member.id).await.expect("loaded").map(|r| r.seq),
            Some(0),
            "nothing written"
        );
    }
    store.save_all(&started, "start").await.expect("saved");
    // A joint write that ends them releases every lock.
    let ended: Vec<(u64, Rollout)> = started
        .iter()
        .map(|(_, m)| {
            let mut next = m.clone();
            next.seq += 1;
            next.status = Status::RolledBack;
            next.owed = Default::default();
            (m.seq, next)
        })
        .collect();
    store.save_all(&ended, "abort").await.expect("ended");
    for (_, member) in &ended {
        assert_eq!(
            store.load(&member.id).await.expect("loaded").as_ref(),
            Some(member)
        );
        assert_eq!(
            store
                .active_rollout(member.spec.function_key(), "live")
                .await
                .expect("lock read"),
            None
        );
        let history = store.history(&member.id).await.expect("history");
        assert_eq!(
            history.iter().map(|h| h.event.as_str()).collect::<Vec<_>>(),
            ["create", "start", "abort"]
        );
    }
}

/// Create, load, conditional save, history, the alias lock and its release.
pub async fn store_records_and_locks<S: RolloutStore>(store: &S, prefix: &str, at: UnixSeconds) {
    let first = rollout(prefix, "a", at);
    assert_eq!(store.create(&first).await.expect("created"), Created::New);
    assert_eq!(
        store.load(&first.id).await.expect("loaded").as_ref(),
        Some(&first),
        "the record reads back as written"
    );
    // An SDK retry of a create that committed is not a conflict with itself.
    assert_eq!(store.create(&first).await.expect("retried"), Created::New);
    let mut second = rollout(prefix, "a", at + 1);
    second.id = format!("{prefix}-a2");
    match store.create(&second).await {
        Err(PortError::Conflict(message)) => {
            assert!(message.contains(&first.id), "names the holder: {message}")
        }
        other => panic!("a second rollout on a locked alias: {other:?}"),
    }
    assert_eq!(
        store
            .active_rollout(first.spec.function_key(), "live")
            .await
            .expect("lock read"),
        Some(first.id.clone())
    );

    let shifting = advance(store, &first, Event::Start, at + 1).await;
    // The same expected seq again loses.
    match store.save(first.seq, &shifting, Some("start")).await {
        Err(PortError::Conflict(_)) => {}
        other => panic!("a save on a stale seq: {other:?}"),
    }
    assert_eq!(
        store.load(&first.id).await.expect("loaded"),
        Some(shifting.clone())
    );
    // A confirmation: the same seq, no history item.
    let mut confirmed = shifting.clone();
    confirmed.owed = Default::default();
    confirmed.alias_revision = Some("rev-1".into());
    store
        .save(shifting.seq, &confirmed, None)
        .await
        .expect("confirmed");
    let rolled = advance(
        store,
        &confirmed,
        Event::Abort {
            reason: "contract".into(),
        },
        at + 2,
    )
    .await;
    let mut restored = rolled.clone();
    restored.owed = Default::default();
    let done = advance(
        store,
        &restored,
        Event::AliasApplied { seq: restored.seq },
        at + 3,
    )
    .await;
    assert_eq!(done.status, Status::RolledBack);
    assert_eq!(
        store
            .active_rollout(first.spec.function_key(), "live")
            .await
            .expect("lock read"),
        None,
        "a finished rollout releases the lock"
    );
    assert!(
        store
            .rollouts_watching(&first.spec.alarms[0])
            .await
            .expect("watches")
            .is_empty(),
        "and its alarm watches"
    );
    let history = store.history(&first.id).await.expect("history");
    let seqs: Vec<u64> = history.iter().map(|h| h.seq).collect();
    assert_eq!(
        seqs,
        vec![0, 1, 2, 3],
        "one item per transition, none for the confirmation"
    );
    assert_eq!(
        history.iter().map(|h| h.event.as_str()).collect::<Vec<_>>(),
        ["create", "start", "abort", "alias-applied"]
    );
    assert_eq!(
        history[2].reason.as_deref(),
        Some("aborted by operator: contract")
    );
    assert!(
        history.iter().all(|h| h.actor == first.actor),
        "each history item reads back its actor, channel included: {history:?}"
    );

    assert_eq!(store.create(&second).await.expect("created"), Created::New);
    let ids: Vec<String> = store
        .rollouts_for_alias(first.spec.function_key(), "live")
        .await
        .expect("by alias")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![first.id, second.id], "oldest first");
}

/// The watchdog's query: exactly the rollouts [`Rollout::owed_work`] and [`Grace`] call
/// overdue, for several clocks and graces.
pub async fn store_overdue<S: RolloutStore>(store: &S, prefix: &str, at: UnixSeconds) {
    let mut rollouts = Vec::new();
    // Shifting, tick due at +60, effects confirmed.
    let r = rollout(prefix, "tick", at);
    store.create(&r).await.expect("created");
    let mut r = advance(store, &r, Event::Start, at).await;
    r.owed = Default::default();
    store.save(r.seq, &r, None).await.expect("confirmed");
    rollouts.push(r.clone());
    // Shifting with its effects still owed.
    let o = rollout(prefix, "owed", at);
    store.create(&o).await.expect("created");
    rollouts.push(advance(store, &o, Event::Start, at + 5).await);
    // Paused: owes nothing.
    let p = rollout(prefix, "paused", at);
    store.create(&p).await.expect("created");
    let p = advance(store, &p, Event::Start, at).await;
    let mut p_confirmed = p.clone();
    p_confirmed.owed = Default::default();
    store
        .save(p.seq, &p_confirmed, None)
        .await
        .expect("confirmed");
    rollouts.push(advance(store, &p_confirmed, Event::Pause, at + 10).await);
    // Rolling back since +20.
    let b = rollout(prefix, "rollback", at);
    store.create(&b).await.expect("created");
    let b = advance(store, &b, Event::Start, at).await;
    rollouts.push(
        advance(
            store,
            &b,
            Event::Breach {
                reason: "contract".into(),
            },
            at + 20,
        )
        .await,
    );
    // Finished.
    let f = rollout(prefix, "finished", at);
    store.create(&f).await.expect("created");
    rollouts.push(
        advance(
            store,
            &f,
            Event::Failed {
                reason: "contract".into(),
            },
            at,
        )
        .await,
    );
    // A rollout created and never started (PreTraffic at seq 0): a hook-stage wait.
    let n = rollout(prefix, "new", at);
    store.create(&n).await.expect("created");
    rollouts.push(n);

    let ours: BTreeSet<String> = rollouts.iter().map(|r| r.id.clone()).collect();
    for grace in [Grace::default(), Grace::uniform(5)] {
        for now in [at, at + 30, at + 66, at + 200, at + 2_000, at + 100_000] {
            let expected: BTreeSet<String> = rollouts
                .iter()
                .filter(|r| {
                    r.owed_work()
                        .is_some_and(|work| grace.is_overdue(work, now))
                })
                .map(|r| r.id.clone())
                .collect();
            let found: BTreeSet<String> = store
                .overdue(now, &grace)
                .await
                .expect("overdue")
                .into_iter()
                .filter(|id| ours.contains(id))
                .collect();
            assert_eq!(found, expected, "overdue at +{} with {grace:?}", now - at);
        }
    }
}

/// Idempotency claims are scoped to the alias.
pub async fn store_idempotency<S: RolloutStore>(store: &S, prefix: &str, at: UnixSeconds) {
    let mut keyed = rollout(prefix, "keyed", at);
    keyed.spec.idempotency_key = Some("build-1".into());
    store.create(&keyed).await.expect("created");
    let function = keyed.spec.function_key().to_string();
    assert_eq!(
        store
            .find_by_idempotency_key(&function, "live", "build-1")
            .await
            .expect("read")
            .map(|r| r.id),
        Some(keyed.id.clone())
    );
    assert_eq!(
        store
            .find_by_idempotency_key(&function, "other", "build-1")
            .await
            .expect("read"),
        None,
        "another alias's key space"
    );
    // The same key on the same alias while the first is active: the first is returned.
    let mut again = rollout(prefix, "keyed", at + 1);
    again.id = format!("{prefix}-keyed-again");
    again.spec.idempotency_key = Some("build-1".into());
    match store.create(&again).await.expect("create") {
        Created::Existing(existing) => assert_eq!(existing.id, keyed.id),
        Created::New => panic!("a reused key created a second rollout"),
    }
}

/// Aborts a started rollout and confirms its rollback: it ends `RolledBack`.
async fn end<S: RolloutStore>(store: &S, started: &Rollout, at: UnixSeconds) -> Rollout {
    let mut rolling = advance(
        store,
        started,
        Event::Abort {
            reason: "contract".into(),
        },
        at,
    )
    .await;
    rolling.owed = Default::default();
    let seq = rolling.seq;
    let done = advance(store, &rolling, Event::AliasApplied { seq }, at).await;
    assert_eq!(done.status, Status::RolledBack);
    done
}

/// `list`'s read: newest first by creation time then id, all or only unfinished ones, and a
/// rollout moves out of the unfinished ones when it ends. `at` must be later than the
/// creation of every other rollout in the store, so that the newest are this test's.
pub async fn store_recent<S: RolloutStore>(store: &S, prefix: &str, at: UnixSeconds) {
    let ids = |rollouts: Vec<Rollout>| -> Vec<String> {
        rollouts
            .into_iter()
            .map(|r| r.id)
            .filter(|id| id.starts_with(&format!("{prefix}-")))
            .collect()
    };
    let old = rollout(prefix, "old", at);
    store.create(&old).await.expect("created");
    let old = advance(store, &old, Event::Start, at).await;
    let ended = rollout(prefix, "ended", at + 1);
    store.create(&ended).await.expect("created");
    let ended = advance(store, &ended, Event::Start, at + 1).await;
    end(store, &ended, at + 2).await;
    // Two created in the same second: the greater id counts as newer.
    let new = rollout(prefix, "new", at + 2);
    store.create(&new).await.expect("created");
    let tie = rollout(prefix, "new-b", at + 2);
    store.create(&tie).await.expect("created");

    let (old, ended, new, tie) = (old.id.clone(), ended.id, new.id, tie.id);
    assert_eq!(
        ids(store.recent(false, 2).await.expect("recent")),
        [tie.clone(), new.clone()],
        "the limit keeps the newest"
    );
    assert_eq!(
        ids(store.recent(false, 10).await.expect("recent")),
        [tie.clone(), new.clone(), ended.clone(), old.clone()],
        "newest first"
    );
    assert_eq!(
        ids(store.recent(true, 10).await.expect("recent")),
        [tie.clone(), new.clone(), old.clone()],
        "only unfinished ones"
    );
    assert!(store.recent(false, 0).await.expect("recent").is_empty());

    let started = store.load(&old).await.expect("loaded").expect("exists");
    end(store, &started, at + 3).await;
    assert_eq!(
        ids(store.recent(true, 10).await.expect("recent")),
        [tie.clone(), new.clone()],
        "an ended rollout leaves the unfinished ones"
    );
    assert_eq!(
        ids(store.recent(false, 10).await.expect("recent")),
        [tie, new, ended, old],
        "and keeps its place by creation time"
    );
}

/// The alias router on an alias of `function` that points at `current` (with no routing)
/// and a published version `target`.
pub async fn alias_fencing<R: AliasRouter>(
    router: &R,
    function: &str,
    current: &str,
    target: &str,
) {
    let spec = RolloutSpec {
        current_version: current.to_string(),
        target_version: target.to_string(),
        ..spec(function, "live")
    };
    let start = router.read_alias(function, "live").await.expect("alias");
    assert!(
        start.holds(&spec, Weight::percent(0)),
        "starts on {current}: {start:?}"
    );
    let function_arn = start.function_arn().expect("GetAlias gives the alias ARN");
    assert!(
        function_arn.ends_with(&format!(":function:{function}")),
        "{function_arn}"
    );

    // A fenced write on the right revision.
    let r1 = router
        .set_weight(&spec, Weight::percent(10), Some(&start.revision))
        .await
        .expect("fenced write");
    let now = router.read_alias(function, "live").await.expect("alias");
    assert!(now.holds(&spec, Weight::percent(10)), "{now:?}");
    assert_eq!(now.revision, r1);
    // The same write again on the old revision: already there, nothing written.
    assert_eq!(
        router
            .set_weight(&spec, Weight::percent(10), Some(&start.revision))
            .await
            .expect("a repeated write"),
        r1
    );
    assert_eq!(
        router
            .read_alias(function, "live")
            .await
            .expect("alias")
            .revision,
        r1,
        "a repeated fenced write writes nothing"
    );
    // Another weight on the old revision: drift, and the alias is left as it is.
    match router
        .set_weight(&spec, Weight::percent(20), Some(&start.revision))
        .await
    {
        Err(PortError::Drift(detail)) => assert!(detail.contains(function), "{detail}"),
        other => panic!("a stale fenced write: {other:?}"),
    }
    assert!(
        router
            .read_alias(function, "live")
            .await
            .expect("alias")
            .holds(&spec, Weight::percent(10))
    );
    // A take-over writes whatever is there.
    router
        .set_weight(&spec, Weight::percent(0), None)
        .await
        .expect("take-over");
    assert!(
        router
            .read_alias(function, "live")
            .await
            .expect("alias")
            .holds(&spec, Weight::percent(0))
    );
    // A fractional weight goes out as a fraction with four decimals and reads back exact.
    let half = Weight::from_hundredths(50).expect("0.5 %");
    router.set_weight(&spec, half, None).await.expect("0.5 %");
    let fractional = router.read_alias(function, "live").await.expect("alias");
    assert!(fractional.holds(&spec, half), "{fractional:?}");
    assert_eq!(
        fractional.routing,
        Some((target.to_string(), 0.005)),
        "the routing weight as Lambda reports it"
    );
    router
        .set_weight(&spec, Weight::ZERO, None)
        .await
        .expect("back to 0 %");
}

/// `function` (whose unqualified ARN is `function_arn`) carries exactly `tags`: read by name
/// or by ARN, the same map; a function that does not exist is `NotFound`, not an AWS failure
/// (rollouts on publish ignore a function deleted since).
pub async fn function_tags<R: AliasRouter>(
    router: &R,
    function: &str,
    function_arn: &str,
    tags: &std::collections::BTreeMap<String, String>,
) {
    assert_eq!(
        &router.function_tags(function).await.expect("by name"),
        tags
    );
    assert_eq!(
        &router.function_tags(function_arn).await.expect("by ARN"),
        tags
    );
    let missing = format!("{function}-missing");
    let missing_arn = format!("{function_arn}-missing");
    for absent in [missing.as_str(), missing_arn.as_str()] {
        match router.function_tags(absent).await {
            Err(PortError::NotFound(_)) => {}
            other => panic!("tags of {absent}: {other:?}, expected NotFound"),
        }
    }
}

/// `$LATEST` of `function` names the same execution role as its published `version` (a
/// callback hook's answer is judged by that role); a function that does not exist is
/// `NotFound`.
pub async fn latest_role<R: AliasRouter>(router: &R, function: &str, version: &str) {
    let latest = router
        .version_info(function, "$LATEST")
        .await
        .expect("$LATEST");
    let published = router
        .version_info(function, version)
        .await
        .expect("a published version");
    assert!(latest.role.starts_with("arn:"), "{latest:?}");
    assert_eq!(latest.role, published.role);
    match router
        .version_info(&format!("{function}-missing"), "$LATEST")
        .await
    {
        Err(PortError::NotFound(_)) => {}
        other => panic!("$LATEST of a missing function: {other:?}, expected NotFound"),
    }
}

/// Telling a hook that does not exist is `NotFound` (given up, not retried: the state change
/// it rides with must still be published).
pub async fn notice_to_a_missing_hook<H: crate::ports::HookRunner>(hooks: &H, missing: &str) {
    let request = crate::ports::HookRequest {
        rollout_id: "r-contract".into(),
        function: "orders".into(),
        alias: "live".into(),
        current_version: "1".into(),
        target_version: "2".into(),
        phase: glidepath_core::HookPhase::OnRollback,
        next_weight: None,
        status: None,
        reason: None,
        hook_execution_id: None,
        callback_function: None,
    };
    match hooks.notify(missing, &request).await {
        Err(PortError::NotFound(_)) => {}
        other => panic!("notice to {missing}: {other:?}, expected NotFound"),
    }
}
