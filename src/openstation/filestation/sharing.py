"""Sharing links: a URL that lets anyone (with its password, if it has one) read a file or
folder between two dates, with the rights its owner has at the moment of each request.

Deleting a link, its owner losing access, or its path going away ends it at once: every
public request checks the link again. Link ids are 16 random URL-safe characters (a link
cannot be guessed), and the public pages count wrong ids and passwords per source.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openstation.accounts import passwords
from openstation.accounts.failures import FailureCounter
from openstation.config.sections import SharingLink, User
from openstation.config.store import ConfigStore
from openstation.errors import ApiError, OpenStationError, ValidationError
from openstation.filestation import codes
from openstation.filestation.service import FileStation, Item

PER_USER = 500  # links a user may have (2001 past it)
PASSWORD_MAX = 16  # characters, as DSM allows
GUESSES = FailureCounter(limit=20, window=60.0)  # wrong ids or passwords per source a minute
VALID, NOT_YET, EXPIRED, BROKEN = "valid", "invalid", "expired", "broken"


def parse_date(raw: str | None, *, end_of_day: bool) -> float | None:
    """DSM's date parameter: "YYYY-MM-DD" (the NAS's local date; an expiry lasts to the
    day's end), optionally JSON-quoted, or 0/"" for none. None: not given."""
    if raw is None:
        return None
    text = raw.strip().strip('"')
    if text in ("", "0"):
        return 0.0
    # fromisoformat, not strptime: strptime's first call builds its locale tables (~50 ms
    # of the event loop).
    try:
        when = dt.datetime.fromisoformat(text)
        if len(text) == 10 and end_of_day:  # a bare date: the whole day
            when += dt.timedelta(days=1, seconds=-1)
        return when.timestamp()
    except (ValueError, OverflowError, OSError):
        pass  # not a date, or one no clock can hold (0001-01-01)
    raise ValidationError({"date": f"{text!r} is not a date (YYYY-MM-DD)"})


def show_date(when: float) -> str:
    return "0" if not when else dt.datetime.fromtimestamp(when).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Opened:
    """A live link and what it leads to now."""

    link: SharingLink
    item: Item


class SharingService:
    """Sharing links in the store (collection `sharing_links`)."""

    def __init__(self, store: ConfigStore, files: FileStation,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.files = files
        self.clock = clock

    def status(self, link: SharingLink) -> str:
        owner = self.store.record(User, link.owner)
        if owner is None or owner.disabled:
            return BROKEN  # a link lives only as long as its owner's account
        now = self.clock()
        if link.date_expired and now > link.date_expired:
            return EXPIRED
        if link.date_available and now < link.date_available:
            return NOT_YET
        try:
            self.files.stat(link.owner, link.path)
        except (OpenStationError, OSError):
            return BROKEN
        return VALID

    def to_json(self, link: SharingLink, base_url: str) -> dict[str, Any]:
        name = link.path.rsplit("/", 1)[-1]
        try:
            is_folder = self.files.stat(link.owner, link.path).is_dir
        except (OpenStationError, OSError):
            is_folder = False
        return {"id": link.id, "url": f"{base_url}/sharing/{link.id}",
                "link_owner": link.owner, "path": link.path, "name": name,
                "isFolder": is_folder, "has_password": bool(link.password_hash),
                "date_expired": show_date(link.date_expired),
                "date_available": show_date(link.date_available),
                "status": self.status(link)}

    def visible(self, user: str, administrator: bool) -> list[SharingLink]:
        """The links `user` manages (an administrator: everyone's)."""
        return [link for link in self.store.records(SharingLink)
                if administrator or link.owner == user]

    def get(self, user: str, link_id: str, administrator: bool = False) -> SharingLink:
        link = self.store.record(SharingLink, link_id.strip().strip('"'))
        if link is None or not (administrator or link.owner == user):
            raise ApiError(codes.NO_SUCH_LINK)
        return link

    async def create(self, user: str, path: str, *, password: str = "",
                     date_expired: float = 0.0, date_available: float = 0.0) -> SharingLink:
        path = self.files.stat(user, path).path  # the owner must be able to read it now
        if sum(link.owner == user for link in self.store.records(SharingLink)) >= PER_USER:
            raise ApiError(codes.TOO_MANY_LINKS)
        _check_password(password)
        link = SharingLink(id=secrets.token_urlsafe(12), owner=user, path=path,
                           password_hash=await passwords.hash_password(password)
                           if password else "",
                           date_available=date_available, date_expired=date_expired,
                           created=self.clock())
        with self.store.transaction(user) as tx:
            tx.put_record(link)
        return link

    async def edit(self, user: str, link_ids: list[str], administrator: bool, *,
                   password: str | None, date_expired: float | None,
                   date_available: float | None) -> None:
        links = [self.get(user, i, administrator) for i in link_ids]
        if password:
            _check_password(password)
        hashed = (await passwords.hash_password(password) if password else "") \
            if password is not None else None
        with self.store.transaction(user) as tx:
            for link in links:
                if hashed is not None:
                    link.password_hash = hashed
                if date_expired is not None:
                    link.date_expired = date_expired
                if date_available is not None:
                    link.date_available = date_available
                tx.put_record(link)

    def delete(self, user: str, link_ids: list[str], administrator: bool) -> None:
        missing = [{"code": codes.NO_SUCH_LINK, "id": i} for i in link_ids
                   if self._find(user, i, administrator) is None]
        if missing:
            raise ApiError(codes.NO_SUCH_LINK, errors=missing)
        with self.store.transaction(user) as tx:
            for link_id in link_ids:
                tx.delete_record(SharingLink, link_id.strip().strip('"'))

    def clear_invalid(self, user: str, administrator: bool) -> int:
        gone = [link for link in self.visible(user, administrator)
                if self.status(link) in (EXPIRED, BROKEN)]
        if gone:
            with self.store.transaction(user) as tx:
                for link in gone:
                    tx.delete_record(SharingLink, link.id)
        return len(gone)

    def _find(self, user: str, link_id: str, administrator: bool) -> SharingLink | None:
        try:
            return self.get(user, link_id, administrator)
        except ApiError:
            return None

    # --- the public side ------------------------------------------------------------------

    def open(self, link_id: str) -> Opened | None:
        """The link and its target if it is valid now (None: no such live link)."""
        link = self.store.record(SharingLink, link_id)
        if link is None or self.status(link) != VALID:
            return None
        try:
            return Opened(link, self.files.stat(link.owner, link.path))
        except (OpenStationError, OSError):
            return None

    async def password_ok(self, link: SharingLink, password: str) -> bool:
        if not link.password_hash:
            return True
        return await passwords.verify_password(link.password_hash, password)


def _check_password(password: str) -> None:
    if len(password) > PASSWORD_MAX:
        raise ValidationError({"password": f"at most {PASSWORD_MAX} characters"})
