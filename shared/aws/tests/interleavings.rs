//! Explored interleavings (awslabs/shuttle): two or three runners drive one rollout at once
//! over the in-memory AWS, with every port call a scheduling point, and shuttle picks a
//! different random schedule each iteration. After the tasks end, the hand-offs they made
//! are run and owed work re-driven (as Lambda and the watchdog would), and the quiescent
//! world is checked against the invariants in `support::check_invariants`.
//!
//! Releases (issue 13): two members of one train, or two waves, driven at once: the barrier
//! reached by both at once, the last member's tick vs another member's breach, a promote vs a
//! breach, and the first wave finishing vs its breach.
//!
//! `GLIDEPATH_SHUTTLE_ITERATIONS` sets the schedules per scenario (default 1,000 in CI; a
//! long run: `GLIDEPATH_SHUTTLE_ITERATIONS=100000 cargo test -p glidepath-aws --release
//! --test interleavings -- --nocapture`). Each scenario prints how many it explored.

mod support;

use glidepath_aws::fakes::{AlarmState, FakeAws};
use glidepath_aws::ports::RolloutStore;
use glidepath_aws::{Role, Runner};
use glidepath_core::Weight;
use glidepath_core::{Event, HookOutcome, HookPhase, Rollout, Status};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use support::*;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

fn iterations() -> usize {
    std::env::var("GLIDEPATH_SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000)
}

/// A world whose port calls are shuttle scheduling points.
fn interleaved(fake: &FakeAws) -> FakeAws {
    fake.with_yield(Arc::new(|| Box::pin(shuttle::future::yield_now())))
}

/// Runs a scenario under shuttle's random scheduler: `setup` builds the world (not
/// interleaved), `tasks` the concurrent runners; then every rollout is settled and checked
/// against the invariants, and against the scenario's own `check`.
fn explore<S, T>(name: &str, setup: S, tasks: T, check: fn(&FakeAws))
where
    S: Fn() -> (FakeAws, String) + Send + Sync + 'static,
    T: Fn(FakeAws, String) -> Vec<Task> + Send + Sync + 'static,
{
    let explored = Arc::new(AtomicU64::new(0));
    let counter = explored.clone();
    // Debug builds of the runner's futures are deep: give each task a roomy stack.
    let mut config = shuttle::Config::new();
    config.stack_size = 4 << 20;
    let scheduler = shuttle::scheduler::RandomScheduler::new(iterations());
    shuttle::Runner::new(scheduler, config).run(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        let (fake, id) = shuttle::future::block_on(async { setup() });
        let handles: Vec<_> = tasks(interleaved(&fake), id.clone())
            .into_iter()
            .map(shuttle::future::spawn)
            .collect();
        for handle in handles {
            shuttle::future::block_on(handle).expect("task ran");
        }
        let ids: Vec<String> = fake.world().rollouts.keys().cloned().collect();
        for id in &ids {
            shuttle::future::block_on(settle(&fake, id));
        }
        check(&fake);
        // An outside change is only known once a write finds it: let Glidepath look.
        for id in &ids {
            shuttle::future::block_on(observe(&fake, id));
            check_invariants(&fake, id);
        }
    });
    println!(
        "{name}: {} schedules explored",
        explored.load(Ordering::Relaxed)
    );
}

/// Builds a started rollout in a fresh world (synchronously: the fake never waits).
fn setup_started(request: serde_json::Value) -> impl Fn() -> (FakeAws, String) {
    move || {
        let fake = world();
        let rollout = block_on_plain(started(&fake, request.clone(), "r-1"));
        let _ = due_tick(&fake, &rollout);
        (fake, rollout.id)
    }
}

/// Polls a future that never waits (the fake without a scheduling hook) to completion.
fn block_on_plain<F: Future>(future: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn run(fake: &FakeAws, role: Role, id: &str, event: Event) -> Task {
    let fake = fake.clone();
    let id = id.to_string();
    Box::pin(async move {
        // Refusals (Conflict) and lost races are answers, not failures of the test.
        let _ = Runner::new(&fake, role).run(&id, event).await;
    })
}

fn run_on(fake: &FakeAws, role: Role, rollout: Rollout, event: Event) -> Task {
    let fake = fake.clone();
    Box::pin(async move {
        let _ = Runner::new(&fake, role).run_on(rollout, event).await;
    })
}

fn redrive(fake: &FakeAws, role: Role, id: &str) -> Task {
    let fake = fake.clone();
    let id = id.to_string();
    Box::pin(async move {
        let _ = Runner::new(&fake, role).redrive(&id).await;
    })
}

fn tick(fake: &FakeAws, id: &str) -> Task {
    let seq = fake.rollout(id).expect("rollout").seq;
    run(fake, Role::Step, id, Event::Tick { seq })
}

fn breach() -> Event {
    Event::Breach {
        reason: "alarm orders-errors is ALARM".into(),
    }
}

fn abort() -> Event {
    Event::Abort {
        reason: "operator".into(),
    }
}

fn no_check(_: &FakeAws) {}

/// Lets Glidepath look at the alias once more: the next due tick (a fenced write, if it
/// moves traffic) of a rollout that is shifting. An outside change is only known once a
/// write finds it.
async fn observe(fake: &FakeAws, id: &str) {
    let rollout = fake.rollout(id).expect("rollout");
    if rollout.status == Status::Shifting {
        let seq = due_tick(fake, &rollout);
        let _ = Runner::new(fake, Role::Step)
            .run(id, Event::Tick { seq })
            .await;
        settle(fake, id).await;
    }
}

#[test]
fn tick_vs_breach() {
    explore(
        "tick vs breach",
        setup_started(linear()),
        |fake, id| {
            fake.set_alarm("orders-errors", AlarmState::Alarm);
            vec![
                tick(&fake, &id),
                run(&fake, Role::CheckAlarms, &id, breach()),
            ]
        },
        |fake| {
            // The breach is never dropped: whoever wins, the rollout rolls back.
            assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack);
            each_step_applied_once(fake);
        },
    );
}

#[test]
fn tick_vs_abort() {
    explore(
        "tick vs abort",
        setup_started(linear()),
        |fake, id| vec![tick(&fake, &id), run(&fake, Role::Rollback, &id, abort())],
        |fake| {
            assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack);
            each_step_applied_once(fake);
        },
    );
}

#[test]
fn hook_completion_vs_abort() {
    explore(
        "hook completion vs abort",
        || {
            let fake = world();
            let rollout = block_on_plain(create(&fake, with_pre_hook(), "r-1"));
            (fake, rollout.id)
        },
        |fake, id| {
            // `start` runs the first event (it persists PreTraffic, runs the hook, shifts);
            // an operator aborts at any point of it.
            let created = fake.rollout(&id).expect("rollout");
            vec![
                run_on(&fake, Role::Start, created, Event::Start),
                run(&fake, Role::Rollback, &id, abort()),
            ]
        },
        |fake| {
            assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack);
        },
    );
}

#[test]
fn a_stale_hook_result_vs_abort() {
    explore(
        "stale hook result vs abort",
        || {
            let fake = world();
            let created = block_on_plain(create(&fake, with_pre_hook(), "r-1"));
            let step = glidepath_core::transition(&created, Event::Start, T0).unwrap();
            block_on_plain(fake.save(0, &step.rollout, Some("start"))).unwrap();
            (fake, created.id)
        },
        |fake, id| {
            let running_hook = fake.rollout(&id).expect("rollout");
            vec![
                run_on(
                    &fake,
                    Role::Start,
                    running_hook,
                    Event::HookCompleted {
                        phase: HookPhase::PreTraffic,
                        outcome: HookOutcome::Succeeded,
                    },
                ),
                run(&fake, Role::Rollback, &id, abort()),
            ]
        },
        |fake| {
            assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack);
        },
    );
}

#[test]
fn two_ticks() {
    explore(
        "the same tick twice",
        setup_started(linear()),
        |fake, id| vec![tick(&fake, &id), tick(&fake, &id)],
        |fake| {
            let rollout = fake.rollout("r-1").unwrap();
            assert_eq!(
                (rollout.status, rollout.weight),
                (Status::Shifting, Weight::percent(20))
            );
            assert_eq!(
                raised_weights(fake),
                vec![Weight::percent(10), Weight::percent(20)],
                "20 % written once"
            );
        },
    );
}

#[test]
fn watchdog_redrive_vs_tick() {
    explore(
        "watchdog re-drive vs tick",
        setup_started(linear()),
        |fake, id| vec![tick(&fake, &id), redrive(&fake, Role::Step, &id)],
        |fake| {
            assert_eq!(fake.rollout("r-1").unwrap().weight, Weight::percent(20));
            each_step_applied_once(fake);
        },
    );
}

#[test]
fn finalize_vs_abort() {
    explore(
        "finalize vs abort",
        || {
            let fake = world();
            let rollout = block_on_plain(started(&fake, with_post_hook(), "r-1"));
            let seq = due_tick(&fake, &rollout);
            block_on_plain(Runner::new(&fake, Role::Step).run("r-1", Event::Tick { seq }))
                .expect("tick");
            fake.world().hand_offs.clear();
            (fake, rollout.id)
        },
        |fake, id| {
            vec![
                redrive(&fake, Role::Finalize, &id),
                run(&fake, Role::Rollback, &id, abort()),
            ]
        },
        |fake| {
            // Either the abort came first (rolled back) or finalize finished first (the
            // abort is then refused): never a mix.
            let status = fake.rollout("r-1").unwrap().status;
            assert!(
                matches!(status, Status::RolledBack | Status::Succeeded),
                "{status}"
            );
        },
    );
}

#[test]
fn resume_vs_drift() {
    explore(
        "resume vs drift",
        || {
            let fake = world();
            let rollout = block_on_plain(started(&fake, linear(), "r-1"));
            block_on_plain(Runner::new(&fake, Role::Step).run("r-1", Event::Pause))
                .expect("paused");
            let _ = due_tick(&fake, &rollout);
            (fake, rollout.id)
        },
        |fake, id| {
            let outsider = fake.clone();
            vec![
                run(&fake, Role::Step, &id, Event::Resume),
                tick(&fake, &id),
                Box::pin(async move {
                    shuttle::future::yield_now().await;
                    outsider.move_alias_externally("orders", "live", "3");
                }),
            ]
        },
        no_check,
    );
}

#[test]
fn start_vs_start_by_name_and_arn() {
    explore(
        "start vs start (name and ARN)",
        || (world(), "r-1".to_string()),
        |fake, _| {
            let by_arn = {
                let mut request = linear();
                request["function"] = serde_json::json!(format!(
                    "{}orders",
                    glidepath_aws::fakes::FUNCTION_ARN_PREFIX
                ));
                request
            };
            let (a, b) = (fake.clone(), fake.clone());
            vec![
                Box::pin(async move {
                    let rollout = create_or_conflict(&a, linear(), "r-1").await;
                    if let Some(rollout) = rollout {
                        let _ = Runner::new(&a, Role::Start)
                            .run_on(rollout, Event::Start)
                            .await;
                    }
                }),
                Box::pin(async move {
                    let rollout = create_or_conflict(&b, by_arn, "r-2").await;
                    if let Some(rollout) = rollout {
                        let _ = Runner::new(&b, Role::Start)
                            .run_on(rollout, Event::Start)
                            .await;
                    }
                }),
            ]
        },
        |fake| {
            assert_eq!(
                fake.world().rollouts.len(),
                1,
                "one alias, one rollout, whatever the name"
            );
        },
    );
}

/// `create`, where losing the lock to the other start is an answer.
async fn create_or_conflict(
    fake: &FakeAws,
    request: serde_json::Value,
    id: &str,
) -> Option<Rollout> {
    let request = glidepath_core::RolloutRequest::from_json(&request).expect("valid");
    let alias = fake
        .alias(&request.function, &request.alias)
        .expect("alias");
    let glidepath_core::Target::Version(target) = &request.target else {
        return None;
    };
    let mut spec = request.spec(&alias.version, target);
    spec.function_arn = alias.function_arn();
    let mut rollout = Rollout::new(id, spec, request.plan.clone(), T0);
    rollout.alias_revision = Some(alias.revision);
    fake.create(&rollout).await.ok().map(|_| rollout)
}

/// A rollout paused for drift, an operator taking the alias back (`resume` or `promote`),
/// against a rollback (`abort`, or a breach through `check-alarms`): no take-over lands after
/// the rollback, and the invariants hold whichever finished first.
fn take_over_vs_rollback(
    operator: Event,
    rollback: (Role, Event),
    name: &str,
    check: fn(&FakeAws),
) {
    explore(
        name,
        || {
            let fake = world();
            let rollout = block_on_plain(started(&fake, linear(), "r-1"));
            fake.move_alias_externally("orders", "live", "3");
            let seq = due_tick(&fake, &rollout);
            block_on_plain(Runner::new(&fake, Role::Step).run("r-1", Event::Tick { seq }))
                .expect("tick");
            assert_eq!(fake.rollout("r-1").expect("rollout").status, Status::Paused);
            (fake, rollout.id)
        },
        move |fake, id| {
            vec![
                run(&fake, Role::Step, &id, operator.clone()),
                run(&fake, rollback.0, &id, rollback.1.clone()),
            ]
        },
        check,
    );
}

#[test]
fn resume_after_drift_vs_abort() {
    take_over_vs_rollback(
        Event::Resume,
        (Role::Rollback, abort()),
        "resume after drift vs abort",
        // An abort applies whether or not the resume went first.
        |fake| assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack),
    );
}

#[test]
fn promote_after_drift_vs_breach() {
    take_over_vs_rollback(
        Event::Promote,
        (Role::CheckAlarms, breach()),
        "promote after drift vs breach",
        // A promote that finished (no post-traffic hook) before the breach arrived succeeded;
        // otherwise the breach rolled back. Never anything in between.
        |fake| {
            let status = fake.rollout("r-1").unwrap().status;
            assert!(
                matches!(status, Status::RolledBack | Status::Succeeded),
                "{status}"
            );
        },
    );
}

/// A rollout whose callback pre-traffic hook (deadline 1 minute) was invoked and is awaited,
/// with the clock at its deadline: the answer and the deadline tick are both live.
fn setup_awaiting_callback() -> (FakeAws, String) {
    let (fake, id) = awaiting_callback();
    fake.advance(60);
    (fake, id)
}

/// The same, before the deadline.
fn awaiting_callback() -> (FakeAws, String) {
    let fake = world();
    let request = serde_json::json!({"function": "orders", "alias": "live", "targetVersion": "2",
        "strategy": "Canary10Percent5Minutes", "alarms": ["orders-errors"],
        "hooks": {"preTraffic": "smoke", "answer": "callback", "timeout": "1m"}});
    let created = block_on_plain(create(&fake, request, "r-1"));
    let waiting = block_on_plain(Runner::new(&fake, Role::Start).run_on(created, Event::Start))
        .expect("started");
    assert_eq!(waiting.status, Status::PreTraffic);
    (fake, waiting.id)
}

fn answer(outcome: HookOutcome) -> Event {
    Event::HookResult {
        execution_id: "PreTraffic-1".into(),
        outcome,
    }
}

/// Issue 12: a callback hook's answer, its deadline tick and an operator's abort, at once.
/// Whatever wins, the rollout ends rolled back (the abort), traffic never outlives it, and
/// the history records one outcome of the stage.
#[test]
fn callback_answer_vs_deadline_vs_abort() {
    explore(
        "callback answer vs deadline vs abort",
        setup_awaiting_callback,
        |fake, id| {
            vec![
                run(&fake, Role::Step, &id, answer(HookOutcome::Succeeded)),
                run(&fake, Role::Step, &id, Event::Tick { seq: 1 }),
                run(&fake, Role::Rollback, &id, abort()),
            ]
        },
        |fake| {
            assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack);
            let history = fake.world().history["r-1"].clone();
            let stage_ends = history
                .iter()
                .filter(|h| h.seq > 1 && matches!(h.event.as_str(), "hook-result" | "tick"))
                .count();
            assert!(stage_ends <= 1, "one end of the stage: {history:?}");
        },
    );
}

/// Issue 12: two answers for one execution (a retried hook that changed its mind) and the
/// deadline: exactly one of them decides the stage.
#[test]
fn two_callback_answers_vs_deadline() {
    explore(
        "two callback answers vs deadline",
        setup_awaiting_callback,
        |fake, id| {
            vec![
                run(&fake, Role::Step, &id, answer(HookOutcome::Succeeded)),
                run(
                    &fake,
                    Role::Step,
                    &id,
                    answer(HookOutcome::Failed {
                        reason: "flaky".into(),
                    }),
                ),
                run(&fake, Role::Step, &id, Event::Tick { seq: 1 }),
            ]
        },
        |fake| {
            let rollout = fake.rollout("r-1").unwrap();
            let history = fake.world().history["r-1"].clone();
            let decided: Vec<&str> = history
                .iter()
                .filter(|h| h.seq == 2)
                .map(|h| h.event.as_str())
                .collect();
            assert_eq!(decided.len(), 1, "{history:?}");
            match rollout.status {
                // The success won: traffic started at the first step.
                Status::Shifting => assert_eq!(decided, ["hook-result"]),
                // A failed answer or the deadline won: no traffic.
                Status::RolledBack => assert_eq!(rollout.weight, Weight::ZERO),
                other => panic!("unexpected {other}"),
            }
        },
    );
}

/// Review round: a watchdog re-drive of a stage waiting for a callback hook, and the hook's
/// answer, at once: the answer decides, once; the re-drive changes nothing before the deadline.
#[test]
fn watchdog_redrive_vs_callback_answer() {
    explore(
        "watchdog re-drive vs callback answer",
        awaiting_callback,
        |fake, id| {
            vec![
                redrive(&fake, Role::Step, &id),
                run(&fake, Role::Step, &id, answer(HookOutcome::Succeeded)),
            ]
        },
        |fake| {
            assert_eq!(fake.rollout("r-1").unwrap().status, Status::Shifting);
            let history = fake.world().history["r-1"].clone();
            let answered = history.iter().filter(|h| h.event == "hook-result").count();
            assert_eq!(answered, 1, "{history:?}");
        },
    );
}

/// Review round: a tick whose health check asks a `beforeShift` hook (a slow call), and an
/// abort: the rollout ends rolled back, whatever the hook said and whenever.
#[test]
fn tick_with_a_before_shift_gate_vs_abort() {
    let mut request = linear();
    request["hooks"] = serde_json::json!({"beforeShift": "smoke"});
    explore(
        "tick with a beforeShift gate vs abort",
        setup_started(request),
        |fake, id| vec![tick(&fake, &id), run(&fake, Role::Rollback, &id, abort())],
        |fake| {
            assert_eq!(fake.rollout("r-1").unwrap().status, Status::RolledBack);
            each_step_applied_once(fake);
        },
    );
}

/// Review round: the pipeline action's time-limit rollback (`Event::Failed`, as `rollback`)
/// and an operator's promote, at once. The rollout ends rolled back, or, when the promote
/// finished first, succeeded: a rollback that arrives after the end changes nothing (and the
/// pipeline then reports the success). Never both, never stuck between.
#[test]
fn pipeline_time_limit_vs_promote() {
    explore(
        "pipeline time limit vs promote",
        setup_started(linear()),
        |fake, id| {
            vec![
                run(
                    &fake,
                    Role::Rollback,
                    &id,
                    Event::Failed {
                        reason: "the CodePipeline action's 24 h were nearly up".into(),
                    },
                ),
                run(&fake, Role::Step, &id, Event::Promote),
            ]
        },
        |fake| {
            let rollout = fake.rollout("r-1").unwrap();
            let history = fake.world().history["r-1"].clone();
            match rollout.status {
                Status::RolledBack => {}
                Status::Succeeded => assert!(
                    history.iter().all(|h| h.event != "failed"),
                    "a success after the rollback began: {history:?}"
                ),
                other => panic!("ended {other}"),
            }
        },
    );
}

// ---- Releases: members of one train driven at once ----------------------------------------

/// A started release of `api` and `worker` (ids `rel-1-0`, `rel-1-1`) on `strategy`, with its
/// first step's tick due; with `first_waits`, member 0 already waits at the next barrier.
fn setup_release(strategy: &'static str, first_waits: bool) -> impl Fn() -> (FakeAws, String) {
    setup_members(strategy, first_waits, false)
}

/// As [`setup_release`]; with `waves`, `worker` is a second wave (earlier waves roll back).
fn setup_members(
    strategy: &'static str,
    first_waits: bool,
    waves: bool,
) -> impl Fn() -> (FakeAws, String) {
    move || {
        let fake = FakeAws::new(T0);
        for function in ["api", "worker"] {
            fake.add_function(function, 3, "live", 1);
            fake.set_alarm(&format!("{function}-errors"), AlarmState::Ok);
        }
        let api = serde_json::json!({"function": "api", "alias": "live", "targetVersion": "2", "alarms": ["api-errors"]});
        let worker = serde_json::json!({"function": "worker", "alias": "live", "targetVersion": "2", "alarms": ["worker-errors"]});
        let request = if waves {
            serde_json::json!({"waves": [{"members": [api]}, {"members": [worker]}],
                               "earlierWaves": "rollBack", "strategy": strategy})
        } else {
            serde_json::json!({"members": [api, worker], "strategy": strategy})
        };
        let members = block_on_plain(glidepath_aws::fakes::seed_release(&fake, request));
        let _ = due_tick(&fake, &members[0]);
        if first_waits {
            let seq = members[0].seq;
            block_on_plain(Runner::new(&fake, Role::Step).run("rel-1-0", Event::Tick { seq }))
                .expect("ticked");
        }
        (fake, "rel-1-0".to_string())
    }
}

/// Every member's status, in order.
fn member_statuses(fake: &FakeAws) -> Vec<Status> {
    ["rel-1-0", "rel-1-1"]
        .iter()
        .map(|id| fake.rollout(id).expect("member").status)
        .collect()
}

/// All or nothing: every member succeeded, or every member is back on its old version.
fn all_or_nothing(fake: &FakeAws) {
    let statuses = member_statuses(fake);
    let all = |status| statuses.iter().all(|s| *s == status);
    assert!(
        all(Status::Succeeded) || all(Status::RolledBack),
        "members ended {statuses:?}"
    );
}

#[test]
fn release_members_reaching_the_barrier_at_once() {
    explore(
        "release: two members reach the barrier at once",
        setup_release("Linear10PercentEvery1Minute", false),
        |fake, _| {
            let seq = |id: &str| fake.rollout(id).expect("member").seq;
            vec![
                run(
                    &fake,
                    Role::Step,
                    "rel-1-0",
                    Event::Tick {
                        seq: seq("rel-1-0"),
                    },
                ),
                run(
                    &fake,
                    Role::Step,
                    "rel-1-1",
                    Event::Tick {
                        seq: seq("rel-1-1"),
                    },
                ),
            ]
        },
        |fake| {
            // Whoever arrives last, the release moves on exactly once, both members together.
            for id in ["rel-1-0", "rel-1-1"] {
                let member = fake.rollout(id).expect("member");
                assert_eq!(
                    (member.status, member.weight),
                    (Status::Shifting, Weight::percent(20)),
                    "{id}"
                );
                let advances = fake.world().history[id]
                    .iter()
                    .filter(|h| h.event == "release-advance")
                    .count();
                assert_eq!(advances, 2, "{id}: the first step and this one");
            }
        },
    );
}

#[test]
fn release_advance_vs_a_member_s_breach() {
    explore(
        "release: the last member's tick vs the first member's breach",
        setup_release("Linear10PercentEvery1Minute", true),
        |fake, _| {
            fake.set_alarm("api-errors", AlarmState::Alarm);
            let seq = fake.rollout("rel-1-1").expect("member").seq;
            vec![
                run(&fake, Role::Step, "rel-1-1", Event::Tick { seq }),
                run(
                    &fake,
                    Role::CheckAlarms,
                    "rel-1-0",
                    Event::Breach {
                        reason: "alarm api-errors is ALARM".into(),
                    },
                ),
            ]
        },
        |fake| {
            // The breach is never lost: the whole release goes back, the api named as cause.
            assert_eq!(member_statuses(fake), [Status::RolledBack; 2]);
            let worker = fake.rollout("rel-1-1").expect("member");
            assert!(
                worker
                    .reason
                    .as_deref()
                    .is_some_and(|r| r.contains("api:live (rel-1-0)")),
                "{:?}",
                worker.reason
            );
        },
    );
}

#[test]
fn release_promote_vs_a_member_s_breach() {
    explore(
        "release: promote vs a member's breach",
        setup_release("Canary10Percent5Minutes", false),
        |fake, _| {
            let fake2 = fake.clone();
            let promote: Task = Box::pin(async move {
                let members = Runner::new(&fake2, Role::Step)
                    .load_members(
                        &fake2
                            .rollout("rel-1-0")
                            .and_then(|m| m.release)
                            .expect("a member"),
                    )
                    .await;
                if let Ok(members) = members {
                    let _ = Runner::new(&fake2, Role::Step)
                        .command_release(members, Event::Promote)
                        .await;
                }
            });
            vec![
                promote,
                run(
                    &fake,
                    Role::CheckAlarms,
                    "rel-1-1",
                    Event::Breach {
                        reason: "alarm worker-errors is ALARM".into(),
                    },
                ),
            ]
        },
        all_or_nothing,
    );
}

#[test]
fn release_first_wave_finishing_vs_its_breach() {
    explore(
        "release: the first wave finishing (and starting the second) vs its breach",
        setup_members("Canary10Percent5Minutes", false, true),
        |fake, _| {
            fake.set_alarm("api-errors", AlarmState::Alarm);
            let seq = fake.rollout("rel-1-0").expect("member").seq;
            vec![
                run(&fake, Role::Step, "rel-1-0", Event::Tick { seq }),
                run(
                    &fake,
                    Role::CheckAlarms,
                    "rel-1-0",
                    Event::Breach {
                        reason: "alarm api-errors is ALARM".into(),
                    },
                ),
            ]
        },
        |fake| {
            // Whoever wins, both waves end back on the old versions (earlierWaves rollBack);
            // the second wave's alias moved only if the first had finished before the breach.
            assert_eq!(member_statuses(fake), [Status::RolledBack; 2]);
            let worker = fake.rollout("rel-1-1").expect("member");
            let history = fake.world().history["rel-1-1"].clone();
            let started = history.iter().any(|h| h.event == "start");
            let api_full = fake.world().history["rel-1-0"]
                .iter()
                .any(|h| h.weight.is_full());
            assert!(
                !started || api_full,
                "wave 2 started before wave 1 finished: {history:?}"
            );
            assert_eq!(worker.weight, Weight::ZERO);
        },
    );
}
