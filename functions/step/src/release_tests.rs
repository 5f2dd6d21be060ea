//! `step` and a release: ticks move members to a barrier and the last one moves them all,
//! operator commands act on the whole release, and one member's breach takes them all back.

use super::handle_until;
use glidepath_aws::fakes::{AlarmState, FakeAws, open_policy, seed_release};
use glidepath_aws::function::ReleaseView;
use glidepath_aws::ports::HandOff;
use glidepath_aws::{Role, Runner};
use glidepath_core::{Rollout, Status, Weight};
use serde_json::{Value, json};

const FUNCTIONS: [&str; 3] = ["api", "worker", "consumer"];

fn world() -> FakeAws {
    let fake = FakeAws::new(1_000);
    for function in FUNCTIONS {
        fake.add_function(function, 3, "live", 1);
        fake.set_alarm(&format!("{function}-errors"), AlarmState::Ok);
    }
    fake
}

fn release(strategy: Value) -> Value {
    json!({
        "release": "checkout",
        "members": FUNCTIONS.iter().map(|f| json!({
            "function": f, "alias": "live", "targetVersion": "2", "alarms": [format!("{f}-errors")]
        })).collect::<Vec<_>>(),
        "strategy": strategy,
    })
}

async fn send(fake: &FakeAws, event: Value) -> glidepath_aws::function::CommandAnswer {
    handle_until(fake, event, None, &open_policy())
        .await
        .expect("handled")
}

/// Delivers member `id`'s latest tick once it is due.
async fn tick(fake: &FakeAws, id: &str) {
    let (seq, at) = fake.latest_tick(id).expect("a tick is scheduled");
    let now = fake.world().now;
    fake.advance(at.saturating_sub(now));
    send(fake, json!({"rolloutId": id, "seq": seq})).await;
}

fn members(fake: &FakeAws) -> Vec<Rollout> {
    (0..FUNCTIONS.len())
        .map(|i| fake.rollout(&format!("rel-1-{i}")).expect("member"))
        .collect()
}

/// Runs, as the `rollback` function would, every rollback handed off so far.
async fn carry_out_rollbacks(fake: &FakeAws) {
    let hand_offs = std::mem::take(&mut fake.world().hand_offs);
    for (_, id) in hand_offs {
        Runner::new(fake, Role::Rollback)
            .redrive(&id)
            .await
            .expect("rolled back");
    }
}

fn assert_all_rolled_back(members: &[Rollout]) {
    assert!(
        members.iter().all(|m| m.status == Status::RolledBack),
        "{:?}",
        members
            .iter()
            .map(|m| (m.status, m.reason.clone()))
            .collect::<Vec<_>>()
    );
}

fn weights(fake: &FakeAws) -> Vec<Weight> {
    members(fake).iter().map(|m| m.weight).collect()
}

#[tokio::test]
async fn members_wait_for_the_slowest_and_finish_together() {
    let fake = world();
    let started = seed_release(&fake, release(json!("Linear10PercentEvery1Minute"))).await;
    assert!(started.iter().all(|m| m.weight == Weight::percent(10)));
    // Two members' ticks: they wait at the barrier; nothing moves until the third.
    tick(&fake, "rel-1-0").await;
    tick(&fake, "rel-1-1").await;
    assert_eq!(weights(&fake), [Weight::percent(10); 3]);
    assert_eq!(
        fake.rollout("rel-1-0").map(|m| m.status),
        Some(Status::Paused)
    );
    tick(&fake, "rel-1-2").await;
    assert_eq!(weights(&fake), [Weight::percent(20); 3]);
    for function in FUNCTIONS {
        assert_eq!(
            fake.alias(function, "live").and_then(|a| a.routing),
            Some(("2".into(), 0.2))
        );
    }
    // The rest of the plan, member by member: never more than one step apart.
    for _ in 0..20 {
        let open: Vec<String> = members(&fake)
            .iter()
            .filter(|m| m.status == Status::Shifting)
            .map(|m| m.id.clone())
            .collect();
        if open.is_empty() {
            break;
        }
        for id in open {
            tick(&fake, &id).await;
            let weights = weights(&fake);
            let (lo, hi) = (weights.iter().min(), weights.iter().max());
            assert!(
                hi.zip(lo)
                    .is_some_and(|(hi, lo)| hi.hundredths() - lo.hundredths() <= 1_000),
                "members more than one step apart: {weights:?}"
            );
        }
    }
    let done = members(&fake);
    assert!(
        done.iter().all(|m| m.status == Status::Succeeded),
        "{done:?}"
    );
    for function in FUNCTIONS {
        let alias = fake.alias(function, "live").expect("alias");
        assert_eq!((alias.version.as_str(), alias.routing), ("2", None));
    }
    assert!(fake.world().locks.is_empty());
}

#[tokio::test]
async fn one_member_breaching_takes_the_whole_release_back_and_names_it() {
    let fake = world();
    seed_release(&fake, release(json!("Linear10PercentEvery1Minute"))).await;
    tick(&fake, "rel-1-0").await;
    fake.set_alarm("worker-errors", AlarmState::Alarm);
    tick(&fake, "rel-1-1").await;
    // The breached member hands its rollback over; the others were rolled back for it.
    let hand_offs = std::mem::take(&mut fake.world().hand_offs);
    assert_eq!(hand_offs.len(), 3, "{hand_offs:?}");
    for (work, id) in hand_offs {
        assert_eq!(work, HandOff::Rollback);
        Runner::new(&fake, Role::Rollback)
            .redrive(&id)
            .await
            .expect("rolled back");
    }
    let view = ReleaseView::new(&members(&fake), Default::default());
    assert_eq!(view.status, Status::RolledBack);
    let reason = view.reason.expect("a reason");
    assert!(
        reason.contains("worker:live (rel-1-1)") && reason.contains("worker-errors"),
        "{reason}"
    );
    for member in members(&fake) {
        assert_eq!(member.status, Status::RolledBack);
        if member.id != "rel-1-1" {
            assert!(
                member
                    .reason
                    .as_deref()
                    .is_some_and(|r| r.contains("for member worker:live"))
            );
        }
    }
    for function in FUNCTIONS {
        let alias = fake.alias(function, "live").expect("alias");
        assert_eq!((alias.version.as_str(), alias.routing), ("1", None));
    }
    assert!(fake.world().locks.is_empty());
    // The last member back settled the release: nothing is owed to the watchdog.
    assert!(
        members(&fake)
            .iter()
            .all(|m| m.release.as_ref().is_some_and(|r| r.settled)),
        "{:?}",
        members(&fake)
    );
}

#[tokio::test]
async fn operator_commands_act_on_the_whole_release() {
    let fake = world();
    let gated = json!({"type": "steps", "steps": [{"weight": 10, "bake": "1m"}, {"pause": true}, {"weight": 50, "bake": "1m"}]});
    seed_release(&fake, release(gated)).await;
    for id in ["rel-1-0", "rel-1-1", "rel-1-2"] {
        tick(&fake, id).await;
    }
    // Every member waits at the manual gate: one resume (by the release id) moves them all.
    assert!(
        members(&fake)
            .iter()
            .all(|m| m.pause.map(|p| p.kind) == Some(glidepath_core::PauseKind::Gate))
    );
    let answer = send(&fake, json!({"rolloutId": "rel-1", "command": "resume"}))
        .await
        .into_release()
        .expect("a release");
    assert_eq!(answer.members.len(), 3);
    assert_eq!(weights(&fake), [Weight::percent(50); 3]);
    // Pause by a member's id pauses the release.
    send(&fake, json!({"rolloutId": "rel-1-2", "command": "pause"})).await;
    assert!(members(&fake).iter().all(|m| m.status == Status::Paused));
    let refused = handle_until(
        &fake,
        json!({"rolloutId": "rel-1", "command": "pause"}),
        None,
        &open_policy(),
    )
    .await
    .expect_err("already paused");
    assert_eq!(refused.error_type, "Conflict");
    // Promote takes every member to 100 % in one move.
    send(&fake, json!({"rolloutId": "rel-1", "command": "promote"})).await;
    let done = members(&fake);
    assert!(
        done.iter().all(|m| m.status == Status::Succeeded),
        "{done:?}"
    );
}

#[tokio::test]
async fn an_operator_abort_takes_every_member_back_for_the_operator_s_reason() {
    let fake = world();
    seed_release(&fake, release(json!("Canary10Percent5Minutes"))).await;
    let view = glidepath_rollback_abort(&fake).await;
    assert_eq!(view.status, Status::RolledBack);
    for member in members(&fake) {
        assert_eq!(
            member.reason.as_deref(),
            Some("aborted by operator: bad deploy")
        );
    }
    for function in FUNCTIONS {
        let alias = fake.alias(function, "live").expect("alias");
        assert_eq!((alias.version.as_str(), alias.routing), ("1", None));
    }
}

/// An abort of the release as the `rollback` function applies it (`step` does not take
/// `abort`): every member, by the release's id.
async fn glidepath_rollback_abort(fake: &FakeAws) -> ReleaseView {
    let target = glidepath_aws::entry::load_target(
        fake,
        &open_policy(),
        &glidepath_core::Actor::direct_invoke(),
        glidepath_core::Action::Abort,
        "rel-1",
    )
    .await
    .expect("loaded");
    let glidepath_aws::entry::CommandTarget::Release(members) = target else {
        panic!("a release");
    };
    let members = Runner::new(fake, Role::Rollback)
        .command_release(
            members,
            glidepath_core::Event::Abort {
                reason: "bad deploy".into(),
            },
        )
        .await
        .expect("aborted");
    ReleaseView::new(&members, Default::default())
}

#[tokio::test]
async fn a_release_whose_coordination_was_lost_is_moved_on_by_the_watchdog_s_redrive() {
    use glidepath_aws::ports::RolloutStore;
    let fake = world();
    seed_release(&fake, release(json!("Linear10PercentEvery1Minute"))).await;
    // Both members reach the barrier, but the invocation that should have moved them on
    // died: their records say so, and nothing else happened.
    let (_, at) = fake.latest_tick("rel-1-0").expect("a tick");
    let now = fake.world().now;
    fake.advance(at.saturating_sub(now));
    let now = fake.world().now;
    for id in ["rel-1-0", "rel-1-1", "rel-1-2"] {
        let member = fake.rollout(id).expect("member");
        let health = glidepath_core::transition(
            &member,
            glidepath_core::Event::Health {
                seq: member.seq,
                verdict: glidepath_core::HealthVerdict::Healthy,
            },
            now,
        )
        .expect("healthy");
        let mut waiting = health.rollout;
        waiting.notified_seq = waiting.seq;
        fake.save(member.seq, &waiting, Some("health"))
            .await
            .expect("saved");
    }
    assert!(members(&fake).iter().all(|m| m.barrier().is_some()));
    // The watchdog finds them owed once the grace is over, and its re-drive moves all on.
    let grace = glidepath_core::Grace::default();
    assert!(fake.overdue(now, &grace).await.expect("read").is_empty());
    fake.advance(grace.tick + 1);
    let later = fake.world().now;
    let overdue = fake.overdue(later, &grace).await.expect("read");
    assert_eq!(overdue.len(), 3, "{overdue:?}");
    send(
        &fake,
        json!({"rolloutId": overdue[0], "command": "redrive"}),
    )
    .await;
    assert_eq!(weights(&fake), [Weight::percent(20); 3]);
}

#[tokio::test]
async fn a_member_gone_back_owes_its_release_until_the_others_have_followed() {
    use glidepath_aws::ports::RolloutStore;
    let fake = world();
    let gated = json!({"type": "steps", "steps": [{"weight": 10, "bake": "1m"}, {"pause": true}, {"weight": 50, "bake": "1m"}]});
    seed_release(&fake, release(gated)).await;
    for id in ["rel-1-0", "rel-1-1", "rel-1-2"] {
        tick(&fake, id).await;
    }
    // The others wait at a manual gate, owing nothing. The first member's rollback is
    // written and finished, but the invocation that should have told the others died.
    let first = fake.rollout("rel-1-0").expect("member");
    let now = fake.world().now;
    let back = glidepath_core::transition(
        &first,
        glidepath_core::Event::Breach {
            reason: "alarm api-errors is ALARM".into(),
        },
        now,
    )
    .expect("breach")
    .rollout;
    fake.save(first.seq, &back, Some("breach"))
        .await
        .expect("saved");
    let mut confirmed = back.clone();
    confirmed.owed = Default::default();
    let mut ended = glidepath_core::transition(
        &confirmed,
        glidepath_core::Event::AliasApplied { seq: back.seq },
        now,
    )
    .map(|t| t.rollout)
    .expect("applied");
    ended.notified_seq = ended.seq;
    fake.save(back.seq, &ended, Some("alias-applied"))
        .await
        .expect("saved");
    assert_eq!(
        fake.rollout("rel-1-0").map(|m| m.status),
        Some(Status::RolledBack)
    );
    assert!(
        fake.rollout("rel-1-1")
            .and_then(|m| m.owed_work())
            .is_none()
    );
    // The member that went back is owed: the watchdog's re-drive takes the others back.
    let grace = glidepath_core::Grace::default();
    fake.advance(grace.tick + 1);
    let later = fake.world().now;
    let overdue = fake.overdue(later, &grace).await.expect("read");
    assert_eq!(overdue, ["rel-1-0"]);
    send(&fake, json!({"rolloutId": "rel-1-0", "command": "redrive"})).await;
    for id in ["rel-1-1", "rel-1-2"] {
        let member = fake.rollout(id).expect("member");
        assert!(
            matches!(member.status, Status::RollingBack | Status::RolledBack),
            "{id}: {:?}",
            member.status
        );
        assert!(
            member
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("api:live")),
            "{:?}",
            member.reason
        );
    }
    // Once every member is back, nothing is owed any more.
    carry_out_rollbacks(&fake).await;
    assert!(
        members(&fake)
            .iter()
            .all(|m| m.status == Status::RolledBack)
    );
    let much_later = fake.world().now + 10 * grace.tick;
    let overdue = fake.overdue(much_later, &grace).await.expect("read");
    assert!(overdue.is_empty(), "{overdue:?}");
}

#[tokio::test]
async fn a_finished_wave_whose_alias_moved_while_waiting_takes_the_release_back() {
    let fake = world();
    let member = |f: &str| json!({"function": f, "alias": "live", "targetVersion": "2", "alarms": [format!("{f}-errors")]});
    seed_release(
        &fake,
        json!({"waves": [{"members": [member("api")]}, {"members": [member("worker"), member("consumer")]}],
               "strategy": "Canary10Percent5Minutes"}),
    )
    .await;
    tick(&fake, "rel-1-0").await;
    // The first wave waits at 100 %; the second has started.
    assert!(fake.rollout("rel-1-0").is_some_and(|m| m.finished_wave()));
    assert!(fake.rollout("rel-1-1").is_some_and(|m| !m.is_unstarted()));
    // Someone puts the first wave's alias back by hand while it waits.
    fake.move_alias_externally("api", "live", "1");
    tick(&fake, "rel-1-1").await;
    tick(&fake, "rel-1-2").await;
    carry_out_rollbacks(&fake).await;
    let ended = members(&fake);
    assert_all_rolled_back(&ended);
    assert!(
        ended[1]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("api:live") && r.contains("waited to succeed")),
        "{:?}",
        ended[1].reason
    );
}

#[tokio::test]
async fn a_member_whose_alias_cannot_be_written_takes_the_release_back() {
    let fake = world();
    seed_release(&fake, release(json!("Linear10PercentEvery1Minute"))).await;
    tick(&fake, "rel-1-0").await;
    tick(&fake, "rel-1-1").await;
    // The next advance writes the first member's alias, which is gone for a moment (its
    // target version deleted, say): a retry would not mend it.
    fake.world().not_found.insert("lambda:UpdateAlias", 1);
    tick(&fake, "rel-1-2").await;
    carry_out_rollbacks(&fake).await;
    let ended = members(&fake);
    assert_all_rolled_back(&ended);
    assert!(
        ended[2]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("api:live") && r.contains("alias write failed")),
        "{:?}",
        ended[2].reason
    );
    for function in FUNCTIONS {
        let alias = fake.alias(function, "live").expect("alias");
        assert_eq!((alias.version.as_str(), alias.routing), ("1", None));
    }
}
