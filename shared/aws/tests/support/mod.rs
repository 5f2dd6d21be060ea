//! What the runner-level tests share: a world with one function, rollouts created as
//! `start` creates them, the functions a hand-off would invoke, and the invariants every
//! quiescent world must satisfy.

#![allow(dead_code)]

use glidepath_aws::fakes::{AlarmState, FakeAws};
use glidepath_aws::ports::{HandOff, RolloutStore};
use glidepath_aws::{Role, Runner};
use glidepath_core::Weight;
use glidepath_core::{Event, Rollout, RolloutRequest, Status, Target};
use serde_json::{Value, json};

pub const T0: u64 = 1_000;

/// `orders` with versions 1–3 and alias `live` on 1, a hook function and an alarm.
pub fn world() -> FakeAws {
    let fake = FakeAws::new(T0);
    fake.add_function("orders", 3, "live", 1);
    fake.world().functions.insert("smoke".into());
    fake.set_alarm("orders-errors", AlarmState::Ok);
    fake
}

pub fn linear() -> Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2",
           "strategy": "Linear10PercentEvery1Minute", "alarms": ["orders-errors"]})
}

pub fn with_pre_hook() -> Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2",
           "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"],
           "hooks": {"preTraffic": "smoke"}})
}

pub fn with_post_hook() -> Value {
    json!({"function": "orders", "alias": "live", "targetVersion": "2",
           "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"],
           "hooks": {"postTraffic": "smoke"}})
}

/// Creates a rollout as `start` does (record, lock, revision of the alias), without running
/// any event.
pub async fn create(fake: &FakeAws, request: Value, id: &str) -> Rollout {
    let request = RolloutRequest::from_json(&request).expect("a valid request");
    let alias = fake
        .alias(&request.function, &request.alias)
        .expect("alias");
    let Target::Version(target) = &request.target else {
        panic!("a targetVersion")
    };
    let mut spec = request.spec(&alias.version, target);
    spec.function_arn = alias.function_arn();
    let now = fake.world().now;
    let mut rollout = Rollout::new(id, spec, request.plan.clone(), now);
    rollout.alias_revision = Some(alias.revision);
    fake.create(&rollout).await.expect("created");
    rollout
}

/// Creates a rollout and runs its first event, as `start` does.
pub async fn started(fake: &FakeAws, request: Value, id: &str) -> Rollout {
    let rollout = create(fake, request, id).await;
    Runner::new(fake, Role::Start)
        .run_on(rollout, Event::Start)
        .await
        .expect("started")
}

/// Advances the clock to the rollout's next tick and returns the tick's seq.
pub fn due_tick(fake: &FakeAws, rollout: &Rollout) -> u64 {
    let at = rollout.next_tick_at.expect("a tick is due");
    let now = fake.world().now;
    fake.advance(at.saturating_sub(now));
    rollout.seq
}

/// Runs the hand-offs the world recorded (as Lambda would invoke `finalize` and `rollback`)
/// and re-drives whatever still owes effects (as the watchdog would), until nothing is left.
pub async fn settle(fake: &FakeAws, id: &str) {
    for _ in 0..20 {
        let hand_offs: Vec<(HandOff, String)> = std::mem::take(&mut fake.world().hand_offs);
        for (work, rollout_id) in &hand_offs {
            let role = match work {
                HandOff::Finalize => Role::Finalize,
                HandOff::Rollback => Role::Rollback,
                HandOff::Redrive => Role::Step,
            };
            let _ = Runner::new(fake, role).redrive(rollout_id).await;
        }
        let rollout = fake.rollout(id).expect("rollout");
        let owes = !rollout.owed.is_empty() || rollout.status == Status::RollingBack;
        if owes {
            let _ = Runner::new(fake, Role::Step).redrive(id).await;
        }
        if hand_offs.is_empty() && !owes {
            return;
        }
    }
    panic!("rollout {id} did not settle");
}

/// The invariants of a quiescent world (issue 7, "Explored interleavings").
pub fn check_invariants(fake: &FakeAws, id: &str) {
    let rollout = fake.rollout(id).expect("rollout");
    let spec = &rollout.spec;
    let alias = fake.alias(&spec.function, &spec.alias).expect("alias");
    let world = fake.world();
    match rollout.status {
        Status::RolledBack | Status::Failed => assert!(
            alias.holds(spec, Weight::ZERO),
            "{} leaves {alias:?}, not 100 % on version {}",
            rollout.status,
            spec.current_version
        ),
        Status::Succeeded => assert!(
            alias.holds(spec, Weight::FULL),
            "Succeeded leaves {alias:?}, not 100 % on version {}",
            spec.target_version
        ),
        Status::Paused
            if rollout
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("outside")) => {}
        _ => assert!(
            alias.holds(spec, rollout.weight),
            "{} at {} % but the alias is {alias:?}",
            rollout.status,
            rollout.weight
        ),
    }
    assert!(rollout.owed.is_empty(), "settled with owed effects");
    let lock = world
        .locks
        .get(&(spec.function_key().to_string(), spec.alias.clone()));
    assert_eq!(
        lock == Some(&rollout.id),
        !rollout.status.is_terminal(),
        "the lock is held iff the rollout is unfinished ({lock:?}, {})",
        rollout.status
    );
    let seqs: Vec<u64> = world.history[id].iter().map(|h| h.seq).collect();
    let contiguous: Vec<u64> = (0..seqs.len() as u64).collect();
    assert_eq!(seqs, contiguous, "history seq is contiguous");
    assert_eq!(
        rollout.seq + 1,
        seqs.len() as u64,
        "every transition has its history item"
    );
}

/// The weights Glidepath wrote above 0 %, in order: each plan step is applied once.
pub fn raised_weights(fake: &FakeAws) -> Vec<Weight> {
    fake.world()
        .alias_writes
        .iter()
        .map(|(_, weight)| *weight)
        .filter(|weight| !weight.is_zero())
        .collect()
}

/// Asserts each partial weight was written once, in rising order (100 % is written by the
/// last shift and again by the fenced write that verifies it before success).
pub fn each_step_applied_once(fake: &FakeAws) {
    let raised: Vec<Weight> = raised_weights(fake)
        .into_iter()
        .filter(|weight| !weight.is_full())
        .collect();
    assert!(
        raised.windows(2).all(|pair| pair[0] < pair[1]),
        "a plan step was applied twice or out of order: {raised:?}"
    );
}
