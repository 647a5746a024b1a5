"""The accounts service: users and groups, through the configuration store."""

from __future__ import annotations

from openstation.accounts.passwords import hash_password, verify_password
from openstation.accounts.policy import name_problem, unmet_rules
from openstation.config.sections import Group, PasswordPolicy, User
from openstation.config.store import ConfigStore, Transaction
from openstation.errors import ConflictError, NotFoundError, ValidationError, WeakPasswordError

ADMIN = "admin"
GUEST = "guest"
ADMIN_UID = 1024
GUEST_UID = 1025
ADMINISTRATORS = "administrators"
USERS = "users"
FIRST_USER_UID = 1026


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


class AccountService:
    """Create, check and change accounts; every change is one audited transaction."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

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

    def create_user(self, name: str, password: str, *, actor: str, administrator: bool = False,
                    description: str = "", email: str = "") -> User:
        """Create an enabled user in `users` (and `administrators` if asked)."""
        problems: dict[str, str] = {}
        if (why := name_problem(name)) is not None:
            problems["name"] = why
        elif self.store.record(User, name) is not None:
            problems["name"] = f"a user named {name!r} already exists"
        weak = self.password_problems(name, password)
        if weak:
            problems["password"] = ", ".join(weak)
        if problems:
            raise (WeakPasswordError if list(problems) == ["password"] else ValidationError)(
                problems
            )
        with self.store.transaction(actor) as tx:
            uid = max([FIRST_USER_UID - 1, *(u.uid for u in tx.records(User))]) + 1
            user = User(name=name, uid=uid, description=description, email=email,
                        password_hash=hash_password(password))
            tx.put_record(user)
            self._join(tx, USERS, name)
            if administrator:
                self._join(tx, ADMINISTRATORS, name)
        return user

    def enable_with_password(self, name: str, password: str, *, actor: str,
                             administrator: bool = False) -> User:
        """Give an existing (system) account a strong password and enable it."""
        self.check_new_password(name, password)
        with self.store.transaction(actor) as tx:
            user = tx.record(User, name)
            if user is None:
                raise NotFoundError(f"no user named {name!r}")
            user.password_hash = hash_password(password)
            user.disabled = False
            user.must_change_password = False
            user.blank_password_until = None
            tx.put_record(user)
            if administrator:
                self._join(tx, ADMINISTRATORS, name)
        return user

    def check_login(self, name: str, password: str) -> User | None:
        """The user whose name and password match, else None (same cost either way)."""
        user = self.store.record(User, name)
        ok = verify_password(user.password_hash if user else None, password)
        return user if ok and user is not None else None

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
