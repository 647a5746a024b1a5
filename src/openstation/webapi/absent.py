"""DSM features this device does not have, answered truthfully in one place.

A client that asks for iSCSI LUNs, an expansion unit or a VPN profile on a device without
them should hear "none" and "off", as a DSM without that hardware or package answers, not
"no such API". Each entry names the feature, why it is absent, its read methods (a list
method answers an empty list under DSM's key; a get answers switched off and unsupported,
with the reason), and nothing else: a client that tries to change it gets DSM's 103.

What the device does have is answered elsewhere, from its real state; the coverage measure
(tests/compat/api_coverage.py) counts these answers apart from those."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry


@dataclass(frozen=True)
class Absent:
    reason: str
    apis: tuple[str, ...]
    lists: dict[str, str] = field(default_factory=dict)  # method → DSM's list key
    gets: tuple[str, ...] = ("get",)


VIRTUAL_HW = "a virtual device has no such hardware"
NETWORK = "the virtual network backend has one LAN per MAC and nothing more"
SYNOLOGY = "needs Synology's own servers, which openstation does not use"
NOT_OFFERED = "openstation does not offer this service"

FEATURES: tuple[Absent, ...] = (
    Absent(NETWORK, ("SYNO.Core.Network.Bond", "SYNO.Core.Network.Bridge",
                     "SYNO.Core.Network.LocalBridge", "SYNO.Core.Network.USBModem",
                     "SYNO.Core.Network.Wifi.Client", "SYNO.Core.Network.VPN.PPTP",
                     "SYNO.Core.Network.VPN.OpenVPN", "SYNO.Core.Network.VPN.L2TP"),
           {"list": "items"}, ()),
    Absent(NETWORK, ("SYNO.Core.Network.Router.Static.Route",
                     "SYNO.Core.Network.TrafficControl.Rules",
                     "SYNO.Core.Network.TrafficControl.RouterRules"),
           {"list": "items", "get": "items"}, ()),
    Absent(NETWORK, ("SYNO.Core.Network.Ethernet.External", "SYNO.Core.Network.IPv6.Router",
                     "SYNO.Core.Network.IPv6.Router.Prefix", "SYNO.Core.Network.IPv6Tunnel",
                     "SYNO.Core.Network.MACClone", "SYNO.Core.Network.OVS",
                     "SYNO.Core.Network.PPPoE.Relay", "SYNO.Core.Network.UPnPServer",
                     "SYNO.Core.Network.Router.Topology", "SYNO.Core.Network.Authentication",
                     "SYNO.Core.Network.Authentication.Cert")),
    Absent(VIRTUAL_HW, ("SYNO.Core.Hardware.LCM", "SYNO.Core.Hardware.OOBManagement",
                        "SYNO.Core.Hardware.RemoteFanStatus",
                        "SYNO.Core.Hardware.VideoTranscoding", "SYNO.Core.Hardware.Hibernation",
                        "SYNO.Core.ExternalDevice.UPS", "SYNO.Core.ExternalDevice.Storage.Setting",
                        "SYNO.Core.ExternalDevice.Printer.BonjourSharing",
                        "SYNO.Core.ExternalDevice.Bluetooth",
                        "SYNO.Core.ExternalDevice.Bluetooth.Settings")),
    Absent(VIRTUAL_HW, ("SYNO.Core.ExternalDevice.Storage.eSATA",
                        "SYNO.Core.ExternalDevice.Storage.EUnit",
                        "SYNO.Core.ExternalDevice.DefaultPermission",
                        "SYNO.Core.ExternalDevice.Printer",
                        "SYNO.Core.ExternalDevice.Printer.USB",
                        "SYNO.Core.ExternalDevice.Printer.Network",
                        "SYNO.Core.ExternalDevice.Printer.Network.Host",
                        "SYNO.Core.ExternalDevice.Printer.Driver",
                        "SYNO.Core.ExternalDevice.Bluetooth.Device"),
           {"list": "items", "get": "items"}, ()),
    Absent(VIRTUAL_HW, ("SYNO.Storage.CGI.Enclosure", "SYNO.Storage.CGI.DualEnclosure",
                        "SYNO.Storage.CGI.TaipeiEnclosure"),
           {"load": "enclosures"}, ("is_exp_connected",)),
    Absent("no SSD cache: the volume is a folder of the host's file system",
           ("SYNO.Storage.CGI.Flashcache", "SYNO.Storage.CGI.Cache.Protection"),
           {"advisor_history_get": "history", "get_status_all": "caches"},
           ("shared_cache_config_get", "get_config", "get_status")),
    Absent("shares are encrypted one by one (gocryptfs), not the volume",
           ("SYNO.Storage.CGI.KMIP", "SYNO.Storage.CGI.EncryptionKeyVault"),
           {"get_key_list": "keys", "list_cert": "certs"}, ("get", "get_info")),
    Absent("the volume is a folder of the host's file system, not btrfs of the device's own",
           ("SYNO.Storage.CGI.BtrfsDedupe",),
           {}, ("check_quota", "get_schedule_plan", "get_status", "get_volume_info")),
    Absent("no iSCSI target", ("SYNO.Core.Storage.iSCSILUN", "SYNO.Core.ISCSI.LUN"),
           {"list": "luns"}, ()),
    Absent("no iSCSI target", ("SYNO.Core.ISCSI.FCTarget", "SYNO.Core.ISCSI.Host",
                               "SYNO.Core.ISCSI.Lunbkp", "SYNO.Core.ISCSI.Node",
                               "SYNO.Core.ISCSI.Replication", "SYNO.Core.ISCSI.VMware")),
    Absent("virtual disks have no firmware", ("SYNO.Core.Storage.Disk.FWUpgrade",),
           {"get": "disks"}, ()),
    Absent(NOT_OFFERED, ("SYNO.Core.FileServ.AFP", "SYNO.Core.FileServ.NFS",
                         "SYNO.Core.FileServ.FTP", "SYNO.Core.FileServ.FTP.Security",
                         "SYNO.Core.FileServ.ReflinkCopy", "SYNO.Core.SNMP",
                         "SYNO.Core.BandwidthControl.Protocol", "SYNO.Core.MediaIndexing",
                         "SYNO.Core.MediaIndexing.ThumbnailQuality",
                         "SYNO.Core.MediaIndexing.Scheduler",
                         "SYNO.Core.MediaIndexing.MediaConverter",
                         "SYNO.Core.FileServ.ServiceDiscovery.WSTransfer",
                         "SYNO.Core.FileServ.ServiceDiscovery")),
    Absent(NOT_OFFERED, ("SYNO.Core.BandwidthControl.Status",), {"list": "items"}, ()),
    Absent(NOT_OFFERED, ("SYNO.Core.FileServ.FTP.ChrootUser",
                         "SYNO.Core.MediaIndexing.IndexFolder"),
           {"list": "items", "get": "items", "load": "items"}, ()),
    Absent("no directory service: accounts are the device's own",
           ("SYNO.Core.Directory.LDAP", "SYNO.Core.Directory.Domain",
            "SYNO.Core.Directory.Domain.Schedule", "SYNO.Core.Directory.SSO",
            "SYNO.Core.Directory.SSO.IWA")),
    Absent("no router is configured (UPnP port forwarding is not used)",
           ("SYNO.Core.PortForwarding", "SYNO.Core.PortForwarding.Compatibility",
            "SYNO.Core.PortForwarding.RouterConf", "SYNO.Core.PortForwarding.RouterInfo"),
           {}, ("get",)),
    Absent("no router is configured (UPnP port forwarding is not used)",
           ("SYNO.Core.PortForwarding.Rules", "SYNO.Core.PortForwarding.Rules.Serv",
            "SYNO.Core.PortForwarding.RouterList"),
           {"list": "items", "get": "items", "load": "items"}, ()),
    Absent(SYNOLOGY, ("SYNO.Core.QuickConnect", "SYNO.Core.QuickConnect.Permission",
                      "SYNO.Core.DDNS.Synology"), {}, ("get", "get_misc_config",
                                                       "get_myds_account")),
    Absent(SYNOLOGY, ("SYNO.Core.DDNS.ExtIP",), {"list": "items"}, ()),
    Absent(SYNOLOGY, ("SYNO.Core.MyDSCenter", "SYNO.Core.MyDSCenter.Account",
                      "SYNO.Core.MyDSCenter.Purchase", "SYNO.Core.Package.MyDS",
                      "SYNO.Core.Package.MyDS.Purchase", "SYNO.Core.Package.Legal.PreRelease",
                      "SYNO.DSM.PushNotification", "SYNO.Core.CMS.Info",
                      "SYNO.Core.PersonalNotification.Settings",
                      "SYNO.Core.PersonalNotification.Filter",
                      "SYNO.Core.PersonalNotification.Event")),
    Absent(SYNOLOGY, ("SYNO.Core.DDNS.Record", "SYNO.Core.DDNS.Provider",
                      "SYNO.Core.PersonalNotification.Device",
                      "SYNO.Core.PersonalNotification.Mobile"),
           {"list": "items", "get": "items"}, ()),
    Absent(SYNOLOGY, tuple(f"SYNO.Core.Notification.{name}" for name in (
        "Push", "Push.Conf", "Push.Mail", "Push.Mobile", "Push.AuthToken", "SMS", "SMS.Conf",
        "SMS.Provider", "Line", "CMS", "CMS.Conf"))),
    Absent("a device is upgraded alone, as a package of its host: no upgrade groups",
           ("SYNO.Core.Upgrade.Group", "SYNO.Core.Upgrade.Cluster.Server",
            "SYNO.Core.Upgrade.Cluster.Patch"), {"list": "items", "get": "items"}, ()),
    Absent("a device is upgraded alone, as a package of its host: no upgrade groups",
           ("SYNO.Core.Upgrade.Group.Setting", "SYNO.Core.Upgrade.Group.Download",
            "SYNO.Core.Upgrade.Cluster.Server.Download", "SYNO.Core.Upgrade.PreCheck",
            "SYNO.Core.Upgrade.RemoteAction", "SYNO.Core.Upgrade.JuniorModeData")),
)


def empty_list(key: str) -> Handler:
    """A handler answering DSM's empty list under `key` (none of a thing, truthfully)."""
    async def answer(call: ApiCall) -> dict[str, Any]:
        return {key: [], "total": 0}
    return answer


def names() -> frozenset[str]:
    """Every API answered here (the coverage measure counts them apart)."""
    return frozenset(api for feature in FEATURES for api in feature.apis)


def register(registry: Registry) -> None:
    for feature in FEATURES:
        def off(reason: str) -> Handler:
            async def answer(call: ApiCall) -> dict[str, Any]:
                return {"enable": False, "supported": False, "reason": reason}
            return answer

        methods: dict[str, Handler] = {method: off(feature.reason) for method in feature.gets}
        methods |= {method: empty_list(key) for method, key in feature.lists.items()}
        for api in feature.apis:
            registry.add(Api(api, "entry.cgi", 1, 1, dict(methods)))
