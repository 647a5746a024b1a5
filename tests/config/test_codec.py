"""Typed sections: decoding checks every field's type, enum value and range, and names the
field it refuses; replicated and restored rows go through the same check."""

from __future__ import annotations

import pytest

from openstation.config.codec import from_dict, to_dict
from openstation.config.sections import (
    Action,
    FirewallRule,
    HACluster,
    Ports,
    Role,
    Share,
    User,
)
from openstation.config.store import ConfigStore, RowChange
from openstation.errors import ValidationError


def test_a_round_trip_keeps_every_field_and_types_the_enums() -> None:
    rule = FirewallRule(rule_id="r1", order=3, source="10.0.0.0/8", action=Action.DENY)
    back = from_dict(FirewallRule, to_dict(rule))
    assert back == rule and back.action is Action.DENY
    assert from_dict(HACluster, {"member": True, "role": "passive"}).role is Role.PASSIVE
    assert from_dict(Ports, {}) == Ports()  # missing fields take their defaults


@pytest.mark.parametrize(("cls", "data", "field"), [
    (Ports, {"http": "5000"}, "ports.http"),
    (Ports, {"https": 70000}, "ports.https"),
    (HACluster, {"role": "boss"}, "ports.role"),
    (User, {"name": "bob", "uid": -1}, "ports.uid"),
    (Share, {"name": "s", "permissions": {"user:bob": "all"}}, "ports.permissions[...]"),
    (FirewallRule, {"rule_id": "r", "action": "maybe"}, "ports.action"),
])
def test_a_wrong_field_is_refused_by_name(cls: type, data: dict[str, object],
                                          field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        from_dict(cls, data, "ports.")
    assert list(refused.value.problems) == [field]


def test_a_replicated_row_of_the_wrong_shape_changes_nothing(store: ConfigStore) -> None:
    bad = [RowChange("users", "bob", {"name": "bob", "uid": "1026"}, False),
           RowChange("users", "bob", {"name": "carol"}, False),
           RowChange("nonsense", "", {"x": 1}, True),
           RowChange("ports", "", None, True)]
    for row in bad:
        with pytest.raises(ValidationError), store.transaction("t", "high-availability") as tx:
            tx.apply_row(row)
    assert store.record(User, "bob") is None and store.get(Ports) == Ports()
    with store.transaction("t", "high-availability") as tx:
        tx.apply_row(RowChange("users", "bob", {"name": "bob", "uid": 1026}, False))
    user = store.record(User, "bob")
    assert user is not None and user.uid == 1026


def test_a_write_of_the_wrong_shape_is_refused_before_it_is_stored(store: ConfigStore) -> None:
    bad = Ports()
    bad.https = 70000
    with pytest.raises(ValidationError) as refused, store.transaction("t") as tx:
        tx.put(bad)
    assert list(refused.value.problems) == ["ports.https"]
    assert store.get(Ports) == Ports()  # the database still reads
