"""The strong-password policy and the rules for account names (pure)."""

from __future__ import annotations

import re

from openstation.config.sections import PasswordPolicy
from openstation.names import lookalike_problem, principal_problem

# DSM refuses these characters in user and group names.
_NAME_FORBIDDEN = set('/\\[]:;|=,+*?<>@"`\'')
MAX_NAME = 64


def unmet_rules(password: str, username: str, policy: PasswordPolicy) -> list[str]:
    """Each rule of the policy that `password` does not meet, in words."""
    problems: list[str] = []
    if len(password) < policy.min_length:
        problems.append(f"must be at least {policy.min_length} characters long")
    if policy.mixed_case and not (re.search(r"[a-z]", password) and re.search(r"[A-Z]", password)):
        problems.append("must mix upper and lower case letters")
    if policy.digit and not re.search(r"[0-9]", password):
        problems.append("must contain a digit")
    if policy.special and not re.search(r"[^A-Za-z0-9]", password):
        problems.append("must contain a special character")
    if policy.exclude_username and username and username.lower() in password.lower():
        problems.append("must not contain the user name")
    return problems


def name_problem(name: str) -> str | None:
    """Why `name` cannot be an account or group name, or None when it can."""
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters"
    if name != name.strip():
        return "must not start or end with a space"
    if any(char in _NAME_FORBIDDEN or ord(char) < 32 or ord(char) == 127 for char in name):
        return 'must not contain control characters or any of / \\ [ ] : ; | = , + * ? < > @ " ` \''
    if name.startswith("-"):
        return "must not start with '-'"
    return lookalike_problem(name) or principal_problem(name)
