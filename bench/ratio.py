"""SYNO.API.Info requests per second on a device, beside a bare aiohttp handler that serves
the very same bytes, both measured by wrk in the same run (the ratio is what counts: the
machine's speed cancels out).

    python bench/ratio.py [SECONDS] [CONNECTIONS]     (needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

from openstation.testing import DeviceProcess

ROUNDS = 5
QUERY = "/webapi/query.cgi?api=SYNO.API.Info&version=1&method=query&query=all"

BARE = textwrap.dedent("""
    import sys
    from aiohttp import web
    body = open(sys.argv[1], "rb").read()
    async def handler(_request):
        return web.Response(body=body, content_type="application/json")
    app = web.Application()
    app.router.add_get("/webapi/query.cgi", handler)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), access_log=None,
                print=None)
""")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found, out
    return float(found.group(1))


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        device = DeviceProcess(Path(tmp) / "data").start()
        try:
            with urllib.request.urlopen(device.url + QUERY) as response:
                body = response.read()
            (Path(tmp) / "body.json").write_bytes(body)
            port = free_port()
            bare = subprocess.Popen([sys.executable, "-c", BARE, str(Path(tmp) / "body.json"),
                                     str(port)])
            try:
                for _ in range(100):
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}{QUERY}").read()
                        break
                    except OSError:
                        time.sleep(0.05)
                # Alternate the two, ROUNDS times: a noisy neighbour hits both alike.
                pairs = [(wrk(device.url + QUERY, seconds, connections),
                          wrk(f"http://127.0.0.1:{port}{QUERY}", seconds, connections))
                         for _ in range(ROUNDS)]
            finally:
                bare.terminate()
                bare.wait(10)
        finally:
            device.stop()
    ours = statistics.median(p[0] for p in pairs)
    baseline = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    print(f"SYNO.API.Info on the device   {ours:9.0f} requests/s ({len(body)} bytes), "
          f"median of {ROUNDS}")
    print(f"bare aiohttp, same bytes      {baseline:9.0f} requests/s")
    print(f"ratio (median of the rounds)  {ratio:9.2f}   (target >= 0.6)")


if __name__ == "__main__":
    main()
