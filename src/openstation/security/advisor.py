"""Security Advisor: checks of the device's own state, each a finding with DSM's category
and severity, and a score (pure: the shell gathers `Facts`; time is given).

The checks are the ones a person securing a NAS asks about: is `admin` on, does any account
sign in with a blank password, do administrators go without 2-step verification, are the
firewall and Auto Block off, are the management ports the well-known defaults, is the
certificate self-signed, can the guest account read a shared folder, is the newest
configuration backup old or missing. Passwords are salted hashes here, so "weak" is what the
device can know: a blank password still allowed (the window after a Mode 1 reset)."""

from __future__ import annotations

from dataclasses import dataclass, field

DAY = 86400.0
OLD_BACKUP_DAYS = 7

CATEGORIES = ("malware", "network", "securitySetting", "systemCheck", "update", "userInfo")
SEVERITIES = ("danger", "warning", "risk", "info", "outOfDate")
# What a failed check takes from the score of 100
PENALTY = {"danger": 30, "warning": 15, "risk": 10, "info": 5, "outOfDate": 5}


@dataclass(frozen=True)
class Check:
    id: str
    category: str
    severity: str  # when it fails
    title: str


CHECKS = (
    Check("admin_enabled", "userInfo", "warning",
          "The account named admin is enabled: disable it and use an account of your own"),
    Check("blank_password", "userInfo", "danger",
          "An account can sign in with a blank password"),
    Check("admin_without_2step", "userInfo", "warning",
          "An administrator signs in without 2-step verification"),
    Check("firewall_off", "network", "warning", "The firewall is off"),
    Check("autoblock_off", "securitySetting", "warning", "Auto Block is off"),
    Check("default_ports", "network", "info",
          "DSM is reached on the default ports 5000 and 5001"),
    Check("self_signed_certificate", "securitySetting", "info",
          "HTTPS uses a self-signed certificate"),
    Check("guest_can_read", "securitySetting", "warning",
          "The guest account is enabled and can read a shared folder"),
    Check("old_configuration_backup", "systemCheck", "info",
          f"The newest configuration backup is missing or older than {OLD_BACKUP_DAYS} days"),
    Check("update_available", "update", "outOfDate", "An update is available"),
)


@dataclass(frozen=True)
class Facts:
    """What the checks look at, read from the store and the device by the shell."""

    admin_enabled: bool
    blank_password_accounts: list[str]
    admins_without_2step: list[str]
    firewall_on: bool
    autoblock_on: bool
    ports: tuple[int, int]
    self_signed: bool
    guest_readable_shares: list[str]
    newest_backup: float | None  # epoch seconds
    update_available: bool


@dataclass(frozen=True)
class Finding:
    check: Check
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Scan:
    at: float
    findings: list[Finding] = field(default_factory=list)

    @property
    def score(self) -> int:
        return max(0, 100 - sum(PENALTY[f.check.severity] for f in self.findings
                                if not f.passed))

    @property
    def worst(self) -> str:
        """DSM's overall status: "safe", or the most severe failure."""
        failed = {f.check.severity for f in self.findings if not f.passed}
        return next((s for s in SEVERITIES if s in failed), "safe")


def scan(facts: Facts, now: float) -> Scan:
    def names(items: list[str]) -> str:
        return ", ".join(items)

    backup_age = None if facts.newest_backup is None else (now - facts.newest_backup) / DAY
    results = {
        "admin_enabled": (not facts.admin_enabled, ""),
        "blank_password": (not facts.blank_password_accounts,
                           names(facts.blank_password_accounts)),
        "admin_without_2step": (not facts.admins_without_2step,
                                names(facts.admins_without_2step)),
        "firewall_off": (facts.firewall_on, ""),
        "autoblock_off": (facts.autoblock_on, ""),
        "default_ports": (facts.ports != (5000, 5001), f"{facts.ports[0]}, {facts.ports[1]}"),
        "self_signed_certificate": (not facts.self_signed, ""),
        "guest_can_read": (not facts.guest_readable_shares,
                           names(facts.guest_readable_shares)),
        "old_configuration_backup": (backup_age is not None and backup_age <= OLD_BACKUP_DAYS,
                                     "none" if backup_age is None
                                     else f"{backup_age:.0f} days old"),
        "update_available": (not facts.update_available, ""),
    }
    return Scan(now, [Finding(check, *results[check.id]) for check in CHECKS])
