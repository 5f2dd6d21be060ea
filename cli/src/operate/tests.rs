//! The operator commands against a hand-written fake stack.

use super::*;
use crate::args::Cli;
use clap::Parser;
use glidepath_core::{Actor, RolloutRequest};
use std::cell::RefCell;
use std::collections::VecDeque;

/// A stack whose answers are scripted: each `load` of a rollout takes the next of its states
/// (the last one repeats), and `history` is what those states recorded so far.
#[derive(Default)]
struct FakeStack {
    states: RefCell<VecDeque<Rollout>>,
    current: RefCell<Option<Rollout>>,
    history: RefCell<Vec<HistoryEntry>>,
    answers: RefCell<VecDeque<Result<Value, OperateError>>>,
    invoked: RefCell<Vec<(Function, Value)>>,
    others: Vec<Rollout>,
    pauses: RefCell<u32>,
    versions: Vec<String>,
    routes: Vec<prune::AliasRoute>,
    provisioned: Vec<String>,
    deleted: RefCell<Vec<String>>,
    /// Members of a release, by id, with their histories (read as they are).
    members: std::collections::BTreeMap<String, (Rollout, Vec<HistoryEntry>)>,
}

impl Control for FakeStack {
    async fn invoke(&self, function: Function, payload: &Value) -> Result<Value, OperateError> {
        self.invoked.borrow_mut().push((function, payload.clone()));
        self.answers
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Ok(json!({})))
    }

    async fn load(&self, id: &str) -> Result<Option<Rollout>, OperateError> {
        if let Some((member, _)) = self.members.get(id) {
            return Ok(Some(member.clone()));
        }
        if let Some(next) = self.states.borrow_mut().pop_front() {
            self.history
                .borrow_mut()
                .push(HistoryEntry::latest(&next, "step"));
            *self.current.borrow_mut() = Some(next);
        }
        Ok(self.current.borrow().clone().filter(|r| r.id == id))
    }

    async fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, OperateError> {
        if let Some((_, history)) = self.members.get(id) {
            return Ok(history.clone());
        }
        Ok(self.history.borrow().clone())
    }

    async fn rollouts_for_alias(
        &self,
        _function: &str,
        alias: &str,
    ) -> Result<Vec<Rollout>, OperateError> {
        Ok(self
            .others
            .iter()
            .filter(|r| r.spec.alias == alias)
            .cloned()
            .collect())
    }

    async fn recent(&self, open_only: bool, limit: usize) -> Result<Vec<Rollout>, OperateError> {
        let mut all: Vec<Rollout> = self
            .others
            .iter()
            .filter(|r| !open_only || !r.status.is_terminal())
            .cloned()
            .collect();
        all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        all.truncate(limit);
        Ok(all)
    }

    fn now(&self) -> glidepath_core::UnixSeconds {
        10_000
    }

    async fn pause(&self, _interval: Duration) {
        *self.pauses.borrow_mut() += 1;
    }

    async fn alarm_states(
        &self,
        alarms: &[String],
    ) -> Result<std::collections::BTreeMap<String, String>, OperateError> {
        // "errors" exists and is OK; any other name does not exist.
        Ok(alarms
            .iter()
            .filter(|a| *a == "errors")
            .map(|a| (a.clone(), "OK".to_string()))
            .collect())
    }

    async fn versions(&self, _function: &str) -> Result<Vec<String>, OperateError> {
        Ok(self.versions.clone())
    }

    async fn alias_routes(&self, _function: &str) -> Result<Vec<prune::AliasRoute>, OperateError> {
        Ok(self.routes.clone())
    }

    async fn has_provisioned_concurrency(
        &self,
        _function: &str,
        version: &str,
    ) -> Result<bool, OperateError> {
        Ok(self.provisioned.contains(&version.to_string()))
    }

    async fn delete_version(&self, _function: &str, version: &str) -> Result<(), OperateError> {
        self.deleted.borrow_mut().push(version.to_string());
        Ok(())
    }
}

fn rollout(id: &str, status: Status, weight: u8, seq: u64) -> Rollout {
    let request = RolloutRequest::from_json(&json!({"function": "orders", "alias": "live",
        "targetVersion": "2", "strategy": "Linear10PercentEvery1Minute", "alarms": ["errors"]}))
    .unwrap();
    let mut spec = request.spec("1", "2");
    spec.requested_by = Some(Actor::direct_invoke());
    spec.authorized_by = Some("this-account".into());
    let mut rollout = Rollout::new(id, spec, request.plan, 100 + seq);
    rollout.status = status;
    rollout.weight = glidepath_core::Weight::percent(weight);
    rollout.seq = seq;
    rollout.step_index = (weight > 0).then(|| usize::from(weight / 10 - 1));
    rollout
}

fn operator(stack: &FakeStack, format: Format) -> Operator<'_, FakeStack> {
    Operator {
        control: stack,
        format,
        interval: Duration::from_secs(1),
        paint: render::Paint::PLAIN,
        live: false,
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn start_prints_the_new_rollout() {
    let stack = FakeStack::default();
    stack.answers.borrow_mut().push_back(Ok(json!({"rolloutId": "r-1", "function": "orders",
        "alias": "live", "currentVersion": "1", "targetVersion": "2", "status": "Shifting", "weight": 10})));
    let mut out = Vec::new();
    let exit = operator(&stack, Format::Text)
        .start(&json!({"function": "orders"}), false, &mut out)
        .await
        .unwrap();
    assert_eq!(exit, Exit::Done);
    assert_eq!(
        text(out),
        "rollout r-1 of orders:live: version 1 -> 2, Shifting at 10%\n"
    );
    assert_eq!(stack.invoked.borrow()[0].0, Function::Start);
}

#[tokio::test]
async fn start_wait_follows_the_rollout_and_exits_by_how_it_ended() {
    for (last, exit) in [
        (Status::Succeeded, Exit::Done),
        (Status::RolledBack, Exit::RolledBack),
    ] {
        let stack = FakeStack::default();
        stack.answers.borrow_mut().push_back(Ok(
            json!({"rolloutId": "r-1", "status": "Shifting", "weight": 10}),
        ));
        let weight = if last == Status::Succeeded { 100 } else { 0 };
        *stack.states.borrow_mut() = VecDeque::from([
            rollout("r-1", Status::Shifting, 10, 1),
            rollout("r-1", Status::Shifting, 20, 2),
            rollout("r-1", last, weight, 3),
        ]);
        let mut out = Vec::new();
        let got = operator(&stack, Format::Json)
            .start(&json!({}), true, &mut out)
            .await
            .unwrap();
        assert_eq!(got, exit);
        let lines: Vec<Value> = text(out)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
            .collect();
        let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [1, 2, 3], "each transition once, in order");
        assert_eq!(lines[2]["status"], json!(last.as_str()));
        assert_eq!(*stack.pauses.borrow(), 2, "polled between states");
    }
}

#[tokio::test]
async fn function_errors_become_exit_codes() {
    for (error_type, exit) in [
        ("InvalidRequest", Exit::BadInput),
        ("Conflict", Exit::Conflict),
        ("Forbidden", Exit::Forbidden),
        ("Retryable", Exit::Aws),
        ("Unhandled", Exit::Aws),
    ] {
        let stack = FakeStack::default();
        stack
            .answers
            .borrow_mut()
            .push_back(Err(OperateError::from_function(error_type, "why")));
        let error = operator(&stack, Format::Text)
            .command("r-1", "promote", &mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(error.exit, exit, "{error_type}");
        assert_eq!(error.message, format!("{error_type}: why"));
    }
}

#[tokio::test]
async fn status_marks_the_current_step_and_names_the_requester() {
    let stack = FakeStack::default();
    stack
        .states
        .borrow_mut()
        .push_back(rollout("r-1", Status::Shifting, 30, 3));
    let mut out = Vec::new();
    operator(&stack, Format::Text)
        .status("r-1", &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(printed.contains("status    Shifting at 30%"), "{printed}");
    assert!(printed.contains("  >  3.  30%  then wait 1m"), "{printed}");
    assert!(
        printed.contains("by        lambda:invoke (rule this-account)"),
        "{printed}"
    );
    assert!(printed.contains("alarm     errors: OK"), "{printed}");
    let unknown = operator(&stack, Format::Text)
        .status("r-9", &mut Vec::new())
        .await
        .unwrap_err();
    assert_eq!(unknown.exit, Exit::BadInput);
}

fn on_alias(mut rollout: Rollout, alias: &str) -> Rollout {
    rollout.spec.alias = alias.to_string();
    rollout
}

fn route(alias: &str, version: &str) -> prune::AliasRoute {
    prune::AliasRoute {
        alias: alias.into(),
        version: version.into(),
        additional: None,
    }
}

fn listed_ids(out: Vec<u8>) -> Vec<String> {
    let listed: Value = serde_json::from_slice(&out).unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rolloutId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn list_without_an_alias_reads_each_alias_or_the_whole_table() {
    let stack = FakeStack {
        others: vec![
            rollout("r-live", Status::Succeeded, 100, 1),
            on_alias(rollout("r-beta", Status::Paused, 20, 4), "beta"),
            on_alias(rollout("r-elsewhere", Status::Shifting, 10, 9), "gone"),
        ],
        routes: vec![route("live", "2"), route("beta", "1")],
        ..FakeStack::default()
    };
    let mut out = Vec::new();
    operator(&stack, Format::Json)
        .list(Some("orders"), None, false, 20, &mut out)
        .await
        .unwrap();
    assert_eq!(
        listed_ids(out),
        ["r-beta", "r-live"],
        "each alias the function has, newest first"
    );
    let mut out = Vec::new();
    operator(&stack, Format::Json)
        .list(None, None, false, 2, &mut out)
        .await
        .unwrap();
    assert_eq!(
        listed_ids(out),
        ["r-elsewhere", "r-beta"],
        "the whole table"
    );
    let mut out = Vec::new();
    operator(&stack, Format::Json)
        .list(None, None, true, 20, &mut out)
        .await
        .unwrap();
    assert_eq!(
        listed_ids(out),
        ["r-elsewhere", "r-beta"],
        "a paused rollout has not ended"
    );
}

#[tokio::test]
async fn status_of_an_alias_is_its_unfinished_rollout_or_else_its_latest() {
    let mut stack = FakeStack {
        others: vec![
            rollout("r-old", Status::RolledBack, 0, 1),
            rollout("r-running", Status::Baking, 50, 2),
            rollout("r-newest-done", Status::Succeeded, 100, 7),
        ],
        ..FakeStack::default()
    };
    let op = operator(&stack, Format::Text);
    assert_eq!(
        op.alias_rollout("orders", "live").await.unwrap().id,
        "r-running"
    );
    stack.others.retain(|r| r.id != "r-running");
    let op = operator(&stack, Format::Text);
    assert_eq!(
        op.alias_rollout("orders", "live").await.unwrap().id,
        "r-newest-done"
    );
    let none = op.alias_rollout("orders", "beta").await.unwrap_err();
    assert_eq!(none.exit, Exit::BadInput);
    assert!(none.message.contains("orders:beta"), "{}", none.message);
}

#[tokio::test]
async fn list_is_newest_first_and_filters() {
    let stack = FakeStack {
        others: vec![
            rollout("r-old", Status::Succeeded, 100, 1),
            rollout("r-new", Status::Shifting, 10, 5),
            rollout("r-mid", Status::RolledBack, 0, 3),
        ],
        ..FakeStack::default()
    };
    let mut out = Vec::new();
    operator(&stack, Format::Json)
        .list(Some("orders"), Some("live"), false, 2, &mut out)
        .await
        .unwrap();
    let listed: Value = serde_json::from_slice(&out).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rolloutId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r-new", "r-mid"]);
    let mut out = Vec::new();
    operator(&stack, Format::Text)
        .list(Some("orders"), Some("live"), true, 20, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(
        printed.contains("r-new") && !printed.contains("r-old"),
        "{printed}"
    );
}

#[test]
fn start_flags_become_a_request() {
    let cli = Cli::try_parse_from([
        "glidepath",
        "start",
        "--function",
        "orders",
        "--alias",
        "live",
        "--version",
        "7",
        "--strategy",
        r#"{"type":"canary","percent":10,"interval":"5m"}"#,
        "--alarm",
        "a",
        "--alarm",
        "b",
        "--pre-traffic",
        "smoke",
        "--bake",
        "10m",
        "--wait",
    ])
    .unwrap();
    let crate::args::CliCommand::Start(args) = &cli.command else {
        panic!("start");
    };
    assert!(args.wait);
    assert_eq!(
        args.request().unwrap(),
        json!({"function": "orders", "alias": "live", "targetVersion": "7",
               "strategy": {"type": "canary", "percent": 10, "interval": "5m"},
               "bake": "10m", "alarms": ["a", "b"], "hooks": {"preTraffic": "smoke"}})
    );
    // --publish instead of --version; a name stays a string.
    let cli = Cli::try_parse_from([
        "glidepath",
        "start",
        "--function",
        "f",
        "--alias",
        "a",
        "--publish",
        "--strategy",
        "AllAtOnce",
    ])
    .unwrap();
    let crate::args::CliCommand::Start(args) = &cli.command else {
        panic!("start");
    };
    assert_eq!(args.request().unwrap()["publish"], true);
    assert_eq!(args.request().unwrap()["strategy"], "AllAtOnce");
    // Both, or neither, is a usage error.
    for bad in [
        &[
            "glidepath",
            "start",
            "--function",
            "f",
            "--alias",
            "a",
            "--strategy",
            "AllAtOnce",
        ][..],
        &[
            "glidepath",
            "start",
            "--function",
            "f",
            "--alias",
            "a",
            "--version",
            "2",
            "--publish",
            "--strategy",
            "AllAtOnce",
        ][..],
        &["glidepath", "abort", "r-1"][..],
    ] {
        assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
    }
    let cli =
        Cli::try_parse_from(["glidepath", "--stack", "gp2", "status", "r-1", "--json"]).unwrap();
    assert_eq!((cli.stack.as_str(), cli.json), ("gp2", true));
}

#[test]
fn a_stack_without_glidepath_outputs_is_named() {
    let outputs = std::collections::HashMap::from([("TableName".to_string(), "t".to_string())]);
    let error = aws::Stack::from_outputs("other", &outputs).unwrap_err();
    assert_eq!(error.exit, Exit::Aws);
    assert!(
        error
            .message
            .contains("stack other has no output StartFunctionName")
    );
}

#[tokio::test]
async fn prune_is_a_dry_run_unless_yes_and_keeps_what_is_in_use() {
    let stack = FakeStack {
        versions: ["$LATEST", "1", "2", "3", "4", "5", "6"]
            .map(String::from)
            .to_vec(),
        routes: vec![prune::AliasRoute {
            alias: "live".into(),
            version: "1".into(),
            additional: Some("2".into()),
        }],
        // An unfinished rollout of 1 -> 2 (from `rollout`), and 3 provisioned.
        others: vec![rollout("r-1", Status::Shifting, 10, 1)],
        provisioned: vec!["3".into()],
        ..FakeStack::default()
    };
    let mut out = Vec::new();
    operator(&stack, Format::Text)
        .prune("orders", 1, false, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(stack.deleted.borrow().is_empty(), "dry run");
    assert!(printed.contains("orders:5  would be deleted"), "{printed}");
    assert!(
        printed.contains("orders:3  kept: has provisioned concurrency"),
        "{printed}"
    );
    assert!(
        printed.contains("orders:6  kept: one of the newest 1"),
        "{printed}"
    );
    assert!(
        printed.contains("orders:2  kept: alias live sends it a weighted share; the target version of unfinished rollout r-1"),
        "{printed}"
    );
    let mut out = Vec::new();
    operator(&stack, Format::Json)
        .prune("orders", 1, true, &mut out)
        .await
        .unwrap();
    assert_eq!(*stack.deleted.borrow(), ["5", "4"]);
    let json: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["deleted"], true);
    assert_eq!(json["versions"].as_array().unwrap().len(), 6);
}

#[test]
fn colours_only_when_painting() {
    let coloured = render::Paint { enabled: true };
    assert_eq!(
        coloured.status(Status::RolledBack, "RolledBack"),
        "\x1b[31mRolledBack\x1b[0m"
    );
    assert_eq!(coloured.alarm("ALARM"), "\x1b[1;31mALARM\x1b[0m");
    assert_eq!(render::Paint::PLAIN.alarm("ALARM"), "ALARM");
    assert!(
        !render::Paint::for_terminal(false).enabled,
        "never when piped"
    );
    let mut history = Vec::new();
    let mut entry = HistoryEntry::latest(&rollout("r-1", Status::Succeeded, 100, 3), "tick");
    entry.reason = None;
    history.push(entry);
    let plain = render::history(&history, render::Paint::PLAIN);
    let painted = render::history(&history, coloured);
    assert!(!plain.contains('\x1b'));
    assert_eq!(
        painted.replace("\x1b[32m", "").replace("\x1b[0m", ""),
        plain,
        "colour never moves a column"
    );
}

#[test]
fn the_live_line_shows_the_step_the_next_step_and_the_alarms() {
    let mut shifting = rollout("r-1", Status::Shifting, 20, 2);
    shifting.next_tick_at = Some(10_040);
    let states = std::collections::BTreeMap::from([
        ("errors".to_string(), "OK".to_string()),
        ("latency".to_string(), "ALARM".to_string()),
    ]);
    assert_eq!(
        render::progress(&shifting, &states, 10_000, render::Paint::PLAIN),
        "   20%  Shifting  step 2/10  next step in 40s  errors OK  latency ALARM"
    );
    let done = rollout("r-1", Status::Succeeded, 100, 9);
    assert_eq!(
        render::progress(&done, &Default::default(), 10_000, render::Paint::PLAIN),
        "  100%  Succeeded  step 10/10"
    );
}

#[tokio::test]
async fn history_svg_writes_the_chart_and_a_bad_path_is_bad_input() {
    let stack = FakeStack::default();
    stack.states.borrow_mut().extend([
        rollout("r-1", Status::Shifting, 10, 1),
        rollout("r-1", Status::RolledBack, 0, 2),
    ]);
    let op = operator(&stack, Format::Text);
    // Each load records the state it reads as a transition.
    stack.load("r-1").await.unwrap();
    let path = std::env::temp_dir().join(format!("glidepath-history-{}.svg", std::process::id()));
    let mut out = Vec::new();
    op.history("r-1", Some(&path), &mut out).await.unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(roxmltree::Document::parse(&svg).is_ok());
    let printed = text(out);
    assert!(
        printed.contains("chart written to") && printed.contains("RolledBack"),
        "{printed}"
    );

    let nowhere = std::path::Path::new("/nonexistent-dir/chart.svg");
    let mut out = Vec::new();
    let error = op
        .history("r-1", Some(nowhere), &mut out)
        .await
        .unwrap_err();
    assert_eq!(error.exit, Exit::BadInput);
    assert!(
        error.message.starts_with("--svg: could not write"),
        "{}",
        error.message
    );
    assert!(
        out.is_empty(),
        "nothing printed when the chart is not written"
    );
}

/// Parses `args` as the command line (after `glidepath --stack gp`) and runs it against
/// `stack` (not a terminal): the exit and what was printed.
async fn run_cli(stack: &FakeStack, args: &[&str]) -> (Exit, String) {
    let mut line = vec!["glidepath", "--stack", "gp"];
    line.extend_from_slice(args);
    let cli = Cli::try_parse_from(line).expect("a valid command line");
    let mut out = Vec::new();
    let exit = match cli.operate(stack, &mut out, false).await {
        Ok(exit) => exit,
        Err(error) => error.exit,
    };
    (exit, String::from_utf8(out).expect("utf-8"))
}

/// A release of `orders` and `payments` (ids `rel1-0`, `rel1-1`), each with a history of a
/// start and one advance at `at`, and member 1 in `second`.
fn release_stack(second: Status) -> FakeStack {
    let ids = vec!["rel1-0".to_string(), "rel1-1".to_string()];
    let mut members = std::collections::BTreeMap::new();
    for (index, function) in ["orders", "payments"].iter().enumerate() {
        let mut member = rollout(&ids[index], Status::Shifting, 10, 2);
        member.spec.function = function.to_string();
        member.release = Some(glidepath_core::release::ReleaseMembership {
            id: "rel1".into(),
            name: Some("checkout".into()),
            index,
            members: ids.clone(),
            rolled_back_for: None,
            wave: 0,
            earlier_waves: Default::default(),
            settled: false,
        });
        let mut history = vec![HistoryEntry::latest(&member, "release-advance")];
        history[0].at = 200 + index as u64;
        if index == 1 {
            member.status = second;
            member.reason = Some("alarm payments-errors is ALARM".into());
            let mut ended = HistoryEntry::latest(&member, "breach");
            ended.seq = 3;
            ended.at = 260;
            history.push(ended);
        }
        members.insert(ids[index].clone(), (member, history));
    }
    FakeStack {
        members,
        ..FakeStack::default()
    }
}

#[tokio::test]
async fn status_of_a_release_shows_every_member() {
    let stack = release_stack(Status::Shifting);
    let (exit, out) = run_cli(&stack, &["status", "rel1"]).await;
    assert_eq!(exit, Exit::Done);
    assert!(out.contains("release   rel1 (checkout)"), "{out}");
    assert!(
        out.contains("orders:live") && out.contains("payments:live"),
        "{out}"
    );
    // A member's id shows its release too.
    let (_, by_member) = run_cli(&stack, &["status", "rel1-1"]).await;
    assert_eq!(by_member, out);
}

#[tokio::test]
async fn history_of_a_release_reads_in_time_order_with_each_member_named() {
    let stack = release_stack(Status::RolledBack);
    let (exit, out) = run_cli(&stack, &["history", "rel1"]).await;
    assert_eq!(exit, Exit::Done);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("orders:live") && lines[1].starts_with("payments:live"),
        "{out}"
    );
    assert!(
        lines[2].contains("breach") && lines[2].contains("payments-errors"),
        "{out}"
    );
    let (_, svg) = run_cli(&stack, &["history", "rel1", "--svg", "/tmp/never.svg"]).await;
    assert!(svg.is_empty());
}

#[tokio::test]
async fn watching_a_release_ends_with_its_outcome() {
    let mut stack = release_stack(Status::RolledBack);
    // The first member rolled back for the second: every member has ended.
    if let Some((first, _)) = stack.members.get_mut("rel1-0") {
        first.status = Status::RolledBack;
    }
    let (exit, out) = run_cli(&stack, &["watch", "rel1"]).await;
    assert_eq!(exit, Exit::RolledBack, "{out}");
    assert!(
        out.trim_end().ends_with("release rel1: RolledBack"),
        "{out}"
    );
}

#[tokio::test]
async fn release_start_sends_the_file_and_prints_every_member() {
    let stack = FakeStack::default();
    stack.answers.borrow_mut().push_back(Ok(json!({
        "releaseId": "rel9", "name": "checkout", "status": "Shifting", "existing": false,
        "members": [
            {"rolloutId": "rel9-0", "function": "orders", "alias": "live", "currentVersion": "1",
             "targetVersion": "2", "status": "Shifting", "weight": 10},
            {"rolloutId": "rel9-1", "function": "payments", "alias": "live", "currentVersion": "4",
             "targetVersion": "5", "status": "Shifting", "weight": 10}]
    })));
    let file = std::env::temp_dir().join(format!("glidepath-release-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"members": [{"function": "orders", "alias": "live", "targetVersion": "2"}], "strategy": "AllAtOnce"}"#).unwrap();
    let (exit, out) = run_cli(&stack, &["release", "start", file.to_str().unwrap()]).await;
    assert_eq!(exit, Exit::Done, "{out}");
    assert!(
        out.starts_with("release rel9 (checkout): Shifting"),
        "{out}"
    );
    assert!(
        out.contains("rel9-1 payments:live: version 4 -> 5, Shifting at 10%"),
        "{out}"
    );
    assert_eq!(stack.invoked.borrow()[0].0, Function::Start);

    // A release in waves is one too (the file is Glidepath's to check).
    stack.answers.borrow_mut().push_back(Ok(
        json!({"releaseId": "rel10", "status": "Shifting", "members": []}),
    ));
    std::fs::write(&file, r#"{"waves": [{"members": [{"function": "orders", "alias": "live", "targetVersion": "2"}]}], "strategy": "AllAtOnce"}"#).unwrap();
    let (exit, out) = run_cli(&stack, &["release", "start", file.to_str().unwrap()]).await;
    assert_eq!(exit, Exit::Done, "{out}");
    assert_eq!(stack.invoked.borrow().len(), 2);

    // A single rollout's request is not a release.
    std::fs::write(
        &file,
        r#"{"function": "orders", "alias": "live", "targetVersion": "2"}"#,
    )
    .unwrap();
    let (exit, _) = run_cli(&stack, &["release", "start", file.to_str().unwrap()]).await;
    assert_eq!(exit, Exit::BadInput);
    let _ = std::fs::remove_file(&file);
}
