"""Attack 8: rights keyed by name. Before: renaming a user dropped their explicit "No
access" on a share; a deleted and re-created user inherited the old user's rights."""

from __future__ import annotations

import json

from openstation.config.sections import User
from openstation.device import Device
from tests.webapi.conftest import Api

PASSWORD = "Us3r!secret"


async def test_a_renamed_user_keeps_an_explicit_no_access(device: Device, api: Api) -> None:
    sid = await api.sid()
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="bob",
                           password=PASSWORD))["success"]
    made = await api.call("SYNO.Core.Share", "create", _sid=sid, name="team", shareinfo=json.dumps(
        {"permissions": {"group:users": "rw", "user:bob": "na"}}))
    assert made["success"], made
    assert (await api.call("SYNO.Core.User", "set", _sid=sid, name="bob",
                           new_name="robin"))["success"]
    share = device.web.storage.share("team")
    assert device.web.storage.right("robin", share) == "na"
    shown = (await api.call("SYNO.Core.Share", "get", _sid=sid, name="team"))["data"]
    assert shown["permissions"]["user:robin"] == "na"


async def test_a_new_account_never_inherits_a_deleted_ones_rights(device: Device,
                                                                   api: Api) -> None:
    sid = await api.sid()
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="bob",
                           password=PASSWORD))["success"]
    bob_uid = device.store.record(User, "bob").uid  # type: ignore[union-attr]
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="private",
                           shareinfo=json.dumps({"permissions": {"user:bob": "rw"}})))["success"]
    assert (await api.call("SYNO.Core.User", "delete", _sid=sid, name="bob"))["success"]
    assert (await api.call("SYNO.Core.User", "create", _sid=sid, name="mallory",
                           password=PASSWORD))["success"]
    assert device.store.record(User, "mallory").uid == bob_uid  # type: ignore[union-attr]
    share = device.web.storage.share("private")
    assert device.web.storage.right("mallory", share) == "na"
    assert f"uid:{bob_uid}" not in share.permissions


async def test_rights_stored_by_name_are_rekeyed_at_boot(device: Device, api: Api) -> None:
    sid = await api.sid()
    assert (await api.call("SYNO.Core.Share", "create", _sid=sid, name="old"))["success"]
    share = device.web.storage.share("old")
    share.permissions = {"user:alice": share.permissions[next(iter(share.permissions))]}
    with device.store.transaction("test") as tx:
        tx.put_record(share)
    assert device.web.storage.upgrade_permissions() == 1
    alice = device.store.record(User, "alice")
    assert alice is not None
    assert list(device.web.storage.share("old").permissions) == [f"uid:{alice.uid}"]
