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
