"""What a device says about itself to the network, in each protocol's terms (pure).

One `DeviceFacts` feeds the findhost response, the mDNS TXT record and the SSDP
description, so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from openstation.discovery.findhost import FINDHOST_VERSION, JUNIOR_RESPONSE, RESPONSE

FAMILY_CODES = {"DiskStation": 1, "RackStation": 2, "FlashStation": 3}
INFO_TIMEOUT = 120


@dataclass(frozen=True)
class DeviceFacts:
    """A device's identity and state, as discovery reports it."""

    server_name: str
    model: str
    product_line: str
    unique_id: str
    serial: str
    short_serial: str
    macs: tuple[str, ...]
    version_short: str  # "6.2.3"
    version_major: int
    version_minor: int
    build: int
    update: int
    http_port: int
    https_port: int
    status_code: int
    status_label: str
    installed: bool
    dhcp: bool
    gateway: str
    dns: tuple[str, ...]


def findhost_values(facts: DeviceFacts, ip: str, netmask: str, querier_ip: str,
                    querier_mac: str | None) -> dict[str, Any]:
    """The fields of a findhost response sent from address `ip`."""
    return {
        "mac": facts.macs[0], "ip": ip, "dhcp": 1 if facts.dhcp else 0, "netmask": netmask,
        "gateway": facts.gateway or None, "dns": facts.dns[0] if facts.dns else None,
        "dns2": facts.dns[1] if len(facts.dns) > 1 else None,
        "server_name": facts.server_name,
        "packet_type": RESPONSE if facts.installed else JUNIOR_RESPONSE,
        "querier_ip": querier_ip, "querier_mac": querier_mac,
        "model_family": FAMILY_CODES.get(facts.product_line, 1), "build": facts.build,
        "update": facts.update, "version": facts.version_short, "model": facts.model,
        "unique_id": facts.unique_id, "short_serial": facts.short_serial,
        "serial": facts.serial, "http_port": facts.http_port, "https_port": facts.https_port,
        "status_id": facts.status_code, "status_text": facts.status_label,
        "first_mac": facts.macs[0], "out_interface": 0,
        "findhost_version": FINDHOST_VERSION, "info_timeout": INFO_TIMEOUT,
        "status_code": facts.status_code, "supported_services": 0b111,
        "running_services": 0, "os_name": "DSM",
    }


def mdns_txt(facts: DeviceFacts) -> dict[str, str]:
    """The TXT record Home Assistant's synology_dsm matcher reads."""
    return {
        "vendor": "Synology", "model": facts.model, "serial": facts.serial,
        "version_major": str(facts.version_major), "version_minor": str(facts.version_minor),
        "version_build": str(facts.build), "admin_port": str(facts.http_port),
        "secure_admin_port": str(facts.https_port), "mac_address": "|".join(facts.macs),
        "status": facts.status_label,
    }


def ssdp_description(facts: DeviceFacts, ip: str) -> str:
    """The UPnP description document (DESIGN.md §5)."""
    serial = facts.macs[0].replace(":", "").lower()
    fields = {
        "deviceType": "urn:schemas-upnp-org:device:Basic:1",
        "friendlyName": f"{facts.server_name} ({facts.model})",
        "manufacturer": "Synology",
        "manufacturerURL": "http://www.synology.com",
        "modelDescription": "Synology NAS",
        "modelName": facts.model,
        "modelNumber": f"{facts.model} {facts.version_short}-{facts.build}",
        "serialNumber": serial,
        "UDN": f"uuid:73796E6F-6473-6D00-0000-{serial}",
        "presentationURL": f"http://{ip}:{facts.http_port}/",
    }
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    return ('<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0">'
            "<specVersion><major>1</major><minor>0</minor></specVersion>"
            f"<device>{body}</device></root>\n")


def ssdp_usn(facts: DeviceFacts) -> str:
    serial = facts.macs[0].replace(":", "").lower()
    return f"uuid:73796E6F-6473-6D00-0000-{serial}"
