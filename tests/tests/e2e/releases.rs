//! `e24`: release trains on the deployed stack. Three functions shifted together: a good
//! train ends with all three on the new version; a train with one bad member (its alarm goes
//! to `ALARM`) ends with all three back on the old version, the reason naming the bad one; a
//! train whose second member's alias another rollout holds is refused and moves nothing.

use super::world;
use aws_sdk_cloudwatch::types::StateValue;
use glidepath_core::Status;
use glidepath_e2e::run;
use glidepath_e2e::target::{ALIAS, Target};
use serde_json::{Value, json};
use std::time::Instant;

/// A release of `targets`, each to version `version`, each watching its own alarm.
fn release(name: &str, targets: &[&Target], version: &str, strategy: Value) -> Value {
    json!({
        "release": name,
        "members": targets.iter().map(|t| json!({
            "function": t.function, "alias": ALIAS, "targetVersion": version, "alarms": [t.alarm],
        })).collect::<Vec<_>>(),
        "strategy": strategy,
    })
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e24_a_release_train_moves_together_and_goes_back_together() {
    run(async {
        let world = world().await;
        let (a, b, c) = tokio::join!(
            world.target("train-api"),
            world.target("train-worker"),
            world.target("train-consumer")
        );
        let (d, e, f) = tokio::join!(
            world.target("bad-api"),
            world.target("bad-worker"),
            world.target("bad-consumer")
        );
        let strategy = json!({"type": "linear", "percent": 50, "interval": "3s"});

        // A good train, started and watched through the CLI: all three at 50 %, then all
        // three at 100 %.
        let clock = Instant::now();
        let file = std::env::temp_dir().join(format!("e24-{}.json", world.run_id));
        std::fs::write(
            &file,
            release("e24-good", &[&a, &b, &c], "3", strategy.clone()).to_string(),
        )
        .unwrap();
        let (code, out) = super::glidepath(
            world,
            &["release", "start", file.to_str().unwrap(), "--wait"],
        )
        .await;
        assert_eq!(code, 0, "{out}");
        let release_id = out
            .split_whitespace()
            .nth(1)
            .filter(|id| id.starts_with("rel"))
            .unwrap_or_else(|| panic!("release start printed no id: {out}"))
            .to_string();
        assert!(
            out.trim_end()
                .ends_with(&format!("release {release_id}: Succeeded")),
            "{out}"
        );
        for target in [&a, &b, &c] {
            assert!(
                out.contains(&format!("{}:{ALIAS}", target.function)),
                "{out}"
            );
            target.expect_alias(&world.clients, "3", None).await;
        }
        let ids: Vec<String> = (0..3)
            .map(|i| glidepath_core::release::member_id(&release_id, i))
            .collect();
        for id in &ids {
            assert_eq!(world.rollout(id).await.status, Status::Succeeded);
            // Every member moved on by the release, at the same moments.
            let history = world.history(id).await;
            assert!(
                history
                    .iter()
                    .filter(|(event, _, _)| event == "release-advance")
                    .count()
                    >= 2,
                "{id}: {history:?}"
            );
        }
        eprintln!(
            "e24: a good train of 3 to Succeeded in {:.1}s (CLI release start --wait)",
            clock.elapsed().as_secs_f64()
        );
        let (code, status) = super::glidepath(world, &["status", &release_id]).await;
        assert_eq!(code, 0, "{status}");
        assert!(
            status.contains("status    Succeeded") && status.contains(&a.function),
            "{status}"
        );
        let (code, history) = super::glidepath(world, &["history", &release_id]).await;
        assert_eq!(code, 0);
        assert!(history.lines().count() >= 9, "{history}");
        let _ = std::fs::remove_file(&file);

        // One bad member: the worker's alarm goes off; all three go back, and say why.
        let answer = world
            .start(&release(
                "e24-bad",
                &[&d, &e, &f],
                "2",
                json!({"type": "linear", "percent": 10, "interval": "3s"}),
            ))
            .await
            .unwrap_or_else(|e| panic!("start refused the release: {e:?}"));
        let ids: Vec<String> = world
            .members_of(&answer)
            .await
            .into_iter()
            .map(|m| m.id)
            .collect();
        e.set_alarm(&world.clients, StateValue::Alarm)
            .await
            .unwrap();
        let clock = Instant::now();
        for id in &ids {
            let done = world.wait_status(id, Status::RolledBack).await;
            let reason = done.reason.unwrap_or_default();
            assert!(reason.contains(&e.alarm), "{id}: {reason}");
            if *id != ids[1] {
                assert!(
                    reason.contains(&format!("{}:{ALIAS}", e.function)),
                    "{id}: {reason}"
                );
            }
        }
        eprintln!(
            "e24: one bad member to all three RolledBack in {:.1}s",
            clock.elapsed().as_secs_f64()
        );
        for target in [&d, &e, &f] {
            target.expect_alias(&world.clients, "1", None).await;
        }

        // A member's alias held by another rollout: refused, nothing moved, no lock taken.
        let (g, h, i) = tokio::join!(
            world.target("held-api"),
            world.target("held-worker"),
            world.target("held-consumer")
        );
        let holder = world
            .started(&h.request("3", json!("Canary10Percent30Minutes")))
            .await;
        let (kind, message) = world
            .start(&release("e24-held", &[&g, &h, &i], "2", strategy))
            .await
            .unwrap_err();
        assert_eq!(kind, "Conflict", "{message}");
        assert!(
            message.contains(&holder) && message.contains("members[1]"),
            "{message}"
        );
        g.expect_alias(&world.clients, "1", None).await;
        i.expect_alias(&world.clients, "1", None).await;
        h.expect_alias(&world.clients, "1", Some(("3", 0.1))).await;
        let store = world.glidepath.store(&world.clients);
        for target in [&g, &i] {
            let key = target.function_key(&world.clients).await.unwrap();
            assert_eq!(
                glidepath_aws::ports::RolloutStore::active_rollout(&store, &key, ALIAS)
                    .await
                    .unwrap(),
                None
            );
        }
    });
}
