from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from openstation.webapi import info
from openstation.webapi.dispatch import ApiCall, Dispatcher
from openstation.webapi.registry import Api, Registry


def build_registry() -> Registry:
    registry = Registry()
    info.register(registry)

    async def echo(call: ApiCall) -> dict[str, Any]:
        return {"params": call.params, "limit": call.int_param("limit", 10),
                "additional": call.json_param("additional", [])}

    async def crash(call: ApiCall) -> dict[str, Any]:
        raise RuntimeError("a bug")

    registry.add(Api("SYNO.Test.Echo", "entry.cgi", 1, 3, {"echo": echo, "crash": crash},
                     needs_session=False))
    registry.add(Api("SYNO.Test.Private", "entry.cgi", 1, 1, {"get": echo}))
    return registry


@pytest.fixture
async def client() -> Any:
    app = web.Application()
    dispatcher = Dispatcher(build_registry())
    app.router.add_route("*", "/webapi/{cgi}.cgi", dispatcher.handle)
    app.router.add_route("*", "/webapi/entry.cgi/{api}", dispatcher.handle)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def answer(client: TestClient, path: str = "/webapi/entry.cgi", **kwargs: Any
                 ) -> dict[str, Any]:
    method = "POST" if "data" in kwargs else "GET"
    response = await client.request(method, path, **kwargs)
    assert response.status == 200
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    return body


async def test_info_query_answers_all_a_list_and_a_prefix(client: TestClient) -> None:
    base = {"api": "SYNO.API.Info", "version": "1", "method": "query"}
    everything = await answer(client, "/webapi/query.cgi", params=base)
    assert set(everything["data"]) == {"SYNO.API.Info", "SYNO.Test.Echo", "SYNO.Test.Private"}
    for query in ("all", "ALL"):
        got = await answer(client, "/webapi/query.cgi", params={**base, "query": query})
        assert got == everything
    listed = await answer(client, "/webapi/query.cgi",
                          params={**base, "query": "SYNO.API.Info,SYNO.Nope"})
    assert listed["data"] == {"SYNO.API.Info": {"path": "query.cgi", "minVersion": 1,
                                                "maxVersion": 1}}
    prefixed = await answer(client, "/webapi/query.cgi", params={**base, "query": "SYNO.Test."})
    assert set(prefixed["data"]) == {"SYNO.Test.Echo", "SYNO.Test.Private"}


@pytest.mark.parametrize(("params", "code"), [
    ({}, 101),
    ({"api": "SYNO.Test.Echo", "method": "echo"}, 101),
    ({"api": "SYNO.Nope", "method": "echo", "version": "1"}, 102),
    ({"api": "SYNO.Test.Echo", "method": "nope", "version": "1"}, 103),
    ({"api": "SYNO.Test.Echo", "method": "echo", "version": "4"}, 104),
    ({"api": "SYNO.Test.Echo", "method": "echo", "version": "x"}, 104),
    ({"api": "SYNO.Test.Echo", "method": "echo", "version": "1", "limit": "ten"}, 120),
    ({"api": "SYNO.Test.Echo", "method": "echo", "version": "1", "additional": "[1,"}, 120),
    ({"api": "SYNO.Test.Private", "method": "get", "version": "1"}, 119),
    ({"api": "SYNO.Test.Echo", "method": "crash", "version": "1"}, 100),
])
async def test_malformed_calls_get_their_dsm_codes(client: TestClient, params: dict[str, str],
                                                   code: int) -> None:
    body = await answer(client, params=params)
    assert body == {"success": False, "error": {"code": code}}


async def test_parameters_come_from_query_string_and_form_body(client: TestClient) -> None:
    body = await answer(client, "/webapi/entry.cgi/SYNO.Test.Echo",
                        params={"method": "echo", "version": "2"},
                        data={"limit": "5", "additional": '["email"]'})
    assert body["success"] is True
    assert body["data"]["limit"] == 5
    assert body["data"]["additional"] == ["email"]


async def test_a_binary_body_is_ignored_not_fatal(client: TestClient) -> None:
    response = await client.post(
        "/webapi/entry.cgi?api=SYNO.Test.Echo&method=echo&version=1",
        data=bytes(range(256)) * 8, headers={"Content-Type": "application/octet-stream"})
    assert response.status == 200
    assert (await response.json())["success"] is True
