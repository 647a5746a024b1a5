"""Sharing links (their API, their public pages, passwords, dates and revocation),
favourites, and thumbnails."""

from __future__ import annotations

import io
import time
from pathlib import Path

import aiohttp
from PIL import Image

from openstation.device import Device
from openstation.filestation.sharing import GUESSES
from tests.conftest import FakeClock
from tests.filestation.conftest import Files, Tree, sign_in
from tests.webapi.conftest import STRONG


async def public(files: Files, path: str, method: str = "GET", **kwargs: object
                 ) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as stranger, stranger.request(
            method, f"{files.base}{path}", allow_redirects=False, **kwargs) as response:
        return response.status, response.headers.get("Content-Type", ""), \
            await response.read()


async def test_a_link_serves_a_file_until_it_is_revoked(alice: Files, tree: Tree) -> None:
    tree({"report.pdf": b"%PDF report"})
    made = (await alice.ok("Sharing", "create", 3, path="/pub/report.pdf"))["links"][0]
    assert made["error"] == 0 and made["isFolder"] is False and made["status"] == "valid"
    assert made["url"] == f"{alice.base}/sharing/{made['id']}" and len(made["id"]) >= 16
    status, kind, page = await public(alice, f"/sharing/{made['id']}")
    assert status == 200 and b"report.pdf" in page and kind.startswith("text/html")
    status, _, body = await public(alice, f"/sharing/{made['id']}/download")
    assert status == 200 and body == b"%PDF report"
    info = await alice.ok("Sharing", "getinfo", 3, id=made["id"])
    assert info["link_owner"] == "alice" and info["has_password"] is False
    await alice.ok("Sharing", "delete", 3, id=made["id"])
    assert (await public(alice, f"/sharing/{made['id']}/download"))[0] == 404
    assert (await alice.call("Sharing", "getinfo", 3, id=made["id"]))["error"]["code"] == 2000


async def test_password_dates_and_a_folder(alice: Files, tree: Tree, clock: FakeClock,
                                           device: Device) -> None:
    GUESSES.clear("127.0.0.1")
    tree({"trip/a.jpg": b"A", "trip/day2/b.jpg": b"B"})
    made = (await alice.ok("Sharing", "create", 3, path="/pub/trip",
                           password="hunter22"))["links"][0]
    link = f"/sharing/{made['id']}"
    status, _, page = await public(alice, link)
    assert status == 200 and b"password" in page and b"a.jpg" not in page
    assert (await public(alice, f"{link}/download"))[0] == 403
    assert (await public(alice, link, "POST", data={"password": "wrong"}))[0] == 403
    # A browser keeps cookies of an address; aiohttp does only when told to.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as visitor:
        async with visitor.post(f"{alice.base}{link}", data={"password": "hunter22"}) as r:
            assert r.status == 200 and b"a.jpg" in await r.read()  # followed the redirect
        async with visitor.get(f"{alice.base}{link}", params={"path": "day2"}) as r:
            assert b"b.jpg" in await r.read()
        async with visitor.get(f"{alice.base}{link}/download",
                               params={"path": "day2/b.jpg"}) as r:
            assert await r.read() == b"B"
        for outside in ("../report.pdf", "a.jpg/x", "d/" * 2040, "d/" * 3000):
            async with visitor.get(f"{alice.base}{link}/download",
                                   params={"path": outside}) as r:
                assert r.status == 404, outside  # nothing outside the shared folder
        async with visitor.get(f"{alice.base}{link}/download") as r:
            assert r.headers["Content-Type"] == "application/zip" and len(await r.read()) > 100
        await alice.ok("Sharing", "edit", 3, id=made["id"], password="newpass9")
        async with visitor.get(f"{alice.base}{link}/download") as r:
            assert r.status == 403  # a new password locks the link again

    soon = time.strftime("%Y-%m-%d", time.localtime(clock.now + 86400 * 3))
    await alice.ok("Sharing", "edit", 3, id=made["id"], date_expired=f'"{soon}"',
                   password="")
    shown = await alice.ok("Sharing", "getinfo", 3, id=made["id"])
    assert shown["date_expired"] == soon and shown["has_password"] is False
    clock.advance(86400 * 5)
    alice = await sign_in(device, alice.http, "alice", STRONG)  # the old session timed out
    assert (await alice.ok("Sharing", "getinfo", 3, id=made["id"]))["status"] == "expired"
    assert (await public(alice, link))[0] == 404
    await alice.ok("Sharing", "clear_invalid", 3)
    assert (await alice.ok("Sharing", "list", 3))["links"] == []


async def test_strangers_and_other_users(alice: Files, bob: Files, tree: Tree,
                                         device: Device) -> None:
    GUESSES.clear("127.0.0.1")
    tree({"mine.txt": b"alice's"})
    made = (await alice.ok("Sharing", "create", 3, path="/pub/mine.txt"))["links"][0]
    assert (await bob.ok("Sharing", "list", 3))["links"] == []
    assert (await bob.call("Sharing", "delete", 3, id=made["id"]))["error"]["code"] == 2000
    assert (await bob.call("Sharing", "edit", 3, id=made["id"], password="x")
            )["error"]["code"] == 2000
    vault = await bob.call("Sharing", "create", 3, path="/vault")
    assert vault["error"]["code"] == 2002 and vault["error"]["errors"][0]["code"] == 407
    for guess in range(20):
        await public(alice, f"/sharing/guess{guess:012d}")
    assert (await public(alice, f"/sharing/{made['id']}"))[0] == 429  # slowed down
    GUESSES.clear("127.0.0.1")
    # The owner losing access ends the link: it reads with its owner's rights.
    device.web.storage.set_share("pub", actor="test", permissions={"user:alice": "na"})
    assert (await public(alice, f"/sharing/{made['id']}/download"))[0] == 404
    status = (await alice.ok("Sharing", "list", 3))["links"][0]["status"]
    assert status == "broken"
    device.web.storage.set_share("pub", actor="test", permissions={"user:alice": "rw"})
    assert (await public(alice, f"/sharing/{made['id']}/download"))[0] == 200
    await device.accounts.create_user("carol", "C4rol!pass", actor="test")
    carol = await sign_in(device, alice.http, "carol", "C4rol!pass")
    device.web.storage.set_share("pub", actor="test", permissions={"user:carol": "rw"})
    theirs = (await carol.ok("Sharing", "create", 3, path="/pub/mine.txt"))["links"][0]
    device.accounts.delete_user("carol", actor="test")
    assert (await public(alice, f"/sharing/{theirs['id']}/download"))[0] == 404


async def test_favorites(alice: Files, bob: Files, tree: Tree, volume: Path) -> None:
    tree({"a/": None, "b/": None})
    await alice.ok("Favorite", "add", path="/pub/a", name="A")
    await alice.ok("Favorite", "add", path="/pub/b", name="B", index="0")
    assert (await alice.call("Favorite", "add", path="/pub/a", name="again"))["error"][
        "code"] == 800
    assert (await alice.call("Favorite", "add", path="/pub", name="A"))["error"]["code"] \
        == 801
    listed = await alice.ok("Favorite", "list")
    assert [(f["name"], f["status"]) for f in listed["favorites"]] == [("B", "valid"),
                                                                       ("A", "valid")]
    await alice.ok("Favorite", "edit", path="/pub/a", name="Alpha")
    (volume / "pub" / "b").rmdir()
    broken = await alice.ok("Favorite", "list", status_filter="broken")
    assert [f["path"] for f in broken["favorites"]] == ["/pub/b"]
    await alice.ok("Favorite", "clear_broken")
    await alice.ok("Favorite", "replace_all", path=["/pub/a", "/pub"], name=["x", "y"])
    assert [f["name"] for f in (await alice.ok("Favorite", "list"))["favorites"]] == ["x", "y"]
    assert (await bob.ok("Favorite", "list"))["favorites"] == []  # each user's own
    assert (await bob.call("Favorite", "add", path="/vault", name="v"))["error"]["code"] \
        == 407


async def test_thumbnails(alice: Files, volume: Path) -> None:
    image = Image.new("RGB", (2000, 1000), "red")
    out = io.BytesIO()
    image.save(out, "JPEG")
    (volume / "pub" / "big.jpg").write_bytes(out.getvalue())
    Image.new("RGBA", (50, 80), (0, 0, 255, 128)).save(volume / "pub" / "a.png")
    for size, edge in (("small", 120), ("medium", 320), ("large", 640)):
        status, headers, body = await alice.get("Thumb", "get", path="/pub/big.jpg",
                                                size=size)
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(body)).size == (edge, edge // 2)
    _, _, body = await alice.get("Thumb", "get", path="/pub/big.jpg", size="small",
                                 rotate="1")
    assert Image.open(io.BytesIO(body)).size == (60, 120)
    status, headers, body = await alice.get("Thumb", "get", path="/pub/a.png",
                                            size="original")
    assert headers["Content-Type"] == "image/png" and Image.open(io.BytesIO(body)).size \
        == (50, 80)
    (volume / "pub" / "fake.jpg").write_bytes(b"not an image")
    for path in ("/pub/fake.jpg", "/pub/none.jpg", "/vault", "/pub/../etc/passwd"):
        assert (await alice.get("Thumb", "get", path=path))[0] == 404, path
