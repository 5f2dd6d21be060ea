"""A Python 3 + boto3 twin of `step`'s tick handler, for scripts/bench-runtime: written the
way a careful Python engineer would (every client created once at init, the same first call
in the same order). It implements only what the benchmark sends: a tick is read with one
consistent GetItem, and a tick for a rollout that is not there is refused as InvalidRequest,
as `step` does.

It runs under `runtime_loop.py`, a minimal Runtime API loop on the standard library, not
under awslambdaric (see there).
"""

import json
import os

import boto3

_session = boto3.session.Session()
dynamodb = _session.client("dynamodb")
cloudwatch = _session.client("cloudwatch")
lambda_client = _session.client("lambda")
scheduler = _session.client("scheduler")
events = _session.client("events")
TABLE = os.environ["GLIDEPATH_TABLE"]


class InvalidRequest(Exception):
    pass


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
    return {"rolloutId": rollout_id, "seq": record["seq"], "tick": seq}


if __name__ == "__main__":
    import runtime_loop

    runtime_loop.serve(handler)
