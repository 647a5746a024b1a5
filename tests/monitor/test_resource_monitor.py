"""Resource Monitor on a running device: the live stream sends a sample a second to a
signed-in page (server-sent events), the history has them, the settings and alarm rules go
through the API (synology-api's SysInfo reads them unchanged); a stranger gets no stream,
a user without rights changes nothing, bad rules are refused."""

from __future__ import annotations

import http.client
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]
RULES = "SYNO.ResourceMonitor.EventRule"


def live(port: int, sid: str | None, count: int) -> list[dict[str, float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", "/monitor/live", headers={"Cookie": f"id={sid}"} if sid else {})
        response = conn.getresponse()
        if response.status != 200:
            return [{"status": response.status}]
        samples = []
        while len(samples) < count:
            line = response.fp.readline().decode()
            if line.startswith("data: "):
                samples.append(json.loads(line[6:]))
        return samples
    finally:
        conn.close()


def test_live_samples_history_and_rules(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.core_sys_info import SysInfo

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    port = device.runtime["ports"]["http"]
    admin = Web(device.url).login()

    started = time.monotonic()
    samples = live(port, admin.sid, 3)
    assert time.monotonic() - started < 10
    assert [round(b["time"] - a["time"]) for a, b in itertools.pairwise(samples)] == [1, 1]
    for sample in samples:
        assert 0 <= sample["cpu_user"] + sample["cpu_system"] <= 100
        assert 0 < sample["memory"] <= 100 and 0 < sample["volume"] <= 100
        assert sample["net_rx"] >= 0 and sample["disk_write"] >= 0
    assert live(port, None, 1) == [{"status": 303}]  # a stranger: to the sign-in page

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/monitor/history?range=10m", headers={"Cookie": f"id={admin.sid}"})
    history = json.loads(conn.getresponse().read())
    assert history["metrics"][0] == "cpu_user" and len(history["points"]) >= 3
    conn.request("GET", "/monitor/history?range=1y", headers={"Cookie": f"id={admin.sid}"})
    assert conn.getresponse().status == 400
    conn.close()

    rule = admin.ok(RULES, "create", metric="memory", threshold="95", duration="10")
    assert rule["metric"] == "memory" and rule["duration"] == 10 and rule["enable"] is True
    admin.ok(RULES, "set", id=rule["id"], threshold="97.5", enable="false")
    BaseApi.shared_session = None
    info = SysInfo("127.0.0.1", str(port), "alice", STRONG, secure=False, cert_verify=False,
                   dsm_version=6, debug=False, otp_code=None)
    assert info.alarm_rules_list()["data"]["rules"] == [
        {"id": rule["id"], "metric": "memory", "threshold": 97.5, "duration": 10,
         "enable": False}]
    assert info.resource_monitor_settings_list()["data"]["enable_history"] is True
    assert info.alarm_rules_logs()["data"]["logs"] == []
    admin.ok("SYNO.ResourceMonitor.Setting", "set", enable_history="false")
    assert info.resource_monitor_settings_list()["data"]["enable_history"] is False

    for bad in ({"metric": "gpu", "threshold": "1"}, {"metric": "cpu", "threshold": "101"},
                {"metric": "cpu", "threshold": "x"}, {"metric": "cpu", "duration": "0"},
                {"metric": "net_rx", "threshold": "1e400"}):
        assert admin.call(RULES, "create", **bad)["error"]["code"] == 120, bad
    assert admin.call(RULES, "delete", id="nosuch")["error"]["code"] == 120
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call(RULES, "delete", id=rule["id"])["error"]["code"] == 105
    assert bob.call("SYNO.ResourceMonitor.Setting", "set",
                    enable_history="true")["error"]["code"] == 105
    admin.ok(RULES, "delete", id=rule["id"])
    assert admin.ok(RULES, "list")["total"] == 0


def until_closed(port: int, sid: str) -> float:
    """Read a live stream to its end; the seconds it lasted."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/monitor/live", headers={"Cookie": f"id={sid}"})
        response = conn.getresponse()
        while response.read1(65536):  # (chunked: read1 knows where the stream ends)
            pass
    except (OSError, http.client.HTTPException):
        pass
    finally:
        conn.close()
    return time.monotonic() - started


def test_a_stream_ends_with_its_session_and_with_the_device(device_factory: Factory,
                                                             tmp_path: Path) -> None:
    """Signing out ends a page's stream at once; an open stream does not hold a stop; one
    session holds at most four streams."""
    from concurrent.futures import ThreadPoolExecutor

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    port = device.runtime["ports"]["http"]
    with ThreadPoolExecutor(6) as pool:
        web = Web(device.url).login()
        assert web.sid is not None
        ending = pool.submit(until_closed, port, web.sid)
        time.sleep(2)
        web.ok("SYNO.API.Auth", "logout")
        assert ending.result(timeout=10) < 6

        other = Web(device.url).login()
        assert other.sid is not None
        open_ones = [pool.submit(until_closed, port, other.sid) for _ in range(4)]
        time.sleep(2)
        assert live(port, other.sid, 1) == [{"status": 503}]  # a fifth for one session
        started = time.monotonic()
        code, _out, _err = device.stop(timeout=30)
        assert code == 0 and time.monotonic() - started < 8
        assert all(f.result(timeout=10) < 20 for f in open_ones)
