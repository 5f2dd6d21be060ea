//! `infra/template.yaml` read as data: each function's role allows exactly the calls its code
//! makes, no statement allows every action, `*` resources are the documented few, and the
//! template's functions are exactly the crates under `functions/`. No emulator needed.

use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("infra/template.yaml"))
        .expect("the template is readable");
    serde_yaml::from_str(&text).expect("the template is YAML")
}

fn resources(template: &Value) -> &serde_yaml::Mapping {
    template["Resources"].as_mapping().expect("Resources")
}

/// The text of a value, looking through one CloudFormation tag (`!Ref X` → `X`).
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

fn strings(value: &Value) -> Vec<String> {
    match untagged(value) {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// A statement, or the statement of a conditional one (`!If [Condition, statement,
/// AWS::NoValue]`, present only under that condition).
fn conditional(statement: &Value) -> Option<&Value> {
    match statement {
        Value::Tagged(tagged) if tagged.tag == "If" => tagged.value.as_sequence()?.get(1),
        other => Some(other),
    }
}

/// Every policy statement of a role, conditional ones included.
fn statements<'a>(template: &'a Value, role: &str) -> Vec<&'a Value> {
    let role = &resources(template)[role];
    assert_eq!(role["Type"], Value::from("AWS::IAM::Role"), "{role:?}");
    role["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|policy| {
            policy["PolicyDocument"]["Statement"]
                .as_sequence()
                .into_iter()
                .flatten()
        })
        .filter_map(conditional)
        .collect()
}

/// Function binary name → the logical id of its role.
fn function_roles(template: &Value) -> BTreeMap<String, String> {
    resources(template)
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .map(|(id, resource)| {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id:?} has no Binary"));
            let role = strings(&resource["Properties"]["Role"]).join("");
            let role = role
                .strip_suffix(".Arn")
                .unwrap_or_else(|| panic!("{id:?}: Role is not !GetAtt <role>.Arn"));
            (binary.to_string(), role.to_string())
        })
        .collect()
}

#[test]
fn each_function_may_make_exactly_the_calls_its_code_makes() {
    let logs = ["logs:CreateLogStream", "logs:PutLogEvents"];
    let orchestrator = |extra: &[&str]| -> BTreeSet<String> {
        logs.iter().chain(extra).map(|a| a.to_string()).collect()
    };
    let expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::from([
        (
            "start",
            orchestrator(&[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "lambda:GetAlias",
                "lambda:UpdateAlias",
                "sts:AssumeRole",
                "lambda:GetFunctionConfiguration",
                "lambda:PublishVersion",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:ListTags",
                "lambda:GetCodeSigningConfig",
                "lambda:InvokeFunction",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "scheduler:CreateSchedule",
                "scheduler:ListSchedules",
                "scheduler:DeleteSchedule",
                "iam:PassRole",
                "events:PutEvents",
                "sqs:SendMessage",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ]),
        ),
        (
            "pipeline",
            orchestrator(&[
                "codepipeline:PutJobSuccessResult",
                "codepipeline:PutJobFailureResult",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "lambda:GetAlias",
                "lambda:UpdateAlias",
                "sts:AssumeRole",
                "lambda:GetFunctionConfiguration",
                "lambda:PublishVersion",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetCodeSigningConfig",
                "lambda:InvokeFunction",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "scheduler:CreateSchedule",
                "scheduler:ListSchedules",
                "scheduler:DeleteSchedule",
                "iam:PassRole",
                "events:PutEvents",
                "sqs:SendMessage",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ]),
        ),
        (
            "step",
            orchestrator(&[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "lambda:GetAlias",
                "lambda:UpdateAlias",
                "sts:AssumeRole",
                "lambda:InvokeFunction",
                "lambda:GetFunctionConfiguration",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:GetMetricData",
                "cloudwatch:DeleteAlarms",
                "scheduler:CreateSchedule",
                "scheduler:ListSchedules",
                "scheduler:DeleteSchedule",
                "iam:PassRole",
                "events:PutEvents",
                "sqs:SendMessage",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ]),
        ),
        (
            "check-alarms",
            orchestrator(&[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
                "lambda:InvokeFunction",
                "events:PutEvents",
                "sqs:SendMessage",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ]),
        ),
        (
            "finalize",
            orchestrator(&[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "lambda:GetAlias",
                "lambda:UpdateAlias",
                "sts:AssumeRole",
                "lambda:InvokeFunction",
                "scheduler:ListSchedules",
                "scheduler:DeleteSchedule",
                "cloudwatch:DeleteAlarms",
                "events:PutEvents",
                "sqs:SendMessage",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ]),
        ),
        (
            "rollback",
            orchestrator(&[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "lambda:GetAlias",
                "lambda:UpdateAlias",
                "sts:AssumeRole",
                "lambda:InvokeFunction",
                "scheduler:ListSchedules",
                "scheduler:DeleteSchedule",
                "cloudwatch:DeleteAlarms",
                "events:PutEvents",
                "sqs:SendMessage",
                "kms:Decrypt",
                "kms:GenerateDataKey",
            ]),
        ),
        (
            "watchdog",
            orchestrator(&["dynamodb:Query", "lambda:InvokeFunction", "kms:Decrypt"]),
        ),
        (
            "pre-traffic-hook",
            orchestrator(&[
                "lambda:InvokeFunction",
                "codedeploy:GetDeployment",
                "codedeploy:PutLifecycleEventHookExecutionStatus",
            ]),
        ),
        (
            "post-traffic-hook",
            orchestrator(&[
                "lambda:InvokeFunction",
                "codedeploy:GetDeployment",
                "codedeploy:PutLifecycleEventHookExecutionStatus",
            ]),
        ),
    ]);
    let template = template();
    let roles = function_roles(&template);
    for (function, role) in &roles {
        let actions: BTreeSet<String> = statements(&template, role)
            .iter()
            .flat_map(|s| strings(&s["Action"]))
            .collect();
        let want = expected
            .get(function.as_str())
            .unwrap_or_else(|| panic!("no expected actions for {function}"));
        assert_eq!(&actions, want, "role {role} of {function}");
    }
    assert_eq!(roles.len(), expected.len());
    let distinct: BTreeSet<&String> = roles.values().collect();
    assert_eq!(distinct.len(), roles.len(), "one role per function");
}

#[test]
fn no_statement_allows_every_action_and_star_resources_are_the_documented_few() {
    let template = template();
    // Actions AWS offers no resource-level permission for (reasons in the template).
    let unscopable: BTreeSet<&str> = [
        "cloudwatch:DescribeAlarms",
        "cloudwatch:GetMetricData",
        "scheduler:ListSchedules",
        "codepipeline:PutJobSuccessResult",
        "codepipeline:PutJobFailureResult",
    ]
    .into();
    for (id, resource) in resources(&template) {
        if resource["Type"] != "AWS::IAM::Role" {
            continue;
        }
        for statement in statements(&template, id.as_str().unwrap()) {
            let actions = strings(&statement["Action"]);
            assert!(!actions.is_empty(), "{id:?}: a statement without actions");
            for action in &actions {
                assert!(
                    action != "*" && !action.ends_with(":*"),
                    "{id:?} allows {action}"
                );
            }
            if strings(&statement["Resource"]).iter().any(|r| r == "*") {
                for action in &actions {
                    assert!(
                        unscopable.contains(action.as_str()),
                        "{id:?}: {action} on \"*\""
                    );
                }
            }
            assert_eq!(statement["Effect"], Value::from("Allow"));
        }
    }
}

/// Every `Action` anywhere in the template (roles' policies and trust policies, queue
/// policies, anything SAM will not generate itself).
fn all_actions(value: &Value, found: &mut Vec<String>) {
    match untagged(value) {
        Value::Mapping(map) => {
            for (key, child) in map {
                if key == &Value::from("Action") || key == &Value::from("NotAction") {
                    found.extend(strings(child));
                    if key == &Value::from("NotAction") {
                        found.push("NotAction".into());
                    }
                }
                all_actions(child, found);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| all_actions(item, found)),
        _ => {}
    }
}

#[test]
fn no_statement_anywhere_allows_every_action() {
    let mut actions = Vec::new();
    all_actions(&template(), &mut actions);
    assert!(actions.len() > 50, "found only {} actions", actions.len());
    for action in actions {
        assert!(
            action != "*" && !action.ends_with(":*") && action != "NotAction",
            "the template allows {action}"
        );
    }
}

#[test]
fn managed_aliases_need_the_pattern_and_the_tag() {
    let template = template();
    for (function, role) in function_roles(&template) {
        for statement in statements(&template, &role) {
            let touches_aliases = strings(&statement["Action"])
                .iter()
                .any(|a| a == "lambda:UpdateAlias");
            if touches_aliases {
                // The parameter when set, else every function of the stack's own account and
                // region (never every account's).
                assert_eq!(
                    strings(&statement["Resource"]),
                    vec![
                        "HasManagedPattern".to_string(),
                        "ManagedFunctionArnPattern".to_string(),
                        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"
                            .to_string()
                    ],
                    "{function}"
                );
                let condition =
                    &statement["Condition"]["StringEquals"]["aws:ResourceTag/glidepath:managed"];
                assert_eq!(condition, &Value::from("true"), "{function}");
            }
        }
    }
}

#[test]
fn the_template_deploys_exactly_the_crates_under_functions() {
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/ exists")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("Cargo.toml").exists())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let template = template();
    let declared: BTreeSet<String> = function_roles(&template).into_keys().collect();
    assert_eq!(
        declared, crates,
        "template functions vs crates under functions/"
    );
    for (id, resource) in resources(&template) {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        assert_eq!(
            resource["Metadata"]["BuildMethod"],
            Value::from("rust-cargolambda"),
            "{id:?}"
        );
        assert_eq!(
            resource["Properties"]["CodeUri"],
            Value::from(format!("../functions/{binary}")),
            "{id:?}"
        );
        let manifest =
            std::fs::read_to_string(root().join(format!("functions/{binary}/Cargo.toml"))).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{binary}\"")),
            "functions/{binary} builds a binary named {binary}"
        );
        let log_group = strings(&resource["Properties"]["LoggingConfig"]["LogGroup"]).join("");
        assert!(
            resources(&template).contains_key(log_group.as_str()),
            "{id:?} logs to a declared log group"
        );
    }
    let globals = &template["Globals"]["Function"];
    assert_eq!(
        globals["Architectures"],
        Value::Sequence(vec![Value::from("arm64")])
    );
    assert_eq!(globals["Runtime"], Value::from("provided.al2023"));
    assert_eq!(globals["Handler"], Value::from("bootstrap"));
}

#[test]
fn async_work_that_fails_for_good_lands_in_the_dead_letter_queue() {
    let template = template();
    for function in [
        "StartFunction",
        "StepFunction",
        "CheckAlarmsFunction",
        "FinalizeFunction",
        "RollbackFunction",
    ] {
        let config = &resources(&template)[function]["Properties"]["EventInvokeConfig"];
        assert!(
            config["MaximumRetryAttempts"].as_u64().is_some(),
            "{function}"
        );
        assert!(
            config["MaximumEventAgeInSeconds"].as_u64().is_some(),
            "{function}"
        );
        let destination =
            strings(&config["DestinationConfig"]["OnFailure"]["Destination"]).join("");
        assert_eq!(destination, "DeadLetterQueue.Arn", "{function}");
    }
    // The pipeline action's failed events would carry the job's artifact credentials into
    // the queue: none go there.
    let pipeline = &resources(&template)["PipelineFunction"]["Properties"]["EventInvokeConfig"];
    assert!(pipeline["MaximumRetryAttempts"].as_u64().is_some());
    assert!(pipeline.get("DestinationConfig").is_none());
    let alarm = &resources(&template)["DeadLetterAlarm"]["Properties"];
    assert_eq!(
        alarm["MetricName"],
        Value::from("ApproximateNumberOfMessagesVisible")
    );
    // Scheduler may invoke step and nothing else.
    let scheduler = statements(&template, "SchedulerRole");
    assert_eq!(scheduler.len(), 1);
    assert_eq!(
        strings(&scheduler[0]["Action"]),
        vec!["lambda:InvokeFunction".to_string()]
    );
    assert!(strings(&scheduler[0]["Resource"])[0].ends_with("-step"));
}

/// Issue 8: the managed-function and deployment-group patterns default to the stack's own
/// account and region.
#[test]
fn patterns_default_to_the_stacks_own_account_and_region() {
    let template = template();
    for parameter in [
        "ManagedFunctionArnPattern",
        "CodeDeployDeploymentGroupArnPattern",
    ] {
        assert_eq!(
            template["Parameters"][parameter]["Default"],
            Value::from(""),
            "{parameter}"
        );
    }
}

/// Issue 8: EventBridge can write to the dead-letter queue (its rules' `DeadLetterConfig`
/// needs the queue's policy), and only this stack's rules can.
#[test]
fn the_dead_letter_queue_lets_this_stacks_rules_write() {
    let template = template();
    let policy = &resources(&template)["DeadLetterQueuePolicy"];
    assert_eq!(policy["Type"], Value::from("AWS::SQS::QueuePolicy"));
    assert_eq!(
        strings(&policy["Properties"]["Queues"]),
        vec!["DeadLetterQueue".to_string()]
    );
    let statements = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("statements");
    assert_eq!(statements.len(), 1);
    let statement = &statements[0];
    assert_eq!(
        statement["Principal"]["Service"],
        Value::from("events.amazonaws.com")
    );
    assert_eq!(
        strings(&statement["Action"]),
        vec!["sqs:SendMessage".to_string()]
    );
    let sources = strings(&statement["Condition"]["ArnLike"]["aws:SourceArn"]);
    assert!(!sources.is_empty());
    for source in &sources {
        assert!(source.contains("${AWS::StackName}-*"), "{source}");
    }
    // Every rule that dead-letters there is named so that the policy covers it.
    let mut rules = 0;
    for (id, resource) in resources(&template) {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (name, event) in events {
            if event["Type"] != "EventBridgeRule" {
                continue;
            }
            let properties = &event["Properties"];
            if strings(&properties["DeadLetterConfig"]["Arn"]).join("") != "DeadLetterQueue.Arn" {
                continue;
            }
            rules += 1;
            let rule_name = strings(&properties["RuleName"]).join("");
            assert!(
                rule_name.starts_with("${AWS::StackName}-"),
                "{id:?} {name:?}: RuleName {rule_name:?}"
            );
        }
    }
    assert_eq!(
        rules, 3,
        "the rollout-request, version-published and alarm rules"
    );
}

/// Issue 8: Scheduler may assume its role only for this stack's tick schedules, and the
/// functions' log level is pinned (the runtime logs whole events at TRACE).
#[test]
fn scheduler_trust_and_log_level_are_pinned() {
    let template = template();
    let trust = &resources(&template)["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        [0]["Condition"];
    let source = strings(&trust["ArnLike"]["aws:SourceArn"]).join("");
    assert!(
        source.ends_with(":schedule/${AWS::StackName}-ticks/*"),
        "{source}"
    );
    assert_eq!(
        strings(&trust["StringEquals"]["aws:SourceAccount"]),
        vec!["AWS::AccountId".to_string()]
    );
    let logging = &template["Globals"]["Function"]["LoggingConfig"];
    assert_eq!(logging["ApplicationLogLevel"], Value::from("INFO"));
    assert_eq!(logging["LogFormat"], Value::from("JSON"));
}

/// Issue 8: operators reach `start`, `step` and `rollback` through IAM-authenticated URLs;
/// rollout requests arrive on a dedicated bus whose policy names who may put them; every
/// orchestrator reads the authorisation policy, which defaults to this account's own.
#[test]
fn entry_points_are_authenticated_and_the_policy_is_configured() {
    let template = template();
    let resources = resources(&template);
    for (url, function) in [
        ("StartUrl", "StartFunction"),
        ("StepUrl", "StepFunction"),
        ("RollbackUrl", "RollbackFunction"),
    ] {
        let properties = &resources[url]["Properties"];
        assert_eq!(properties["AuthType"], Value::from("AWS_IAM"), "{url}");
        assert_eq!(
            strings(&properties["TargetFunctionArn"]).join(""),
            format!("{function}.Arn"),
            "{url}"
        );
    }
    let urls = resources
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Url")
        .count();
    assert_eq!(urls, 3, "no other function has a URL");
    for resource in resources.values() {
        assert_ne!(
            resource["Properties"]["FunctionUrlConfig"]["AuthType"],
            Value::from("NONE")
        );
    }

    let bus = &resources["RequestBus"]["Properties"];
    let statement = &bus["Policy"]["Statement"][0];
    assert_eq!(statement["Action"], Value::from("events:PutEvents"));
    let condition = &statement["Condition"]["StringEquals"];
    assert_eq!(condition["events:source"], Value::from("glidepath"));
    assert_eq!(
        condition["events:detail-type"],
        Value::from("Rollout Requested")
    );
    let requested =
        &resources["StartFunction"]["Properties"]["Events"]["RolloutRequested"]["Properties"];
    assert_eq!(
        strings(&requested["EventBusName"]),
        vec!["RequestBus".to_string()]
    );

    let policy = &template["Globals"]["Function"]["Environment"]["Variables"]["GLIDEPATH_POLICY"];
    let default = strings(policy).join(" ");
    assert!(default.contains("\"name\": \"this-account\""), "{default}");
    assert!(
        default.contains(":lambda:${AWS::Region}:${AWS::AccountId}:function:*"),
        "the default rule covers this account's functions only: {default}"
    );
}

/// Issue 8: an optional customer-managed key reaches the table, the dead-letter queue and
/// every log group, and the roles may use it only through DynamoDB and SQS.
#[test]
fn an_optional_kms_key_covers_table_queue_and_logs() {
    let template = template();
    let resources = resources(&template);
    let uses_key = |value: &Value| {
        let text = format!("{value:?}");
        text.contains("HasKmsKey") && text.contains("KmsKeyArn")
    };
    assert!(uses_key(
        &resources["Table"]["Properties"]["SSESpecification"]["KMSMasterKeyId"]
    ));
    assert!(uses_key(
        &resources["DeadLetterQueue"]["Properties"]["KmsMasterKeyId"]
    ));
    let log_groups: Vec<_> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
        .collect();
    assert_eq!(
        log_groups.len(),
        function_roles(&template).len(),
        "one per function"
    );
    for (id, group) in log_groups {
        assert!(uses_key(&group["Properties"]["KmsKeyId"]), "{id:?}");
    }
    for (function, role) in function_roles(&template) {
        for statement in statements(&template, &role) {
            if strings(&statement["Action"])
                .iter()
                .any(|a| a.starts_with("kms:"))
            {
                let via = format!(
                    "{:?}",
                    statement["Condition"]["StringEquals"]["kms:ViaService"]
                );
                assert!(via.contains("dynamodb."), "{function}: {via}");
                assert_eq!(
                    strings(&statement["Resource"]),
                    vec!["KmsKeyArn".to_string()],
                    "{function}"
                );
            }
        }
    }
}

/// Issue 12: alarms may invoke check-alarms directly, each permission pinned to one account:
/// this one always, and those named in `AlarmAccount1..3`, never any account.
#[test]
fn alarm_actions_may_invoke_check_alarms_from_named_accounts_only() {
    let template = template();
    let permissions: Vec<(&Value, &Value)> = resources(&template)
        .iter()
        .filter(|(_, r)| {
            r["Type"] == "AWS::Lambda::Permission"
                && r["Properties"]["Principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
        })
        .collect();
    assert_eq!(
        permissions.len(),
        4,
        "this account's and three optional ones"
    );
    for (id, permission) in permissions {
        let properties = &permission["Properties"];
        assert_eq!(
            strings(&properties["FunctionName"]).join(""),
            "CheckAlarmsFunction",
            "{id:?}"
        );
        let account = format!("{:?}", properties["SourceAccount"]);
        assert!(
            account.contains("AWS::AccountId") || account.contains("AlarmAccount"),
            "{id:?}: SourceAccount {account}"
        );
        let arn = format!("{:?}", properties["SourceArn"]);
        assert!(
            arn.contains(":alarm:*") && !arn.contains(":*:alarm"),
            "{id:?}: {arn}"
        );
        if !account.contains("AWS::AccountId") {
            assert!(
                permission["Condition"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("HasAlarmAccount")),
                "{id:?} is conditional on its account being listed"
            );
        }
    }
}

/// `infra/member-account.yaml`: one role, trusted by the Glidepath stack's roles only, allowed
/// exactly the alias router's calls on tagged functions.
#[test]
fn the_member_account_role_trusts_glidepath_only_and_moves_tagged_aliases_only() {
    let text = std::fs::read_to_string(root().join("infra/member-account.yaml"))
        .expect("infra/member-account.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("YAML");
    let resources = resources(&template);
    assert_eq!(resources.len(), 1, "one resource: the role");
    let role = &resources["MemberRole"]["Properties"];
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(strings(&trust["Action"]), ["sts:AssumeRole"]);
    assert_eq!(
        strings(&trust["Principal"]["AWS"]),
        ["GlidepathRoleArns"],
        "trusts the Glidepath roles given, nothing else"
    );
    let statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("statements");
    let actions: BTreeSet<String> = statements
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    let expected: BTreeSet<String> = [
        "lambda:GetAlias",
        "lambda:UpdateAlias",
        "lambda:GetFunctionConfiguration",
        "lambda:PublishVersion",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:ListTags",
        "lambda:GetCodeSigningConfig",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    assert_eq!(actions, expected);
    let aliases = statements
        .iter()
        .find(|s| {
            strings(&s["Action"])
                .iter()
                .any(|a| a == "lambda:UpdateAlias")
        })
        .expect("the alias statement");
    assert_eq!(
        aliases["Condition"]["StringEquals"]["aws:ResourceTag/glidepath:managed"],
        Value::from("true")
    );
}
