"""Hostile and random Web API input: always HTTP 200 + JSON, never a 500, never a change."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openstation.config.sections import User
from openstation.config.store import ConfigStore
from openstation.hardware import load_or_create
from openstation.testing import STRONG, DeviceProcess

KNOWN_APIS = ["SYNO.API.Info", "SYNO.API.Auth", "SYNO.Core.User", "SYNO.Core.Group",
              "SYNO.DSM.Info", "SYNO.Core.User.PasswordPolicy", "SYNO.Core.NormalUser",
              "SYNO.API.Encryption", "SYNO.Core.OTP", "SYNO.FileStation.List", "SYNO.Nope",
              "SYNO.SHA.Cluster", "SYNO.Virtualization.Cluster"]
METHODS = ["query", "login", "logout", "list", "get", "set", "create", "delete", "getinfo",
           "save", "get_qrcode", "list_share", "x", "probe", "bind", "status", "inventory",
           "members", "remove_member", "add_member", "join"]
PARAM_NAMES = ["name", "password", "passwd", "account", "offset", "limit", "additional",
               "expired", "new_name", "query", "_sid", "SynoToken", "otp_code", "min_length",
               "__cIpHeRtExT", "old_password", "email", "format", "session", "token",
               "members", "url", "certificate", "port"]

text = st.text(max_size=40) | st.sampled_from(["", "-1", "99999999999999999999", "[1,", "{}",
                                              "null", "\x00", "../../etc/passwd", "now"])
params = st.dictionaries(st.sampled_from(PARAM_NAMES), text, max_size=6)
calls = st.fixed_dictionaries({
    "api": st.sampled_from(KNOWN_APIS) | st.text(max_size=20),
    "method": st.sampled_from(METHODS) | st.text(max_size=10),
    "version": st.sampled_from(["1", "2", "7", "0", "-1", "x", ""]) | st.text(max_size=5),
})


@pytest.fixture(scope="module")
def fuzz_device(tmp_path_factory: pytest.TempPathFactory) -> Any:
    device = DeviceProcess(tmp_path_factory.mktemp("fuzz") / "data").start()
    assert device.install("nas1", "alice", STRONG).returncode == 0
    yield device
    device.kill()


def post(device: DeviceProcess, body: bytes, content_type: str, path: str = "/webapi/entry.cgi"
         ) -> tuple[int, str, bytes]:
    port = device.runtime["ports"]["http"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return response.status, response.headers.get("Content-Type", ""), response.read()
    finally:
        conn.close()


def state_digest(device: DeviceProcess) -> tuple[int, str]:
    data: Path = device.data_dir
    store = ConfigStore.open_readonly(data / "system" / "config.db",
                                      load_or_create(data / "hardware.json", None))
    try:
        audit = store.audit_log(limit=1)
        users = json.dumps([u.__dict__ for u in store.records(User)])
        return (audit[0].id if audit else 0), users
    finally:
        store.close()


def assert_dsm_answer(status: int, content_type: str, body: bytes) -> dict[str, Any]:
    assert status == 200
    assert content_type.startswith("application/json")
    answer: dict[str, Any] = json.loads(body)
    assert isinstance(answer.get("success"), bool)
    if not answer["success"]:
        assert answer["error"]["code"] in {100, 101, 102, 103, 104, 105, 106, 114, 119, 120,
                                           150, 400, 401, 402, 403, 404, 406, 407, 410}
    return answer


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls, extra=params)
def test_random_calls_answer_in_the_envelope_and_change_nothing(
        fuzz_device: DeviceProcess, call: dict[str, str], extra: dict[str, str]) -> None:
    before = state_digest(fuzz_device)
    fields = {**extra, **call}
    try:
        body = urlencode(fields).encode()
    except UnicodeEncodeError:
        return
    assert_dsm_answer(*post(fuzz_device, body, "application/x-www-form-urlencoded"))
    assert state_digest(fuzz_device) == before


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2048),
       content_type=st.sampled_from(["application/octet-stream", "multipart/form-data",
                                     "multipart/form-data; boundary=xx",
                                     "application/x-www-form-urlencoded", "text/plain",
                                     "application/json"]))
def test_binary_bodies_answer_in_the_envelope(fuzz_device: DeviceProcess, body: bytes,
                                              content_type: str) -> None:
    before = state_digest(fuzz_device)
    assert_dsm_answer(*post(fuzz_device, body, content_type))
    assert_dsm_answer(*post(fuzz_device, body, content_type,
                            "/webapi/query.cgi?api=SYNO.API.Info&version=1&method=query"))
    assert state_digest(fuzz_device) == before


def test_huge_values_and_broken_json(fuzz_device: DeviceProcess) -> None:
    sid_answer = assert_dsm_answer(*post(fuzz_device, urlencode(
        {"api": "SYNO.API.Auth", "version": "6", "method": "login", "account": "alice",
         "passwd": STRONG}).encode(), "application/x-www-form-urlencoded"))
    sid = sid_answer["data"]["sid"]
    before = state_digest(fuzz_device)
    for fields in (
        {"api": "SYNO.Core.User", "version": "1", "method": "list", "_sid": sid,
         "limit": "9" * 100},
        {"api": "SYNO.Core.User", "version": "1", "method": "list", "_sid": sid,
         "additional": "[[[[" * 1000},
        {"api": "SYNO.Core.User", "version": "1", "method": "create", "_sid": sid,
         "name": "x" * 100_000, "password": "P" * 100_000},
        {"api": "SYNO.Core.User", "version": "1", "method": "delete", "_sid": sid,
         "name": '["admin", "alice"]'},
        {"api": "SYNO.Core.User.PasswordPolicy", "version": "1", "method": "set", "_sid": sid,
         "min_length": "-5"},
        {"api": "SYNO.API.Auth", "version": "7", "method": "login",
         "__cIpHeRtExT": '{"rsa": "!!", "aes": 5}'},
    ):
        answer = assert_dsm_answer(*post(fuzz_device, urlencode(fields).encode(),
                                         "application/x-www-form-urlencoded"))
        assert answer["success"] is False
    too_big = b"a=" + b"x" * (2 << 20)
    try:
        status, _, _ = post(fuzz_device, too_big, "application/x-www-form-urlencoded")
    except (ConnectionResetError, BrokenPipeError):
        status = 413  # refused before the whole body was sent: the answer races the reset
    assert status in (200, 413)
    assert state_digest(fuzz_device) == before


MANAGEMENT = {  # the management APIs of issue 21, with their methods
    "SYNO.Core.Notification.Mail.Conf": ["get", "set"],
    "SYNO.Core.Notification.Mail": ["get"],  # no send_test: a random server name is a DNS query
    "SYNO.Core.Notification.Push.Webhook.Provider": ["get", "set"],
    "SYNO.Core.Notification.Advance.FilterSettings": ["get", "set"],
    "SYNO.Core.Upgrade.Setting": ["get", "set"],
    "SYNO.Core.Upgrade.AutoUpgrade.Security": ["get", "set"],
    "SYNO.Core.Security.DSM": ["get", "set"],
    "SYNO.Core.Terminal": ["get", "set"],
    "SYNO.Core.User.PasswordExpiry": ["get", "set"],
    "SYNO.Core.Security.Firewall.Rules.Serv": ["get", "list"],
    "SYNO.Core.Security.Firewall.Adapter": ["get", "list"],
    "SYNO.Core.SecurityScan.Operation": ["get", "start"],
    "SYNO.Core.SecurityScan.Status": ["system_get", "rule_get"],
    "SYNO.Storage.CGI.Smart": ["list", "get_smart_info", "get_health_info"],
    "SYNO.Core.RecycleBin": ["get"], "SYNO.Core.Network.Interface": ["list"],
    "SYNO.Core.TaskScheduler": ["list"], "SYNO.Core.Package.Log": ["get"],
    "SYNO.Core.Storage.iSCSILUN": ["list", "set"], "SYNO.DSM.FindMe": ["supported"],
}
MANAGEMENT_PARAMS = ["enable_mail", "smtp_server", "smtp_port", "security", "smtp_user",
                     "smtp_password", "mail", "sender_mail", "subject_prefix", "enable", "url",
                     "events", "autoupdate_type", "check_new_dsm", "hour", "minute", "timeout",
                     "enable_ssh", "ssh_port", "enable_telnet", "enable_pwd_expiry",
                     "password_expire_day", "id", "adapter", "device", "smtp_auth"]
hostile = text | st.sampled_from(["true", "false", "0", "65536", "127.0.0.1", '["a@b.c"]',
                                  '["reset"]', "http://127.0.0.1:9/x", "file:///etc/passwd",
                                  "a\r\nBcc: x@y.z", '{"a": 1}', "[" * 500])


@pytest.fixture(scope="module")
def admin_sid(fuzz_device: DeviceProcess) -> str:
    answer = assert_dsm_answer(*post(fuzz_device, urlencode(
        {"api": "SYNO.API.Auth", "version": "6", "method": "login", "account": "alice",
         "passwd": STRONG}).encode(), "application/x-www-form-urlencoded"))
    return str(answer["data"]["sid"])


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(api=st.sampled_from(sorted(MANAGEMENT)), pick=st.integers(0, 2),
       extra=st.dictionaries(st.sampled_from(MANAGEMENT_PARAMS), hostile, max_size=6))
def test_an_administrator_s_hostile_management_calls_answer_in_the_envelope(
        fuzz_device: DeviceProcess, admin_sid: str, api: str, pick: int,
        extra: dict[str, str]) -> None:
    """Signed in as the administrator, hostile values for the management APIs' settings:
    DSM's envelope every time (a refusal is 120 or 103, never a 500), and the device
    keeps answering."""
    method = MANAGEMENT[api][pick % len(MANAGEMENT[api])]
    fields = {**extra, "api": api, "version": "1", "method": method, "_sid": admin_sid}
    try:
        body = urlencode(fields).encode()
    except UnicodeEncodeError:
        return
    assert_dsm_answer(*post(fuzz_device, body, "application/x-www-form-urlencoded"))
