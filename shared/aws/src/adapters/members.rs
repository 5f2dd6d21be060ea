//! Lambda clients for where a rollout's function lives. A function named by its ARN in
//! another region is reached with a client for that region; in another account, through the
//! member role the account's Glidepath member stack created
//! (`arn:<partition>:iam::<account>:role/<GLIDEPATH_MEMBER_ROLE_NAME>`, see
//! `infra/member-account.yaml`), assumed with the function's own credentials. A function
//! named by name, or by an ARN of this account and region, uses the home client.
//!
//! Clients are built once per region and account and kept for the process (credentials of an
//! assumed role are refreshed by the SDK as they expire).

use crate::error::PortError;
use aws_config::SdkConfig;
use aws_sdk_lambda::Client;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where an ARN points: its partition, region and account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Location {
    /// The location a Lambda function ARN names (`arn:<partition>:lambda:<region>:<account>:function:...`);
    /// `None` for a function name.
    pub fn of_function(function: &str) -> Option<Location> {
        let fields: Vec<&str> = function.splitn(7, ':').collect();
        match fields.as_slice() {
            ["arn", partition, "lambda", region, account, "function", _]
                if !region.is_empty() && !account.is_empty() =>
            {
                Some(Location {
                    partition: partition.to_string(),
                    region: region.to_string(),
                    account: account.to_string(),
                })
            }
            _ => None,
        }
    }
}

/// The Lambda clients: this function's own, and those of other regions and accounts.
#[derive(Debug, Clone)]
pub struct LambdaClients {
    home: Client,
    sdk: SdkConfig,
    home_region: Option<String>,
    home_account: Option<String>,
    member_role: Option<String>,
    remote: Arc<Mutex<HashMap<(String, String), Client>>>,
}

impl LambdaClients {
    /// `home_account` is this stack's account; `member_role` the role name to assume in other
    /// accounts (none: functions of other accounts are refused).
    pub fn new(sdk: &SdkConfig, home_account: Option<String>, member_role: Option<String>) -> Self {
        LambdaClients {
            home: Client::new(sdk),
            sdk: sdk.clone(),
            home_region: sdk.region().map(|r| r.to_string()),
            home_account,
            member_role,
            remote: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// This function's own client.
    pub fn home(&self) -> &Client {
        &self.home
    }

    /// The client that reaches `function` (a name, or an ARN of any region and account).
    pub async fn for_function(&self, function: &str) -> Result<Client, PortError> {
        let Some(location) = Location::of_function(function) else {
            return Ok(self.home.clone());
        };
        let same_account = self
            .home_account
            .as_deref()
            .is_none_or(|home| home == location.account);
        let same_region = self.home_region.as_deref() == Some(location.region.as_str());
        if same_account && same_region {
            return Ok(self.home.clone());
        }
        let key = (location.region.clone(), location.account.clone());
        if let Some(client) = self.cached(&key) {
            return Ok(client);
        }
        let mut builder = self
            .sdk
            .to_builder()
            .region(aws_config::Region::new(location.region.clone()));
        if !same_account {
            let Some(role_name) = &self.member_role else {
                return Err(PortError::Invalid(format!(
                    "function {function} is in account {}: this stack reaches other accounts only through a member role (set the stack's MemberRoleName, and deploy infra/member-account.yaml in that account)",
                    location.account
                )));
            };
            let role = format!(
                "arn:{}:iam::{}:role/{role_name}",
                location.partition, location.account
            );
            let provider = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name("glidepath")
                .configure(&self.sdk)
                .build()
                .await;
            builder = builder.credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            );
        }
        let client = Client::new(&builder.build());
        self.remote
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key, client.clone());
        Ok(client)
    }

    fn cached(&self, key: &(String, String)) -> Option<Client> {
        self.remote
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_name_their_place() {
        assert_eq!(Location::of_function("orders"), None);
        assert_eq!(
            Location::of_function("arn:aws:lambda:eu-west-1:111122223333:function:orders"),
            Some(Location {
                partition: "aws".into(),
                region: "eu-west-1".into(),
                account: "111122223333".into(),
            })
        );
        assert_eq!(
            Location::of_function("arn:aws:lambda:eu-west-1:111122223333:function:orders:live")
                .map(|l| l.region),
            Some("eu-west-1".to_string())
        );
        assert_eq!(
            Location::of_function("arn:aws:sns:eu-west-1:111122223333:topic"),
            None
        );
    }

    #[tokio::test]
    async fn other_accounts_need_a_member_role() {
        let sdk = crate::sdk::defaults()
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .load()
            .await;
        let clients = LambdaClients::new(&sdk, Some("123456789012".into()), None);
        // Home, and another region of the same account, need no role.
        for function in [
            "orders",
            "arn:aws:lambda:us-east-1:123456789012:function:orders",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders",
        ] {
            assert!(clients.for_function(function).await.is_ok(), "{function}");
        }
        let refused = clients
            .for_function("arn:aws:lambda:us-east-1:111122223333:function:orders")
            .await
            .expect_err("refused");
        assert!(refused.to_string().contains("MemberRoleName"), "{refused}");
        let with_role = LambdaClients::new(
            &sdk,
            Some("123456789012".into()),
            Some("glidepath-member".into()),
        );
        assert!(
            with_role
                .for_function("arn:aws:lambda:us-east-1:111122223333:function:orders")
                .await
                .is_ok()
        );
        assert_eq!(with_role.remote.lock().map(|m| m.len()).unwrap_or(0), 1);
    }
}
