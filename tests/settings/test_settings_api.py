"""Control Panel > Network and > Security through the Web API, taking effect live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openstation.config.sections import Network, Ports, PPPoE
from openstation.config.store import ConfigStore
from openstation.datadir import DataDir
from openstation.device import Device, RunOptions
from openstation.discovery import findhost
from openstation.hardware import load_or_create
from openstation.lifecycle.install import InstallRequest
from openstation.network.validate import network_problems
from tests.webapi.conftest import STRONG, Api


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


async def admin_sid(api: Api) -> str:
    return await api.sid("alice", STRONG)


async def test_static_interface_is_stored_and_reported_everywhere(api: Api, device: Device
                                                                  ) -> None:
    sid = await admin_sid(api)
    done = await api.call("SYNO.Core.Network.Ethernet", "set", _sid=sid, id="eth0",
                          use_dhcp="false", ip="192.168.50.10", mask="255.255.255.0",
                          gateway="192.168.50.1", mtu=9000)
    assert done["success"], done
    general = await api.call("SYNO.Core.Network", "set", _sid=sid, server_name="vault",
                             gateway="192.168.50.1", dns_primary="192.168.50.1",
                             dns_secondary="9.9.9.9")
    assert general["success"], general
    listed = (await api.call("SYNO.DSM.Network", "list", _sid=sid))["data"]
    eth0 = listed["interfaces"][0]
    assert eth0["ip"] == [{"address": "192.168.50.10", "netmask": "255.255.255.0"}]
    assert listed["hostname"] == "vault" and listed["dns"] == ["192.168.50.1", "9.9.9.9"]
    facts = device.discovery.facts()
    assert (facts.server_name, facts.dhcp, facts.gateway) == ("vault", False, "192.168.50.1")
    answer = await asyncio.to_thread(ask_findhost, device.ports["findhost"])
    assert answer.get("server_name") == "vault" and answer.get("dhcp") == 0
    assert answer.get("gateway") == "192.168.50.1" and answer.get("dns") == "192.168.50.1"
    ethernet = (await api.call("SYNO.Core.Network.Ethernet", "list", _sid=sid))["data"]
    assert ethernet["interfaces"][0]["mtu"] == 9000


def ask_findhost(port: int, source: str = "127.0.0.1") -> findhost.Packet:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(1)
        sock.sendto(findhost.query(), ("127.0.0.1", port))
        return findhost.decode(sock.recvfrom(9000)[0])


@pytest.mark.parametrize(("params", "field"), [
    ({"ip": "192.168.1.10", "mask": "255.0.255.0"}, "netmask"),
    ({"ip": "192.168.1.10", "mask": "255.255.255.0", "gateway": "10.0.0.1"}, "gateway"),
    ({"ip": "192.168.1.10"}, "netmask"),
    ({"ip": "192.168.1.300", "mask": "255.255.255.0"}, "address"),
    ({"ip": "192.168.1.0", "mask": "255.255.255.0"}, "address"),
    ({"ip": "192.168.1.10", "mask": "255.255.255.0", "mtu": "100"}, "mtu"),
])
async def test_invalid_interface_settings_are_refused_unchanged(
        api: Api, device: Device, params: dict[str, str], field: str) -> None:
    sid = await admin_sid(api)
    before = device.store.get(Network)  # type: ignore[union-attr]
    body = await api.call("SYNO.Core.Network.Ethernet", "set", _sid=sid, id="eth0",
                          use_dhcp="false", **params)
    assert body["error"]["code"] == 120
    assert any(key.endswith(field) for key in body["error"]["errors"]), body
    assert device.store.get(Network) == before  # type: ignore[union-attr]


async def test_malformed_dns_is_refused(api: Api) -> None:
    sid = await admin_sid(api)
    body = await api.call("SYNO.Core.Network", "set", _sid=sid, dns_primary="8.8.8")
    assert body["error"]["code"] == 120 and "dns.0" in body["error"]["errors"]


@pytest.fixture(scope="module")
def network_service(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from openstation.network.service import NetworkService
    from openstation.security.machine_key import MachineKey

    data = DataDir(tmp_path_factory.mktemp("n") / "d")
    data.prepare()
    store = ConfigStore.open(data.config_db, load_or_create(data.hardware_file, None))
    yield NetworkService(store, MachineKey(bytes(32)))
    store.close()


address_like = st.one_of(st.text(max_size=20), st.ip_addresses(v=4).map(str),
                         st.sampled_from(["255.255.255.0", "255.255.0.0", "255.0.255.0", ""]))


@given(ip=address_like, mask=address_like, gateway=address_like)
def test_whatever_is_typed_nothing_invalid_is_stored(network_service: Any, ip: str, mask: str,
                                                     gateway: str) -> None:
    from openstation.errors import ValidationError

    with contextlib.suppress(ValidationError):
        network_service.set_interface("t", "eth0", dhcp=False, address=ip, netmask=mask,
                                      gateway=gateway)
    assert network_problems(network_service.store.get(Network), ["eth0", "eth1"]) == {}


async def test_pppoe_password_is_stored_encrypted_and_never_shown(api: Api, device: Device
                                                                  ) -> None:
    sid = await admin_sid(api)
    body = await api.call("SYNO.Core.Network.PPPoE", "set", _sid=sid, enable="true",
                          username="isp-user", password="hunter2-secret", mtu=1480)
    assert body["success"], body
    shown = body["data"]["pppoe"][0]
    assert shown["password_set"] is True and "hunter2" not in json.dumps(body)
    stored = device.store.get(PPPoE)  # type: ignore[union-attr]
    assert stored.enabled and stored.password.startswith("mk2:")
    assert device.machine_key.open(stored.password, "pppoe") == "hunter2-secret"
    raw = (device.data_dir.config_db).read_bytes()
    assert b"hunter2-secret" not in raw
    missing = await api.call("SYNO.Core.Network.PPPoE", "set", _sid=sid, enable="true",
                             username="")
    assert missing["error"]["code"] == 120


# --- UI ports ------------------------------------------------------------------------------


@pytest.fixture
async def port_device(tmp_path: Path) -> AsyncIterator[tuple[Device, list[int]]]:
    """A device listening on its configured ports (no `run --http-port` override)."""
    http, https, spare_http, spare_https = free_ports(4)
    data = DataDir(tmp_path / "data")
    data.prepare()
    store = ConfigStore.open(data.config_db, load_or_create(data.hardware_file, None))
    with store.transaction("test") as tx:
        tx.put(Ports(http, https))
    store.close()
    device = Device(RunOptions(data_dir=data.root, findhost_port=0, ssdp_port=0, mdns=False,
                               file_services=False))
    await device.start()
    async for _ in device.installer.install(InstallRequest("nas1", "alice", STRONG)):
        pass
    yield device, [http, https, spare_http, spare_https]
    await device.stop()


async def answers(port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def test_changing_ports_moves_the_listeners_without_a_restart(
        port_device: tuple[Device, list[int]]) -> None:
    device, (http, https, new_http, new_https) = port_device
    async with aiohttp.ClientSession() as http_session:
        api = Api(device, http_session)
        sid = await admin_sid(api)
        body = await api.call("SYNO.Core.Web.DSM", "set", _sid=sid, http_port=new_http,
                              https_port=new_https)
        assert body["data"] == {"http_port": new_http, "https_port": new_https}
    assert await answers(new_http) and await answers(new_https)
    assert not await answers(http) and not await answers(https)
    assert device.store.get(Ports) == Ports(new_http, new_https)  # type: ignore[union-attr]


async def test_a_busy_or_invalid_port_is_refused_and_the_old_binding_stays(
        port_device: tuple[Device, list[int]]) -> None:
    device, (http, https, _, _) = port_device
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        async with aiohttp.ClientSession() as http_session:
            api = Api(device, http_session)
            sid = await admin_sid(api)
            body = await api.call("SYNO.Core.Web.DSM", "set", _sid=sid, http_port=busy)
            assert body["error"]["code"] == 120
            assert "already in use" in json.dumps(body["error"])
            for bad in ({"http_port": "70000"}, {"http_port": str(https)},
                        {"http_port": "x"}):
                refused = await api.call("SYNO.Core.Web.DSM", "set", _sid=sid, **bad)
                assert refused["error"]["code"] == 120, bad
    assert await answers(http) and await answers(https)
    assert device.store.get(Ports) == Ports(http, https)  # type: ignore[union-attr]


# --- firewall ------------------------------------------------------------------------------


async def from_source(api: Api, source: str, sid: str) -> dict[str, Any] | None:
    """A call from another loopback address; None when the connection is closed on us."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            return await api.call("SYNO.API.Info", "query", http=session, _sid=sid)
        except aiohttp.ClientError:
            return None


async def test_firewall_rules_allow_one_source_and_drop_another(api: Api, device: Device
                                                                ) -> None:
    sid = await admin_sid(api)
    rules = [{"source": "127.0.0.1"}, {"source": "127.0.0.2", "ports": "dsm", "action": "allow"},
             {"source": "127.0.0.3", "action": "deny"},
             {"source": "127.0.0.0/8", "ports": "findhost", "action": "deny"}]
    body = await api.call("SYNO.Core.Security.Firewall.Rules", "set", _sid=sid,
                          rules=json.dumps(rules))
    assert body["success"], body
    assert (await api.call("SYNO.Core.Security.Firewall", "set", _sid=sid,
                           enable_firewall="true", default_action="allow"))["success"]
    assert await from_source(api, "127.0.0.2", sid) is not None
    assert await from_source(api, "127.0.0.3", sid) is None
    port = device.ports["findhost"]
    allowed = await asyncio.to_thread(ask_findhost, port, "127.0.0.1")
    assert allowed.get("model") == "DS918+"  # rule 1 lets .1 in
    with pytest.raises(TimeoutError):  # .2: allowed on DSM's ports, denied on findhost
        await asyncio.to_thread(ask_findhost, port, "127.0.0.2")
    assert (await api.call("SYNO.Core.Security.Firewall", "set", _sid=sid,
                           enable_firewall="false"))["success"]
    assert await from_source(api, "127.0.0.3", sid) is not None


async def test_rules_that_would_lock_out_the_client_need_confirmation(api: Api,
                                                                      device: Device) -> None:
    sid = await admin_sid(api)
    assert (await api.call("SYNO.Core.Security.Firewall", "set", _sid=sid,
                           enable_firewall="true"))["success"]
    deny_me = json.dumps([{"source": "127.0.0.1", "action": "deny"}])
    body = await api.call("SYNO.Core.Security.Firewall.Rules", "set", _sid=sid, rules=deny_me)
    assert body["error"]["code"] == 120 and "lock out" in json.dumps(body["error"])
    assert (await api.call("SYNO.Core.Security.Firewall.Rules", "list", _sid=sid)
            )["data"]["rules"] == []
    bad = await api.call("SYNO.Core.Security.Firewall.Rules", "set", _sid=sid,
                         rules=json.dumps([{"source": "10.0.0.300"}, {"ports": "99999"},
                                           {"action": "maybe"}]))
    assert set(bad["error"]["errors"]) == {"rules.0.source", "rules.1.ports", "rules.2.action"}
    forced = await api.call("SYNO.Core.Security.Firewall.Rules", "set", _sid=sid,
                            rules=deny_me, confirm_lockout="true")
    assert forced["success"]
    assert await from_source(api, "127.0.0.1", sid) is None


async def test_auto_block_settings_and_lists(api: Api) -> None:
    sid = await admin_sid(api)
    assert (await api.call("SYNO.Core.Security.AutoBlock", "set", _sid=sid, enable="true",
                           attempts=2, within_mins=5))["success"]
    assert (await api.call("SYNO.Core.Security.AutoBlock", "set", _sid=sid, attempts=0)
            )["error"]["code"] == 120
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.4", 0))
    async with aiohttp.ClientSession(connector=connector) as other:
        for _ in range(2):
            await api.call("SYNO.API.Auth", "login", 6, http=other, account="alice",
                           passwd="wrong")
        with pytest.raises(aiohttp.ClientConnectionError):  # refused when it connects
            await api.call("SYNO.API.Auth", "login", 6, http=other, account="alice",
                           passwd=STRONG)
        listed = await api.call("SYNO.Core.Security.AutoBlock.Rules", "list", _sid=sid,
                                type="block")
        assert [item["ip"] for item in listed["data"]["items"]] == ["127.0.0.4"]
        assert (await api.call("SYNO.Core.Security.AutoBlock.Rules", "delete", _sid=sid,
                               type="block", ip="127.0.0.4"))["success"]
        assert (await api.call("SYNO.API.Auth", "login", 6, http=other, account="alice",
                               passwd=STRONG))["success"]
    assert (await api.call("SYNO.Core.Security.AutoBlock.Rules", "set", _sid=sid,
                           type="allow", ip="not-an-ip"))["error"]["code"] == 120


async def test_settings_persist_across_a_restart(tmp_path: Path) -> None:
    options = RunOptions(data_dir=tmp_path / "data", http_port=0, https_port=0,
                         findhost_port=0, ssdp_port=0, mdns=False, file_services=False)
    device = Device(options)
    await device.start()
    async for _ in device.installer.install(InstallRequest("nas1", "alice", STRONG)):
        pass
    device.network.set_interface("test", "eth1", dhcp=False, address="10.1.1.5",
                                 netmask="255.255.0.0")
    device.security.set_autoblock("test", enabled=True, attempts=7)
    await device.stop()
    again = Device(options)
    await again.start()
    try:
        assert again.store is not None
        eth1 = again.store.get(Network).interfaces[1]
        assert (eth1.dhcp, eth1.address, eth1.netmask) == (False, "10.1.1.5", "255.255.0.0")
        from openstation.config.sections import AutoBlock

        assert again.store.get(AutoBlock).attempts == 7
    finally:
        await again.stop()
