"""Cold start and handler time of Glidepath's release binaries under a local Lambda Runtime
API, beside a Python/boto3 twin of the same work (scripts/bench-runtime runs this).

For each case it starts the function as Lambda would (AWS_LAMBDA_RUNTIME_API pointing at a
Runtime API served here on loopback), then measures:
  init   from the process start to its first GET .../invocation/next
  first  the first invocation: from handing out the event to receiving the answer
  warm   the median of the next invocations
  rss    the process's peak resident memory (VmHWM)
The Runtime API is scripts/bench/harness.py's: each answer in one segment with TCP_NODELAY,
so no client waits on a delayed ACK. Prints a table; judges nothing.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
from harness import Function, Recorder  # noqa: E402

WARM = int(os.environ.get("BENCH_WARM", "20"))


def measure(name, command, env, event, between=0.0, warm_count=None, expect_response=False):
    """`event` is the payload, or a function of the previous answer (parsed JSON, or None
    before the first) that gives the next one; `between` seconds pass, untimed, between
    invocations (a tick must be due)."""
    next_event = event if callable(event) else (lambda _previous: event)
    with Function(command, env) as function:
        time.sleep(between)
        first, kind, body = function.invoke(next_event(None))
        first_body = body
        warm = []
        for _ in range(WARM if warm_count is None else warm_count):
            time.sleep(between)
            try:
                previous = json.loads(body)
            except ValueError:
                previous = None
            elapsed, kind_now, body = function.invoke(next_event(previous))
            if expect_response and kind_now != "response":
                raise RuntimeError(f"{name}: {body[:300]!r}")
            warm.append(elapsed)
        rss = function.peak_rss_mib()
        init = function.init_ms
    return {"name": name, "init": init, "first": first,
            "warm": statistics.median(warm) if warm else float("nan"), "rss": rss,
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


def pipeline_job(spec):
    """The `pipeline` function given the job event of a new job (it starts the rollout and
    reports the job in progress with the rollout's id as continuation token), then the same
    job's event with that token, as CodePipeline re-invokes it (each: read the rollout, report
    in progress). CodePipeline's job API is a local recorder."""
    recorder = Recorder()
    try:
        job = spec["job"]

        def event(previous):
            if previous is None:
                return job
            polled = json.loads(json.dumps(job))
            polled["CodePipeline.job"]["data"]["continuationToken"] = previous["rolloutId"]
            return polled

        measured = measure("pipeline: job starts a rollout; warm: polls", [f"{spec['bin']}/pipeline"],
                           dict(spec["env"], AWS_ENDPOINT_URL_CODEPIPELINE=recorder.url), event,
                           expect_response=True)
        measured.pop("full")
        measured["body"] = measured["body"][:100] + " | CodePipeline calls: " + json.dumps(recorder.calls)
        return measured
    finally:
        recorder.close()


def main():
    spec = json.load(sys.stdin)
    results = [measure(c["name"], c["command"], dict(spec["env"], **c.get("env", {})), c["event"])
               for c in spec["cases"]]
    for r in results:
        r.pop("full")
    if "shifting" in spec:
        rust = "step (Rust): a tick that shifts (1 %)"
        results += shifting_ticks(spec["bin"], spec["env"], spec["shifting"], rust,
                                  [f"{spec['bin']}/step"],
                                  start_name="start: a rollout that starts (first step; once)")
        if "shifting_twin" in spec:
            twin = f"step twin (Python {spec['twin_version']}): a tick that shifts"
            results += shifting_ticks(spec["bin"], dict(spec["env"], **spec["twin"]["env"]),
                                      spec["shifting_twin"], twin, spec["twin"]["command"])
            spec.setdefault("pairs", []).append([rust, twin])
    if "job" in spec and os.path.exists(f"{spec['bin']}/pipeline"):
        results.append(pipeline_job(spec))
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
