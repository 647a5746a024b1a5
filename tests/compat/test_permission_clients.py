"""Share rights and group members as synology-api 0.9.4 manages them (core_share's
SharePermission, core_group's Group), unchanged, against a device: what they set is what
every protocol enforces (File Station shows it here), and bad input changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]
BOB = ("bob", "B0b!secret")


def client(cls: Any, device: DeviceProcess) -> Any:
    from synology_api.base_api import BaseApi

    BaseApi.shared_session = None  # synology-api reuses one session across instances
    return cls("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
               secure=False, cert_verify=False, dsm_version=6, debug=False, otp_code=None)


def shares_of(device: DeviceProcess, user: tuple[str, str]) -> list[str]:
    listed = Web(device.url).login(*user).ok("SYNO.FileStation.List", "list_share", 2)
    return sorted(s["name"] for s in listed["shares"])


def test_share_permissions_and_group_members(device_factory: Factory, tmp_path: Path
                                             ) -> None:
    from synology_api.core_group import Group
    from synology_api.core_share import SharePermission
    from synology_api.exceptions import CoreError

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.User", "create", name=BOB[0], password=BOB[1])
    for share in ("docs", "media"):
        admin.ok("SYNO.Core.Share", "create", name=share)
    assert shares_of(device, BOB) == []

    perms = client(SharePermission, device)
    listed = perms.get_folder_permissions("docs")["data"]
    rows = {row["name"]: row for row in listed["items"]}
    assert rows["alice"]["is_admin"] and rows["alice"]["inherit"] == "rw"  # administrators
    assert not any(rows["bob"][k] for k in ("is_writable", "is_readonly", "is_deny"))
    assert perms.set_folder_permissions("docs", "local_user", [
        {"name": "bob", "is_readonly": True, "is_writable": False, "is_deny": False}]
    )["success"]
    assert shares_of(device, BOB) == ["docs"]
    found = perms.get_folder_permission_by_name("docs", "bo")["data"]
    assert [row["name"] for row in found["items"]] == ["bob"]
    assert found["items"][0]["is_readonly"] is True

    groups = client(Group, device)
    assert [u["name"] for u in groups.get_users("administrators")["data"]["users"]] == [
        "admin", "alice"]  # the system admin, disabled
    assert "bob" in [u["name"] for u in groups.get_users("administrators", False)["data"]
                     ["users"]]
    assert groups.set_share_permissions("users", [
        {"name": "media", "is_readonly": False, "is_writable": True, "is_deny": False}]
    )["success"]
    assert shares_of(device, BOB) == ["docs", "media"]  # bob is in users
    media = [s for s in groups.get_permissions("users")["data"]["shares"]
             if s["name"] == "media"]
    assert media[0]["is_writable"] is True
    assert perms.set_local_group_permissions("users", [
        {"name": "media", "is_readonly": False, "is_writable": False, "is_deny": True}]
    )["success"]
    assert shares_of(device, BOB) == ["docs"]
    assert perms.get_local_group_permissions("users")["success"]

    assert groups.add_users("administrators", ["bob"])["success"]
    assert Web(device.url).login(*BOB).ok("SYNO.Core.User", "list")["total"] >= 2  # admin now
    assert groups.remove_users("administrators", ["bob"])["success"]
    refused = Web(device.url).login(*BOB).call("SYNO.Core.User", "list")
    assert refused["error"]["code"] == 105

    from synology_api.core_user import User

    users = client(User, device)
    task = users.user_group_join("bob", join_groups=["administrators"])["data"]["task_id"]
    assert users.user_group_join_status(task)["data"]["finish"] is True
    assert "bob" in [u["name"] for u in groups.get_users("administrators")["data"]["users"]]
    users.user_group_join("bob", leave_groups=["administrators"])
    with pytest.raises(CoreError):
        users.user_group_join("bob", join_groups=["administrators", "no such group"])

    # Bad input changes nothing; a user without rights may not look
    with pytest.raises(CoreError):
        groups.remove_users("administrators", ["alice"])  # the last administrator
    with pytest.raises(CoreError):
        groups.add_users("administrators", ["nobody"])
    with pytest.raises(CoreError):
        perms.set_folder_permissions("docs", "local_user", [{"name": "ghost",
                                                             "is_writable": True}])
    with pytest.raises(CoreError):
        perms.set_folder_permissions("../etc", "local_user", [])
    assert [u["name"] for u in groups.get_users("administrators")["data"]["users"]] == [
        "admin", "alice"]  # the system admin, disabled
    assert shares_of(device, BOB) == ["docs"]
    before = groups.get_permissions("users")["data"]["shares"]
    partial = admin.call("SYNO.Core.Share.Permission", "set_by_user_group", name="users",
                         user_group_type="local_group", permissions=[
                             {"name": "docs", "is_deny": True}, {"name": "nope"}])
    assert partial["error"]["code"] == 120  # all shares or none
    assert groups.get_permissions("users")["data"]["shares"] == before
    assert admin.call("SYNO.Core.Share.Permission", "set", name="docs",
                      user_group_type="local_user", permissions=[
                          {"name": "bob", "is_deny": "maybe"}])["error"]["code"] == 120
    admin.ok("SYNO.Core.Share.Permission", "set", name="docs", user_group_type="local_user",
             permissions=[{"name": "bob", "is_deny": "false", "is_writable": "true"}])
    rows = {r["name"]: r for r in perms.get_folder_permissions("media")["data"]["items"]}
    assert rows["bob"]["inherit"] == "na"  # the users group is denied media
    assert shares_of(device, BOB) == ["docs"]
    bob = Web(device.url).login(*BOB)
    for api, method, params in (
            ("SYNO.Core.Share.Permission", "list", {"name": "docs"}),
            ("SYNO.Core.Share.Permission", "set", {"name": "docs", "permissions": []}),
            ("SYNO.Core.Group.Member", "change", {"group": "administrators",
                                                  "add_member": ["bob"]})):
        assert bob.call(api, method, **params)["error"]["code"] == 105
