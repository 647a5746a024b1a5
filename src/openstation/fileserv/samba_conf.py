"""Samba's files, rendered from the configuration (pure).

smbd gets everything it needs from files the device writes into `system/smb/`: its
configuration, an smbpasswd file with the NT hashes of the enabled accounts, and passwd and
group files that nss_wrapper shows it instead of the host's (the device never adds users to
the host). Share rights are DSM's model translated word for word: `invalid users` for No
access (it wins), `write list` for Read/Write (Samba lets it win over `read list`, as ours
does), `valid users` for everyone with any right, so an account with no entry has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from openstation.config.sections import FileServices, Group, Right, Share, User
from openstation.storage import recycle

HIDDEN = "/@*/.@*/"  # the device's own folders: never listed, never opened


@dataclass(frozen=True)
class Layout:
    """Where smbd's files and state live, under `root` (system/smb)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "smb.conf"

    @property
    def smbpasswd(self) -> Path:
        return self.root / "private" / "smbpasswd"

    @property
    def log(self) -> Path:
        return self.root / "smbd.log"

    @property
    def sign_ins(self) -> Path:
        """smbd's JSON sign-in log, a file of its own: client text cannot forge a line."""
        return self.root / "sign-ins.json.log"

    @property
    def passwd(self) -> Path:
        return self.root / "passwd"

    @property
    def group(self) -> Path:
        return self.root / "group"

    @property
    def quotas(self) -> Path:
        """Per share with a quota, by its uuid: "<size> <free>" in KiB, and the script
        smbd runs to read it (dfree command: one path, no arguments of ours)."""
        return self.root / "quota"

    def directories(self) -> list[Path]:
        return [self.root / name for name in ("private", "lock", "state", "cache", "pid",
                                              "quota")]


@dataclass(frozen=True)
class Server:
    """What the configuration needs beyond the store: where and as whom smbd serves."""

    hosts: tuple[str, ...]
    port: int
    server_name: str
    volume: Path
    owner: str  # files are written as this account (the device's own), as File Station's
    owner_uid: int
    owner_gid: int
    blocked: tuple[str, ...] = ()  # Auto Block's addresses
    full: frozenset[str] = frozenset()  # shares at their quota: read only until not


RESERVED = frozenset({"global", "homes", "printers", "print$", "ipc$"})  # Samba's sections


def servable(name: str) -> bool:
    """Samba expands %-macros everywhere in its configuration, with no escape: a name with
    '%' cannot be written into it safely, so it is not offered over SMB."""
    return "%" not in name


def servable_share(name: str) -> bool:
    """A share Samba can hold: not one of its own sections (a share named "global" would
    merge its rights into every share)."""
    return servable(name) and name.lower() not in RESERVED


def _plain(text: str) -> str:
    """Free text (a description) made safe for one line of the configuration."""
    return "".join(c for c in text if c != "%" and c.isprintable()).strip()


def quoted(name: str) -> str:
    return f'"{name}"'


def rights_lists(share: Share, users_by_uid: Mapping[int, str],
                 groups_by_gid: Mapping[int, str]) -> dict[str, list[str]] | None:
    """The share's rights as Samba's valid/write/invalid user lists (None: they cannot be
    written faithfully, and the share is not offered)."""
    lists: dict[str, list[str]] = {"valid users": [], "write list": [], "invalid users": []}
    for principal, right in sorted(share.permissions.items()):
        kind, _, number = principal.partition(":")
        named = (users_by_uid if kind == "uid" else groups_by_gid).get(int(number))
        if named is None:
            continue
        if not servable(named):
            if right == Right.NO_ACCESS and kind == "gid":
                return None  # a denial Samba cannot be told: the share is not offered
            continue
        entry = quoted(named if kind == "uid" else f"@{named}")
        if right == Right.NO_ACCESS:
            lists["invalid users"].append(entry)
        else:
            lists["valid users"].append(entry)
            if right == Right.READ_WRITE:
                lists["write list"].append(entry)
    return lists


def smb_conf(settings: FileServices, server: Server, layout: Layout,
             shares: Iterable[Share], users: Iterable[User], groups: Iterable[Group]) -> str:
    users_by_uid = {user.uid: user.name for user in users}
    groups_by_gid = {group.gid: group.name for group in groups}
    root = layout.root
    lines = [
        "# Written by openstation from its configuration; changes here are overwritten.",
        "[global]",
        f"  workgroup = {settings.workgroup}",
        f"  server string = {server.server_name}",
        f"  netbios name = {server.server_name[:15]}",
        "  server role = standalone server",
        f"  interfaces = {' '.join(server.hosts)}",
        "  bind interfaces only = yes",
        f"  smb ports = {server.port}",
        "  disable netbios = yes",
        f"  passdb backend = smbpasswd:{layout.smbpasswd}",
        f"  private dir = {root / 'private'}",
        f"  lock directory = {root / 'lock'}",
        f"  state directory = {root / 'state'}",
        f"  cache directory = {root / 'cache'}",
        f"  pid directory = {root / 'pid'}",
        f"  ncalrpc dir = {root / 'state' / 'ncalrpc'}",
        # smbd's log (errors, and the full_audit lines HA replication reads), and one JSON
        # line per sign-in in a file of its own (the rate limit and Auto Block read it).
        "  logging = file",
        f"  log file = {layout.log}",
        f"  log level = 1 auth_json_audit:3@{layout.sign_ins}",
        "  max log size = 4096",
        "  load printers = no",
        "  printing = bsd",
        "  printcap name = /dev/null",
        "  disable spoolss = yes",
        "  map to guest = never",
        "  max smbd processes = 256",  # connections in all (one process each)
        "  restrict anonymous = 2",
        "  server min protocol = SMB2_02",
        "  ntlm auth = ntlmv2-only",
        # Symlinks are never followed, as in File Station: nothing leads out of a share.
        "  follow symlinks = no",
        "  wide links = no",
        "  unix extensions = no",
        # Large transfers: the kernel moves file data (sendfile on reads, receivefile on
        # writes) instead of copying it through smbd.
        "  use sendfile = yes",
        "  min receivefile size = 16384",
        f"  veto files = {HIDDEN}",
        "  delete veto files = no",
        "  access based share enum = yes",  # a user sees only the shares they may open
        *([f"  hosts deny = {' '.join(server.blocked)}"] if server.blocked else []),
        "",
    ]
    for share in sorted(shares, key=lambda s: s.name):
        lists = rights_lists(share, users_by_uid, groups_by_gid) \
            if servable_share(share.name) else None
        if lists is None:
            continue
        if share.name in server.full:
            lists["write list"] = []
        lines += [
            f"[{share.name}]",
            f"  path = {server.volume / share.name}",
            *([f"  comment = {comment}"] if (comment := _plain(share.description)) else []),
            f"  browseable = {'no' if share.hidden else 'yes'}",
            "  read only = yes",
            *(f"  {key} = {' '.join(entries)}" for key, entries in lists.items() if entries),
            # An empty list would let every account in: name one nobody can sign in as.
            *([] if lists["valid users"] else ['  valid users = "openstation:nobody"']),
            f"  force user = {server.owner}",
            # a quota is the size SMB clients see (the uuid: no name reaches the shell)
            *([f"  dfree command = {layout.quotas / share.uuid}.sh", "  dfree cache time = 2"]
              if share.quota_mb and _plain_path(layout.quotas / share.uuid) else []),
            # One line per change, read by the device to replicate it in an HA pair; with
            # the recycle bin, a delete is a rename into #recycle (storage/recycle.py).
            *(RECYCLE if share.recycle_bin else ["  vfs objects = full_audit"]),
            "  full_audit:syslog = false",
            "  full_audit:prefix = %S",
            "  full_audit:success = openat close renameat unlinkat mkdirat",
            "  full_audit:failure = none",
            "  create mask = 0644",
            "  directory mask = 0755",
            "",
        ]
    return "\n".join(lines) + "\n"


def dfree_script(numbers: Path) -> str:
    """The script smbd runs for a quota share's size: the file `numbers` as it is now."""
    return f"#!/bin/sh\nexec cat '{numbers}'\n"


def quota_line(quota_mb: int, used: int) -> str:
    """A quota file's line: the share's size and free space in KiB (as dfree prints)."""
    return f"{quota_mb << 10} {max(0, (quota_mb << 20) - used) >> 10}\n"


def _plain_path(path: Path) -> bool:
    """Whether `path` can stand in smb.conf and a shell command unquoted."""
    return all(c.isalnum() or c in "/._-" for c in str(path))


RECYCLE = [
    "  vfs objects = recycle full_audit",
    f"  recycle:repository = {recycle.FOLDER}",
    "  recycle:keeptree = yes",
    "  recycle:versions = yes",  # a second file of the same name is kept as well
    "  recycle:touch = no",
    f"  recycle:exclude_dir = {recycle.FOLDER}",  # deleted inside the bin: gone
    "  recycle:directory_mode = 0755",
]


def smbpasswd(users: Iterable[User], nt_hashes: Mapping[str, str]) -> str:
    """smbpasswd lines for the enabled accounts that have an NT hash and may sign in
    without first changing their password or enrolling 2-step again ("X": the password
    does not expire in Samba)."""
    lines = []
    for user in users:
        digest = nt_hashes.get(user.name)
        if user.disabled or user.must_change_password or user.otp_reenrol or not digest \
                or not servable(user.name):
            continue
        changed = int(user.password_changed) & 0xFFFFFFFF
        lines.append(f"{user.name}:{user.uid}:{'X' * 32}:{digest}:[UX         ]:"
                     f"LCT-{changed:08X}:")
    return "".join(line + "\n" for line in lines)


def passwd(users: Iterable[User], server: Server) -> str:
    """The accounts smbd may become, for nss_wrapper (no shell, no home)."""
    lines = [f"{server.owner}:x:{server.owner_uid}:{server.owner_gid}::/nonexistent:"
             "/usr/sbin/nologin",
             "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin"]
    # Primary group "nogroup": group membership comes from the group file alone, so an
    # account taken out of `users` is out of @users for Samba too.
    lines += [f"{user.name}:x:{user.uid}:65534::/nonexistent:/usr/sbin/nologin"
              for user in users
              if servable(user.name) and user.name not in (server.owner, "nobody")]
    return "".join(line + "\n" for line in lines)


def group(groups: Iterable[Group], users: Iterable[User], server: Server) -> str:
    known = {user.name for user in users}
    lines = [f"{server.owner}:x:{server.owner_gid}:", "nogroup:x:65534:"]
    lines += [f"{g.name}:x:{g.gid}:{','.join(m for m in g.members if m in known and servable(m))}"
              for g in groups if servable(g.name) and g.gid != server.owner_gid]
    return "".join(line + "\n" for line in lines)
