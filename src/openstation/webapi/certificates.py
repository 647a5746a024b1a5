"""Control Panel > Security > Certificate over the Web API: SYNO.Core.Certificate.CRT list
(every kept certificate; the default is the one the device serves: HTTPS, WebDAV's HTTPS,
the Vault), set (make one the default: live at once) and delete; SYNO.Core.Certificate
import (a PEM certificate, its key and chain: checked), create (self-signed) and export
(the certificate and its chain; the private key never leaves the device)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from aiohttp import web

from openstation import offload
from openstation.errors import ApiError
from openstation.security.certificates import CertificateService
from openstation.webapi import envelope
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Handler, Registry

SERVICES = [{"display_name": "DSM Desktop Service", "service": "default",
             "subscriber": "system", "isPkg": False, "owner": "root"},
            {"display_name": "WebDAV Server", "service": "webdav",
             "subscriber": "WebDAVServer", "isPkg": True, "owner": "root"},
            {"display_name": "Hyper Backup Vault", "service": "hbkpvault",
             "subscriber": "HyperBackupVault", "isPkg": True, "owner": "root"}]


def described(cert_id: str, cert: Any, default: bool) -> dict[str, Any]:
    """A certificate as DSM lists it (None, or one that cannot be read: is_broken)."""
    try:
        return _described(cert_id, cert, default)
    except (AttributeError, ValueError, TypeError):
        return {"id": cert_id, "desc": "", "is_default": default, "is_broken": True,
                "renewable": False, "user_deletable": not default, "services": []}


def _described(cert_id: str, cert: Any, default: bool) -> dict[str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    def name(of: x509.Name) -> dict[str, str]:
        fields = {"common_name": NameOID.COMMON_NAME, "country": NameOID.COUNTRY_NAME,
                  "organization": NameOID.ORGANIZATION_NAME, "city": NameOID.LOCALITY_NAME}
        return {key: str(found[0].value) for key, oid in fields.items()
                if (found := of.get_attributes_for_oid(oid))}

    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        alt = [str(value) for value in sans.get_values_for_type(x509.DNSName)] + [
            str(value) for value in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        alt = []
    stamp = "%b %d %H:%M:%S %Y GMT"
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return {"id": cert_id, "desc": "", "is_default": default, "is_broken": False,
            "renewable": False, "user_deletable": not default,
            "self_signed_cacrt_info": {}, "issuer": name(cert.issuer),
            "subject": {**name(cert.subject), "sub_alt_name": alt},
            "valid_from": cert.not_valid_before_utc.strftime(stamp),
            "valid_till": cert.not_valid_after_utc.strftime(stamp),
            "signature_algorithm": cert.signature_hash_algorithm.name
            if cert.signature_hash_algorithm else "",
            "key_types": type(cert.public_key()).__name__.removeprefix("_").replace(
                "PublicKey", "").upper(),
            "fingerprint_sha256": ":".join(digest[i:i + 2] for i in range(0, 64, 2)),
            "expired": cert.not_valid_after_utc < dt.datetime.now(dt.UTC),
            "services": SERVICES if default else []}


def register(registry: Registry, service: CertificateService) -> None:
    def who(call: ApiCall) -> str:
        return str(call.session.user)

    def pem(call: ApiCall, name: str, required: bool = True) -> bytes:
        value = call.params.get(name)
        if value is None and required:
            raise ApiError(envelope.MISSING_PARAMETER, errors={name: "PEM text"})
        return (value or "").encode()

    def as_default(call: ApiCall) -> bool:
        if not call.params.get("as_default", "").strip():  # synology-api's "no": ""
            return False
        return bool(call.bool_param("as_default"))

    def wanted_id(call: ApiCall) -> str:
        return call.param("id").strip('"')

    async def crt_list(call: ApiCall) -> dict[str, Any]:
        found = await service.listed()
        return {"certificates": [described(i, c, d) for i, c, d in found]}

    async def crt_set(call: ApiCall) -> dict[str, Any]:
        if call.bool_param("as_default") is False:
            raise ApiError(envelope.INVALID_PARAMETER,
                           errors={"as_default": "make another the default instead"})
        await service.set_default(who(call), wanted_id(call))
        return {"id": wanted_id(call)}

    async def crt_delete(call: ApiCall) -> dict[str, Any]:
        ids = call.json_param("ids", None) or [wanted_id(call)]
        ids = [ids] if isinstance(ids, str) else ids
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or \
                len(ids) > 64:
            raise ApiError(envelope.INVALID_PARAMETER, errors={"ids": "certificate ids"})
        for cert_id in ids:
            await service.delete(who(call), cert_id)
        return {}

    async def import_(call: ApiCall) -> dict[str, Any]:
        cert_id = await service.add(who(call), pem(call, "cert"), pem(call, "key"),
                                    pem(call, "inter_cert", required=False),
                                    default=as_default(call))
        return {"id": cert_id}

    async def create(call: ApiCall) -> dict[str, Any]:
        names = call.json_param("subject_alt_name", [])
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ApiError(envelope.INVALID_PARAMETER,
                           errors={"subject_alt_name": "host names or addresses"})
        cert_id = await service.create(who(call), call.param("common_name"), names,
                                       default=as_default(call))
        return {"id": cert_id}

    async def export(call: ApiCall) -> dict[str, Any] | web.Response:
        """The certificate and its chain: as JSON, or (`file=archive`, as DSM's clients
        ask) a zip of cert.pem. The private key never leaves the device."""
        cert_id = wanted_id(call)
        found = await offload.run(service.certificates.pem, cert_id)
        if "file" not in call.params:
            return {"id": cert_id, "cert": found.decode()}
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("cert.pem", found)
        return web.Response(body=archive.getvalue(), content_type="application/zip",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{cert_id}.zip"'})

    registry.add(Api("SYNO.Core.Certificate.CRT", "entry.cgi", 1, 1,
                     {"list": crt_list, "set": crt_set, "delete": crt_delete},
                     changes=frozenset({"set", "delete"}),
                     admin=frozenset({"list", "set", "delete"})))
    methods: dict[str, Handler] = {"import": import_, "create": create, "export": export}
    registry.add(Api("SYNO.Core.Certificate", "entry.cgi", 1, 1, methods,
                     changes=frozenset({"import", "create"}), admin=frozenset(methods)))
