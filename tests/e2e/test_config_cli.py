"""`openstation config get|set` on a stopped and on a running device."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

from openstation.testing import DeviceProcess, openstation

Factory = Callable[..., DeviceProcess]


def get(data: Path, section: str) -> dict[str, object]:
    return dict(json.loads(openstation("config", "get", section, "--data-dir", str(data),
                                       "--json", check=True).stdout))


def test_config_on_a_stopped_device(device_factory: Factory, tmp_path: Path) -> None:
    data = tmp_path / "data"
    device_factory(data).stop()
    d = ("--data-dir", str(data))
    openstation("config", "set", "eth0", "dhcp=false", "address=192.168.7.2",
                "netmask=255.255.255.0", "gateway=192.168.7.1", *d, check=True)
    eth0 = get(data, "eth0")
    assert (eth0["dhcp"], eth0["address"]) == (False, "192.168.7.2")
    bad = openstation("config", "set", "eth0", "netmask=255.0.255.0", *d)
    assert bad.returncode == 1 and "not a netmask" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
    assert get(data, "eth0")["netmask"] == "255.255.255.0"
    openstation("config", "set", "pppoe", "enabled=true", "username=isp", "password=s3cret",
                *d, check=True)
    pppoe = get(data, "pppoe")
    assert pppoe["enabled"] is True and pppoe["password"] == "***"
    openstation("config", "set", "network", "dns=1.1.1.1,9.9.9.9", *d, check=True)
    assert get(data, "network")["dns"] == ["1.1.1.1", "9.9.9.9"]
    for wrong in (["autoblock", "attempts=zero"], ["nosuch", "a=b"], ["ports", "http=0"],
                  ["firewall", "default_action=maybe"], ["login", "session_timeout_minutes=0"]):
        result = openstation("config", "set", *wrong, *d)
        assert result.returncode == 1 and "Traceback" not in result.stderr, wrong


def test_config_on_a_running_device_takes_effect(device_factory: Factory,
                                                 tmp_path: Path) -> None:
    data = tmp_path / "data"
    ports = []
    for _ in range(4):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    device_factory(data).stop()
    openstation("config", "set", "ports", f"http={ports[0]}", f"https={ports[1]}",
                "--data-dir", str(data), check=True)
    device = device_factory(data, ephemeral_ports=False)
    assert device.runtime["ports"]["http"] == ports[0]
    openstation("config", "set", "ports", f"http={ports[2]}", f"https={ports[3]}",
                "--data-dir", str(data), check=True)
    device.refresh()
    assert (device.runtime["ports"]["http"], device.runtime["ports"]["https"]) == (
        ports[2], ports[3])
    assert device.api("SYNO.API.Info", "query")["success"]
    openstation("config", "set", "general", "server_name=renamed", "--data-dir", str(data),
                check=True)
    status = json.loads(openstation("status", "--data-dir", str(data), "--json",
                                    check=True).stdout)
    assert status["server_name"] == "renamed"
