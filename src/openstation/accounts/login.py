"""Signing in: the order of checks, Auto Block, the rate limit, 2-step, the blank admin.

Every refusal is a LoginRefused carrying DSM's auth code (DESIGN.md §7); the web layer maps
it to the envelope. An unknown account and a wrong password cost the same argon2 check and
give the same code.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pyotp

from openstation.accounts.failures import FailureCounter
from openstation.accounts.passwords import verify_password
from openstation.accounts.service import ADMIN, AccountService
from openstation.accounts.sessions import Session, Sessions
from openstation.config.sections import AutoBlock, BlockEntry, LoginSettings, PasswordPolicy, User
from openstation.config.store import ConfigStore
from openstation.errors import LoginRefused, SessionExpired, SessionRefused, StoreError
from openstation.security.machine_key import OTP, MachineKey
from openstation.security.tokens import same_token

# DSM's auth codes.
WRONG_CREDENTIALS = 400
DISABLED_ACCOUNT = 401
PERMISSION_DENIED = 402
OTP_REQUIRED = 403
OTP_FAILED = 404
OTP_ENFORCED = 406
BLOCKED_IP = 407
EXPIRED_CANNOT_CHANGE = 408
PASSWORD_EXPIRED = 409
MUST_CHANGE_PASSWORD = 410

# Independent of Auto Block: this many failures from one source within the window and
# further attempts are refused unchecked until the window has passed.
RATE_LIMIT_FAILURES = 20
RATE_LIMIT_WINDOW = 60.0
# Successful sign-ins from one source within the window (each costs an argon2 check and a
# session): beyond it, further attempts are refused unchecked. Auto Block's allow list is
# exempt (a monitoring host, a script).
SUCCESS_LIMIT = 120
OTP_STEP = 30  # seconds per TOTP code

MUST_CHANGE = "must_change_password"
ENROL_OTP = "enrol_otp"  # restored without its 2-step secret: may only enrol again
BLANK_ADMIN = "blank_admin"


@dataclass(frozen=True)
class LoginRequest:
    account: str
    password: str
    ip: str
    otp_code: str = ""
    device_id: str = ""  # a device token from an earlier 2-step login
    want_device_token: bool = False
    want_synotoken: bool = False
    session_name: str = ""


@dataclass(frozen=True)
class LoginResult:
    session: Session
    device_token: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def address_in(address: str, networks: list[str]) -> bool:
    """Whether `address` equals or lies inside any entry (IP or CIDR) of `networks`."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in networks:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class LoginService:
    """Checks credentials and opens sessions."""

    def __init__(self, store: ConfigStore, sessions: Sessions, clock: Callable[[], float],
                 local_networks: Callable[[], list[str]],
                 machine_key: MachineKey | None = None) -> None:
        self.machine_key = machine_key  # opens the sealed 2-step secrets
        self.store = store
        self.sessions = sessions
        self.clock = clock
        self.local_networks = local_networks  # the device's own subnets, for the blank admin
        self.accounts = AccountService(store)
        self.rate_limit = FailureCounter(RATE_LIMIT_FAILURES, RATE_LIMIT_WINDOW)
        self.successes = FailureCounter(SUCCESS_LIMIT, RATE_LIMIT_WINDOW)
        self._autoblock: FailureCounter | None = None
        self._otp_steps: dict[str, int] = {}  # account → the last TOTP step accepted

    async def login(self, request: LoginRequest) -> LoginResult:
        """Open a session or raise LoginRefused (the password is checked off the loop)."""
        now = self.clock()
        self._check_source(request.ip, now)
        user = self.store.record(User, request.account)
        if (user is not None and user.blank_password_until is not None
                and request.password == "" and user.name == ADMIN):
            return self._blank_admin(user, request, now)
        matches = await verify_password(user.password_hash if user else None,
                                        request.password)
        now = self.clock()  # the check may have waited its turn in a login storm
        if not matches or user is None:
            self.failed(request.ip, now)
            raise LoginRefused(WRONG_CREDENTIALS, "wrong account or password")
        if user.disabled:
            raise LoginRefused(DISABLED_ACCOUNT, "this account is disabled")
        device_token = self._second_step(user, request, now)
        restricted = MUST_CHANGE if user.must_change_password else \
            ENROL_OTP if user.otp_reenrol else ""
        self._check_expiry(user, now)
        self.rate_limit.clear(request.ip)
        if not address_in(request.ip, self.store.get(AutoBlock).allow):
            self.successes.record(request.ip, now)
        session = self.sessions.create(
            user.name, request.ip, synotoken=request.want_synotoken, restricted=restricted,
            name=request.session_name, administrator=self.accounts.is_administrator(user.name))
        return LoginResult(session, device_token)

    async def check_password(self, account: str, password: str, ip: str) -> User | None:
        """A file service's sign-in (SFTP): the account if it may use it, else None. The
        same source limits and Auto Block count as the web's; a blank password (the blank
        admin of Mode 1), a disabled account or one that must first change its password or
        enrol 2-step again is refused."""
        now = self.clock()
        try:
            self._check_source(ip, now)
        except LoginRefused:
            return None
        user = self.store.record(User, account)
        matches = await verify_password(user.password_hash if user else None, password)
        if not matches or user is None:
            self.failed(ip, self.clock())
            return None
        if user.disabled or user.must_change_password or user.otp_reenrol:
            return None
        try:
            self._check_expiry(user, now)
        except LoginRefused:
            return None
        self.rate_limit.clear(ip)
        return user

    def resume(self, sid: str, ip: str) -> Session:
        """The live session `sid` for a request from `ip` (Web API and pages alike).

        Changes made by another process (the CLI on the same data directory) end sessions
        too: a disabled, deleted or re-passworded account's session is dead.
        """
        try:
            session = self.sessions.get(sid)
        except SessionExpired:
            raise SessionRefused("expired") from None
        if session is None:
            raise SessionRefused("unknown")
        if session.ip != ip:
            raise SessionRefused("moved")
        user = self.store.record(User, session.user)
        if (user is None or user.disabled
                or (user.password_changed > session.created and not session.restricted)):
            self.sessions.end(sid)
            raise SessionRefused("revoked")
        return session

    # --- the steps -----------------------------------------------------------------------

    def _check_source(self, ip: str, now: float) -> None:
        # (An address Auto Block holds never gets here: the firewall gate refuses its
        # connections, security/gate.py.)
        for counter, what in ((self.rate_limit, "failed"), (self.successes, "successful")):
            if counter.over_limit(ip, now):
                wait = int(counter.retry_after(ip, now)) + 1
                raise LoginRefused(BLOCKED_IP, f"too many {what} sign-ins from this address; "
                                   f"try again in {wait} s", retry_after=wait)

    def failed(self, ip: str, now: float) -> bool:
        """A failed sign-in from `ip` (here, or reported by a file service such as smbd):
        the rate limit and Auto Block count it. Whether sign-ins from `ip` are refused now,
        for services that check passwords themselves (smbd)."""
        self._count_failure(ip, now)
        return self.rate_limit.over_limit(ip, now) or any(
            entry.address == ip for entry in self.store.get(AutoBlock).block)

    def _count_failure(self, ip: str, now: float) -> None:
        self.rate_limit.record(ip, now)
        settings = self.store.get(AutoBlock)
        if not settings.enabled or address_in(ip, settings.allow):
            return
        counter = self._autoblock
        window = settings.within_minutes * 60.0
        if counter is None or counter.limit != settings.attempts or counter.window != window:
            counter = self._autoblock = FailureCounter(settings.attempts, window)
        if counter.record(ip, now):
            counter.clear(ip)
            expires = now + settings.expire_days * 86400 if settings.expire_days else None
            with self.store.transaction("autoblock", "login") as tx:
                current = tx.get(AutoBlock)
                current.block = [e for e in current.block if e.address != ip]
                current.block.append(BlockEntry(address=ip, added=now, expires=expires))
                tx.put(current)

    def _blank_admin(self, user: User, request: LoginRequest, now: float) -> LoginResult:
        """After Mode 1: a blank `admin` password, only to set a new one, only for a while,
        only from loopback or the device's own subnet."""
        assert user.blank_password_until is not None
        if now > user.blank_password_until:
            self.failed(request.ip, now)
            raise LoginRefused(
                WRONG_CREDENTIALS,
                "the blank admin password expired; press RESET again (Mode 1) to sign in "
                "with a blank password")
        if not self._is_local(request.ip):
            raise LoginRefused(
                PERMISSION_DENIED,
                "a blank admin password is accepted only from this device's own network")
        session = self.sessions.create(user.name, request.ip, synotoken=request.want_synotoken,
                                       restricted=BLANK_ADMIN, name=request.session_name,
                                       administrator=True)
        return LoginResult(session)

    def _is_local(self, ip: str) -> bool:
        try:
            if ipaddress.ip_address(ip).is_loopback:
                return True
        except ValueError:
            return False
        return address_in(ip, self.local_networks())

    def _second_step(self, user: User, request: LoginRequest, now: float) -> str | None:
        if not user.otp_secret:
            if (self.store.get(LoginSettings).enforce_2step_admins
                    and self.accounts.is_administrator(user.name)):
                raise LoginRefused(OTP_ENFORCED, "2-step verification is required for "
                                   "administrators; set it up first")
            return None
        if request.device_id and hash_token(request.device_id) in user.device_tokens:
            return None
        if not request.otp_code:
            raise LoginRefused(OTP_REQUIRED, "enter the 2-step verification code")
        step = self._otp_step(user, request.otp_code, now)
        if step is None:
            self.failed(request.ip, now)
            raise LoginRefused(OTP_FAILED, "wrong 2-step verification code")
        self._otp_steps[user.name] = step
        if not request.want_device_token:
            return None
        token = secrets.token_urlsafe(24)
        with self.store.transaction(user.name, "login") as tx:
            current = tx.record(User, user.name)
            if current is not None:
                current.device_tokens = [*current.device_tokens[-9:], hash_token(token)]
                tx.put_record(current)
        return token

    def _otp_step(self, user: User, code: str, now: float) -> int | None:
        """The time step whose code `code` is (one step of clock drift either way), if it
        is newer than the last one this account used: each code works once."""
        secret = user.otp_secret
        if MachineKey.is_sealed(secret):
            if self.machine_key is None:
                return None
            try:
                secret = self.machine_key.open(secret, OTP)
            except StoreError:
                return None  # sealed by another machine key: enrol again
        totp = pyotp.TOTP(secret)
        current = int(now) // OTP_STEP
        for step in (current - 1, current, current + 1):
            if step > self._otp_steps.get(user.name, -1) and \
                    same_token(code, totp.at(step * OTP_STEP)):
                return step
        return None

    def _check_expiry(self, user: User, now: float) -> None:
        max_age = self.store.get(PasswordPolicy).max_age_days
        if not max_age or user.password_never_expires or not user.password_changed:
            return
        if now - user.password_changed > max_age * 86400:
            if user.cannot_change_password:
                raise LoginRefused(EXPIRED_CANNOT_CHANGE,
                                   "the password expired and this account cannot change it")
            raise LoginRefused(PASSWORD_EXPIRED, "the password expired; ask an administrator "
                               "to set a new one")
