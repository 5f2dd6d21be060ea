"""A Python 3 + boto3 twin of `step`'s tick handler, for scripts/bench-runtime: written the
way a careful Python engineer would (every client created once at init, the same calls in the
same order). It implements only what the benchmark sends:

- a tick for a rollout that is not there is refused as InvalidRequest, after one consistent
  GetItem, as `step` does;
- a due tick for a shifting rollout that `start` created shifts it one plan step with the calls
  `step` makes, in its order: GetItem, DescribeAlarms, TransactWriteItems (the step with its
  history item, conditional on `seq`, effects marked owed), UpdateAlias (fenced by the
  revision last confirmed), CreateSchedule (the next tick), PutEvents (the state change),
  TransactWriteItems (the confirmation: the alias's new revision, owed cleared, published).

It does not judge anything else (breaches, gates, the end of the plan): the benchmark never
sends those. scripts/bench-runtime runs it as Lambda runs Python:
`python -m awslambdaric step_twin.handler`.
"""

import datetime
import json
import os
import time

import boto3

_session = boto3.session.Session()
dynamodb = _session.client("dynamodb")
cloudwatch = _session.client("cloudwatch")
lambda_client = _session.client("lambda")
scheduler = _session.client("scheduler")
events = _session.client("events")
TABLE = os.environ["GLIDEPATH_TABLE"]
GROUP = os.environ["GLIDEPATH_SCHEDULE_GROUP"]
STEP_ARN = os.environ["GLIDEPATH_STEP_FUNCTION_ARN"]
SCHEDULER_ROLE = os.environ["GLIDEPATH_SCHEDULER_ROLE_ARN"]
BUS = os.environ.get("GLIDEPATH_EVENT_BUS", "default")
EARLY_TICK_TOLERANCE = 2


class InvalidRequest(Exception):
    pass


class Unsupported(Exception):
    pass


def _s(value):
    return {"S": str(value)}


def _n(value):
    return {"N": str(value)}


def state_item(record):
    created = f"{record['createdAt']:012}#{record['id']}"
    spec = record["spec"]
    function_key = spec.get("functionArn") or spec["function"]
    return {
        "pk": _s(f"ROLLOUT#{record['id']}"), "sk": _s("STATE"),
        "record": _s(json.dumps(record, separators=(",", ":"))),
        "seq": _n(record["seq"]), "status": _s(record["status"]),
        "function": _s(spec["function"]), "alias": _s(spec["alias"]),
        "gsi1pk": _s(f"ALIAS#{function_key}#{spec['alias']}"), "gsi1sk": _s(created),
        "gsi3pk": _s("OPEN"), "gsi3sk": _s(created),
        "gsi2pk": _s("ACTIVE"),
        "gsi2sk": _s(f"{record['nextTickAt']:012}#tick#{record['id']}"),
    }


def history_item(record, event):
    return {
        "pk": _s(f"ROLLOUT#{record['id']}"), "sk": _s(f"EVENT#{record['seq']:010}"),
        "event": _s(event), "seq": _n(record["seq"]), "status": _s(record["status"]),
        "weight": _n(record["weight"]), "at": _n(record["updatedAt"]),
        "actor": _s("glidepath:step"), "actorVia": _s("Glidepath"),
    }


def shift(record, now):
    """One healthy, due tick of a shifting rollout: the next plan step, as `step` takes it."""
    spec = record["spec"]
    alarms = cloudwatch.describe_alarms(AlarmNames=spec["alarms"])
    breached = [a["AlarmName"] for a in alarms["MetricAlarms"] + alarms.get("CompositeAlarms", [])
                if a["StateValue"] == "ALARM"]
    if breached:
        raise Unsupported(f"alarm {breached[0]} is in ALARM (the twin does not roll back)")
    index = (record.get("stepIndex") if record.get("stepIndex") is not None else -1) + 1
    step = record["plan"][index]
    if "weight" not in step:
        raise Unsupported("a manual gate (the twin does not pause)")
    expected = record["seq"]
    record.update(seq=expected + 1, stepIndex=index, weight=step["weight"], weightSince=now,
                  nextTickAt=now + step["waitSeconds"], updatedAt=now,
                  owed={"alias": "Fenced", "tick": True})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": state_item(record),
                 "ConditionExpression": "seq = :expected",
                 "ExpressionAttributeValues": {":expected": _n(expected)}}},
        {"Put": {"TableName": TABLE, "Item": history_item(record, "health")}},
    ])
    alias = lambda_client.update_alias(
        FunctionName=spec["function"], Name=spec["alias"], FunctionVersion=spec["currentVersion"],
        RoutingConfig={"AdditionalVersionWeights": {spec["targetVersion"]: step["weight"] / 100}},
        RevisionId=record["aliasRevision"])
    at = datetime.datetime.fromtimestamp(record["nextTickAt"], datetime.timezone.utc)
    scheduler.create_schedule(
        Name=f"gp-{record['id']}-{record['seq']}", GroupName=GROUP,
        ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
        Target={"Arn": STEP_ARN, "RoleArn": SCHEDULER_ROLE,
                "Input": json.dumps({"rolloutId": record["id"], "seq": record["seq"]})})
    events.put_events(Entries=[{
        "Source": "glidepath", "DetailType": "Glidepath Rollout State Change", "EventBusName": BUS,
        "Detail": json.dumps({"rolloutId": record["id"], "function": spec["function"],
                              "alias": spec["alias"], "status": record["status"],
                              "weight": record["weight"], "seq": record["seq"], "event": "health",
                              "at": now}),
    }])
    record.update(aliasRevision=alias["RevisionId"], owed={}, notifiedSeq=record["seq"])
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": state_item(record),
                 "ConditionExpression": "seq = :expected",
                 "ExpressionAttributeValues": {":expected": _n(record["seq"])}}},
    ])


def handler(event, _context):
    rollout_id = event["rolloutId"]
    seq = event["seq"]
    item = dynamodb.get_item(
        TableName=TABLE,
        Key={"pk": {"S": f"ROLLOUT#{rollout_id}"}, "sk": {"S": "STATE"}},
        ConsistentRead=True,
    ).get("Item")
    if item is None:
        raise InvalidRequest(f"no rollout with id `{rollout_id}`")
    record = json.loads(item["record"]["S"])
    now = int(time.time())
    due = record.get("nextTickAt") is not None and now + EARLY_TICK_TOLERANCE >= record["nextTickAt"]
    if record["seq"] == seq and record["status"] == "Shifting" and due and not record.get("owed"):
        shift(record, now)
    return {"rolloutId": rollout_id, "seq": record["seq"], "weight": record["weight"],
            "status": record["status"], "tick": seq}
