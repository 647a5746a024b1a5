"""Discovery on loopback with real device processes: unicast findhost (--target), SSDP,
and the Web Assistant's search endpoints. No broadcast, no multicast."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from openstation.discovery import findhost
from openstation.testing import STRONG, DeviceProcess, openstation

Factory = Callable[..., DeviceProcess]


def ask(port: int, payload: bytes, source: str = "127.0.0.1", wait: float = 0.5
        ) -> list[findhost.Packet]:
    """Send one datagram to the device's findhost port and collect the answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(0.05)
        sock.sendto(payload, ("127.0.0.1", port))
        answers = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(9000)
            except TimeoutError:
                continue
            answers.append(findhost.decode(data))
        return answers


def test_find_by_target_reports_status_and_identity(device_factory: Factory,
                                                    tmp_path: Path) -> None:
    device = device_factory(tmp_path / "data", "--model", "RS1221+")
    port = device.runtime["ports"]["findhost"]
    found = json.loads(openstation("find", "--target", f"127.0.0.1:{port}", "--json",
                                   "--timeout", "1", check=True).stdout)
    assert len(found) == 1
    item = found[0]
    assert (item["name"], item["model"], item["status"]) == ("RackStation", "RS1221+",
                                                            "Not installed")
    assert item["version"] == "DSM 6.2.3-25426" and item["mac"].startswith("02:11:32")
    assert item["http_port"] == device.runtime["ports"]["http"]
    junior = ask(port, findhost.query())[0]
    assert junior.get("packet_type") == findhost.JUNIOR_RESPONSE

    assert device.install("nas1", "alice", STRONG).returncode == 0
    answer = ask(port, findhost.query("aa:bb:cc:dd:ee:ff"))[0]
    assert answer.get("packet_type") == findhost.RESPONSE
    assert answer.get("status_code") == 1 and answer.get("status_text") == "Ready"
    assert answer.get("server_name") == "nas1" and answer.get("querier_mac") == \
        "aa:bb:cc:dd:ee:ff"
    assert answer.get("querier_ip") == "127.0.0.1" and answer.get("ip") == "127.0.0.1"
    assert answer.get("unique_id") == "synology_v1000_rs1221+"
    assert [tid for tid, _ in answer.tlvs][:4] == [0x19, 0x12, 0x10, 0x13]
    table = openstation("find", "--target", f"127.0.0.1:{port}", "--timeout", "1",
                        check=True).stdout
    assert "nas1" in table and "Ready" in table


def test_malformed_packets_and_non_queries_get_no_answer(device_factory: Factory) -> None:
    port = device_factory().runtime["ports"]["findhost"]
    for payload in (b"", b"hello", findhost.MAGIC + b"\x01\x04\x01\x00",
                    findhost.ENCRYPTED_MAGIC + findhost.query()[8:],
                    findhost.encode([("packet_type", 1)]),  # no findhost version
                    findhost.encode([("packet_type", 2), ("findhost_version", 1)]),
                    findhost.query() + bytes(9000)):
        assert ask(port, payload, wait=0.2) == [], payload[:20]
    assert len(ask(port, findhost.query())) == 1  # and it still answers a good one


def test_answers_are_rate_limited_per_source(device_factory: Factory) -> None:
    port = device_factory().runtime["ports"]["findhost"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.3)
        for _ in range(60):
            sock.sendto(findhost.query(), ("127.0.0.1", port))
        answers = 0
        try:
            while True:
                sock.recvfrom(9000)
                answers += 1
        except TimeoutError:
            pass
    assert answers == 20
    assert len(ask(port, findhost.query(), source="127.0.0.2")) == 1  # another source


def test_find_says_so_when_nothing_answers(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        port = quiet.getsockname()[1]
        result = openstation("find", "--target", f"127.0.0.1:{port}", "--timeout", "0.7")
    assert result.returncode == 0 and "No device found" in result.stdout
    bad = openstation("find", "--target", "no such host:x")
    assert bad.returncode == 1 and "--target" in bad.stderr


def test_ssdp_answers_m_search_and_serves_the_description(device_factory: Factory) -> None:
    device = device_factory()
    port = device.runtime["ports"]["ssdp"]
    request = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
               b'MAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n')
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(1)
        sock.sendto(b"M-SEARCH garbage", ("127.0.0.1", port))
        sock.sendto(request, ("127.0.0.1", port))
        answers = [sock.recvfrom(2048)[0].decode() for _ in range(3)]
    assert all(a.startswith("HTTP/1.1 200 OK") for a in answers)
    sts = {line.split(": ", 1)[1] for a in answers for line in a.split("\r\n")
           if line.startswith("ST: ")}
    assert "urn:schemas-upnp-org:device:Basic:1" in sts and "upnp:rootdevice" in sts
    location = next(line.split(": ", 1)[1] for line in answers[0].split("\r\n")
                    if line.startswith("LOCATION: "))
    with urllib.request.urlopen(location, timeout=5) as response:
        xml = response.read().decode()
    assert "<manufacturer>Synology</manufacturer>" in xml
    assert "<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>" in xml
    assert "<friendlyName>DiskStation (DS918+)</friendlyName>" in xml
    assert "<modelDescription>Synology NAS</modelDescription>" in xml
    mac = json.loads(openstation("status", "--data-dir", str(device.data_dir), "--json",
                                 check=True).stdout)["mac"]
    assert f"<serialNumber>{mac.replace(':', '')}</serialNumber>" in xml


def test_web_assistant_search_endpoints(device_factory: Factory) -> None:
    device = device_factory()
    with urllib.request.urlopen(f"{device.url}/webman/search.cgi", timeout=5) as response:
        search_id = json.loads(response.read())["data"]["search_id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{device.url}/webman/search_result.cgi?search_id="
                                    f"{search_id}", timeout=5) as response:
            data = json.loads(response.read())["data"]
        if data["done"]:
            break
        time.sleep(0.1)
    assert data["done"] is True and data["devices"] == []  # loopback: nothing to broadcast on
    with urllib.request.urlopen(f"{device.url}/webman/search_result.cgi?search_id=nope",
                                timeout=5) as response:
        assert json.loads(response.read())["success"] is False


def test_the_web_assistant_page_lists_devices_with_links(device_factory: Factory,
                                                         tmp_path: Path) -> None:
    import subprocess
    import sys

    device = device_factory()
    findhost_port = device.runtime["ports"]["findhost"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assistant = subprocess.Popen(
        [sys.executable, "-m", "openstation", "assistant", "--port", str(port), "--target",
         f"127.0.0.1:{findhost_port}", "--no-mdns"], stdout=subprocess.PIPE, text=True)
    try:
        assert assistant.stdout is not None
        assert f"http://127.0.0.1:{port}/" in assistant.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/devices.json",
                                            timeout=5) as response:
                    devices = json.loads(response.read())
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert [(d["name"], d["status"]) for d in devices] == [("DiskStation",
                                                                "Not installed")]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            page = response.read().decode()
        assert "Web Assistant" in page and "devices.json" in page
    finally:
        assistant.terminate()
        assistant.wait(10)
