"""A Python 3 + boto3 twin of `step`'s tick handler, for scripts/bench-runtime: written the
way a careful Python engineer would (every client created once at init, the same first call
in the same order). It implements only what the benchmark sends: a tick is read with one
consistent GetItem, and a tick for a rollout that is not there is refused as InvalidRequest,
as `step` does.

It runs under a minimal Runtime API loop (below) built on the standard library, not under
awslambdaric: awslambdaric builds a C++ extension that this machine's pinned tooling does not
install. The loop keeps one HTTP connection open, as the real clients do.
"""

import http.client
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


def main():
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    connection = http.client.HTTPConnection(host, int(port))
    base = "/2018-06-01/runtime/invocation"
    while True:
        connection.request("GET", f"{base}/next")
        response = connection.getresponse()
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        event = json.loads(response.read())
        try:
            body = json.dumps(handler(event, None)).encode()
            path = f"{base}/{request_id}/response"
        except Exception as error:  # noqa: BLE001 - every failure is reported to the runtime
            body = json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
            path = f"{base}/{request_id}/error"
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        connection.getresponse().read()


if __name__ == "__main__":
    main()
