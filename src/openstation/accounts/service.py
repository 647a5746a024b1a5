"""The accounts service: users and groups, through the configuration store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from openstation import offload
from openstation.accounts.passwords import hash_password, verify_password
from openstation.accounts.policy import name_problem, unmet_rules
from openstation.config.sections import (
    FileServices,
    Group,
    LoginSettings,
    PasswordPolicy,
    Section,
    Share,
    User,
)
from openstation.config.store import ConfigStore, Transaction
from openstation.errors import ConflictError, NotFoundError, ValidationError, WeakPasswordError
from openstation.fileserv.ntlm import nt_hash
from openstation.names import normal, skeleton
from openstation.security.machine_key import OTP, SEALED_PREFIXES, SMB, MachineKey

S = TypeVar("S", bound=Section)

ADMIN = "admin"
GUEST = "guest"
ADMIN_UID = 1024
GUEST_UID = 1025
ADMINISTRATORS = "administrators"
USERS = "users"
FIRST_USER_UID = 1026


@dataclass(frozen=True)
class Credentials:
    """What a password becomes when it is set: its argon2id hash for signing in, and the
    sealed NT hash SMB needs ("" while SMB is off, or without a machine key)."""

    password_hash: str
    smb_hash: str = ""

    def apply(self, user: User, now: float) -> None:
        user.password_hash = self.password_hash
        user.smb_hash = self.smb_hash
        user.password_changed = now


def system_accounts() -> tuple[list[User], list[Group]]:
    """The accounts and groups every device has before anyone is created (disabled)."""
    users = [
        User(name=ADMIN, uid=ADMIN_UID, description="System default user", disabled=True,
             system=True),
        User(name=GUEST, uid=GUEST_UID, description="Guest", disabled=True, system=True),
    ]
    groups = [
        Group(name=ADMINISTRATORS, gid=101, description="System default admin group",
              members=[ADMIN], system=True),
        Group(name=USERS, gid=100, description="System default group",
              members=[ADMIN, GUEST], system=True),
    ]
    return users, groups


@dataclass
class UserChanges:
    """What `set_user` may change; None leaves a field as it is."""

    new_name: str | None = None
    password: str | None = None  # "" or None: unchanged
    description: str | None = None
    email: str | None = None
    disabled: bool | None = None
    cannot_change_password: bool | None = None
    password_never_expires: bool | None = None
    must_change_password: bool | None = None


class AccountService:
    """Create, check and change accounts; every change is one audited transaction."""

    def __init__(self, store: ConfigStore,
                 on_signed_out: Callable[[str], object] | None = None,
                 machine_key: MachineKey | None = None) -> None:
        self.store = store
        # Called with a user name whenever that user's sessions must end.
        self.on_signed_out = on_signed_out or (lambda _name: None)
        self.machine_key = machine_key  # seals 2-step secrets at rest (the device's)

    def seal_otp_secrets(self) -> int:
        """Seal 2-step secrets stored in clear (before they were sealed); how many."""
        if self.machine_key is None:
            return 0
        users = [user for key in self.store.keys_unlike(User, "otp_secret", SEALED_PREFIXES)
                 if (user := self.store.record(User, key)) is not None]
        if users:
            with self.store.transaction("system", "upgrade") as tx:
                for user in users:
                    user.otp_secret = self.machine_key.seal(user.otp_secret, OTP)
                    tx.put_record(user)
        return len(users)

    def ensure_system_accounts(self, actor: str = "system") -> None:
        """Create `admin`, `guest` and the system groups where they are missing."""
        users, groups = system_accounts()
        with self.store.transaction(actor) as tx:
            for user in users:
                if tx.record(User, user.name) is None:
                    tx.put_record(user)
            for group in groups:
                if tx.record(Group, group.name) is None:
                    tx.put_record(group)

    def password_problems(self, name: str, password: str) -> list[str]:
        """Every strong-password rule `password` breaks for user `name`."""
        return unmet_rules(password, name, self.store.get(PasswordPolicy))

    def check_new_password(self, name: str, password: str) -> None:
        """Raise WeakPasswordError naming each unmet rule."""
        problems = self.password_problems(name, password)
        if problems:
            raise WeakPasswordError({"password": ", ".join(problems)})

    async def create_user(self, name: str, password: str, *, actor: str,
                          administrator: bool = False, description: str = "",
                          email: str = "") -> User:
        """Create an enabled user in `users` (and `administrators` if asked)."""
        name = normal(name)
        self.check_new_user(name, password)
        credentials = await self.credentials(password)
        with self.store.transaction(actor) as tx:
            return self.add_user(tx, name, credentials, administrator=administrator,
                                 description=description, email=email)

    def check_new_user(self, name: str, password: str) -> None:
        """Raise one error naming every problem of a new account's name and password."""
        problems: dict[str, str] = {}
        if (why := name_problem(name)) is not None:
            problems["name"] = why
        elif (same := self._same_name(name)) is not None:
            problems["name"] = f"a user named {same!r} already exists"
        weak = self.password_problems(name, password)
        if weak:
            problems["password"] = ", ".join(weak)
        if problems:
            raise (WeakPasswordError if list(problems) == ["password"] else ValidationError)(
                problems
            )

    async def credentials(self, password: str) -> Credentials:
        """The stored forms of a new password, both made off the loop: argon2id, and the NT
        hash (made only while SMB is on, as DSM does; its first use imports pycryptodome)."""
        password_hash = await hash_password(password)
        key = self.machine_key
        smb_hash = ""
        if key is not None and self.store.get(FileServices).smb_enabled:
            smb_hash = await offload.run(lambda: key.seal(nt_hash(password), SMB))
        return Credentials(password_hash, smb_hash)

    def add_user(self, tx: Transaction, name: str, credentials: Credentials, *,
                 administrator: bool = False, description: str = "", email: str = "") -> User:
        """Store a checked new account whose password is hashed already (inside `tx`)."""
        if tx.record(User, name) is not None:  # made while the password was hashed
            raise ValidationError({"name": f"a user named {name!r} already exists"})
        uid = max(FIRST_USER_UID - 1, tx.highest(User, "uid") or 0) + 1
        user = User(name=name, uid=uid, description=description, email=email)
        credentials.apply(user, self.store.clock())
        tx.put_record(user)
        self._join(tx, USERS, name)
        if administrator:
            self._join(tx, ADMINISTRATORS, name)
        return user

    async def enable_with_password(self, name: str, password: str, *, actor: str,
                                   administrator: bool = False) -> User:
        """Give an existing (system) account a strong password and enable it."""
        self.check_new_password(name, password)
        credentials = await self.credentials(password)
        with self.store.transaction(actor) as tx:
            return self.enable(tx, name, credentials, administrator=administrator)

    def enable(self, tx: Transaction, name: str, credentials: Credentials, *,
               administrator: bool = False) -> User:
        """Enable an existing account with a hashed, checked password (inside `tx`)."""
        user = tx.record(User, name)
        if user is None:
            raise NotFoundError(f"no user named {name!r}")
        credentials.apply(user, self.store.clock())
        user.disabled = False
        user.must_change_password = False
        user.blank_password_until = None
        tx.put_record(user)
        if administrator:
            self._join(tx, ADMINISTRATORS, name)
        self.on_signed_out(name)
        return user

    async def set_user(self, name: str, changes: UserChanges, *, actor: str) -> User:
        """Change an account; every invalid field is reported together, nothing changes."""
        user = self.store.record(User, name)
        if user is None:
            raise NotFoundError(f"no user named {name!r}")
        problems: dict[str, str] = {}
        target = name
        if changes.new_name is not None:
            changes.new_name = normal(changes.new_name)
        if changes.new_name is not None and changes.new_name != name:
            if user.system:
                problems["new_name"] = f"the system account {name!r} cannot be renamed"
            elif (why := name_problem(changes.new_name)) is not None:
                problems["new_name"] = why
            elif (same := self._same_name(changes.new_name, but=name)) is not None:
                problems["new_name"] = f"a user named {same!r} already exists"
            target = changes.new_name
        if changes.password:
            weak = self.password_problems(target, changes.password)
            if weak:
                problems["password"] = ", ".join(weak)
        if changes.email is not None and changes.email and "@" not in changes.email:
            problems["email"] = "is not an e-mail address"
        if changes.disabled and not user.disabled and self._last_enabled_admin(name):
            problems["expired"] = "the last enabled administrator cannot be disabled"
        if problems:
            raise (WeakPasswordError if list(problems) == ["password"] else ValidationError)(
                problems)
        credentials = await self.credentials(changes.password) if changes.password else None
        with self.store.transaction(actor) as tx:
            fresh = tx.record(User, name)
            if fresh is None:  # deleted while the password was hashed
                raise NotFoundError(f"no user named {name!r}")
            if target != name and tx.record(User, target) is not None:  # made meanwhile
                raise ValidationError({"new_name": f"a user named {target!r} already exists"})
            if changes.disabled and not fresh.disabled and self._last_enabled_admin(name):
                raise ValidationError({"expired": "the last enabled administrator cannot be "
                                                  "disabled"})
            user = fresh
            if credentials is not None:
                credentials.apply(user, self.store.clock())
                user.blank_password_until = None
                user.must_change_password = False
            for field_name in ("description", "email", "disabled", "cannot_change_password",
                               "password_never_expires", "must_change_password"):
                value = getattr(changes, field_name)
                if value is not None:
                    setattr(user, field_name, value)
            if target != name:
                tx.delete_record(User, name)
                user.name = target
                for group in tx.records(Group):
                    if name in group.members:
                        group.members = [target if m == name else m for m in group.members]
                        tx.put_record(group)
            tx.put_record(user)
        if changes.password or changes.disabled or target != name:
            self.on_signed_out(name)
        return user

    async def change_own_password(self, name: str, old: str, new: str) -> None:
        """A user changing their own password, proving the old one."""
        user = self.store.record(User, name)
        if user is None or not await verify_password(user.password_hash, old):
            raise ValidationError({"old_password": "is wrong"})
        if user.cannot_change_password:
            raise ConflictError("this account is not allowed to change its password")
        await self.set_user(name, UserChanges(password=new), actor=name)

    def delete_user(self, name: str, *, actor: str) -> None:
        """Delete an account (never a system account or the last enabled administrator)."""
        user = self.store.record(User, name)
        if user is None:
            raise NotFoundError(f"no user named {name!r}")
        if user.system:
            raise ConflictError(f"the system account {name!r} cannot be deleted")
        if self._last_enabled_admin(name):
            raise ConflictError("the last enabled administrator cannot be deleted")
        with self.store.transaction(actor) as tx:
            tx.delete_record(User, name)
            for group in tx.records(Group):
                if name in group.members:
                    group.members = [m for m in group.members if m != name]
                    tx.put_record(group)
            for share in tx.records(Share):  # whoever gets this uid next starts with nothing
                if share.permissions.pop(f"uid:{user.uid}", None) is not None:
                    tx.put_record(share)
        self.on_signed_out(name)

    def delete_users(self, names: list[str], *, actor: str) -> None:
        """Delete several accounts: all of them, or none."""
        with self.store.transaction(actor):
            for name in names:
                self.delete_user(name, actor=actor)

    def set_password_policy(self, actor: str, **changes: Any) -> PasswordPolicy:
        """Change the strong-password rules (None leaves a rule as it is): the one place
        they are checked, for the Web API, the pages and the CLI."""
        return self._set(actor, PasswordPolicy, changes, {"min_length": (1, 127),
                                                         "max_age_days": (0, 3650)})

    def set_login_settings(self, actor: str, **changes: Any) -> LoginSettings:
        """Session idle timeout, the blank-admin window, 2-step for administrators."""
        return self._set(actor, LoginSettings, changes, {
            "session_timeout_minutes": (1, 10080), "blank_admin_window_minutes": (1, 1440)})

    def _set(self, actor: str, cls: type[S], changes: dict[str, Any],
             ranges: dict[str, tuple[int, int]]) -> S:
        current = self.store.get(cls)
        problems: dict[str, str] = {}
        for field_name, value in changes.items():
            if value is None:
                continue
            if not hasattr(current, field_name):
                problems[field_name] = "unknown setting"
                continue
            low, high = ranges.get(field_name, (None, None))
            if low is not None and high is not None and not low <= value <= high:
                problems[field_name] = f"must be {low}-{high}"
                continue
            setattr(current, field_name, value)
        if problems:
            raise ValidationError(problems)
        with self.store.transaction(actor) as tx:
            tx.put(current)
        return current

    def enrol_otp(self, name: str, secret: str) -> None:
        """Turn 2-step verification on for `name` with a secret it has just proven."""
        with self.store.transaction(name) as tx:
            user = tx.record(User, name)
            if user is None:
                raise NotFoundError(f"no user named {name!r}")
            user.otp_secret = secret if self.machine_key is None else \
                self.machine_key.seal(secret, OTP)
            user.otp_reenrol = False
            tx.put_record(user)

    def users(self) -> list[User]:
        return self.store.records(User)

    def user(self, name: str) -> User | None:
        return self.store.record(User, name)

    def groups(self) -> list[Group]:
        return self.store.records(Group)

    def policy(self) -> PasswordPolicy:
        return self.store.get(PasswordPolicy)

    def administrators(self) -> list[str]:
        group = self.store.record(Group, ADMINISTRATORS)
        return list(group.members) if group else []

    def _same_name(self, name: str, but: str = "") -> str | None:
        """An existing account whose name reads the same as `name` (case and compatibility
        forms folded), other than `but`."""
        wanted = skeleton(name)
        return next((key for key in self.store.keys(User)
                     if key != but and skeleton(key) == wanted), None)

    def _last_enabled_admin(self, name: str) -> bool:
        """Whether `name` is the only enabled administrator left."""
        enabled = []
        for member in self.administrators():
            user = self.store.record(User, member)
            if user is not None and not user.disabled:
                enabled.append(member)
        return enabled == [name]

    async def check_login(self, name: str, password: str) -> User | None:
        """The user whose name and password match, else None (same cost either way)."""
        user = self.store.record(User, name)
        ok = await verify_password(user.password_hash if user else None, password)
        return user if ok and user is not None else None

    def change_members(self, group_name: str, *, actor: str, add: list[str],
                       remove: list[str]) -> Group:
        """Control Panel > Group > Edit > Members: accounts join or leave `group_name`."""
        return self.change_memberships([(group_name, add, remove)], actor=actor)[0]

    def change_memberships(self, changes: list[tuple[str, list[str], list[str]]], *,
                           actor: str) -> list[Group]:
        """Groups gain and lose members ((group, add, remove) each), all or nothing, in
        one transaction. Every account stays in `users`; the last enabled administrator
        stays in `administrators`; a demoted administrator's sessions end."""
        problems: dict[str, str] = {}
        for group_name, add, remove in changes:
            if not all(isinstance(name, str) for name in [group_name, *add, *remove]):
                raise ValidationError({"members": "names are text"})
            if self.store.record(Group, group_name) is None:
                problems[f"group:{group_name}"] = "no such group"
            for name in dict.fromkeys([*add, *remove]):
                if self.store.record(User, name) is None:
                    problems[f"{group_name}.members"] = f"no account named {name!r}"
            if group_name == USERS and remove:
                problems[f"{group_name}.members"] = "every account is in the users group"
        if problems:
            raise ValidationError(problems)
        demoted: list[str] = []
        groups: list[Group] = []
        with self.store.transaction(actor) as tx:  # read again inside: what is checked
            for group_name, add, remove in changes:  # is what is changed
                group = tx.record(Group, group_name)
                if group is None:  # deleted since it was checked
                    raise NotFoundError(f"no group named {group_name!r}")
                leaving, present = set(remove), set(group.members)
                staying = [m for m in group.members if m not in leaving] + [
                    m for m in dict.fromkeys(add) if m not in present and m not in leaving]
                if group_name == ADMINISTRATORS:
                    if not any((u := tx.record(User, m)) is not None and not u.disabled
                               for m in staying):
                        raise ValidationError({f"{group_name}.members": (
                            "the last enabled administrator stays one")})
                    demoted += [m for m in group.members if m in leaving]
                group.members = staying
                tx.put_record(group)
                groups.append(group)
        for name in demoted:  # their sessions were an administrator's
            self.on_signed_out(name)
        return groups

    def is_administrator(self, name: str) -> bool:
        group = self.store.record(Group, ADMINISTRATORS)
        return group is not None and name in group.members

    def _join(self, tx: Transaction, group_name: str, member: str) -> None:
        group = tx.record(Group, group_name)
        if group is None:
            raise ConflictError(f"system group {group_name!r} is missing")
        if member not in group.members:
            group.members.append(member)
            tx.put_record(group)
