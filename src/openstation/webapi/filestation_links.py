"""Sharing links and favourites over the Web API: SYNO.FileStation.Sharing (getinfo, list,
create, edit, delete, clear_invalid) and SYNO.FileStation.Favorite (list, add, delete,
edit, replace_all, clear_broken)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from openstation.errors import ApiError, OpenStationError
from openstation.filestation import codes
from openstation.filestation.codes import FILE_ERRORS
from openstation.filestation.describe import FILE_FIELDS
from openstation.filestation.favorites import favorite_json
from openstation.filestation.listing import page
from openstation.filestation.sharing import parse_date
from openstation.filestation.station import Station
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.filestation import (
    Describer,
    additional,
    choice,
    descending,
    file_errors,
    one,
    paging,
    user,
    values,
)
from openstation.webapi.registry import Api, Registry

LINK_SORT = ("id", "name", "isfolder", "path", "date_expired", "date_available", "status",
             "has_password", "url", "link_owner")


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def register(registry: Registry, station: Station) -> None:
    sharing, favorites = station.sharing, station.favorites
    describer = Describer(station)

    def admin(call: ApiCall) -> bool:
        return bool(call.session.administrator)

    def dates(call: ApiCall) -> tuple[float | None, float | None]:
        return (parse_date(call.params.get("date_expired"), end_of_day=True),
                parse_date(call.params.get("date_available"), end_of_day=False))

    def password(call: ApiCall) -> str | None:
        raw = call.params.get("password")
        return None if raw is None else raw

    async def link_info(call: ApiCall) -> dict[str, Any]:
        link = sharing.get(user(call), one(call, "id"), admin(call))
        return sharing.to_json(link, base_url(call.request))

    async def link_list(call: ApiCall) -> dict[str, Any]:
        offset, limit = paging(call)
        links = [sharing.to_json(link, base_url(call.request))
                 for link in sharing.visible(user(call), admin(call))]
        key = choice(call, "sort_by", LINK_SORT, "name")
        field = {"isfolder": "isFolder"}.get(key, key)
        links.sort(key=lambda link: str(link.get(field, "")), reverse=descending(call))
        return {"offset": offset, "total": len(links), "links": page(links, offset, limit)}

    @file_errors(codes.LINK_FAILED)
    async def link_create(call: ApiCall) -> dict[str, Any]:
        expired, available = dates(call)
        made = []
        for path in values(call, "path"):
            try:
                link = await sharing.create(user(call), path, password=password(call) or "",
                                            date_expired=expired or 0.0,
                                            date_available=available or 0.0)
            except FILE_ERRORS as exc:
                made.append({"path": path, "error": codes.code_of(exc)})
                continue
            shown = sharing.to_json(link, base_url(call.request))
            made.append({**shown, "error": 0, "qrcode": ""})
        if made and all(entry["error"] for entry in made):
            raise ApiError(codes.LINK_FAILED, errors=[
                {"code": e["error"], "path": e["path"]} for e in made])
        return {"links": made}

    async def link_edit(call: ApiCall) -> dict[str, Any]:
        expired, available = dates(call)
        await sharing.edit(user(call), values(call, "id"), admin(call),
                           password=password(call), date_expired=expired,
                           date_available=available)
        return {}

    async def link_delete(call: ApiCall) -> dict[str, Any]:
        sharing.delete(user(call), values(call, "id"), admin(call))
        return {}

    async def link_clear(call: ApiCall) -> dict[str, Any]:
        sharing.clear_invalid(user(call), admin(call))
        return {}

    # --- favourites ------------------------------------------------------------------------

    async def favorite_list(call: ApiCall) -> dict[str, Any]:
        offset, limit = paging(call)
        status = choice(call, "status_filter", ("valid", "broken", "all"), "all")
        fields = additional(call, FILE_FIELDS)
        rows = [(entry, item) for entry, item in favorites.listing(user(call))
                if status == "all" or (item is not None) == (status == "valid")]
        shown = page(rows, offset, limit)
        answers = []
        for entry, item in shown:
            body = favorite_json(entry, item)
            if item is not None and fields:
                body["additional"] = (await describer.files([item], fields))[0]["additional"]
            answers.append(body)
        return {"offset": offset, "total": len(rows), "favorites": answers}

    @file_errors()
    async def favorite_add(call: ApiCall) -> dict[str, Any]:
        favorites.add(user(call), one(call, "path"), one(call, "name"),
                      call.int_param("index", -1, low=-1))
        return {}

    async def favorite_delete(call: ApiCall) -> dict[str, Any]:
        favorites.delete(user(call), one(call, "path"))
        return {}

    async def favorite_edit(call: ApiCall) -> dict[str, Any]:
        name = call.params.get("name") or call.params.get("new_name")  # a client's spelling
        if name is None:
            raise ApiError(codes.INVALID_PARAMETER, errors={"name": "missing"})
        favorites.edit(user(call), one(call, "path"), name.strip('"'))
        return {}

    @file_errors()
    async def favorite_replace(call: ApiCall) -> dict[str, Any]:
        try:
            favorites.replace_all(user(call), values(call, "path"), values(call, "name"))
        except OpenStationError as exc:
            if isinstance(exc, ApiError):
                raise
            raise ApiError(codes.INVALID_PARAMETER, errors={"reason": str(exc)}) from None
        return {}

    async def favorite_clear(call: ApiCall) -> dict[str, Any]:
        favorites.clear_broken(user(call))
        return {}

    changing = frozenset({"create", "edit", "delete", "clear_invalid"})
    registry.add(Api("SYNO.FileStation.Sharing", "entry.cgi", 1, 3, {
        "getinfo": link_info, "list": link_list, "create": link_create, "edit": link_edit,
        "delete": link_delete, "clear_invalid": link_clear}, changes=changing))
    registry.add(Api("SYNO.FileStation.Favorite", "entry.cgi", 1, 2, {
        "list": favorite_list, "add": favorite_add, "delete": favorite_delete,
        "edit": favorite_edit, "replace_all": favorite_replace,
        "clear_broken": favorite_clear},
        changes=frozenset({"add", "delete", "edit", "replace_all", "clear_broken"})))
