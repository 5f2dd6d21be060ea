"""Glidepath's release functions at 10, 100 and 1,000 concurrent rollouts in one table, on
the local emulator, each function one warm process under the local Runtime API
(scripts/bench/harness.py). scripts/bench-ticking runs this.

Usage: ticking.py BIN_DIR ENDPOINT

At each size the table holds that many rollouts in progress, all of one function's aliases:
- the *fleet*: rollouts started by `start` on a one-hour step, so they sit in the table, in the
  `active` index and in their alarms' watches, as a busy account's would. The first 100 are
  guarded by one alarm (at 1,000, 100 rollouts watch it);
- a *sample* of 10 rollouts on one-second steps, started last and ticked by `step` three times
  each: every tick due, every tick shifting traffic.
It prints, per size: the median time and the AWS calls of a start and of a shifting tick, and
of a `watchdog` sweep (its `dynamodb:Query` count is the pages it read). At the largest size
`check-alarms` gets the alarm guarding 100 rollouts going to ALARM, then the same event again.

Hand-offs (`rollback`, `finalize`, the watchdog's re-drive to `step`) go, as asynchronous
Lambda invokes, to Python functions made here that do nothing: the harness times what the
invoking function does, as it is on AWS. Judges nothing.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator  # noqa: E402
from harness import Function  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10,100,1000").split(",")]
SAMPLE = 10
TICKS = 3
SWEEPS = 9
GUARDED = 100


def calls(body):
    """The answer's `awsCalls`, as `{"service:Operation": n}`."""
    return json.loads(body).get("awsCalls", {})


def same_calls(all_calls):
    """All the call counts seen, each with how often it was seen."""
    seen = {}
    for c in all_calls:
        key = json.dumps(c, sort_keys=True)
        seen[key] = seen.get(key, 0) + 1
    return "; ".join(f"{n}x {k}" for k, n in seen.items())


def invoke_ok(function, payload, what):
    elapsed, kind, body = function.invoke(payload)
    if kind != "response":
        raise RuntimeError(f"{what}: {body[:400]!r}")
    return elapsed, body


def main():
    bin_dir, endpoint = sys.argv[1:3]
    table = f"bench-ticking-{int(time.time())}"
    aws = emulator.clients(endpoint)
    begin = time.perf_counter()
    emulator.create_table(aws["dynamodb"], table)
    fleet_function = table + "-fleet"
    largest = max(SIZES)
    aliases = [f"a{i:04d}" for i in range(largest)]
    emulator.create_function(aws["lambda"], fleet_function, aliases=aliases)
    guard, fleet_alarm, sample_alarm = table + "-guard100", table + "-fleet", table + "-sample"
    for alarm in (guard, fleet_alarm, sample_alarm):
        emulator.create_alarm(aws["cloudwatch"], alarm)
    emulator.create_schedule_group(aws["scheduler"])
    sinks = {kind: emulator.create_function(aws["lambda"], f"{table}-{kind}", versions=(),
                                            aliases=())
             for kind in ("step", "finalize", "rollback")}
    env = emulator.function_env(table, endpoint, step=sinks["step"], finalize=sinks["finalize"],
                                rollback=sinks["rollback"])
    print(f"# setup: table {table}, one function with {largest} aliases, "
          f"{time.perf_counter() - begin:.1f} s", flush=True)

    start = Function([f"{bin_dir}/start"], env)
    step = Function([f"{bin_dir}/step"], env)
    watchdog = Function([f"{bin_dir}/watchdog"], env)
    rows = []
    started = 0
    fleet_started = 0
    try:
        for size in SIZES:
            fleet_count = size - started - SAMPLE
            if fleet_count < 0:
                raise SystemExit(f"size {size}: below the {started} rollouts already started + {SAMPLE}")
            start_times, start_calls = [], []
            for _ in range(fleet_count):
                index = started
                request = {"function": fleet_function, "alias": aliases[index],
                           "targetVersion": "2",
                           "strategy": {"type": "linear", "percent": 1, "interval": "1h"},
                           "alarms": [guard if fleet_started < GUARDED else fleet_alarm]}
                elapsed, body = invoke_ok(start, request, f"start {aliases[index]}")
                start_times.append(elapsed)
                start_calls.append(calls(body))
                started += 1
                fleet_started += 1
            sample = []
            for _ in range(SAMPLE):
                request = {"function": fleet_function, "alias": aliases[started],
                           "targetVersion": "2",
                           "strategy": {"type": "linear", "percent": 1, "interval": "1s"},
                           "alarms": [sample_alarm]}
                elapsed, body = invoke_ok(start, request, f"start {aliases[started]}")
                start_times.append(elapsed)
                start_calls.append(calls(body))
                answer = json.loads(body)
                sample.append({"rolloutId": answer["rolloutId"], "seq": answer["seq"]})
                started += 1
            tick_times, tick_calls = [], []
            for _ in range(TICKS):
                time.sleep(1.05)
                for rollout in sample:
                    elapsed, body = invoke_ok(step, rollout, f"tick {rollout['rolloutId']}")
                    answer = json.loads(body)
                    if answer["seq"] == rollout["seq"]:
                        raise RuntimeError(f"tick of {rollout['rolloutId']} did not move: {body[:300]!r}")
                    rollout["seq"] = answer["seq"]
                    tick_times.append(elapsed)
                    tick_calls.append(calls(body))
            sweep_times, sweep_calls, redriven = [], [], []
            for _ in range(SWEEPS):
                elapsed, body = invoke_ok(watchdog, {}, "watchdog")
                sweep_times.append(elapsed)
                sweep_calls.append(calls(body))
                redriven.append(len(json.loads(body)["redriven"]))
            rows.append({"size": size, "start": statistics.median(start_times),
                         "starts": len(start_times), "start_calls": same_calls(start_calls),
                         "tick": statistics.median(tick_times), "ticks": len(tick_times),
                         "tick_calls": same_calls(tick_calls),
                         "sweep": statistics.median(sweep_times), "sweep_min": min(sweep_times),
                         "sweep_calls": same_calls(sweep_calls), "redriven": redriven})
            print(f"# {size} rollouts in progress", flush=True)
        rss = {"start": start.peak_rss_mib(), "step": step.peak_rss_mib(),
               "watchdog": watchdog.peak_rss_mib()}
    finally:
        for f in (start, step, watchdog):
            f.close()

    alarm_rows = []
    if started >= GUARDED:
        with Function([f"{bin_dir}/check-alarms"], env) as checker:
            event = emulator.alarm_event(guard)
            for what in ("first delivery: rolls back", "the same event again"):
                elapsed, body = invoke_ok(checker, event, "check-alarms")
                answer = json.loads(body)
                alarm_rows.append((what, elapsed, len(answer["rolledBack"]),
                                   json.dumps(answer.get("awsCalls", {}), sort_keys=True)))
            rss["check-alarms"] = checker.peak_rss_mib()

    print()
    print(f"{'rollouts':>8} | {'start (median)':>14} | {'tick (median)':>13} | "
          f"{'sweep (median, min)':>20} | re-driven per sweep")
    for r in rows:
        print(f"{r['size']:>8} | {r['start']:11.2f} ms | {r['tick']:10.2f} ms | "
              f"{r['sweep']:8.2f}, {r['sweep_min']:6.2f} ms | {r['redriven']}")
    print()
    for r in rows:
        print(f"{r['size']} rollouts: {r['starts']} starts: {r['start_calls']}")
        print(f"{r['size']} rollouts: {r['ticks']} ticks: {r['tick_calls']}")
        print(f"{r['size']} rollouts: {SWEEPS} sweeps: {r['sweep_calls']}")
    for what, elapsed, rolled_back, aws_calls in alarm_rows:
        print(f"check-alarms, alarm guarding {GUARDED} of {started} rollouts, {what}: "
              f"{elapsed:.1f} ms, {rolled_back} reported rolling back, calls {aws_calls}")
    print("peak RSS: " + ", ".join(f"{k} {v:.1f} MiB" for k, v in rss.items()))


if __name__ == "__main__":
    main()
