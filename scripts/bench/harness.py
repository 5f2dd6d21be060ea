"""A local Lambda Runtime API on loopback, and a function process run under it, for the
benchmark scripts (scripts/bench-runtime.py, scripts/bench/ticking.py).

Each Runtime API answer is written in one segment with TCP_NODELAY, so no client waits on a
delayed ACK.
"""

import http.server
import json
import os
import socket
import socketserver
import subprocess
import threading
import time
import uuid


class Runtime:
    """One function's Runtime API: hands out queued events, collects answers."""

    def __init__(self):
        self.events = []  # (request id, payload bytes)
        self.cond = threading.Condition()
        self.first_next_at = None
        self.handed_at = {}
        self.answered = {}  # request id -> (seconds, status path, body)

    def next_event(self):
        with self.cond:
            if self.first_next_at is None:
                self.first_next_at = time.perf_counter()
                self.cond.notify_all()
            while not self.events:
                self.cond.wait()
            request_id, payload = self.events.pop(0)
            self.handed_at[request_id] = time.perf_counter()
            return request_id, payload

    def answer(self, request_id, kind, body):
        with self.cond:
            elapsed = time.perf_counter() - self.handed_at[request_id]
            self.answered[request_id] = (elapsed, kind, body)
            self.cond.notify_all()

    def invoke(self, payload, timeout=30.0):
        request_id = str(uuid.uuid4())
        with self.cond:
            self.events.append((request_id, json.dumps(payload).encode()))
            self.cond.notify_all()
            deadline = time.time() + timeout
            while request_id not in self.answered:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("no answer")
                self.cond.wait(left)
            return self.answered[request_id]

    def wait_ready(self, timeout=30.0):
        with self.cond:
            deadline = time.time() + timeout
            while self.first_next_at is None:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("the function never asked for an event")
                self.cond.wait(left)


class OneSegmentHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 on loopback with TCP_NODELAY, each answer written in one segment, quietly."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def send_whole(self, status, body, headers=(), content_type="application/json"):
        # Status line, headers and body in one write: one segment.
        head = [f"HTTP/1.1 {status} OK", f"Content-Length: {len(body)}",
                f"Content-Type: {content_type}"]
        head += [f"{k}: {v}" for k, v in headers]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        self.wfile.flush()

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""


def start_server(handler):
    """Serves `handler` on a free loopback port, a thread per connection, in the background."""

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # A killed function drops its connection; nothing to report.
            pass

    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(runtime):
    class Handler(OneSegmentHandler):
        def do_GET(self):
            if self.path.endswith("/invocation/next"):
                request_id, payload = runtime.next_event()
                deadline = int((time.time() + 60) * 1000)
                self.send_whole(200, payload, [
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn",
                     "arn:aws:lambda:us-east-1:000000000000:function:bench"),
                    ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                ])
            else:
                self.send_whole(404, b"{}")

        def do_POST(self):
            body = self.read_body()
            parts = self.path.split("/")
            if "invocation" in parts and parts[-1] in ("response", "error"):
                runtime.answer(parts[-2], parts[-1], body)
            self.send_whole(202, b"{}")

    return start_server(Handler)


def python_handler(python, module_dir, handler):
    """The command and environment that run `handler` ("module.function", the module a file
    in `module_dir`) as Lambda runs Python: `python -m awslambdaric module.function`, with the
    module's folder on the path."""
    return [python, "-m", "awslambdaric", handler], {"PYTHONPATH": os.path.abspath(module_dir)}


def step_twin(python):
    """`python_handler` for the boto3 twin of `step` (step_twin.py, next to this file)."""
    return python_handler(python, os.path.dirname(os.path.abspath(__file__)), "step_twin.handler")


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Function:
    """A function process started as Lambda would (AWS_LAMBDA_RUNTIME_API pointing at a
    Runtime API served here), kept warm between invocations. `init_ms` is the time from the
    process start to its first GET .../invocation/next."""

    def __init__(self, command, env):
        self.runtime = Runtime()
        self.server = serve(self.runtime)
        full_env = dict(env)
        full_env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{self.server.server_address[1]}"
        started = time.perf_counter()
        self.process = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        try:
            self.runtime.wait_ready()
        except BaseException:
            self.close()
            raise
        self.init_ms = (self.runtime.first_next_at - started) * 1000

    def invoke(self, payload, timeout=120.0):
        """(milliseconds, "response" or "error", body bytes) of one invocation."""
        elapsed, kind, body = self.runtime.invoke(payload, timeout)
        return elapsed * 1000, kind, body

    def peak_rss_mib(self):
        return peak_rss_mib(self.process.pid)

    def close(self):
        self.process.kill()
        self.process.wait()
        self.server.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Recorder:
    """A loopback endpoint standing in for an AWS JSON-protocol service the emulator lacks
    (CodePipeline's job API): answers every call `{}` in one segment and counts the calls by
    `X-Amz-Target`. Point a function at it with `AWS_ENDPOINT_URL_<SERVICE>=recorder.url`."""

    def __init__(self):
        self.calls = {}
        lock = threading.Lock()
        calls = self.calls

        class Handler(OneSegmentHandler):
            def do_POST(self):
                self.read_body()
                target = self.headers.get("X-Amz-Target", self.path)
                with lock:
                    calls[target] = calls.get(target, 0) + 1
                self.send_whole(200, b"{}", [("x-amzn-RequestId", str(uuid.uuid4()))],
                                content_type="application/x-amz-json-1.1")

        self.server = start_server(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
