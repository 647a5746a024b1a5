"""Login sessions: random ids, idle timeout, revocation (pure; time is passed in).

Sessions live in memory, as DSM's do: a restart signs everyone out. The clock is injected so
tests move time by hand.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openstation.errors import SessionExpired

PER_ACCOUNT = 64  # live sessions of one account: a new one ends the oldest


@dataclass
class Session:
    """One signed-in client."""

    sid: str
    user: str
    ip: str
    created: float
    last_seen: float
    synotoken: str | None = None
    # Why the session may do nothing but set a new password ("" = unrestricted).
    restricted: str = ""
    name: str = ""  # the `session` parameter of the login (an app name)
    administrator: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # Uploads waiting for a confirmation (a checked backup file before its restore).
    pending: dict[str, Any] = field(default_factory=dict)


class Sessions:
    """Every live session of one device."""

    def __init__(self, clock: Callable[[], float], idle_timeout: Callable[[], float],
                 token: Callable[[int], str] = secrets.token_urlsafe) -> None:
        self._clock = clock
        self._idle_timeout = idle_timeout  # seconds, read on every check: it is configurable
        self._token = token
        self._by_sid: dict[str, Session] = {}
        self._by_user: dict[str, dict[str, None]] = {}

    def create(self, user: str, ip: str, *, synotoken: bool, restricted: str = "",
               name: str = "", administrator: bool = False) -> Session:
        """A new session with a 128-bit random id (and a SynoToken if asked)."""
        now = self._clock()
        session = Session(sid=self._token(16), user=user, ip=ip, created=now, last_seen=now,
                          synotoken=self._token(16) if synotoken else None,
                          restricted=restricted, name=name, administrator=administrator)
        mine = self._by_user.setdefault(user, {})  # sids in the order they were made
        if len(mine) >= PER_ACCOUNT:
            self.end(next(iter(mine)))
        self._by_sid[session.sid] = session
        mine[session.sid] = None
        return session

    def get(self, sid: str) -> Session | None:
        """The live session `sid`, touched; None if unknown; SessionExpired if idle too long."""
        session = self._by_sid.get(sid)
        if session is None:
            return None
        now = self._clock()
        if now - session.last_seen > self._idle_timeout():
            self.end(sid)
            raise SessionExpired(sid)
        session.last_seen = now
        return session

    def alive(self, sid: str) -> bool:
        """Whether `sid` is a live session (not touched: a stream's check is no activity)."""
        session = self._by_sid.get(sid)
        return session is not None and \
            self._clock() - session.last_seen <= self._idle_timeout()

    def end(self, sid: str) -> bool:
        session = self._by_sid.pop(sid, None)
        if session is None:
            return False
        mine = self._by_user.get(session.user, {})
        mine.pop(sid, None)
        if not mine:
            self._by_user.pop(session.user, None)
        return True

    def revoke_user(self, user: str) -> int:
        """End every session of `user` (password change, account disabled or deleted)."""
        doomed = list(self._by_user.get(user, ()))
        for sid in doomed:
            self.end(sid)
        return len(doomed)

    def revoke_all(self) -> int:
        """End every session (any reset)."""
        count = len(self._by_sid)
        self._by_sid.clear()
        self._by_user.clear()
        return count

    def live(self) -> list[Session]:
        """Every session not yet idle too long (none is touched or ended here)."""
        now, idle = self._clock(), self._idle_timeout()
        return [s for s in self._by_sid.values() if now - s.last_seen <= idle]

    def __len__(self) -> int:
        return len(self._by_sid)
