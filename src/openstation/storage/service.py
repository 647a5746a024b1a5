"""The storage service: shared folders on volume1, encryption, mounts and Key Manager.

Deleting a shared folder is the only operation in openstation that removes user data: an
administrator, an explicit confirmation, an audit entry. Everything else only reads the
volume or writes inside a share on a user's request.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import Any

from openstation import offload
from openstation.accounts.service import ADMINISTRATORS
from openstation.config.sections import (
    Group,
    KeyEntry,
    Protection,
    Right,
    Share,
    StorageSettings,
    User,
)
from openstation.config.store import ConfigStore, RowChange, Transaction
from openstation.errors import (
    ConflictError,
    NotFoundError,
    NotMountedError,
    OpenStationError,
    UserInputError,
    ValidationError,
    WrongKeyError,
)
from openstation.names import normal, skeleton
from openstation.security.machine_key import KEY_MANAGER, MachineKey
from openstation.storage import crypto, gocrypt
from openstation.storage.permissions import NO_ACCESS, access, by_name
from openstation.storage.permissions import by_id as permissions_by_id
from openstation.storage.quota import Quotas
from openstation.storage.volume import (
    SHARE_METADATA,
    ShareMetadata,
    metadata_folder,
    read_share_metadata,
    scan_shares,
    share_name_problem,
    write_share_metadata,
)

RESERVE_FOR = 2.0  # seconds the reserve setting is kept for (a change: read at once)


def quota_problem(quota_mb: object) -> str | None:
    """Why `quota_mb` is not a share quota in MB (0: none), or None."""
    if not isinstance(quota_mb, int) or isinstance(quota_mb, bool) or \
            not 0 <= quota_mb <= 1 << 40:
        return "a size in MB (0: no quota)"
    return None


class StorageService:
    """Shared folders: creation, settings, deletion, encryption and mounts."""

    def __init__(self, store: ConfigStore, volume: Path,
                 machine_key: MachineKey | None = None) -> None:
        self.store = store
        self.volume = volume
        self.machine_key = machine_key
        self.mounts = gocrypt.Mounts(volume, lost=self._mounts_changed)  # a restart unmounts all
        # Told when shares are mounted or unmounted (smbd's configuration follows).
        self.mounts_changed: list[Callable[[], Awaitable[None]]] = []
        self.claimed = 0  # bytes set aside by uploads in flight (filestation.upload)
        self.quotas = Quotas(store, volume)
        self._claims = threading.Lock()
        self._reserve_read: tuple[float, int] = (-RESERVE_FOR - 1, 0)  # (when, MB)
        store.listeners.append(self._committed)
        # Told of every write made through the device, after it is made (HA replication).
        self.changed: Callable[[Path], None] = lambda _path: None
        self.renamed: Callable[[Path, Path], None] = lambda _src, _dst: None

    # --- shares --------------------------------------------------------------------------

    def _committed(self, rows: list[RowChange]) -> None:
        """(After any commit.) A changed reserve is read again at the next write."""
        if any(row.section == StorageSettings.section for row in rows):
            self._reserve_read = (-RESERVE_FOR - 1, 0)

    def reserve(self, total: int) -> int:
        """Bytes of a volume of `total` bytes uploads must leave free (the storage setting,
        or the default of max(1 GiB, 5 %))."""
        now = time.monotonic()
        if now - self._reserve_read[0] > RESERVE_FOR:  # asked on every SFTP packet
            self._reserve_read = (now, self.store.get(StorageSettings).reserve_mb)
        configured = self._reserve_read[1]
        return configured << 20 if configured else max(1 << 30, total // 20)

    def room(self, share: str | None = None) -> int:
        """Bytes uploads may still write (negative: none), less what those in flight
        have claimed: above the volume's reserve, and within `share`'s quota."""
        usage = shutil.disk_usage(self.volume)
        free = usage.free - self.reserve(usage.total) - self.claimed
        left = self.quotas.room(share) if share is not None else None
        return free if left is None else min(free, left)

    def claim(self, size: int, share: str | None = None) -> bool:
        """Set `size` bytes aside for an upload, if they fit above the reserve (and in
        `share`'s quota)."""
        with self._claims:  # uploads on the loop, copy tasks in their threads
            if size > self.room(share):
                return False
            self.claimed += size
            if share is not None:
                self.quotas.claim(share, size)
            return True

    def release(self, size: int, share: str | None = None) -> None:
        with self._claims:
            self.claimed = max(0, self.claimed - size)
            if share is not None:
                self.quotas.release(share, size)

    def share(self, name: str) -> Share:
        share = self.store.record(Share, name)
        if share is None:
            raise NotFoundError(f"no shared folder named {name!r}")
        return share

    async def create_share(self, name: str, *, actor: str, description: str = "",
                           encrypted: bool = False, passphrase: str | None = None,
                           hidden: bool = False, recycle_bin: bool = False,
                           permissions: dict[str, str] | None = None,
                           quota_mb: int = 0) -> Share:
        """Create a shared folder on volume1 (encrypted with `passphrase` if asked)."""
        name = normal(name)
        self.store.check_writes("storage")  # before anything reaches volume1
        problems: dict[str, str] = {}
        if (why := share_name_problem(name)) is not None:
            problems["name"] = why
        elif (self.volume / name).exists() or gocrypt.cipher_dir(self.volume, name).exists() \
                or any(skeleton(key) == skeleton(name) for key in self.store.keys(Share)):
            problems["name"] = f"a shared folder named {name!r} already exists"
        if encrypted and (not passphrase or len(passphrase) < 8):
            problems["passphrase"] = "an encrypted shared folder needs a passphrase of 8+ " \
                                     "characters"
        keyed, wrong = self.keyed({f"group:{ADMINISTRATORS}": "rw", **(permissions or {})})
        problems.update(wrong)
        if why := quota_problem(quota_mb):
            problems["share_quota"] = why
        if problems:
            raise ValidationError(problems)
        if encrypted:
            gocrypt.require()
        now = self.store.clock()
        share = Share(name=name, uuid=str(uuidlib.uuid4()), description=description,
                      hidden=hidden, recycle_bin=recycle_bin, encrypted=encrypted,
                      created=now, permissions=rights(keyed), quota_mb=quota_mb)
        header = None
        data_key = None
        if encrypted:
            assert passphrase is not None
            data_key = crypto.new_data_key()
            header = {"wrap": await offload.run(crypto.wrap_with_passphrase, data_key,
                                                passphrase),
                      "check": crypto.key_check(data_key)}
        folder = metadata_folder(self.volume, name, encrypted)
        if folder.exists() or (self.volume / name).exists():  # made while the key was derived
            raise ValidationError({"name": f"a shared folder named {name!r} already exists"})
        folder.mkdir(mode=0o755)
        try:
            if data_key is not None:
                await gocrypt.initialise(folder, crypto.mount_password(data_key))
            await offload.run(write_share_metadata, folder,  # fsyncs: off the loop
                              ShareMetadata(name, share.uuid, encrypted, now, header))
            with self.store.transaction(actor) as tx:
                tx.put_record(share)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # new and empty: nothing is lost
            raise
        self.changed(folder)
        if data_key is not None:  # a new encrypted share is mounted
            await self._mount(name, data_key)
        return share

    def set_share(self, name: str, *, actor: str, description: str | None = None,
                  hidden: bool | None = None, recycle_bin: bool | None = None,
                  permissions: dict[str, str] | None = None,
                  mount_on_startup: bool | None = None, quota_mb: int | None = None) -> Share:
        share = self.share(name)
        keyed, problems = self.keyed(permissions or {})
        if quota_mb is not None and (why := quota_problem(quota_mb)):
            problems["share_quota"] = why
        if mount_on_startup and not share.encrypted:
            problems["mount_on_startup"] = "only encrypted shared folders are mounted"
        elif mount_on_startup and self.store.record(KeyEntry, name) is None:
            problems["mount_on_startup"] = "add the share's key to Key Manager first"
        if problems:
            raise ValidationError(problems)
        for field, value in (("description", description), ("hidden", hidden),
                             ("recycle_bin", recycle_bin),
                             ("permissions", None if permissions is None else rights(keyed)),
                             ("mount_on_startup", mount_on_startup), ("quota_mb", quota_mb)):
            if value is not None:
                setattr(share, field, value)
        with self.store.transaction(actor) as tx:
            tx.put_record(share)
        return share

    async def delete_share(self, name: str, *, actor: str, confirm: bool) -> None:
        """Delete a shared folder AND ITS DATA: the one destructive operation there is."""
        self.store.check_writes("storage")  # before anything reaches volume1
        share = self.share(name)
        if not confirm:
            raise ConflictError(f"deleting {name!r} removes all of its files: confirm it")
        if name in self.mounts:  # first: the record tells HA that its paths are ciphertext
            await self.unmount(name)
        with self.store.transaction(actor, "storage") as tx:
            tx.delete_record(Share, name)
            if tx.record(KeyEntry, name) is not None:
                tx.delete_record(KeyEntry, name)
            tx.audit("delete-data", "shares", name, {"uuid": share.uuid, "data": "deleted"})
        folder = metadata_folder(self.volume, name, share.encrypted)
        if folder.is_dir() and not folder.is_symlink():
            await offload.run(shutil.rmtree, folder)  # a whole share: seconds, maybe
        self.changed(folder)

    def register_from_volume(self, tx: Transaction) -> tuple[list[str], list[str]]:
        """Register every share found on volume1 that the store lacks (reinstall).

        Reads metadata only; never writes to the volume. Encrypted shares come back
        unmounted. Returns the names registered and a line per unusable folder.
        """
        found, problems = scan_shares(self.volume)
        registered: list[str] = []
        for meta in found:
            if tx.record(Share, meta.name) is not None:
                continue
            admins = tx.record(Group, ADMINISTRATORS)
            tx.put_record(Share(name=meta.name, uuid=meta.uuid, encrypted=meta.encrypted,
                                created=meta.created, permissions={
                                    f"gid:{admins.gid if admins else 101}": Right.READ_WRITE}))
            registered.append(meta.name)
        return registered, problems

    # --- encryption and mounts -----------------------------------------------------------

    def principals(self, user: str) -> tuple[int, list[int]] | None:
        """`user`'s uid and the gids of its groups (None: no such account); look them up
        once for many shares."""
        account = self.store.record(User, user)
        if account is None:
            return None
        return account.uid, [g.gid for g in self.store.records(Group) if user in g.members]

    def right(self, user: str, share: Share,
              principals: tuple[int, list[int]] | None = None) -> str:
        """What `user` (whose `principals` are looked up if not given) may do in `share`."""
        ids = principals or self.principals(user)
        return NO_ACCESS if ids is None else access(share.permissions, *ids)

    def readable(self, user: str) -> list[tuple[Share, str]]:
        """The shares `user` may read now (an encrypted one while mounted), with the right."""
        ids = self.principals(user)
        rights = [(share, self.right(user, share, ids))
                  for share in self.store.records(Share) if self.is_mounted(share)]
        return [(share, right) for share, right in rights if right != NO_ACCESS]

    def keyed(self, permissions: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """Rights naming accounts and groups, keyed by their ids (and the problems)."""
        return by_id(self.store, permissions)

    def named(self, share: Share) -> dict[str, str]:
        """`share`'s rights as people read them ("user:alice": "rw")."""
        return by_name(share.permissions, _owners(self.store, share.permissions))

    def upgrade_permissions(self) -> int:
        """Re-key rights stored by name (before ids) by id; the shares changed."""
        changed = 0
        for share in self.store.records(Share):
            if all(key.startswith(("uid:", "gid:")) for key in share.permissions):
                continue
            keyed, _ = self.keyed(dict(share.permissions))  # an unknown name is dropped
            share.permissions = rights(keyed)
            with self.store.transaction("system", "upgrade") as tx:
                tx.put_record(share)
            changed += 1
        return changed

    def header(self, name: str) -> dict[str, Any]:
        header = read_share_metadata(metadata_folder(self.volume, name, True)
                                     ).encryption_header
        if not isinstance(header, dict):
            raise UserInputError(f"{name!r} is not an encrypted shared folder")
        return header

    async def data_key(self, name: str, passphrase: str | None = None,
                       key_file: bytes | None = None) -> bytes:
        """The share's data key, from a key file or the passphrase (scrypt, off the loop)."""
        share = self.share(name)
        if not share.encrypted:
            raise UserInputError(f"{name!r} is not an encrypted shared folder")
        header = self.header(name)
        if key_file is not None:
            return crypto.key_from_file(key_file, share.uuid, header["check"])
        if passphrase:
            return await offload.run(crypto.unwrap_with_passphrase, header["wrap"], passphrase)
        raise ValidationError({"passphrase": "give the passphrase or the key file"})

    async def mount(self, name: str, *, passphrase: str | None = None,
                    key_file: bytes | None = None) -> None:
        gocrypt.require()
        await self._mount(name, await self.data_key(name, passphrase, key_file))

    async def _mount(self, name: str, data_key: bytes) -> None:
        # An HA passive mounts nothing: the active rewrites the ciphertext under it.
        self.store.check_writes("storage")
        await self.mounts.mount(name, await offload.run(crypto.mount_password, data_key))
        await self._mounts_changed()

    async def unmount(self, name: str) -> None:
        """Refused at once; smbd drops the share before gocryptfs stops, so no client can
        write into the bare mount point in between."""
        self.share(name)
        await self.mounts.unmount(name, before_stop=self._mounts_changed)

    async def _mounts_changed(self) -> None:
        for follow in self.mounts_changed:
            await follow()

    def encryption_status(self) -> dict[str, Any]:
        """Whether encrypted shares can be used here (why not), and those mounted."""
        why = gocrypt.unavailable()
        return {"available": why is None, "why": why or "", "mounted": self.mounts.names()}

    def is_mounted(self, share: Share) -> bool:
        """Whether `share` can be reached: a plain one always, an encrypted one mounted."""
        return not share.encrypted or share.name in self.mounts

    def reachable(self, share: Share) -> None:
        """NotMountedError for an encrypted share that is not mounted."""
        if not self.is_mounted(share):
            raise NotMountedError(f"the encrypted shared folder {share.name!r} is not mounted")

    def shares(self) -> list[Share]:
        return self.store.records(Share)

    def key_entries(self) -> list[KeyEntry]:
        return self.store.records(KeyEntry)

    def unmount_all(self) -> Coroutine[Any, Any, None]:
        """Mode 1: every encrypted shared folder counts as unmounted at once; the returned
        work waits for gocryptfs to finish unmounting."""
        gone = self.mounts.forget_all()

        async def finish() -> None:
            await self.mounts.finish(gone)
            await self._mounts_changed()

        return finish()

    async def close(self) -> None:
        await self.mounts.close()

    async def on_volume(self, rel: str) -> str | None:
        """Where the bytes of volume path `rel` are: itself, or in an encrypted share its
        ciphertext (None: that share is not mounted, so it cannot be told)."""
        name, _, inside = rel.partition("/")
        share = self.store.record(Share, name)
        encrypted = (share is not None and share.encrypted) or name in self.mounts \
            or gocrypt.cipher_dir(self.volume, name).is_dir()  # a record deleted since
        if not encrypted:
            return rel
        cipher = await self.mounts.cipher_path(name, inside)
        folder = gocrypt.cipher_dir(self.volume, name).name
        return None if cipher is None else f"{folder}/{cipher}".rstrip("/")

    async def clear_stale_mounts(self) -> None:
        """At boot: mounts a killed device left behind are detached."""
        await gocrypt.clear_stale(self.volume, [s.name for s in self.store.records(Share)
                                                if s.encrypted])

    async def export_key(self, name: str, passphrase: str) -> bytes:
        share = self.share(name)
        return crypto.key_file(await self.data_key(name, passphrase), share.name, share.uuid)

    async def change_passphrase(self, name: str, old: str, new: str, actor: str) -> None:
        self.store.check_writes("storage")  # before anything reaches volume1
        if len(new) < 8:
            raise ValidationError({"new_passphrase": "at least 8 characters"})
        data_key = await self.data_key(name, old)
        share = self.share(name)
        header = {"wrap": await offload.run(crypto.wrap_with_passphrase, data_key, new),
                  "check": self.header(name)["check"]}  # the same key: the same format
        folder = metadata_folder(self.volume, name, True)
        await offload.run(write_share_metadata, folder,
                          ShareMetadata(name, share.uuid, True, share.created, header))
        self.changed(folder / SHARE_METADATA)
        with self.store.transaction(actor, "storage") as tx:
            tx.audit("set", "shares", name, {"passphrase": ["***", "***"]})

    # --- Key Manager ---------------------------------------------------------------------

    async def key_manager_add(self, name: str, *, actor: str, passphrase: str | None = None,
                              key_file: bytes | None = None, protection: str = "machine",
                              keystore_passphrase: str | None = None) -> KeyEntry:
        """Store a share's key for automount, under the machine key or a key-store passphrase."""
        data_key = await self.data_key(name, passphrase, key_file)
        encoded = base64.b64encode(data_key).decode()
        if protection == "machine":
            if self.machine_key is None:
                raise ConflictError("no machine key")
            wrapped = self.machine_key.seal(encoded, KEY_MANAGER)
        elif protection == "passphrase":
            if not keystore_passphrase or len(keystore_passphrase) < 8:
                raise ValidationError({"keystore_passphrase": "at least 8 characters"})
            wrapped = json.dumps(await offload.run(crypto.wrap_with_passphrase, data_key,
                                                   keystore_passphrase))
        else:
            raise ValidationError({"protection": "machine or passphrase"})
        entry = KeyEntry(share=name, protection=Protection(protection), wrapped_key=wrapped,
                         created=self.store.clock())
        with self.store.transaction(actor, "storage") as tx:
            tx.put_record(entry)
        return entry

    def key_manager_delete(self, name: str, *, actor: str) -> None:
        with self.store.transaction(actor, "storage") as tx:
            tx.delete_record(KeyEntry, name)

    async def key_manager_mount(self, name: str, keystore_passphrase: str | None = None
                                ) -> None:
        """Mount from Key Manager (a passphrase-protected entry needs the key-store's)."""
        entry = self.store.record(KeyEntry, name)
        if entry is None:
            raise NotFoundError(f"Key Manager holds no key for {name!r}")
        if entry.protection == "machine":
            if self.machine_key is None:
                raise ConflictError("no machine key")
            data_key = base64.b64decode(self.machine_key.open(entry.wrapped_key, KEY_MANAGER))
        else:
            if not keystore_passphrase:
                raise ValidationError({"keystore_passphrase": "needed for this key"})
            data_key = await offload.run(crypto.unwrap_with_passphrase,
                                         json.loads(entry.wrapped_key), keystore_passphrase)
        share = self.share(name)
        if not crypto.opens(data_key, self.header(name)["check"]):
            raise WrongKeyError(f"Key Manager's key does not open {share.name!r}")
        gocrypt.require()
        await self._mount(name, data_key)

    async def automount(self) -> list[str]:
        """At boot: mount every share set to mount on startup whose key the machine holds."""
        mounted = []
        for share in self.store.records(Share):
            entry = self.store.record(KeyEntry, share.name)
            if share.encrypted and share.mount_on_startup and entry is not None \
                    and entry.protection == "machine":
                try:
                    await self.key_manager_mount(share.name)
                except (OpenStationError, ValueError, OSError):
                    continue  # a key that no longer opens: the share stays unmounted
                mounted.append(share.name)
        return mounted


def by_id(source: ConfigStore | Transaction, permissions: Mapping[str, str]
          ) -> tuple[dict[str, str], dict[str, str]]:
    """`permissions.by_id` with the accounts and groups of `source` (a store, or the
    transaction that is restoring them)."""
    def uid_of(name: str) -> int | None:
        user = source.record(User, normal(name))
        return user.uid if user else None

    def gid_of(name: str) -> int | None:
        group = source.record(Group, normal(name))
        return group.gid if group else None

    keyed, problems = permissions_by_id(permissions, uid_of, gid_of)
    existing = _owners(source, keyed)
    for key in [key for key in keyed if key not in existing]:
        problems[f"permissions.{key}"] = "there is no such account or group"
        del keyed[key]
    return keyed, problems


def set_reserve(store: ConfigStore, actor: str, reserve_mb: int) -> StorageSettings:
    """How much of volume1 uploads leave free (MiB; 0: the default, max(1 GiB, 5 %))."""
    if not 0 <= reserve_mb <= 1 << 30:
        raise ValidationError({"reserve_mb": "0 (the default) or a size in MiB"})
    settings = StorageSettings(reserve_mb=reserve_mb)
    with store.transaction(actor) as tx:
        tx.put(settings)
    return settings


def _owners(source: ConfigStore | Transaction, keys: Iterable[str]) -> dict[str, str]:
    """{"uid:1026": "alice", …} for the rights keys whose account or group exists (one
    query per kind, without decoding every account)."""
    wanted: dict[str, list[int]] = {"uid": [], "gid": []}
    for key in keys:
        kind, _, number = key.partition(":")
        if kind in wanted and number.isdigit():
            wanted[kind].append(int(number))
    return {f"{kind}:{number}": name
            for kind, cls in (("uid", User), ("gid", Group))
            for number, name in source.keys_by(cls, kind, wanted[kind]).items()}


def prune_rights(tx: Transaction) -> int:
    """Drop rights of accounts and groups that no longer exist (after a restore replaced
    them): whoever gets such an id next must start with nothing. The shares changed."""
    shares, changed = tx.records(Share), 0
    existing = _owners(tx, (key for share in shares for key in share.permissions))
    for share in shares:
        kept = {key: level for key, level in share.permissions.items() if key in existing}
        if kept != share.permissions:
            share.permissions = kept
            tx.put_record(share)
            changed += 1
    return changed


def rights(permissions: Mapping[str, str]) -> dict[str, Right]:
    """Checked permissions (see `permission_problems`) with their values typed."""
    return {principal: Right(level) for principal, level in permissions.items()}
