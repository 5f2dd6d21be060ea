"""Init time of function binaries built different ways, interleaved so that the machine's
drift falls on all alike: each round starts every build's binary once under the local Runtime
API (scripts/bench/harness.py) and takes the time from process start to its first
GET .../invocation/next. No AWS call happens before that, so no emulator is needed.

Usage: init.py FUNCTION ROUNDS BUILD...    (e.g. init.py step 40 target/release other/release)
A BUILD is a folder of binaries, optionally with one environment variable for its process:
`target/release@SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt`; or `twin:PYTHON`, the boto3
twin of `step` (step_twin.py) under awslambdaric on that interpreter (a venv of
scripts/requirements-bench.txt, as scripts/bench-runtime makes), so that the init ratio is
taken with both started alternately.
Prints the median, quartiles and minimum per build; judges nothing.
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator  # noqa: E402
from harness import Function, step_twin  # noqa: E402


def main():
    function, rounds, dirs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    env = emulator.function_env("bench-init", "http://127.0.0.1:9")
    env["GLIDEPATH_SMOKE_TESTS"] = '[{"name": "ping", "event": {}}]'
    times = {d: [] for d in dirs}
    for _ in range(rounds):
        for d in dirs:
            if d.startswith("twin:"):
                command, extra = step_twin(d[len("twin:"):])
            else:
                folder, _, setting = d.partition("@")
                command = [os.path.join(folder, function)]
                extra = dict([setting.split("=", 1)]) if setting else {}
            with Function(command, dict(env, **extra)) as f:
                times[d].append(f.init_ms)
    for d, t in times.items():
        q = statistics.quantiles(t, n=4)
        print(f"{function} init, {d}: median {statistics.median(t):.2f} ms, quartiles "
              f"{q[0]:.2f}-{q[2]:.2f} ms, min {min(t):.2f} ms ({len(t)} starts)")


if __name__ == "__main__":
    main()
