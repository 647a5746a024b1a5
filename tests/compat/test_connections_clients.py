"""Resource Monitor > Connections: synology-api's SysInfo.current_connection, unchanged,
lists the web sessions and an SFTP connection held open; ending one really ends it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh

from openstation.testing import STRONG, DeviceProcess, Web, wait_for
from tests.conftest import CLIENT_THREAD
from tests.fileserv.conftest import needs_samba

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


@needs_samba
def test_smb_sessions_and_open_files_listed_and_ended(device_factory: Factory,
                                                      tmp_path: Path) -> None:
    """An SMB client holding a file open: its session (smbstatus) is listed with who and
    from where, the file in SYNO.Core.FileHandle; ending the session ends that client's
    smbd process, and only it: a pid not of this smbd is refused."""
    import smbclient
    from smbprotocol.exceptions import SMBException

    device = device_factory(tmp_path / "data", file_services=True)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Share", "create", name="team")
    (device.data_dir / "volume1" / "team" / "plan.txt").write_text("plan")
    device.refresh()
    session = {"username": "alice", "password": STRONG, "connection_cache": {},
               "port": device.runtime["file_services"]["smb"]}

    def listed() -> list[dict[str, object]]:
        return [i for i in admin.ok("SYNO.Core.CurrentConnection", "get")["items"]
                if i["type"] == "SMB"]

    opened: list[Any] = []

    def opens() -> bool:  # smbd is started at boot, not waited for
        with contextlib.suppress(SMBException, OSError, ValueError):  # not yet serving
            opened.append(smbclient.open_file("\\\\127.0.0.1\\team\\plan.txt", "rb",
                                              **session))
        return bool(opened)

    wait_for(opens, 20)
    held = opened[0]
    try:
        wait_for(lambda: bool(listed()), 20)
        smb = listed()[0]
        assert smb["who"] == "alice" and smb["from"] == "127.0.0.1", smb
        files = admin.ok("SYNO.Core.FileHandle", "get")["items"]
        assert [f["name"] for f in files] == ["plan.txt"] and files[0]["share"] == "team"
        assert admin.call("SYNO.Core.CurrentConnection", "kick_connection",
                          id="smb-1")["error"]["code"] == 120  # pid 1 is not our smbd's
        admin.ok("SYNO.Core.CurrentConnection", "kick_connection", id=smb["id"])
        wait_for(lambda: not listed(), 20)
        try:
            held.read()
            raise AssertionError("the ended session still reads")
        except (SMBException, OSError, ValueError):
            pass
    finally:
        with contextlib.suppress(Exception):
            held.close()
        for conn in session["connection_cache"].values():
            with contextlib.suppress(Exception):
                conn.disconnect()
