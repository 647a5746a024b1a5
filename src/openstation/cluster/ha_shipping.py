"""The active server's side of replication: ship the log in order, each entry as the
paths' current state; and the full resync that makes a returning passive equal to the
active (configuration first, then the files whose SHA-256 differs)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from openstation.cluster import replication as rep
from openstation.errors import PeerError, ReplicationError

if TYPE_CHECKING:
    from openstation.cluster.ha import HAService

log = logging.getLogger(__name__)


async def shipper(svc: HAService) -> None:
    """Ship the log while this server is active; a failure degrades the pair."""
    while True:
        await svc.log.work()
        if not (svc.ha.member and svc.ha.role == "active") or svc.link is None:
            continue
        try:
            if svc.peer_state == "unknown" and svc.peer.get("role") == "passive":
                await full_sync(svc)
            while svc.peer_state == "in sync" and (head := svc.log.first()):
                seq, entry = head
                await ship(svc, seq, entry)
                await svc.log.acknowledge(seq)
        except Exception as exc:
            svc.last_error = f"replication stopped: {exc}"
            if isinstance(exc, PeerError | ReplicationError | OSError):
                log.warning("%s", svc.last_error)
            else:
                log.exception("replication failed")
            svc.degrade()
            await svc.log.release()


async def post(svc: HAService, path: str, body: dict[str, Any], timeout: float = 30) -> Any:
    assert svc.link is not None
    return await svc.link.post(path, body, timeout=timeout)


async def ship(svc: HAService, seq: int, entry: dict[str, Any]) -> None:
    """One log entry, then its commit (the passive counts it applied only then)."""
    kind = entry["kind"]
    if kind == "rows":
        await post(svc, "/ha/apply", {"seq": seq, "op": "rows", "rows": entry["rows"]})
    elif kind == "rename":
        src, dst = await on_volume(svc, entry["src"]), await on_volume(svc, entry["dst"])
        if rep.crosses_encryption(src, dst):  # other bytes: both paths go as they are now
            shipped = [src, dst]
        else:
            answer = await post(svc, "/ha/apply", {"seq": seq, "op": "rename",
                                                    "src": src, "dst": dst})
            shipped = [] if answer.get("applied") else [dst]
        for rel in shipped + rep.companions(src) + rep.companions(dst):
            await ship_path(svc, seq, rel)
    else:
        rel = await on_volume(svc, entry["path"])
        for each in [rel, *rep.companions(rel)]:
            await ship_path(svc, seq, each)
    await post(svc, "/ha/apply", {"seq": seq, "op": "commit"})


async def on_volume(svc: HAService, rel: str) -> str:
    """Where the bytes of `rel` are on the volume: itself, or inside a mounted encrypted
    share, its ciphertext (the passive never sees plaintext). If that cannot be told any
    more (the share was unmounted since), a full resync will compare the ciphertext."""
    shown = await svc.on_volume(rel)
    if shown is None:
        raise ReplicationError(f"{rel!r} is in an encrypted shared folder that is not "
                               "mounted: resynchronising")
    return shown


async def ship_path(svc: HAService, seq: int, rel: str) -> None:
    """Send `rel` as it is now: a file, a folder and all inside it, or a deletion."""
    path = svc.volume / rel
    if not path.exists():
        await post(svc, "/ha/apply", {"seq": seq, "op": "remove", "path": rel})
    elif path.is_file():
        await ship_file(svc, seq, rel)
    else:
        await post(svc, "/ha/apply", {"seq": seq, "op": "mkdir", "path": rel})
        for child, child_path in svc.manifest.walk(path):
            if child_path.is_dir():
                await post(svc, "/ha/apply", {"seq": seq, "op": "mkdir", "path": child})
            else:
                await ship_file(svc, seq, child)


async def ship_file(svc: HAService, seq: int, rel: str) -> None:
    path = svc.volume / rel
    try:
        item = await asyncio.to_thread(svc.manifest.item, rel, path)
    except FileNotFoundError:
        await post(svc, "/ha/apply", {"seq": seq, "op": "remove", "path": rel})
        return
    assert svc.link is not None
    await svc.link.put_file("/ha/file", path, {
        "X-Seq": str(seq), "X-Path": json.dumps(rel), "X-Sha256": item.sha256})


async def full_sync(svc: HAService) -> None:
    """Make the passive equal to this server: configuration, then volume1."""
    svc.peer_state = "syncing"
    snapshot_seq = svc.log.clear()
    answer = await post(svc, "/ha/sync", {"step": "begin"}, timeout=600)
    svc.synced_boot = str(answer.get("boot", ""))
    theirs = rep.from_json(answer["manifest"])
    rows = [row.to_json() for row in svc.store.snapshot_rows(rep.REPLICATED)]
    await post(svc, "/ha/sync", {"step": "config", "rows": rows}, timeout=120)
    ours = await asyncio.to_thread(svc.manifest.items)
    todo = rep.plan(ours, theirs)
    if todo.extras:
        await post(svc, "/ha/sync", {"step": "extras", "paths": todo.extras})
    for rel in todo.mkdirs:
        await post(svc, "/ha/apply", {"seq": 0, "op": "mkdir", "path": rel})
    for rel in todo.files:
        await ship_file(svc, 0, rel)
    await post(svc, "/ha/sync", {"step": "done", "seq": snapshot_seq})
    svc.log.acked = max(svc.log.acked, snapshot_seq)
    svc.peer_state = "in sync"
    svc.peer["in_sync"] = True
    svc.last_error = ""
    log.info("the passive server is in sync (%d files sent)", len(todo.files))
