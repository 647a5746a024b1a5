"""Log Center's log sending, to syslog servers the test runs on loopback: every audit entry
arrives as an RFC 5424 message over UDP, TCP and TLS (the server pinned by its
certificate's SHA-256); a wrong pin sends nothing and says why; bad settings and users
without rights change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from openstation.security.tls import make_certificate
from openstation.testing import STRONG, DeviceProcess, Web, wait_for

Factory = Callable[..., DeviceProcess]
CLIENT = "SYNO.LogCenter.Client"
LINE = re.compile(rb'^<(\d+)>1 (\S+) (\S+) openstation - (\S+) \[audit@32473 (.*?)\] (.*)$',
                  re.S)


class Server:
    """A syslog server on loopback: UDP datagrams, or octet-counted TCP/TLS frames."""

    def __init__(self, kind: str, tls: ssl.SSLContext | None = None) -> None:
        self.messages: list[bytes] = []
        self.fingerprint = ""  # a TLS server's certificate, pinned by the device
        self.sock = socket.socket(socket.AF_INET,
                                  socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.tls = tls
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        if kind != "udp":
            self.sock.listen()
        target = self._datagrams if kind == "udp" else self._streams
        threading.Thread(target=target, daemon=True).start()

    def _datagrams(self) -> None:
        while not self.stop.is_set():
            try:
                self.messages.append(self.sock.recv(65536))
            except TimeoutError:
                continue
            except OSError:  # closed by the test's end
                return

    def _streams(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by the test's end
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(0.2)
            buffer = b""
            while not self.stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buffer += chunk
                while b" " in buffer:
                    size, _, rest = buffer.partition(b" ")
                    if len(rest) < int(size):
                        break
                    self.messages.append(rest[:int(size)])
                    buffer = rest[int(size):]
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, Server]]:
    cert, key = make_certificate("syslog.test", ["127.0.0.1"], dt.datetime.now(dt.UTC))
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    made = {"udp": Server("udp"), "tcp": Server("tcp"), "tls": Server("tcp", context)}
    made["tls"].fingerprint = hashlib.sha256(
        x509.load_pem_x509_certificate(cert).public_bytes(Encoding.DER)).hexdigest()
    yield made
    for server in made.values():
        server.close()


def parsed(raw: bytes) -> dict[str, str]:
    found = LINE.match(raw)
    assert found, raw
    fields = dict(re.findall(rb'(\w+)="((?:[^"\\]|\\.)*)"', found.group(5)))
    return {"pri": found.group(1).decode(), "host": found.group(3).decode(),
            "msgid": found.group(4).decode(), "text": found.group(6).decode(),
            **{k.decode(): v.decode() for k, v in fields.items()}}


def test_audit_entries_reach_the_syslog_server_over_udp_tcp_and_tls(
        device_factory: Factory, tmp_path: Path, servers: dict[str, Server]) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    for kind, server in servers.items():
        admin.ok(CLIENT, "set", enable="true", server="127.0.0.1", port=server.port,
                 protocol=kind, cert_fingerprint=server.fingerprint)
        name = f"user-{kind}"
        admin.ok("SYNO.Core.User", "create", name=name, password="B0b!secret")
        wait_for(lambda server=server, name=name: any(
            name.encode() in m for m in server.messages), timeout=20)
        message = parsed(next(m for m in server.messages if name.encode() in m))
        assert message["host"] == "nas1" and message["msgid"] == "create", message
        assert message["actor"] == "alice" and message["section"] == "users"
        assert message["key"] == name and message["pri"] == str(13 * 8 + 6)
        assert "$argon2" not in message["text"]  # secrets stay "***"
    status = admin.ok(CLIENT, "get")["status"]
    assert status["connected"] and status["sent"] >= 3 and status["last_error"] == ""


def test_a_wrong_pin_bad_settings_and_no_rights(device_factory: Factory, tmp_path: Path,
                                                servers: dict[str, Server]) -> None:
    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok(CLIENT, "set", enable="true", server="127.0.0.1", port=servers["tls"].port,
             protocol="tls", cert_fingerprint="ab" * 32)
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    wait_for(lambda: "pinned" in admin.ok(CLIENT, "get")["status"]["last_error"], timeout=20)
    assert servers["tls"].messages == []

    before = admin.ok(CLIENT, "get")
    del before["status"]
    for bad in ({"port": "70000"}, {"server": "a b"}, {"protocol": "smtp"},
                {"enable": "maybe"}, {"cert_fingerprint": "not-hex"},
                {"server": "", "enable": "true"}):
        assert admin.call(CLIENT, "set", **bad)["error"]["code"] == 120, bad
    after = admin.ok(CLIENT, "get")
    del after["status"]
    assert after == before

    bob = Web(device.url).login("bob", "B0b!secret")
    for method in ("get", "set"):
        assert bob.call(CLIENT, method, server="evil.example")["error"]["code"] == 105


def test_log_receiving_keeps_what_others_send(device_factory: Factory, tmp_path: Path) -> None:
    """One device receives (UDP, then TCP), another sends its audit log to it; a raw BSD
    line, an RFC 5424 message and garbage are kept as they can be; a flood from one
    source is cut at its rate; a user without rights sees nothing."""
    receiver = device_factory(tmp_path / "receiver")
    sender = device_factory(tmp_path / "sender")
    for device, name in ((receiver, "logs1"), (sender, "nas2")):
        assert device.install(name, "alice", STRONG).returncode == 0
    logs = Web(receiver.url).login()
    shown = logs.ok("SYNO.LogCenter.RecvRule", "set", enable="true", port="0",
                    protocol="udp")
    port = shown["status"]["port"]
    assert shown["status"]["listening"] and port

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed on /dev/pts/8",
                   ("127.0.0.1", port))
        udp.sendto(b"<165>1 2026-12-06T02:00:00Z host5 app7 - ID47 [x@1 a=\"b\"] hello",
                   ("127.0.0.1", port))
        udp.sendto(b"\xff\xfe garbage", ("127.0.0.1", port))

    def kept(**filters: str) -> list[dict[str, object]]:
        return list(logs.ok("SYNO.LogCenter.Log", "list", limit="100", **filters)["items"])

    wait_for(lambda: len(kept()) >= 3, 10)
    by_host = {item["host"]: item for item in kept()}
    assert by_host["mymachine"]["severity"] == "crit" and by_host["mymachine"]["app"] == "su"
    assert by_host["host5"]["message"] == "hello" and by_host["host5"]["app"] == "app7"
    assert by_host["127.0.0.1"]["message"].endswith("garbage")

    shown = logs.ok("SYNO.LogCenter.RecvRule", "set", protocol="tcp")  # port 0: a new one
    port = shown["status"]["port"]
    out = Web(sender.url).login()
    out.ok("SYNO.LogCenter.Client", "set", enable="true", server="127.0.0.1", port=port,
           protocol="tcp")
    out.ok("SYNO.Core.User", "create", name="carol", password="C4rol!pass")
    wait_for(lambda: any("carol" in str(i["message"]) for i in kept(host="nas2")), 20)

    with socket.create_connection(("127.0.0.1", port)) as flood:
        flood.sendall(b"".join(rfc_frame(f"<14>1 - flood - - - - {n}".encode())
                               for n in range(1000)))
    wait_for(lambda: logs.ok("SYNO.LogCenter.RecvRule", "list")["status"]["dropped"] > 0, 10)
    assert len(kept(host="flood")) <= 300  # the burst, not the thousand

    assert logs.call("SYNO.LogCenter.RecvRule", "set", protocol="tls")["error"]["code"] == 120
    assert logs.call("SYNO.LogCenter.RecvRule", "set", port="70000")["error"]["code"] == 120
    logs.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(receiver.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.LogCenter.Log", "list")["error"]["code"] == 105


def rfc_frame(message: bytes) -> bytes:
    return str(len(message)).encode() + b" " + message
