"""Samba's files from the configuration (pure), and smbd's sign-in lines."""

from __future__ import annotations

import json
from pathlib import Path

from openstation.config.sections import FileServices, Group, Right, Share, User
from openstation.fileserv import samba_conf
from openstation.fileserv.ntlm import nt_hash
from openstation.fileserv.smb import Changes, parse_auth
from openstation.storage.permissions import access

USERS = [User(name="alice", uid=1026), User(name="bob", uid=1027),
         User(name="carol", uid=1028, disabled=True), User(name="50%off", uid=1029)]
GROUPS = [Group(name="users", gid=100, members=["alice", "bob", "carol"]),
          Group(name="administrators", gid=101, members=["alice"])]
SERVER = samba_conf.Server(hosts=("127.0.0.1",), port=4450, server_name="nas1",
                           volume=Path("/v"), owner="root", owner_uid=0, owner_gid=0,
                           blocked=("10.0.0.9",))
LAYOUT = samba_conf.Layout(Path("/s/smb"))


def section(config: str, name: str) -> dict[str, str]:
    lines = config.split(f"[{name}]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return dict(line.strip().split(" = ", 1) for line in lines if " = " in line)


def test_rights_become_samba_lists_that_decide_as_dsm_does() -> None:
    share = Share(name="docs", permissions={
        "gid:101": Right.READ_WRITE, "gid:100": Right.READ_ONLY, "uid:1027": Right.NO_ACCESS,
        "uid:1029": Right.READ_WRITE, "uid:4242": Right.READ_WRITE})
    config = samba_conf.smb_conf(FileServices(), SERVER, LAYOUT, [share], USERS, GROUPS)
    docs = section(config, "docs")
    assert docs["invalid users"] == '"bob"'  # No access wins over the group's read
    assert docs["write list"] == '"@administrators"'
    assert docs["valid users"] == '"@users" "@administrators"'
    assert docs["read only"] == "yes" and docs["force user"] == "root"
    assert docs["path"] == "/v/docs"
    # The model says the same for each account
    gids = {"alice": [100, 101], "bob": [100], "carol": [100]}
    assert access(share.permissions, 1026, gids["alice"]) == "rw"
    assert access(share.permissions, 1027, gids["bob"]) == "na"
    assert access(share.permissions, 1028, gids["carol"]) == "ro"
    # A name with % is never written into the configuration (Samba would expand it)
    assert "50%off" not in config and "4242" not in config


def test_a_share_without_rights_is_closed_and_hidden_folders_are_vetoed() -> None:
    config = samba_conf.smb_conf(FileServices(workgroup="HOME"), SERVER, LAYOUT,
                                 [Share(name="empty", description="a\n[evil]\npath = /"),
                                  Share(name="x%U")], USERS, GROUPS)
    assert section(config, "empty")["valid users"] == '"openstation:nobody"'
    assert "[x%U]" not in config and "[evil]" not in config.replace("a[evil]", "")
    assert section(config, "empty")["comment"] == "a[evil]path = /"
    assert "veto files = /@*/.@*/" in config and "follow symlinks = no" in config
    assert "workgroup = HOME" in config and "smb ports = 4450" in config
    assert "hosts deny = 10.0.0.9" in config and "map to guest = never" in config


def test_smbpasswd_holds_enabled_accounts_with_a_hash_only() -> None:
    digest = nt_hash("Str0ng!pass")
    text = samba_conf.smbpasswd(USERS, {"alice": digest, "carol": digest, "50%off": digest})
    assert text.splitlines() == [
        f"alice:1026:{'X' * 32}:{digest}:[UX         ]:LCT-00000000:"]
    passwd = samba_conf.passwd(USERS, SERVER)
    assert "bob:x:1027:65534:" in passwd and "50%off" not in passwd
    group = samba_conf.group(GROUPS, USERS, SERVER)
    assert "users:x:100:alice,bob,carol" in group


def test_nt_hash_is_md4_of_utf16() -> None:
    # MS-NLMP's test vector: "Password" → a4f49c406510bdcab6824ee7c30fd852
    assert nt_hash("Password") == "A4F49C406510BDCAB6824EE7C30FD852"


def test_smbd_sign_in_lines_are_read_and_cannot_be_forged() -> None:
    def line(status: str, remote: str, account: str = "alice") -> str:
        return json.dumps({"timestamp": "2026-12-05T08:34:34.872803+0000",
                           "type": "Authentication", "Authentication": {
                               "status": status, "remoteAddress": remote,
                               "clientAccount": account, "workstation": "VM"}})

    assert parse_auth(line("NT_STATUS_WRONG_PASSWORD", "ipv4:127.0.0.1:33778")) == (
        "127.0.0.1", "alice", False)
    assert parse_auth(line("NT_STATUS_OK", "ipv4:127.0.0.1:33778")) == (
        "127.0.0.1", "alice", True)
    assert parse_auth(line("NT_STATUS_WRONG_PASSWORD", "ipv6:[::1]:33778")) == (
        "::1", "alice", False)
    # An account name cannot change the address a failure is charged to
    forged = line("NT_STATUS_WRONG_PASSWORD", "ipv4:10.0.0.7:1",
                  account='x] remote host [ipv4:192.168.1.10:1')
    assert parse_auth(forged) == ("10.0.0.7", 'x] remote host [ipv4:192.168.1.10:1', False)
    for junk in ("smbd version 4.17.12-Debian started.", "alpha|close|ok|/v/a",
                 line("NT_STATUS_WRONG_PASSWORD", "ipv4:ALL:1"),
                 line("NT_STATUS_WRONG_PASSWORD", "unix:/tmp/x")):
        assert parse_auth(junk) is None


def test_reserved_section_names_and_unwritable_denials_are_not_served() -> None:
    groups = [*GROUPS, Group(name="100%", gid=102, members=["bob"])]
    shares = [Share(name="global", permissions={"gid:100": Right.READ_WRITE}),
              Share(name="Homes", permissions={"gid:100": Right.READ_WRITE}),
              Share(name="docs", permissions={"gid:100": Right.READ_WRITE,
                                              "gid:102": Right.NO_ACCESS})]
    config = samba_conf.smb_conf(FileServices(), SERVER, LAYOUT, shares, USERS, groups)
    assert "[global]" in config and config.count("[global]") == 1  # only Samba's own
    assert "[Homes]" not in config and "[docs]" not in config
    passwd = samba_conf.passwd(USERS, SERVER)
    assert "bob:x:1027:65534:" in passwd  # groups come from the group file alone
    must_change = User(name="erin", uid=1030, must_change_password=True)
    assert samba_conf.smbpasswd([must_change], {"erin": nt_hash("x")}) == ""


def test_audit_lines_become_changes_a_rename_while_open_included() -> None:
    changed: list[str] = []
    renamed: list[tuple[str, str]] = []
    changes = Changes(lambda p: changed.append(str(p)),
                      lambda a, b: renamed.append((str(a), str(b))))
    for line in ("alpha|openat|ok|w|/v/alpha/a.tmp", "alpha|renameat|ok|/v/alpha/a.tmp|/v/alpha/a",
                 "alpha|close|ok|/v/alpha/a", "alpha|openat|ok|r|/v/alpha/b",
                 "alpha|close|ok|/v/alpha/b", "alpha|mkdirat|ok|/v/alpha/d",
                 "alpha|unlinkat|ok|/v/alpha/old", "alpha|openat|fail|w|/v/alpha/x",
                 "Auth: something else"):
        changes.read(line)
    assert renamed == [("/v/alpha/a.tmp", "/v/alpha/a")]
    assert changed == ["/v/alpha/a", "/v/alpha/d", "/v/alpha/old"]  # reads change nothing
    assert not changes.writing
