"""The security service: Control Panel > Security (Firewall, Account > Auto Block)."""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

from openstation.config.sections import Action, AutoBlock, BlockEntry, Firewall, FirewallRule
from openstation.config.store import ConfigStore
from openstation.errors import ConflictError, ValidationError
from openstation.security.firewall import ACTIONS, FirewallPolicy, Services, rule_problems


def address_problem(text: str) -> str | None:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"{text!r} is not an address or network"
    return None


class SecurityService:
    """Firewall and Auto Block settings, validated, in one transaction each."""

    def __init__(self, store: ConfigStore) -> None:
        self.store = store

    def firewall(self) -> Firewall:
        return self.store.get(Firewall)

    def rules(self) -> list[FirewallRule]:
        """The firewall's rules, in the order they apply."""
        return sorted(self.store.records(FirewallRule), key=lambda rule: rule.order)

    def autoblock(self) -> AutoBlock:
        return self.store.get(AutoBlock)

    def policy(self, known: Services) -> FirewallPolicy:
        return FirewallPolicy(self.store.get(Firewall), self.store.records(FirewallRule), known)

    def set_firewall(self, actor: str, client: str | None, known: Services, *,
                     enabled: bool | None = None, default_action: str | None = None,
                     rules: list[FirewallRule] | None = None, confirm: bool = False) -> None:
        """Change the firewall; refuse (unless confirmed) what would lock `client` out."""
        settings = self.store.get(Firewall)
        if enabled is not None:
            settings.enabled = enabled
        problems: dict[str, str] = {}
        if default_action is not None:
            if default_action in ACTIONS:
                settings.default_action = Action(default_action)
            else:
                problems["default_action"] = "allow or deny"
        new_rules = rules if rules is not None else self.store.records(FirewallRule)
        seen: set[str] = set()
        for n, rule in enumerate(new_rules):
            for key, why in rule_problems(rule).items():
                problems[f"rules.{n}.{key}"] = why
            if rule.rule_id in seen or not rule.rule_id:
                problems[f"rules.{n}.rule_id"] = "missing or repeated"
            seen.add(rule.rule_id)
        if problems:
            raise ValidationError(problems)
        if client is not None and not confirm:
            policy = FirewallPolicy(settings, new_rules, known)
            if not any(policy.allowed(client, low, "tcp") for low, _ in known["dsm"][1]):
                raise ConflictError(
                    f"these rules would lock out {client} (this connection); "
                    "send confirm_lockout=true to apply them anyway")
        with self.store.transaction(actor, "security") as tx:
            tx.put(settings)
            if rules is not None:
                wanted = {rule.rule_id for rule in rules}
                for old in tx.records(FirewallRule):
                    if old.rule_id not in wanted:
                        tx.delete_record(FirewallRule, old.rule_id)
                for n, rule in enumerate(rules):
                    tx.put_record(dataclasses.replace(rule, order=n))

    def set_autoblock(self, actor: str, **changes: Any) -> None:
        settings = self.store.get(AutoBlock)
        allowed = {"enabled", "attempts", "within_minutes", "expire_days"}
        unknown = set(changes) - allowed
        problems = {key: "unknown setting" for key in sorted(unknown)}
        settings = dataclasses.replace(settings, **{k: v for k, v in changes.items()
                                                    if k in allowed})
        if not 1 <= settings.attempts <= 1000:
            problems["attempts"] = "must be 1-1000"
        if not 1 <= settings.within_minutes <= 1440:
            problems["within_minutes"] = "must be 1-1440"
        if not 0 <= settings.expire_days <= 3650:
            problems["expire_days"] = "must be 0 (never) to 3650"
        if problems:
            raise ValidationError(problems)
        with self.store.transaction(actor, "security") as tx:
            tx.put(settings)

    def add_autoblock_entry(self, actor: str, list_name: str, address: str,
                            expires: float | None = None) -> None:
        if list_name not in ("allow", "block"):
            raise ValidationError({"type": "allow or block"})
        if (why := address_problem(address)) is not None:
            raise ValidationError({"ip": why})
        settings = self.store.get(AutoBlock)
        if list_name == "allow":
            if address not in settings.allow:
                settings.allow.append(address)
        else:
            settings.block = [e for e in settings.block if e.address != address]
            settings.block.append(BlockEntry(address, self.store.clock(), expires))
        with self.store.transaction(actor, "security") as tx:
            tx.put(settings)

    def delete_autoblock_entry(self, actor: str, list_name: str, address: str) -> None:
        settings = self.store.get(AutoBlock)
        if list_name == "allow":
            settings.allow = [a for a in settings.allow if a != address]
        elif list_name == "block":
            settings.block = [e for e in settings.block if e.address != address]
        else:
            raise ValidationError({"type": "allow or block"})
        with self.store.transaction(actor, "security") as tx:
            tx.put(settings)
