//! The AWS SDK adapters of the ports, and [`AwsPorts`], the set a function wires up once from
//! one `aws_config` load.

mod calls;
pub mod cloudwatch;
pub mod dynamodb;
pub mod eventbridge;
pub mod lambda;
pub mod members;
pub mod metric_data;
pub mod scheduler;

pub use calls::CallCounter;
pub use cloudwatch::AlarmHealth;
pub use dynamodb::DynamoStore;
pub use eventbridge::EventBridgeNotifier;
pub use lambda::{LambdaDispatcher, LambdaHooks, LambdaRouter};
pub use scheduler::SchedulerTicker;

use crate::config::Config;
use crate::ports::Ports;
use glidepath_core::UnixSeconds;

/// Every port on its AWS adapter.
#[derive(Debug, Clone)]
pub struct AwsPorts {
    pub store: DynamoStore,
    pub router: LambdaRouter,
    pub ticker: SchedulerTicker,
    pub health: AlarmHealth,
    pub hooks: LambdaHooks,
    pub notifier: EventBridgeNotifier,
    pub dispatcher: LambdaDispatcher,
    /// Every AWS call the adapters make, by operation.
    pub calls: CallCounter,
}

impl AwsPorts {
    /// Builds the clients from one shared SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig, config: &Config) -> Self {
        let calls = CallCounter::default();
        // The home client, and those of the regions and accounts members of a release live in.
        let home_account =
            glidepath_core::arn_account(&config.step_function_arn).map(str::to_string);
        let clients =
            members::LambdaClients::new(sdk, home_account, config.member_role_name.clone());
        let lambda = clients.home().clone();
        AwsPorts {
            store: DynamoStore::new(
                aws_sdk_dynamodb::Client::new(sdk),
                &config.table,
                config.retention_days,
                calls.clone(),
            ),
            router: LambdaRouter::new(clients, calls.clone()),
            ticker: SchedulerTicker::new(
                aws_sdk_scheduler::Client::new(sdk),
                config.schedule_group.clone(),
                config.scheduler_role_arn.clone(),
                config.step_function_arn.clone(),
                calls.clone(),
            ),
            health: AlarmHealth::new(aws_sdk_cloudwatch::Client::new(sdk), calls.clone()),
            hooks: LambdaHooks::new(
                lambda.clone(),
                calls.clone(),
                config.step_function_arn.clone(),
            ),
            notifier: EventBridgeNotifier::new(
                aws_sdk_eventbridge::Client::new(sdk),
                config.event_bus.clone(),
                calls.clone(),
            ),
            dispatcher: LambdaDispatcher::new(
                lambda,
                config.step_function_arn.clone(),
                config.finalize_function.clone(),
                config.rollback_function.clone(),
                calls.clone(),
            ),
            calls,
        }
    }
}

impl Ports for AwsPorts {
    type Store = DynamoStore;
    type Router = LambdaRouter;
    type Ticker = SchedulerTicker;
    type Health = AlarmHealth;
    type Hooks = LambdaHooks;
    type Notifier = EventBridgeNotifier;
    type Dispatcher = LambdaDispatcher;

    fn store(&self) -> &DynamoStore {
        &self.store
    }
    fn router(&self) -> &LambdaRouter {
        &self.router
    }
    fn ticker(&self) -> &SchedulerTicker {
        &self.ticker
    }
    fn health(&self) -> &AlarmHealth {
        &self.health
    }
    fn hooks(&self) -> &LambdaHooks {
        &self.hooks
    }
    fn notifier(&self) -> &EventBridgeNotifier {
        &self.notifier
    }
    fn dispatcher(&self) -> &LambdaDispatcher {
        &self.dispatcher
    }
    fn now(&self) -> UnixSeconds {
        crate::clock::now()
    }
    fn take_call_counts(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.calls.take()
    }
}
