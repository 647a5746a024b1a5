"""Notifications, for real: mail through an SMTP server the test runs (aiosmtpd, with
AUTH) and a webhook the test serves, both on loopback. A Mode 1 reset is mailed, and Mode 1
leaves the notification settings as they were; the SMTP password is never shown; bad input
and users without rights change nothing."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from openstation.panel import control
from openstation.testing import STRONG, DeviceProcess, Web, wait_for

Factory = Callable[..., DeviceProcess]
USER, PASSWORD = "notify", "Mail!pass1"
CONF = "SYNO.Core.Notification.Mail.Conf"


class Inbox:
    """What the SMTP server received, and who signed in to it."""

    def __init__(self) -> None:
        self.mails: list[bytes] = []
        self.logins: list[tuple[str, bool]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope.content)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        self.logins.append((data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    def subjects(self) -> list[str]:
        return [line.split(b":", 1)[1].strip().decode() for mail in self.mails
                for line in mail.splitlines() if line.startswith(b"Subject:")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    port = free_port()
    server = Controller(box, hostname="127.0.0.1", port=port, authenticator=box.authenticate,
                        auth_require_tls=False)
    server.start()
    try:
        yield box, port
    finally:
        server.stop()


@pytest.fixture
def hooks() -> Iterator[tuple[list[dict[str, Any]], int]]:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received, server.server_address[1]
    finally:
        server.shutdown()


def test_mail_and_webhook_for_a_mode_1_reset(device_factory: Factory, tmp_path: Path,
                                             inbox: tuple[Inbox, int],
                                             hooks: tuple[list[dict[str, Any]], int]) -> None:
    box, smtp_port = inbox
    received, hook_port = hooks
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    shown = admin.ok(CONF, "set", enable_mail="true", smtp_server="127.0.0.1",
                     smtp_port=smtp_port, security="none", smtp_auth="true", smtp_user=USER,
                     smtp_password=PASSWORD, mail='["ops@example.com", "me@example.com"]',
                     sender_mail="nas1@example.com")
    assert shown["smtp_password_set"] is True and PASSWORD not in json.dumps(shown)
    log = admin.ok("SYNO.Core.SyslogClient.Log", "list", limit=50)
    assert PASSWORD not in json.dumps(log)  # the audit entry shows "***"
    admin.ok("SYNO.Core.Notification.Push.Webhook.Provider", "set", enable="true",
             url=f"http://127.0.0.1:{hook_port}/hook")

    tested = admin.ok("SYNO.Core.Notification.Mail", "send_test")
    assert tested == {"mail": "sent", "webhook": "sent"}
    assert box.logins == [(USER, True)] and "nas1: test message" in box.subjects()[0]
    assert received[0]["event"] == "test"

    answer = asyncio.run(control.call(device.data_dir / "system" / "panel.sock", "POST",
                                      "/reset", {"mode": 1}))
    assert answer["accepted"]
    wait_for(lambda: any("was reset" in s for s in box.subjects()), timeout=30)
    mail = next(m for m in box.mails if b"was reset" in m)
    assert b"Mode: 1" in mail and b"To: ops@example.com, me@example.com" in mail
    wait_for(lambda: any(hook["event"] == "reset" for hook in received), timeout=30)

    # Mode 1's ten items do not include notifications: they are as they were.
    device.refresh()
    web = Web(device.url).login()  # Mode 1 ended every session
    kept = web.ok(CONF, "get")
    assert kept["smtp_server"] == "127.0.0.1" and kept["enable_mail"] is True
    assert [item["event"] for item in web.ok("SYNO.Core.Notification.Sysnotify", "get")[
        "items"]][:2] == ["reset", "test"]


def test_wrong_credentials_bad_input_and_no_rights(device_factory: Factory, tmp_path: Path,
                                                   inbox: tuple[Inbox, int]) -> None:
    box, smtp_port = inbox
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok(CONF, "set", smtp_server="127.0.0.1", smtp_port=smtp_port, security="none",
             smtp_user=USER, smtp_password="wrong-one", mail="ops@example.com")
    tested = admin.ok("SYNO.Core.Notification.Mail", "send_test")
    assert tested["mail"].startswith("SMTPAuthenticationError") and box.mails == []

    before = admin.ok(CONF, "get")
    for bad in ({"smtp_port": "70000"}, {"mail": '["not an address"]'},
                {"smtp_server": "mail server;rm"}, {"security": "ssl3"},
                {"enable_mail": "maybe"}, {"subject_prefix": "a\r\nBcc: x@example.com"},
                {"mail": json.dumps([f"u{n}@example.com" for n in range(21)])}):
        refused = admin.call(CONF, "set", **bad)
        assert refused["error"]["code"] == 120, (bad, refused)
    assert admin.call("SYNO.Core.Notification.Push.Webhook.Provider", "set", enable="true",
                      url="file:///etc/passwd")["error"]["code"] == 120
    assert admin.call("SYNO.Core.Notification.Advance.FilterSettings", "set",
                      events='["reset", "everything"]')["error"]["code"] == 120
    assert admin.ok(CONF, "get") == before  # nothing changed

    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    for api, method in ((CONF, "get"), (CONF, "set"), ("SYNO.Core.Notification.Mail",
                                                       "send_test")):
        assert bob.call(api, method, smtp_server="evil.example")["error"]["code"] == 105
    stranger = Web(device.url)
    assert stranger.call(CONF, "get")["error"]["code"] in (105, 119)
    assert admin.ok(CONF, "get") == before


def test_a_volume_over_its_warning_percentage_notifies_once(
        device_factory: Factory, tmp_path: Path,
        hooks: tuple[list[dict[str, Any]], int]) -> None:
    """The warning percentage set under what volume 1 (the host's file system) uses: the
    webhook hears "volume_full" once, Log Center has it as a warning; set back above, the
    volume is fine again, and nothing more is sent."""
    from openstation.notify.volume_watch import crossed

    assert crossed(False, 95.0, 90) == (True, "volume_full")
    assert crossed(True, 89.0, 90) == (True, None)  # within the hysteresis
    assert crossed(True, 87.0, 90) == (False, "volume_ok")
    received, hook_port = hooks
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.Notification.Push.Webhook.Provider", "set", enable="true",
             url=f"http://127.0.0.1:{hook_port}/hook")
    assert admin.call("SYNO.Core.Notification.Advance.WarningPercentage", "set",
                      percentage="100")["error"]["code"] == 120
    admin.ok("SYNO.Core.Notification.Advance.WarningPercentage", "set", percentage="1")
    wait_for(lambda: any(h["event"] == "volume_full" for h in received), 20)
    logged = admin.ok("SYNO.Core.SyslogClient.Log", "list", limit=20)["items"]
    full = next(item for item in logged if item["event"] == "volume_full")
    assert full["level"] == "warn" and full["detail"]["warning_percent"] == 1
    admin.ok("SYNO.Core.Notification.Advance.WarningPercentage", "set", percentage="99")
    wait_for(lambda: any(item["event"] == "volume_ok" for item in admin.ok(
        "SYNO.Core.SyslogClient.Log", "list", limit=20)["items"]), 20)
    assert [h["event"] for h in received].count("volume_full") == 1
