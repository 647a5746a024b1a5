"""Every configuration section, with its factory defaults declared once, on its fields.

A *singleton* section is one record (ports, network, firewall settings …); a *collection*
holds many records under a key (users, groups, shares, Key Manager entries, firewall rules).
The reset plans and the install use these same declarations: "factory defaults" means
`section.factory(hardware)`, nothing written anywhere else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Self

from msgspec import Meta

from openstation.hardware import Hardware

SECRET = {"secret": True}

# Values a stored field may hold; decoding (config/codec.py) refuses anything else.
Port = Annotated[int, Meta(ge=0, le=65535)]
Count = Annotated[int, Meta(ge=0)]
Seconds = Annotated[float, Meta(ge=0)]


class LifecycleState(enum.StrEnum):
    """The lasting statuses a device keeps across boots (DESIGN.md §3)."""

    NOT_INSTALLED = "not_installed"
    READY = "ready"
    CONFIGURATION_LOST = "configuration_lost"


class Role(enum.StrEnum):
    """A server's role in a High Availability pair ("" when it is in none)."""

    NONE = ""
    ACTIVE = "active"
    PASSIVE = "passive"


class Action(enum.StrEnum):
    """What a firewall rule (or the default) does with a matching connection."""

    ALLOW = "allow"
    DENY = "deny"


class Protocol(enum.StrEnum):
    """The protocols a firewall rule matches."""

    ALL = "all"
    TCP = "tcp"
    UDP = "udp"


class Protection(enum.StrEnum):
    """What a Key Manager entry's key is wrapped with."""

    MACHINE = "machine"
    PASSPHRASE = "passphrase"


class Rotation(enum.StrEnum):
    """Which versions a Hyper Backup task keeps."""

    ALL = "all"  # rotation off
    NEWEST = "newest"  # the newest `keep_versions`
    SMART = "smart"  # Smart Recycle: hourly for a day, daily for a month, weekly after


class BackupResult(enum.StrEnum):
    """A Hyper Backup run's outcome, in DSM's `last_bkp_result` words."""

    NONE = "none"  # never run
    RUNNING = "backingup"
    DONE = "done"
    PARTIAL = "partial"  # some files unreadable, or the device stopped during the run
    FAILED = "failed"
    CANCELLED = "cancel"
    SUSPENDED = "suspended"


class Right(enum.StrEnum):
    """A user's or group's right on a shared folder."""

    READ_WRITE = "rw"
    READ_ONLY = "ro"
    NO_ACCESS = "na"


def secret_fields(cls: type[Any]) -> frozenset[str]:
    """Names of fields whose values the audit log never shows."""
    return frozenset(
        name for name, spec in cls.__dataclass_fields__.items() if spec.metadata.get("secret")
    )


@dataclass
class Section:
    """A singleton section: one record, stored under its `section` name."""

    section: ClassVar[str] = ""

    @classmethod
    def factory(cls, hardware: Hardware) -> Self:
        """The factory default of this section for this device."""
        return cls()


@dataclass
class Record:
    """A record of a collection, stored under (`section`, `key_field`'s value)."""

    section: ClassVar[str] = ""
    key_field: ClassVar[str] = "name"

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))


# --- singletons -------------------------------------------------------------------------


@dataclass
class Lifecycle(Section):
    """Install state: not_installed, ready or configuration_lost (DESIGN.md §3)."""

    section: ClassVar[str] = "lifecycle"
    state: LifecycleState = LifecycleState.NOT_INSTALLED
    installed_at: float | None = None
    installs: Count = 0


@dataclass
class General(Section):
    """Control Panel > Network > General: the server name."""

    section: ClassVar[str] = "general"
    server_name: str = ""

    @classmethod
    def factory(cls, hardware: Hardware) -> Self:
        return cls(server_name=hardware.model.line.default_server_name)


@dataclass
class Ports(Section):
    """Control Panel > Network > DSM Settings: the UI management ports."""

    section: ClassVar[str] = "ports"
    http: Port = 5000
    https: Port = 5001


@dataclass
class Interface:
    """One network interface: DHCP, or static IPv4."""

    id: str
    dhcp: bool = True
    address: str = ""
    netmask: str = ""
    gateway: str = ""
    mtu: Annotated[int, Meta(ge=68, le=65535)] = 1500


@dataclass
class Network(Section):
    """Control Panel > Network: gateway, DNS and every interface."""

    section: ClassVar[str] = "network"
    default_gateway: str = ""
    dns: list[str] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)

    @classmethod
    def factory(cls, hardware: Hardware) -> Self:
        return cls(interfaces=[Interface(id=f"eth{n}") for n in range(len(hardware.macs))])


@dataclass
class PPPoE(Section):
    """Control Panel > Network > PPPoE."""

    section: ClassVar[str] = "pppoe"
    enabled: bool = False
    interface: str = "eth0"
    username: str = ""
    password: str = field(default="", metadata=SECRET)  # encrypted with the machine key
    mtu: Annotated[int, Meta(ge=68, le=65535)] = 1492
    dns_from_provider: bool = True


@dataclass
class Firewall(Section):
    """Control Panel > Security > Firewall: on/off and the action when no rule matches."""

    section: ClassVar[str] = "firewall"
    enabled: bool = False
    default_action: Action = Action.ALLOW


@dataclass
class BlockEntry:
    """An address on the Auto Block block list, until `expires` (None: for ever)."""

    address: str
    added: Seconds = 0.0
    expires: float | None = None


@dataclass
class AutoBlock(Section):
    """Control Panel > Security > Account > Auto Block."""

    section: ClassVar[str] = "autoblock"
    enabled: bool = False
    attempts: Annotated[int, Meta(ge=1)] = 10
    within_minutes: Annotated[int, Meta(ge=1)] = 5
    expire_days: Count = 0  # 0: a block never expires
    allow: list[str] = field(default_factory=list)  # addresses or networks (CIDR)
    block: list[BlockEntry] = field(default_factory=list)


@dataclass
class PasswordPolicy(Section):
    """Control Panel > User > Advanced > Password Settings: the strong-password rules."""

    section: ClassVar[str] = "password_policy"
    min_length: Annotated[int, Meta(ge=1, le=127)] = 8
    mixed_case: bool = True
    digit: bool = True
    special: bool = True
    exclude_username: bool = True
    max_age_days: Count = 0  # 0: passwords never expire


@dataclass
class LoginSettings(Section):
    """Session idle timeout and the post-reset blank-admin window."""

    section: ClassVar[str] = "login"
    session_timeout_minutes: Annotated[int, Meta(ge=1)] = 15
    blank_admin_window_minutes: Annotated[int, Meta(ge=1)] = 30
    enforce_2step_admins: bool = False


@dataclass
class HACluster(Section):
    """High Availability cluster membership."""

    section: ClassVar[str] = "ha_cluster"
    member: bool = False
    role: Role = Role.NONE
    cluster_name: str = ""
    cluster_address: str = ""  # IPv4 the active serves; "" for none
    peer: str = ""  # the peer's address
    peer_port: Port = 0  # the peer's cluster (mutual TLS) port
    peer_serial: str = ""
    peer_name: str = ""
    peer_certificate: str = ""  # PEM, pinned: exchanged when the pair was made
    quorum: str = ""  # host[:port] a node must reach before it takes over
    heartbeat_seconds: Annotated[float, Meta(gt=0)] = 1.0
    failover_seconds: Annotated[float, Meta(gt=0)] = 5.0
    epoch: Count = 0  # raised by every takeover and switchover


@dataclass
class VMMCluster(Section):
    """Virtual Machine Manager cluster membership."""

    section: ClassVar[str] = "vmm_cluster"
    member: bool = False
    cluster_name: str = ""
    members: list[str] = field(default_factory=list)  # each member's Web API URL
    me: str = ""  # this member's URL as the others reach it
    token: str = field(default="", metadata=SECRET)  # authenticates members to each other


@dataclass
class ConfigBackupSettings(Section):
    """Control Panel > Update & Restore > Configuration Backup: automatic daily snapshots."""

    section: ClassVar[str] = "config_backup"
    enabled: bool = True
    keep_daily: Annotated[int, Meta(ge=1)] = 7


# --- collections ------------------------------------------------------------------------


@dataclass
class User(Record):
    """A local account. `disabled` is DSM's `expired=now`."""

    section: ClassVar[str] = "users"
    name: str = ""
    uid: Count = 0
    description: str = ""
    email: str = ""
    password_hash: str = field(default="", metadata=SECRET)
    disabled: bool = False
    cannot_change_password: bool = False
    password_never_expires: bool = True
    must_change_password: bool = False
    # After a Mode 1 reset: the blank password works until this time (epoch seconds).
    blank_password_until: float | None = None
    otp_secret: str = field(default="", metadata=SECRET)  # set: 2-step verification is on
    # Restored from a backup that could not carry the 2-step secret: enrol again first.
    otp_reenrol: bool = False
    # SHA-256 of the device tokens that may skip the 2-step code.
    device_tokens: list[str] = field(default_factory=list, metadata=SECRET)
    password_changed: float = 0.0
    system: bool = False
    # The NT hash SMB signs in with, sealed with the machine key ("smb"); made when the
    # password is set while SMB is on, "" otherwise (no SMB for this account until then).
    smb_hash: str = field(default="", metadata=SECRET)


@dataclass
class Group(Record):
    """A local group and its members."""

    section: ClassVar[str] = "groups"
    name: str = ""
    gid: Count = 0
    description: str = ""
    members: list[str] = field(default_factory=list)
    system: bool = False


@dataclass
class Share(Record):
    """A shared folder on volume1 and its settings."""

    section: ClassVar[str] = "shares"
    name: str = ""
    uuid: str = ""
    description: str = ""
    hidden: bool = False
    recycle_bin: bool = False
    encrypted: bool = False
    mount_on_startup: bool = False
    quota_mb: Annotated[int, Meta(ge=0, le=1 << 40)] = 0  # 0: no quota (storage/quota.py)
    # principal ("user:alice" / "group:users") -> its right
    permissions: dict[str, Right] = field(default_factory=dict)
    created: float = 0.0


@dataclass
class KeyEntry(Record):
    """A Key Manager entry: a share's key, wrapped by the machine key or a passphrase."""

    section: ClassVar[str] = "keys"
    key_field: ClassVar[str] = "share"
    share: str = ""
    protection: Protection = Protection.MACHINE
    wrapped_key: str = field(default="", metadata=SECRET)
    created: float = 0.0


@dataclass
class FirewallRule(Record):
    """One firewall rule, applied in `order`."""

    section: ClassVar[str] = "firewall_rules"
    key_field: ClassVar[str] = "rule_id"
    rule_id: str = ""
    order: Count = 0
    interface: str = "all"
    ports: str = "all"
    protocol: Protocol = Protocol.ALL
    source: str = "all"
    action: Action = Action.ALLOW
    enabled: bool = True


@dataclass
class SharingLink(Record):
    """A File Station sharing link: anyone with its URL (and password, if it has one) may
    read `path` as its owner could, between its dates."""

    section: ClassVar[str] = "sharing_links"
    key_field: ClassVar[str] = "id"
    id: str = ""
    owner: str = ""  # the account that made it; the link reads with the owner's rights
    path: str = ""
    password_hash: str = field(default="", metadata=SECRET)  # argon2; "" for none
    date_available: float = 0.0  # 0: from when it is made
    date_expired: float = 0.0  # 0: never
    created: float = 0.0


@dataclass
class FavoriteEntry:
    """One favourite folder of a user's File Station."""

    path: str
    name: str


@dataclass
class Favorites(Record):
    """A user's File Station favourites, in their order."""

    section: ClassVar[str] = "favorites"
    key_field: ClassVar[str] = "user"
    user: str = ""
    entries: list[FavoriteEntry] = field(default_factory=list)


@dataclass
class StorageSettings(Section):
    """How much of volume1 users may fill: uploads stop this far from a full disk, so the
    system (on the same disk) keeps working."""

    section: ClassVar[str] = "storage"
    reserve_mb: Count = 0  # 0: max(1 GiB, 5 % of the volume)


@dataclass
class FileServices(Section):
    """Control Panel > File Services: each protocol on or off, and its port. DSM's defaults:
    SMB on (445), SFTP off (22), rsync off, WebDAV off (5005, 5006 with TLS)."""

    section: ClassVar[str] = "file_services"
    smb_enabled: bool = True
    smb_port: Port = 445
    workgroup: str = "WORKGROUP"
    sftp_enabled: bool = False
    sftp_port: Port = 22  # the SSH port: SFTP, and rsync over SSH
    rsync_enabled: bool = False  # rsync's daemon mode over SSH (DSM's "rsync service")
    webdav_enabled: bool = False
    webdav_port: Port = 5005
    webdav_https_port: Port = 5006


@dataclass
class BackupTask(Record):
    """A Hyper Backup task: what is backed up (shares or folders in them, the system
    configuration), to which restic repository, when, and how many versions stay."""

    section: ClassVar[str] = "backup_tasks"
    key_field: ClassVar[str] = "task_id"
    task_id: str = ""  # a decimal number, as DSM's
    name: str = ""
    sources: list[str] = field(default_factory=list)  # "share" or "share/folder/…"
    include_config: bool = False
    destination: str = ""  # as the user gave it: a folder, rest:URL or rclone:remote:path
    repository: str = ""  # the restic repository it names
    password: str = field(default="", metadata=SECRET)  # sealed with the machine key
    # A Hyper Backup Vault (rest:https://…): its account, that account's password (sealed)
    # and the certificate the administrator pinned by its fingerprint when making the task.
    remote_user: str = ""
    remote_password: str = field(default="", metadata=SECRET)
    remote_cert: str = ""
    schedule_enabled: bool = False
    schedule_days: list[Annotated[int, Meta(ge=0, le=6)]] = field(default_factory=list)
    schedule_hour: Annotated[int, Meta(ge=0, le=23)] = 3
    schedule_minute: Annotated[int, Meta(ge=0, le=59)] = 0
    rotation: Rotation = Rotation.ALL
    keep_versions: Annotated[int, Meta(ge=1, le=65535)] = 256
    # Scheduled integrity checks (none: manual only), optionally reading every byte back
    check_days: list[Annotated[int, Meta(ge=0, le=6)]] = field(default_factory=list)
    check_hour: Annotated[int, Meta(ge=0, le=23)] = 4
    check_read_data: bool = False
    created: float = 0.0
    modified: float = 0.0  # when its settings last changed (DSM's is_modified)


@dataclass
class BackupKey(Record):
    """Key Manager's copy of a backup repository's password, under the key-store
    passphrase: it travels in configuration backups (and the daily snapshots on volume1),
    so a device reinstalled after a Mode 2 reset opens the repository with the passphrase."""

    section: ClassVar[str] = "backup_keys"
    key_field: ClassVar[str] = "repository"
    repository: str = ""  # as the task names it
    task: str = ""
    header: str = field(default="", metadata=SECRET)  # the wrapped password (JSON)
    created: float = 0.0


@dataclass
class BackupState(Record):
    """What a Hyper Backup task's runs left: kept apart from the task, so a run never
    rewrites the settings the user made."""

    section: ClassVar[str] = "backup_state"
    key_field: ClassVar[str] = "task_id"
    task_id: str = ""
    running: bool = False  # still set at boot: the device stopped during the run
    # The device was killed during a run: its restic's lock may remain, and the next run
    # removes it (a zombie's lock looks alive to restic's own stale-lock test).
    stale_lock: bool = False
    last_start: float = 0.0
    last_end: float = 0.0
    last_success: float = 0.0
    last_result: BackupResult = BackupResult.NONE
    last_error: str = ""
    last_snapshot: str = ""
    last_files: Count = 0
    last_bytes: Count = 0
    last_check: float = 0.0
    check_result: str = ""  # "", "ok" or what `restic check` found


@dataclass
class BackupVault(Section):
    """Hyper Backup Vault: whether this device is other devices' backup destination."""

    section: ClassVar[str] = "backup_vault"
    enabled: bool = False
    parallel_backup_limit: Annotated[int, Meta(ge=1, le=64)] = 2  # repositories at once


class FanMode(enum.StrEnum):
    """Control Panel > Hardware & Power > Fan Speed Mode, in DSM's words."""

    FULL = "fullfan"
    COOL = "coolfan"
    QUIET = "quietfan"
    QUIET_STOP = "quietstopfan"


@dataclass
class HardwareSettings(Section):
    """Control Panel > Hardware & Power: the fan mode, the front panel's LED brightness
    and which events beep (the RESET button's beeps are the seed's: never silenced)."""

    section: ClassVar[str] = "hardware_settings"
    fan_mode: FanMode = FanMode.COOL
    led_brightness: Annotated[int, Meta(ge=0, le=3)] = 3
    beep_on_power_on: bool = True
    beep_on_power_off: bool = True


class AutoUpdate(enum.StrEnum):
    """Control Panel > Update & Restore > Update Settings: what is installed by itself."""

    NONE = "none"  # notify only
    SECURITY = "security"  # important and security updates (DSM's default)
    ALL = "all"


@dataclass
class UpgradeSettings(Section):
    """DSM's update settings. openstation flashes nothing: its releases come as packages of
    the host, and the check reads the local catalog (catalog.py)."""

    section: ClassVar[str] = "upgrade"
    auto_update: AutoUpdate = AutoUpdate.SECURITY
    check_automatically: bool = True
    hour: Annotated[int, Meta(ge=0, le=23)] = 3  # when an automatic check or install runs
    minute: Annotated[int, Meta(ge=0, le=59)] = 0


class MailSecurity(enum.StrEnum):
    NONE = "none"  # plain SMTP (a relay on the LAN)
    STARTTLS = "starttls"
    TLS = "tls"  # SMTPS: TLS from the first byte


class NotifyEvent(enum.StrEnum):
    """What can send a notification (Control Panel > Notification > Rules)."""

    RESET = "reset"  # the RESET button's Mode 1 or Mode 2, or a reset from the CLI
    BACKUP_FAILED = "backup_failed"  # a Hyper Backup run failed or was only partial
    BACKUP_DONE = "backup_done"
    HA_SWITCHOVER = "ha_switchover"
    AUTOBLOCK = "autoblock"  # Auto Block blocked an address
    SHARE_DELETED = "share_deleted"  # a shared folder's data was deleted
    VOLUME_FULL = "volume_full"  # volume1's use went over the warning percentage


@dataclass
class Notifications(Section):
    """Control Panel > Notification: mail through an SMTP server and a webhook, for the
    events the rules name."""

    section: ClassVar[str] = "notifications"
    mail_enabled: bool = False
    smtp_server: str = ""
    smtp_port: Port = 587
    security: MailSecurity = MailSecurity.STARTTLS
    smtp_user: str = ""
    smtp_password: str = field(default="", metadata=SECRET)  # sealed with the machine key
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    subject_prefix: str = "[openstation]"
    webhook_enabled: bool = False
    webhook_url: str = field(default="", metadata=SECRET)  # often carries a token
    events: list[NotifyEvent] = field(default_factory=lambda: [
        NotifyEvent.RESET, NotifyEvent.BACKUP_FAILED, NotifyEvent.HA_SWITCHOVER,
        NotifyEvent.AUTOBLOCK, NotifyEvent.SHARE_DELETED, NotifyEvent.VOLUME_FULL])
    volume_warning_percent: Annotated[int, Meta(ge=1, le=99)] = 90


class SyslogTransport(enum.StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


@dataclass
class LogSending(Section):
    """Log Center > Log Sending: every audit entry, as RFC 5424, to a syslog server (TLS:
    checked against the system's CAs, or pinned by its certificate's SHA-256)."""

    section: ClassVar[str] = "log_sending"
    enabled: bool = False
    server: str = ""
    port: Port = 514
    transport: SyslogTransport = SyslogTransport.UDP
    tls_fingerprint: str = ""


@dataclass
class LogReceiving(Section):
    """Log Center > Log Receiving: this device as a syslog server for others (UDP or TCP;
    what arrives is kept in system/received-logs.db, bounded)."""

    section: ClassVar[str] = "log_receiving"
    enabled: bool = False
    port: Annotated[int, Meta(ge=0, le=65535)] = 514  # 0: any free port (tests)
    transport: SyslogTransport = SyslogTransport.UDP


class TaskKind(enum.StrEnum):
    """Task Scheduler's kinds of scheduled task (DSM's `type`)."""

    SCRIPT = "script"  # a user-defined script
    RECYCLE = "recycle"  # empty recycle bins
    SERVICE = "service"  # start or stop services
    BEEP = "beep"  # the beeper sounds


@dataclass
class TaskSchedule:
    """When a scheduled task runs, in DSM's terms: on week days (date_type 0: daily,
    weekly, or monthly in the weeks `monthly_week` names) or from a date (date_type 1: once,
    monthly, every 3 or 6 months, yearly); from hour:minute, again every `repeat_min`
    minutes or `repeat_hour` hours until `last_work_hour` (0: once a day)."""

    date_type: Annotated[int, Meta(ge=0, le=1)] = 0
    week_days: list[Annotated[int, Meta(ge=0, le=6)]] = field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])
    date: str = ""  # yyyy/m/d, for date_type 1
    repeat_date: int = 1001
    monthly_week: list[str] = field(default_factory=list)  # first … fourth, last
    hour: Annotated[int, Meta(ge=0, le=23)] = 0
    minute: Annotated[int, Meta(ge=0, le=59)] = 0
    repeat_hour: Annotated[int, Meta(ge=0, le=23)] = 0
    repeat_min: Annotated[int, Meta(ge=0, le=59)] = 0
    last_work_hour: Annotated[int, Meta(ge=0, le=23)] = 0


@dataclass
class ScheduledTask(Record):
    """Control Panel > Task Scheduler: one scheduled task, its kind and what it does.

    A script runs as `owner` ("root" is the device's own identity), for at most
    `timeout` seconds, and its output is kept; `notify_mail` hears of its runs (only of
    failed ones with `notify_if_error`). A recycle-bin task empties the bins of `shares`
    (all with `all_shares`) by `recycle_policy`: everything, files older than
    `recycle_days`, or the largest or oldest first until a bin holds `recycle_size_mb`."""

    section: ClassVar[str] = "scheduled_tasks"
    key_field: ClassVar[str] = "task_id"
    task_id: str = ""  # a decimal number, as DSM's
    name: str = ""
    kind: TaskKind = TaskKind.SCRIPT
    owner: str = "root"
    enabled: bool = True
    schedule: TaskSchedule = field(default_factory=TaskSchedule)
    script: str = ""
    timeout: Annotated[int, Meta(ge=1, le=86400)] = 3600
    notify_mail: str = ""
    notify_if_error: bool = False
    all_shares: bool = False
    shares: list[str] = field(default_factory=list)
    recycle_policy: str = "clean_all"  # clean_all, time or size
    recycle_days: Annotated[int, Meta(ge=1, le=36500)] = 30
    recycle_size_mb: Annotated[int, Meta(ge=0)] = 0
    recycle_sort: Annotated[int, Meta(ge=0, le=1)] = 0  # 0: largest first, 1: oldest first
    services: list[str] = field(default_factory=list)  # package ids (packages.py)
    service_action: str = "start"  # start or stop
    beep_seconds: Annotated[int, Meta(ge=1, le=3600)] = 60
    created: float = 0.0
    modified: float = 0.0


@dataclass
class TaskOutput(Section):
    """Task Scheduler > Settings: whether each script's output is also written into a
    shared folder (`output_path`: "share/folder"), besides the device's own copy."""

    section: ClassVar[str] = "task_output"
    enabled: bool = False
    path: str = ""


@dataclass
class PowerTime:
    """One entry of the power schedule: on these week days (0: Sunday), at hour:minute."""

    enabled: bool = True
    hour: Annotated[int, Meta(ge=0, le=23)] = 0
    minute: Annotated[int, Meta(ge=0, le=59)] = 0
    week_days: list[Annotated[int, Meta(ge=0, le=6)]] = field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])


@dataclass
class PowerSchedule(Section):
    """Control Panel > Hardware & Power > Power Schedule. A virtual device has no power to
    switch: "off" stops its services (file services, scheduled tasks, scheduled backups)
    and "on" starts them again; its web pages stay up, so the schedule can be changed."""

    section: ClassVar[str] = "power_schedule"
    power_on: list[PowerTime] = field(default_factory=list)
    power_off: list[PowerTime] = field(default_factory=list)


@dataclass
class AlarmRule:
    """Resource Monitor > Settings > Alarm: `metric` over `threshold` for `minutes`."""

    rule_id: str = ""
    metric: str = "cpu"  # cpu, memory, volume, net_rx, net_tx, disk_read, disk_write
    threshold: Annotated[float, Meta(ge=0)] = 90.0  # %, or bytes/s for the rates
    minutes: Annotated[int, Meta(ge=1, le=1440)] = 5
    enabled: bool = True


@dataclass
class ResourceMonitorSettings(Section):
    """Resource Monitor: whether the usage history is kept (system/monitor-history.json)
    and the alarm rules, each an entry in Log Center when it fires."""

    section: ClassVar[str] = "resource_monitor"
    history: bool = True
    rules: list[AlarmRule] = field(default_factory=list)


SINGLETONS: tuple[type[Section], ...] = (
    Lifecycle, General, Ports, Network, PPPoE, Firewall, AutoBlock, PasswordPolicy,
    LoginSettings, HACluster, VMMCluster, ConfigBackupSettings, StorageSettings, FileServices,
    BackupVault, HardwareSettings, UpgradeSettings, Notifications, LogSending, LogReceiving,
    TaskOutput, PowerSchedule, ResourceMonitorSettings,
)
COLLECTIONS: tuple[type[Record], ...] = (User, Group, Share, KeyEntry, FirewallRule,
                                         SharingLink, Favorites, BackupTask, BackupState,
                                         BackupKey, ScheduledTask)
