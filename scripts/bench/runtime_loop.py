"""A minimal Lambda Runtime API loop on the standard library, for scripts/bench-runtime's
Python cases (awslambdaric builds a C++ extension that this project's pinned tooling does not
install). One HTTP connection is kept open, as the real clients do.
"""

import http.client
import json
import os


def serve(handler):
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
