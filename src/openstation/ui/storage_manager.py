"""Storage Manager in the browser (`/storage`, administrators): the volume (size, used,
free, file system, status in words and colour), the model's bays as the virtual disks they
are (said so), and the shared folders with their sizes (walked off the loop, at most once a
minute) and quotas. The same facts as the Web API's Storage Manager
(webapi/storage_info.py)."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from openstation import offload
from openstation.accounts.sessions import Session
from openstation.config.sections import Share
from openstation.storage.quota import folder_bytes
from openstation.storage.volume import metadata_folder
from openstation.ui.kit import PageKit
from openstation.webapi.storage_info import facts

SIZES_FOR = 60.0  # seconds a walk of the shares' sizes is shown for


def human(size: int) -> str:
    value, unit = float(size), 0
    units = ("B", "KB", "MB", "GB", "TB")
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    return f"{value:.1f} {units[unit]}" if unit else f"{size} B"


class StorageManagerPages:
    def __init__(self, kit: PageKit) -> None:
        self.kit = kit
        self.ctx = kit.ctx
        self._sizes: tuple[float, dict[str, int]] = (-SIZES_FOR, {})
        self._walking = asyncio.Lock()  # one walk of the shares at a time, whoever asks

    async def sizes(self, shares: list[Share]) -> dict[str, int]:
        """Each share's size, walked at most once a minute (and at once for a share the
        last walk did not see)."""
        async with self._walking:
            if time.monotonic() - self._sizes[0] >= SIZES_FOR or \
                    any(s.name not in self._sizes[1] for s in shares):
                storage = self.ctx.storage
                walked = await offload.run(lambda: {
                    s.name: folder_bytes(metadata_folder(storage.volume, s.name, s.encrypted))
                    for s in shares})
                self._sizes = (time.monotonic(), walked)
        return self._sizes[1]

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/storage", self.kit.admin(self.page))

    async def page(self, request: web.Request, session: Session) -> web.Response:
        storage = self.ctx.storage
        shares = self.ctx.store.records(Share)
        found = await offload.run(facts, self.ctx)
        walked = await self.sizes(shares)
        sizes = [walked.get(s.name, 0) for s in shares]
        volume = found["volumes"][0]
        total, used = int(volume["size"]["total"]), int(volume["size"]["used"])
        percent = round(100 * used / total, 1) if total else 0.0
        healthy = volume["status"] == "normal" and percent < 90
        rows = [{"name": s.name, "size": human(size), "encrypted": s.encrypted,
                 "mounted": storage.is_mounted(s),
                 "quota": f"{s.quota_mb} MB" if s.quota_mb else "none",
                 "full": s.name in storage.quotas.full}
                for s, size in zip(shares, sizes, strict=True)]
        return self.kit.render(
            "storage.html", request, session, title="Storage Manager",
            volume={"total": human(total), "used": human(used), "free": human(total - used),
                    "percent": percent, "fs": volume["fs_type"], "healthy": healthy,
                    "words": "Healthy" if healthy else
                    "Nearly full" if volume["status"] == "normal" else "Degraded"},
            disks=found["disks"], shares=rows)
