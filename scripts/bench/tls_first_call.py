"""The first AWS call of a cold function over TLS, for builds that differ in their TLS stack
(rustls on aws-lc or on ring). The emulator speaks plain HTTP, so a TLS proxy on loopback
stands in front of it with the test certificate of shared/aws/tests/fixtures/tls (the function
trusts only that test authority, through SSL_CERT_FILE). Each round starts every build's
`step` once under the Runtime API harness and sends it a stale tick (one DynamoDB `GetItem`):
its first invocation opens the connection and makes the TLS handshake. The proxy itself is
Python's ssl module (OpenSSL): the same server for every build.

Usage: tls_first_call.py ROUNDS BUILD...     (the emulator must be running: scripts/local-aws)
Prints the init, first-invocation and warm medians per build; judges nothing.
"""

import os
import socket
import ssl
import statistics
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulator  # noqa: E402
from harness import Function  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "shared/aws/tests/fixtures/tls")
UPSTREAM = ("127.0.0.1", int(os.environ.get("GLIDEPATH_LOCAL_AWS_PORT", "4566")))


def pump(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve_tls_proxy():
    """A TLS proxy on loopback to the emulator; returns its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(FIXTURES, "localhost.pem"),
                            os.path.join(FIXTURES, "localhost.key"))
    listener = socket.create_server(("127.0.0.1", 0))

    def accept():
        while True:
            raw, _ = listener.accept()
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def handle(raw=raw):
                try:
                    tls = context.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError):
                    raw.close()
                    return
                upstream = socket.create_connection(UPSTREAM)
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                threading.Thread(target=pump, args=(upstream, tls), daemon=True).start()
                pump(tls, upstream)

            threading.Thread(target=handle, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1]


def main():
    rounds, builds = int(sys.argv[1]), sys.argv[2:]
    table = f"bench-tls-{os.getpid()}"
    emulator.create_table(emulator.clients(f"http://{UPSTREAM[0]}:{UPSTREAM[1]}")["dynamodb"], table)
    port = serve_tls_proxy()
    env = emulator.function_env(table, f"https://localhost:{port}")
    env["SSL_CERT_FILE"] = os.path.join(FIXTURES, "ca.pem")
    tick = {"rolloutId": "not-there", "seq": 1}
    times = {b: {"init": [], "first": [], "warm": []} for b in builds}
    for _ in range(rounds):
        for build in builds:
            with Function([os.path.join(build, "step")], env) as function:
                first, kind, body = function.invoke(tick)
                if b"no rollout" not in body:
                    raise RuntimeError(f"{build}: {body[:300]!r}")
                warm, _, _ = function.invoke(tick)
                times[build]["init"].append(function.init_ms)
                times[build]["first"].append(first)
                times[build]["warm"].append(warm)
    for build, t in times.items():
        q = statistics.quantiles(t["first"], n=4)
        print(f"step over TLS, {build}: init {statistics.median(t['init']):.2f} ms, "
              f"first invocation {statistics.median(t['first']):.2f} ms "
              f"(quartiles {q[0]:.2f}-{q[2]:.2f}), "
              f"second {statistics.median(t['warm']):.2f} ms, medians of {len(t['first'])}")


if __name__ == "__main__":
    main()
