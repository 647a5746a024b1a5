"""The passive server's refusal, in one place.

The passive server of a High Availability pair takes every change from its active: a change
of its own would be undone by the next resync, so it refuses them. The store asks this
module at the start of every write (configuration transactions, and writes to volume1 made
through the device), and each face turns the refusal into its own answer: DSM code 105 for
the Web API, a message for the pages, exit code 1 for the CLI.
"""

from __future__ import annotations

from collections.abc import Callable

from openstation.config.sections import HACluster, Role

# Writes that belong to the pair itself, or that every server makes for itself: replication
# and membership, VMM membership, the RESET button, the factory seed, and what signing in
# records (Auto Block, trusted devices).
EXEMPT_SOURCES = frozenset({"high-availability", "vmm", "reset", "factory", "login"})

Refusal = Callable[[], "str | None"]
Guard = Callable[[str], "str | None"]


def refusal(ha: HACluster, switching: bool = False) -> str | None:
    """Why this server refuses changes now, or None (pure)."""
    if switching:
        return "a switchover is under way: try again in a moment"
    if ha.member and ha.role == Role.PASSIVE:
        return (f"this server is the passive server of high-availability cluster "
                f"{ha.cluster_name!r}: make changes on the active server")
    return None


def guard(why: Refusal) -> Guard:
    """The store's write guard: `why()` for every write but the exempt ones."""

    def check(source: str) -> str | None:
        return None if source in EXEMPT_SOURCES else why()

    return check
