"""Cold start and handler time of Glidepath's release binaries under a local Lambda Runtime
API, beside a Python/boto3 twin of the same work (scripts/bench-runtime runs this).

For each case it starts the function as Lambda would (AWS_LAMBDA_RUNTIME_API pointing at a
Runtime API served here on loopback), then measures:
  init   from the process start to its first GET .../invocation/next
  first  the first invocation: from handing out the event to receiving the answer
  warm   the median of the next invocations
  rss    the process's peak resident memory (VmHWM)
Each Runtime API answer is written in one segment with TCP_NODELAY, so no client waits on a
delayed ACK. Prints a table; judges nothing.
"""

import http.server
import json
import os
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import uuid

WARM = int(os.environ.get("BENCH_WARM", "20"))


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


def serve(runtime):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

        def send_whole(self, status, body, headers=()):
            # Status line, headers and body in one write: one segment.
            head = [f"HTTP/1.1 {status} OK", f"Content-Length: {len(body)}",
                    "Content-Type: application/json"]
            head += [f"{k}: {v}" for k, v in headers]
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            self.wfile.flush()

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
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else b""
            parts = self.path.split("/")
            if "invocation" in parts and parts[-1] in ("response", "error"):
                runtime.answer(parts[-2], parts[-1], body)
            self.send_whole(202, b"{}")

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # A killed function drops its connection; nothing to report.
            pass

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def measure(name, command, env, event, between=0.0, warm_count=None, expect_response=False):
    """`event` is the payload, or a function of the previous answer (parsed JSON, or None
    before the first) that gives the next one; `between` seconds pass, untimed, between
    invocations (a tick must be due)."""
    runtime = Runtime()
    server = serve(runtime)
    full_env = dict(env)
    full_env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    next_event = event if callable(event) else (lambda _previous: event)
    started = time.perf_counter()
    process = subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        runtime.wait_ready()
        init = runtime.first_next_at - started
        time.sleep(between)
        first, kind, body = runtime.invoke(next_event(None))
        first_body = body
        warm = []
        for _ in range(WARM if warm_count is None else warm_count):
            time.sleep(between)
            try:
                previous = json.loads(body)
            except ValueError:
                previous = None
            elapsed, kind_now, body = runtime.invoke(next_event(previous))
            if expect_response and kind_now != "response":
                raise RuntimeError(f"{name}: {body[:300]!r}")
            warm.append(elapsed)
        rss = peak_rss_mib(process.pid)
    finally:
        process.kill()
        process.wait()
        server.shutdown()
    return {"name": name, "init": init * 1000, "first": first * 1000,
            "warm": statistics.median(warm) * 1000 if warm else float("nan"), "rss": rss,
            "answer": kind,
            "body": body[:160].decode(errors="replace"), "full": body,
            "first_body": first_body[:200].decode(errors="replace")}


def shifting_ticks(bin_dir, env, start_request, name, command, start_name=None):
    """A rollout of `start_request` (1 % steps, 1 s apart), created by the `start` binary under
    the same harness, then ticked by `command`: every warm invocation is a due tick that shifts
    (health, alias, tick, write, confirm, publish)."""
    created = {}
    measured_start = measure(start_name or "start (setup)", [f"{bin_dir}/start"], env,
                             start_request, warm_count=0)
    created.update(json.loads(measured_start.pop("full")))

    def tick(previous):
        seq = (previous or created)["seq"]
        return {"rolloutId": created["rolloutId"], "seq": seq}

    measured_tick = measure(name, command, env, tick, between=1.05, expect_response=True)
    measured_tick.pop("full")
    # Every tick moved the rollout on: the last answer's seq is the start's plus WARM + 1.
    return [measured_start, measured_tick] if start_name else [measured_tick]


def main():
    spec = json.load(sys.stdin)
    results = [measure(c["name"], c["command"], spec["env"], c["event"]) for c in spec["cases"]]
    for r in results:
        r.pop("full")
    if "shifting" in spec:
        rust = "step (Rust): a tick that shifts (1 %)"
        results += shifting_ticks(spec["bin"], spec["env"], spec["shifting"], rust,
                                  [f"{spec['bin']}/step"],
                                  start_name="start: a rollout that starts (first step; once)")
        if "shifting_twin" in spec:
            twin = "step twin (Python): a tick that shifts"
            results += shifting_ticks(spec["bin"], spec["env"], spec["shifting_twin"], twin,
                                      [spec["python"], "scripts/bench/step_twin.py"])
            spec.setdefault("pairs", []).append([rust, twin])
    if "alarm" in spec:
        # Stamped now: after the rollout started, as a real state change would be.
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
        spec["alarm"]["detail"]["state"]["timestamp"] = stamp
        spec["alarm"]["time"] = stamp
        # The first delivery rolls the rollout back (in place: the emulator has no `rollback`
        # function to hand it to); the warm ones are repeats, which find nothing left to do.
        alarm = measure("check-alarms (Rust): alarm event; first rolls back",
                        [f"{spec['bin']}/check-alarms"], spec["env"], spec["alarm"])
        alarm.pop("full")
        alarm["body"] = alarm["first_body"]
        results.append(alarm)
    print(f"{'case':<44} {'init':>9} {'first':>9} {'warm':>9} {'rss':>9}  answer")
    for r in results:
        print(f"{r['name']:<44} {r['init']:7.1f}ms {r['first']:7.1f}ms {r['warm']:7.2f}ms "
              f"{r['rss']:6.1f}MiB  {r['answer']}: {r['body']}")
    by_name = {r["name"]: r for r in results}
    for rust, twin in spec.get("pairs", []):
        a, b = by_name[rust], by_name[twin]
        print(f"{twin} / {rust}: init {b['init'] / a['init']:.1f}x, first {b['first'] / a['first']:.1f}x, "
              f"warm {b['warm'] / a['warm']:.1f}x, rss {b['rss'] / a['rss']:.1f}x")


if __name__ == "__main__":
    main()
