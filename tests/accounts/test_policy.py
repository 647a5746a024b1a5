from __future__ import annotations

import pytest

from openstation.accounts.policy import name_problem, unmet_rules
from openstation.config.sections import PasswordPolicy

POLICY = PasswordPolicy()


def test_a_strong_password_meets_every_rule() -> None:
    assert unmet_rules("Str0ng!pass", "alice", POLICY) == []


@pytest.mark.parametrize(("password", "rule"), [
    ("S0!a", "at least 8 characters"),
    ("str0ng!pass", "upper and lower case"),
    ("STR0NG!PASS", "upper and lower case"),
    ("Strong!pass", "a digit"),
    ("Str0ngpass", "special character"),
    ("Alice!2024x", "user name"),
])
def test_each_unmet_rule_is_named(password: str, rule: str) -> None:
    problems = unmet_rules(password, "alice", POLICY)
    assert len(problems) == 1
    assert rule in problems[0]


def test_a_blank_password_breaks_every_rule_but_the_name() -> None:
    assert len(unmet_rules("", "alice", POLICY)) == 4


def test_rules_can_be_switched_off() -> None:
    lax = PasswordPolicy(min_length=1, mixed_case=False, digit=False, special=False,
                         exclude_username=False)
    assert unmet_rules("alice", "alice", lax) == []


@pytest.mark.parametrize("bad", ["", " bob", "a/b", "a:b", "x" * 65, "tab\tname", "-x"])
def test_bad_account_names_are_refused(bad: str) -> None:
    assert name_problem(bad) is not None


def test_good_account_names_pass() -> None:
    for good in ("admin", "alice.smith", "Bob_2", "user-1"):
        assert name_problem(good) is None
