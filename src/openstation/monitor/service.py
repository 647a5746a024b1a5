"""Resource Monitor's settings through the service layer: the usage history on or off,
and the alarm rules, each checked; committed with the audit entry."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from openstation.config.changes import SectionService
from openstation.config.sections import AlarmRule, ResourceMonitorSettings
from openstation.errors import NotFoundError, ValidationError
from openstation.monitor.alarms import rule_problems

MAX_RULES = 50


def settings_problems(settings: ResourceMonitorSettings) -> dict[str, str]:
    problems: dict[str, str] = {}
    if len(settings.rules) > MAX_RULES:
        problems["rules"] = f"at most {MAX_RULES}"
    ids = [rule.rule_id for rule in settings.rules]
    if len(set(ids)) != len(ids) or not all(i.isascii() and i.isalnum() and len(i) <= 32
                                            for i in ids):
        problems["rules"] = "each with an id of its own"
    for rule in settings.rules:
        problems |= {f"rules.{rule.rule_id}.{k}": v for k, v in rule_problems(rule).items()}
    return problems


class ResourceMonitorService(SectionService[ResourceMonitorSettings]):
    section = ResourceMonitorSettings

    def problems(self, settings: ResourceMonitorSettings) -> dict[str, str]:
        return settings_problems(settings)

    def add_rule(self, actor: str, **fields: Any) -> AlarmRule:
        rule = self._rule(AlarmRule(rule_id=secrets.token_hex(4)), fields)
        self.set(actor, rules=[*self.settings().rules, rule])
        return rule

    def change_rule(self, actor: str, rule_id: str, **fields: Any) -> AlarmRule:
        rules = self.settings().rules
        index = self._index(rules, rule_id)
        rule = self._rule(rules[index], fields)
        self.set(actor, rules=[*rules[:index], rule, *rules[index + 1:]])
        return rule

    def delete_rule(self, actor: str, rule_id: str) -> None:
        rules = self.settings().rules
        index = self._index(rules, rule_id)
        self.set(actor, rules=[*rules[:index], *rules[index + 1:]])

    @staticmethod
    def _index(rules: list[AlarmRule], rule_id: str) -> int:
        for index, rule in enumerate(rules):
            if rule.rule_id == rule_id:
                return index
        raise NotFoundError(f"no alarm rule {rule_id!r}")

    @staticmethod
    def _rule(rule: AlarmRule, fields: dict[str, Any]) -> AlarmRule:
        wanted = {k: v for k, v in fields.items() if v is not None}
        try:
            rule = dataclasses.replace(rule, **wanted)
        except TypeError:
            raise ValidationError({k: "no such setting" for k in wanted}) from None
        if problems := rule_problems(rule):
            raise ValidationError(problems)
        return rule
