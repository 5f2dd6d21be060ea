"""What the benchmark scripts make in the local emulator (boto3 from the `.venv` that
scripts/local-aws makes), and the environment Glidepath's functions run with against it.
"""

import io
import json
import os
import zipfile

ACCOUNT = "000000000000"
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def clients(endpoint):
    import boto3

    session = boto3.session.Session(region_name=REGION, aws_access_key_id="test",
                                    aws_secret_access_key="test")
    return {name: session.client(name, endpoint_url=endpoint)
            for name in ("dynamodb", "lambda", "cloudwatch", "scheduler")}


def create_table(dynamodb, name):
    """Glidepath's table: the key and the watchdog's sparse index `active` (as
    infra/template.yaml declares them; the other indexes are the CLI's)."""
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                              for a in ("pk", "sk", "gsi2pk", "gsi2sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "active",
                                 "KeySchema": [{"AttributeName": "gsi2pk", "KeyType": "HASH"},
                                               {"AttributeName": "gsi2sk", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])


def python_zip(source="def handler(event, context):\n    return event\n"):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.py", source)
    return archive.getvalue()


def create_function(lambda_client, name, versions=("1", "2"), aliases=("live",)):
    """A Python function that echoes its event, with `versions` published and each alias on
    version 1. Returns its ARN."""
    arn = lambda_client.create_function(
        FunctionName=name, Runtime="python3.12", Handler="index.handler",
        Role=f"arn:aws:iam::{ACCOUNT}:role/bench", Code={"ZipFile": python_zip()})["FunctionArn"]
    for version in versions:
        lambda_client.update_function_configuration(FunctionName=name,
                                                    Description=f"version {version}")
        lambda_client.publish_version(FunctionName=name)
    for alias in aliases:
        lambda_client.create_alias(FunctionName=name, Name=alias, FunctionVersion="1")
    return arn


def create_alarm(cloudwatch, name):
    """An alarm in OK, as a guardrail wants one."""
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace="Bench", MetricName="Errors",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="bench")


def create_schedule_group(scheduler, name="bench"):
    try:
        scheduler.create_schedule_group(Name=name)
    except Exception as error:  # already there from an earlier run
        if "Conflict" not in type(error).__name__ and "exists" not in str(error):
            raise


def function_env(table, endpoint, step="bench-step", finalize="bench-finalize",
                 rollback="bench-rollback"):
    """The environment of every Glidepath function under the harness: the emulator's
    endpoint, the table, the schedule group, the functions hand-offs go to, and a policy that
    lets everyone do everything."""
    return {
        "PATH": os.environ["PATH"], "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "GLIDEPATH_TABLE": table, "GLIDEPATH_SCHEDULE_GROUP": "bench",
        "GLIDEPATH_SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/bench",
        "GLIDEPATH_STEP_FUNCTION_ARN": step if step.startswith("arn:")
        else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{step}",
        "GLIDEPATH_FINALIZE_FUNCTION": finalize, "GLIDEPATH_ROLLBACK_FUNCTION": rollback,
        "GLIDEPATH_POLICY": json.dumps({"rules": [{"name": "all", "principals": ["*"],
                                                   "actions": ["*"]}]}),
    }


def alarm_event(alarm, state="ALARM", at=None):
    """The documented EventBridge `CloudWatch Alarm State Change` event for `alarm`, stamped
    `at` (check-alarms ignores state changes older than a rollout)."""
    import time

    stamp = at or time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
    return {"version": "0", "id": "bench", "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch", "account": ACCOUNT, "time": stamp, "region": REGION,
            "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}"],
            "detail": {"alarmName": alarm,
                       "state": {"value": state, "reason": "bench", "timestamp": stamp},
                       "previousState": {"value": "OK", "reason": "bench", "timestamp": stamp},
                       "configuration": {"metrics": []}}}
