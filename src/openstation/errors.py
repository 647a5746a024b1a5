"""Every error openstation raises on purpose: one base, our own faults apart from the peer's."""

from __future__ import annotations


class OpenStationError(Exception):
    """Base of every error openstation raises on purpose; its message is shown to users."""


class UserInputError(OpenStationError):
    """The caller asked for something invalid; nothing was changed."""


class ValidationError(UserInputError):
    """One or more fields are invalid; `problems` maps a dotted path to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{key}: {why}" for key, why in self.problems.items()))


class WeakPasswordError(ValidationError):
    """A password fails the strong-password policy; each unmet rule is named."""


class NotFoundError(UserInputError):
    """The named thing (user, share, section, device) does not exist."""


class ConflictError(UserInputError):
    """The request conflicts with the device's state (e.g. installing a Ready device)."""


class DataDirError(OpenStationError):
    """The data directory is missing, unwritable, or not an openstation data directory."""


class StoreError(OpenStationError):
    """The configuration database is corrupt, from a newer version, or unusable."""


class PortInUseError(OpenStationError):
    """A port the device must listen on is already taken."""


class DeviceNotRunningError(OpenStationError):
    """No device process answers on this data directory's control socket."""


class PeerError(OpenStationError):
    """A peer (device, client, remote NAS) answered something we cannot use."""


class PermissionDeniedError(UserInputError):
    """The user may not do this to this file or shared folder."""


class AlreadyExistsError(UserInputError):
    """A file, folder or shared folder of that name already exists."""


class NoSpaceError(UserInputError):
    """The volume has no room for this."""


class IllegalPathError(UserInputError):
    """A path or name that is not allowed (.., NUL, '/', outside the share, too long)."""


class NotMountedError(UserInputError):
    """The encrypted shared folder is not mounted: its content cannot be read."""


class ClusterError(UserInputError):
    """A High Availability or VMM cluster request that cannot be carried out, and why."""


class BusyError(OpenStationError):
    """Too much of one kind of work is already queued (a login storm); try again later."""


class ApiError(OpenStationError):
    """Ends a Web API call with `{"success": false, "error": {"code": code, ...}}`."""

    def __init__(self, code: int, **extra: object) -> None:
        super().__init__(f"DSM error {code}")
        self.code = code
        self.extra = extra


class BackupError(UserInputError):
    """A backup file that cannot be restored (corrupt, newer, wrong passphrase, …)."""


class FindhostError(OpenStationError, ValueError):
    """A packet that is not a well-formed findhost packet."""


class IntegrityError(UserInputError):
    """Encrypted data that does not authenticate: altered, truncated or the wrong key."""


class WrongKeyError(UserInputError):
    """The passphrase or key file does not open this share."""


class ReplicationError(PeerError):
    """A replicated write the passive refuses (bad path, checksum mismatch)."""


class SessionExpired(OpenStationError):
    """The session existed but was idle longer than the timeout."""


class LoginRefused(OpenStationError):
    """A refused login, with DSM's code and a sentence for people."""

    def __init__(self, code: int, reason: str, **extra: object) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.extra = extra


class SessionRefused(OpenStationError):
    """A session that cannot be used: `reason` is unknown, expired, moved or revoked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ResetRefused(ConflictError):
    """The device cannot be reset now (busy, or nothing to reset)."""


class IllegalTransition(OpenStationError):
    """An event that cannot happen in the current state (e.g. a release while idle)."""


class PassiveServerError(ConflictError):
    """A change on the passive server of a High Availability pair: its next resync would
    undo it, so it is refused; make it on the active server."""


class DeviceBusyError(OpenStationError):
    """Another openstation process holds the data directory's lock."""
