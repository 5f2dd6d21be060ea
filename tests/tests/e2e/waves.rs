//! `e25`: a release in waves across two regions and two accounts. The emulator keeps each
//! region's and each account's Lambda state apart (it reads the region from the request's
//! signature, and takes a 12-digit access key, or an assumed role's session, as the account),
//! so the members below really live in `us-east-1` and `us-west-2` of this account and in
//! `us-east-1` of account `111111111111`, reached through `infra/member-account.yaml`'s role.
//! The emulator does not enforce IAM: that the member role's trust and permissions are
//! enough on AWS is checked by the template tests, not here.

use super::{World, world};
use aws_sdk_cloudwatch::types::StateValue;
use glidepath_core::Status;
use glidepath_e2e::clients::{Clients, REGION};
use glidepath_e2e::run;
use glidepath_e2e::stack::MEMBER_ROLE_NAME;
use glidepath_e2e::target::{ALIAS, Target};
use serde_json::{Value, json};
use std::time::Instant;

const WEST: &str = "us-west-2";
const OTHER_ACCOUNT: &str = "111111111111";

/// Deploys `infra/member-account.yaml` in `other`'s account, trusting the stack's roles.
async fn deploy_member_stack(world: &World, other: &Clients) -> anyhow::Result<()> {
    use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
    let outputs = world
        .clients
        .cloudformation
        .describe_stacks()
        .stack_name(&world.glidepath.stack)
        .send()
        .await?;
    let trusted = outputs
        .stacks()
        .first()
        .and_then(|s| {
            s.outputs()
                .iter()
                .find(|o| o.output_key() == Some("MemberTrustedRoleArns"))
        })
        .and_then(|o| o.output_value())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("the stack has no MemberTrustedRoleArns output"))?;
    let name = format!("glidepath-member-{}", world.run_id);
    other
        .cloudformation
        .create_stack()
        .stack_name(&name)
        .template_body(include_str!("../../../infra/member-account.yaml"))
        .capabilities(Capability::CapabilityNamedIam)
        .parameters(
            Parameter::builder()
                .parameter_key("RoleName")
                .parameter_value(MEMBER_ROLE_NAME)
                .build(),
        )
        .parameters(
            Parameter::builder()
                .parameter_key("GlidepathRoleArns")
                .parameter_value(trusted)
                .build(),
        )
        .send()
        .await?;
    glidepath_e2e::wait_for(
        "the member stack to be created",
        std::time::Duration::from_secs(120),
        || async {
            let stacks = other
                .cloudformation
                .describe_stacks()
                .stack_name(&name)
                .send()
                .await?;
            let stack = stacks.stacks().first().cloned();
            match stack.as_ref().and_then(|s| s.stack_status()) {
                Some(StackStatus::CreateComplete) => Ok(Some(())),
                Some(StackStatus::CreateInProgress) | None => Ok(None),
                Some(other) => anyhow::bail!("member stack {name} is {other:?}"),
            }
        },
    )
    .await
}

/// A member of a release: `target`'s function by its ARN (the region and account it is in).
async fn member(clients: &Clients, target: &Target, version: &str, alarm: &str) -> Value {
    let arn = target
        .function_key(clients)
        .await
        .expect("the function's ARN");
    json!({"function": arn, "alias": ALIAS, "targetVersion": version, "alarms": [alarm]})
}

#[test]
#[ignore = "needs the local AWS emulator: run scripts/test"]
fn e25_waves_across_two_regions_and_two_accounts() {
    run(async {
        let world = world().await;
        let west = Clients::elsewhere(WEST, "test").await;
        let other = Clients::elsewhere(REGION, OTHER_ACCOUNT).await;
        deploy_member_stack(world, &other).await.unwrap();
        let run_id = world.run_id;
        let (home, western, foreign, gate) = tokio::join!(
            world.target("wave-home"),
            async {
                Target::create(&west, &format!("wave-west-{run_id}"))
                    .await
                    .unwrap()
            },
            async {
                Target::create(&other, &format!("wave-other-{run_id}"))
                    .await
                    .unwrap()
            },
            world.target("wave-gate")
        );
        let strategy = json!({"type": "linear", "percent": 50, "interval": "3s"});

        // Wave 0 here, wave 1 in the other region and the other account: all to version 3.
        let clock = Instant::now();
        let request = json!({
            "release": "e25-good",
            "waves": [
                {"members": [member(&world.clients, &home, "3", &home.alarm).await]},
                {"members": [member(&west, &western, "3", &gate.alarm).await,
                             member(&other, &foreign, "3", &gate.alarm).await]},
            ],
            "strategy": strategy,
        });
        let answer = world
            .start(&request)
            .await
            .unwrap_or_else(|e| panic!("start refused the release: {e:?}"));
        let started = world.members_of(&answer).await;
        assert_eq!(
            started[0].status,
            glidepath_core::Status::Shifting,
            "{answer}"
        );
        assert!(
            started[1].is_unstarted() && started[2].is_unstarted(),
            "{answer}"
        );
        for member in &started {
            world.wait_status(&member.id, Status::Succeeded).await;
        }
        eprintln!(
            "e25: two waves, three places, to Succeeded in {:.1}s",
            clock.elapsed().as_secs_f64()
        );
        home.expect_alias(&world.clients, "3", None).await;
        western.expect_alias(&west, "3", None).await;
        foreign.expect_alias(&other, "3", None).await;
        // The second wave started only once the first had finished (at 100 %, waiting).
        let store = world.glidepath.store(&world.clients);
        let wave0 = glidepath_aws::ports::RolloutStore::history(&store, &started[0].id)
            .await
            .unwrap();
        let wave1 = glidepath_aws::ports::RolloutStore::history(&store, &started[1].id)
            .await
            .unwrap();
        let wave0_full = wave0
            .iter()
            .find(|h| h.weight.is_full())
            .expect("wave 0 reached 100 %");
        let wave1_started = wave1.iter().find(|h| h.event == "start").expect("started");
        assert!(wave1_started.at >= wave0_full.at, "{wave0:?}\n{wave1:?}");

        // A failure in the second wave takes the first back too (earlierWaves: rollBack).
        let (first, second, gate) = tokio::join!(
            world.target("wave-bad-home"),
            async {
                Target::create(&west, &format!("wave-bad-west-{run_id}"))
                    .await
                    .unwrap()
            },
            world.target("wave-bad-gate")
        );
        let request = json!({
            "release": "e25-bad",
            "earlierWaves": "rollBack",
            "waves": [
                {"members": [member(&world.clients, &first, "2", &first.alarm).await]},
                {"members": [member(&west, &second, "2", &gate.alarm).await]},
            ],
            "strategy": {"type": "linear", "percent": 50, "interval": "3s"},
        });
        let answer = world
            .start(&request)
            .await
            .unwrap_or_else(|e| panic!("start refused the release: {e:?}"));
        let ids: Vec<String> = world
            .members_of(&answer)
            .await
            .into_iter()
            .map(|m| m.id)
            .collect();
        world.wait_status(&ids[1], Status::Shifting).await;
        gate.set_alarm(&world.clients, StateValue::Alarm)
            .await
            .unwrap();
        let clock = Instant::now();
        for id in &ids {
            world.wait_status(id, Status::RolledBack).await;
        }
        eprintln!(
            "e25: the second wave's alarm to both waves RolledBack in {:.1}s",
            clock.elapsed().as_secs_f64()
        );
        let first_member = world.rollout(&ids[0]).await;
        assert!(
            first_member
                .reason
                .as_deref()
                .is_some_and(|r| r.contains(&second.function) && r.contains(&gate.alarm)),
            "{:?}",
            first_member.reason
        );
        first.expect_alias(&world.clients, "1", None).await;
        second.expect_alias(&west, "1", None).await;
    });
}
