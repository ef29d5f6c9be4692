#!/usr/bin/env python3
"""A real S3-compatible server (moto's server mode) on loopback, for tests and benchmarks.

    python3 scripts/s3-test-server.py [--port N]

Prints its endpoint (http://127.0.0.1:PORT) on the first line of stdout once it accepts
requests, then serves until its standard input closes: the process that started it holds
the other end of the pipe, so the server never outlives it, even when that process is
killed. Port 0 (the default) takes a free port.

Credentials are not checked: any AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY will do.
"""

import argparse
import logging
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    # One log line per request costs more than moto's own work on small objects.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    # Serve until the parent goes away.
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
