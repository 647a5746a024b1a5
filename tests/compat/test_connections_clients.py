"""Resource Monitor > Connections: synology-api's SysInfo.current_connection, unchanged,
lists the web sessions and an SFTP connection held open; ending one really ends it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import asyncssh

from openstation.testing import STRONG, DeviceProcess, Web, wait_for
from tests.conftest import CLIENT_THREAD

Factory = Callable[..., DeviceProcess]


def test_connections_listed_and_kicked(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.core_sys_info import SysInfo

    device = device_factory(tmp_path / "data", file_services=True)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.FileServ.FTP.SFTP", "set", enable="true")
    device.refresh()
    port = device.runtime["file_services"]["ssh"]
    connected, closed = threading.Event(), threading.Event()

    async def hold() -> None:
        async with asyncssh.connect("127.0.0.1", port, username="alice", password=STRONG,
                                    known_hosts=None, client_keys=None, agent_path=None,
                                    preferred_auth="password") as conn:
            connected.set()
            await asyncio.wait_for(conn.wait_closed(), 30)
        closed.set()

    holder = threading.Thread(target=lambda: asyncio.run(hold()), name=CLIENT_THREAD,
                              daemon=True)
    holder.start()
    assert connected.wait(20)

    BaseApi.shared_session = None
    info = SysInfo("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                   secure=False, cert_verify=False, dsm_version=6, debug=False,
                   otp_code=None)
    items = info.current_connection()["data"]["items"]
    kinds = {item["type"] for item in items if item["who"] == "alice"}
    assert kinds == {"HTTP/HTTPS", "SFTP"}, items
    assert all(admin.sid not in str(item) for item in items)  # ids are not session ids
    sftp = next(item for item in items if item["type"] == "SFTP")
    assert sftp["from"] == "127.0.0.1"
    admin.ok("SYNO.Core.CurrentConnection", "kick_connection", id=sftp["id"])
    assert closed.wait(20)
    wait_for(lambda: not [i for i in admin.ok("SYNO.Core.CurrentConnection", "get")["items"]
                          if i["type"] == "SFTP"], 10)

    # a web session ended by its id; unknown ids and users without rights are refused
    other = Web(device.url).login()
    mine = {i["id"] for i in admin.ok("SYNO.Core.CurrentConnection", "get")["items"]}
    assert admin.call("SYNO.Core.CurrentConnection", "kick_connection",
                      id="http-nope")["error"]["code"] == 120
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.Core.CurrentConnection", "get")["error"]["code"] == 105
    assert bob.call("SYNO.Core.CurrentConnection", "kick_connection",
                    id=sorted(mine)[0])["error"]["code"] == 105
    before = {i["id"] for i in admin.ok("SYNO.Core.CurrentConnection", "get")["items"]}
    for conn_id in before - mine:  # bob's session
        admin.ok("SYNO.Core.CurrentConnection", "kick_connection", id=conn_id)
    assert bob.call("SYNO.Core.User", "get", name="bob")["error"]["code"] in (106, 119)
    assert other.ok("SYNO.Core.User", "get", name="alice")  # the others go on
