"""Change a configuration section by name, from text (`openstation config set`, the control
channel): values are converted by the section's field types and go through the same domain
services as the Web API, so the same validation applies."""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

from openstation.accounts.service import AccountService
from openstation.config.codec import to_dict
from openstation.config.sections import (
    SINGLETONS,
    AutoBlock,
    Firewall,
    General,
    Interface,
    LoginSettings,
    Network,
    PasswordPolicy,
    Ports,
    PPPoE,
    Section,
    StorageSettings,
)
from openstation.config.store import ConfigStore
from openstation.errors import NotFoundError, ValidationError
from openstation.network.service import NetworkService
from openstation.security.firewall import services
from openstation.security.service import SecurityService
from openstation.storage.service import set_reserve

EDITABLE: dict[str, type[Section]] = {cls.section: cls for cls in (
    General, Network, PPPoE, Ports, Firewall, AutoBlock, PasswordPolicy, LoginSettings,
    StorageSettings)}
READABLE = {cls.section: cls for cls in SINGLETONS}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def read(store: ConfigStore, section: str) -> dict[str, Any]:
    """A section as a dict (an interface id such as eth0 reads that interface)."""
    if section.startswith("eth"):
        for iface in store.get(Network).interfaces:
            if iface.id == section:
                return to_dict(iface)
        raise NotFoundError(f"no interface {section!r}")
    cls = READABLE.get(section)
    if cls is None:
        raise NotFoundError(f"no section {section!r}; sections: {', '.join(READABLE)}, eth0…")
    values = to_dict(store.get(cls))
    if section == "pppoe":
        values["password"] = "***" if values["password"] else ""
    return values


def convert(cls: type[Any], values: dict[str, str]) -> dict[str, Any]:
    """Text values -> typed values by `cls`'s field types; every problem reported."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    typed: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, text in values.items():
        if key not in fields:
            problems[key] = "unknown setting"
            continue
        hint = hints[key]
        try:
            if hint is bool:
                lowered = text.strip().lower()
                if lowered not in _TRUE | _FALSE:
                    raise ValueError("true or false")
                typed[key] = lowered in _TRUE
            elif hint is int:
                typed[key] = int(text)
            elif typing.get_origin(hint) is list:
                typed[key] = [part.strip() for part in text.split(",") if part.strip()] \
                    if not text.strip().startswith("[") else json.loads(text)
            else:
                typed[key] = text
        except ValueError as exc:
            problems[key] = f"{text!r}: {exc}"
    if problems:
        raise ValidationError(problems)
    return typed


def apply(store: ConfigStore, accounts: AccountService, network: NetworkService,
          security: SecurityService, section: str, values: dict[str, str], actor: str
          ) -> dict[str, Any]:
    """Change `section`; returns the new values. Ports are validated, not bound, here (a
    running device binds them first, through its own path)."""
    if section.startswith("eth"):
        network.set_interface(actor, section, **convert(Interface, values))
        return read(store, section)
    cls = EDITABLE.get(section)
    if cls is None:
        raise NotFoundError(f"section {section!r} cannot be set; settable: "
                            f"{', '.join(EDITABLE)}, eth0…")
    typed = convert(cls, values)
    if cls is General:
        network.set_general(actor, server_name=typed.get("server_name"))
    elif cls is Network:
        network.set_general(actor, default_gateway=typed.get("default_gateway"),
                            dns=typed.get("dns"))
    elif cls is PPPoE:
        network.set_pppoe(actor, **typed)
    elif cls is Ports:
        current = store.get(Ports)
        network.set_ports(actor, typed.get("http", current.http),
                          typed.get("https", current.https))
    elif cls is Firewall:
        security.set_firewall(actor, None, services(), **typed)
    elif cls is AutoBlock:
        security.set_autoblock(actor, **typed)
    elif cls is PasswordPolicy:
        accounts.set_password_policy(actor, **typed)
    elif cls is StorageSettings:
        set_reserve(store, actor, int(typed.get("reserve_mb", 0)))
    else:
        accounts.set_login_settings(actor, **typed)
    return read(store, section)
