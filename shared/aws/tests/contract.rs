//! The port contract tests (`glidepath_aws::contract`) against the in-memory fakes. The
//! end-to-end suite runs the same bodies against the AWS adapters on the local emulator.

use glidepath_aws::contract;
use glidepath_aws::fakes::FakeAws;

const AT: u64 = 1_800_000_000;

#[tokio::test]
async fn store_records_and_locks() {
    contract::store_records_and_locks(&FakeAws::new(AT), "c", AT).await;
}

#[tokio::test]
async fn store_releases() {
    contract::store_releases(&FakeAws::new(AT), "c", AT).await;
}

#[tokio::test]
async fn store_overdue() {
    contract::store_overdue(&FakeAws::new(AT), "c", AT).await;
}

#[tokio::test]
async fn store_recent() {
    contract::store_recent(&FakeAws::new(AT), "c", AT).await;
}

#[tokio::test]
async fn store_idempotency() {
    contract::store_idempotency(&FakeAws::new(AT), "c", AT).await;
}

#[tokio::test]
async fn alias_fencing() {
    let fake = FakeAws::new(AT);
    fake.add_function("orders", 3, "live", 1);
    contract::alias_fencing(&fake, "orders", "1", "3").await;
}

#[tokio::test]
async fn function_tags() {
    let fake = FakeAws::new(AT);
    fake.add_function("orders", 3, "live", 1);
    let tags: std::collections::BTreeMap<String, String> = [
        ("glidepath:alias".to_string(), "live".to_string()),
        ("team".to_string(), "orders".to_string()),
    ]
    .into();
    fake.world().tags.insert("orders".into(), tags.clone());
    let arn = format!("{}orders", glidepath_aws::fakes::FUNCTION_ARN_PREFIX);
    contract::function_tags(&fake, "orders", &arn, &tags).await;
}

#[tokio::test]
async fn latest_role() {
    let fake = FakeAws::new(AT);
    fake.add_function("orders", 3, "live", 1);
    contract::latest_role(&fake, "orders", "1").await;
}

#[tokio::test]
async fn notice_to_a_missing_hook() {
    contract::notice_to_a_missing_hook(&FakeAws::new(AT), "no-such-hook").await;
}
