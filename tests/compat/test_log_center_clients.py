"""Log Center as synology-api 0.9.4's log_center (and SysInfo's latest logs) read it,
unchanged: the device's audit log, with levels and counts; what it does not do (archive,
send, receive logs) answers empty."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]


def test_log_center_surface(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.core_sys_info import SysInfo
    from synology_api.log_center import LogCenter

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    port = str(device.runtime["ports"]["http"])
    BaseApi.shared_session = None
    logs = LogCenter("127.0.0.1", port, "alice", STRONG, secure=False, cert_verify=False,
                     dsm_version=6, debug=False, otp_code=None)
    shown = logs.display_logs()["data"]
    assert shown["total"] > 0 and {"time", "who", "level", "descr"} <= set(shown["items"][0])
    assert any(item["key"] == "bob" for item in shown["items"])  # the account just made
    counted = logs.client_status_cnt()["data"]
    assert counted["info_count"] + counted["warn_count"] + counted["error_count"] == \
        counted["total"] > 0
    assert logs.client_status_eps()["data"]["eps"] > 0  # entries within the last minute
    assert [rule["enable"] for rule in logs.logcenter()["data"]["rules"]] == [False]  # off
    assert logs.remote_log_archives()["data"]["folders"] == []
    assert logs.setting_storage_list()["data"]["location"] == "system/config.db"
    assert logs.registry_send_list()["data"]["enable"] is False
    assert logs.history()["data"]["items"] == []
    BaseApi.shared_session = None
    info = SysInfo("127.0.0.1", port, "alice", STRONG, secure=False, cert_verify=False,
                   dsm_version=6, debug=False, otp_code=None)
    assert len(info.latest_logs()["data"]["items"]) == 5
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.Core.SyslogClient.Log", "list")["error"]["code"] == 105
    assert bob.call("SYNO.Core.SyslogClient.Status", "cnt_get")["error"]["code"] == 105


def test_search_and_export(device_factory: Callable[..., DeviceProcess], tmp_path: Path
                           ) -> None:
    """Log Center's search (a keyword, a level, a section) and its CSV export."""
    import csv
    import io
    import urllib.request

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.User", "create", name="zed", password="Z3d!secret")
    found = admin.ok("SYNO.Core.SyslogClient.Log", "list", keyword="zed")["items"]
    assert found and all("zed" in str(item).lower() for item in found)
    assert admin.ok("SYNO.Core.SyslogClient.Log", "list", level="err")["items"] == []
    assert admin.call("SYNO.Core.SyslogClient.Log", "list", level="loud")["error"][
        "code"] == 120
    url = (f"{device.url}/webapi/entry.cgi?api=SYNO.Core.SyslogClient.Log&version=1"
           f"&method=export&keyword=zed&_sid={admin.sid}")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.read().decode())))
    assert rows[0][:3] == ["time", "level", "who"] and any(r[6] == "zed" for r in rows[1:])
