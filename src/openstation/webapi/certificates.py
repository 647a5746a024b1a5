"""Control Panel > Security > Certificate over the Web API: SYNO.Core.Certificate.CRT
list, from the certificate the device really serves (HTTPS, WebDAV's HTTPS, the Vault)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openstation import offload
from openstation.errors import NotFoundError
from openstation.security.tls import fingerprint
from openstation.webapi.dispatch import ApiCall
from openstation.webapi.registry import Api, Registry

SERVICES = [{"display_name": "DSM Desktop Service", "service": "default",
             "subscriber": "system", "isPkg": False, "owner": "root"},
            {"display_name": "WebDAV Server", "service": "webdav",
             "subscriber": "WebDAVServer", "isPkg": True, "owner": "root"},
            {"display_name": "Hyper Backup Vault", "service": "hbkpvault",
             "subscriber": "HyperBackupVault", "isPkg": True, "owner": "root"}]


def described(cert_path: Path) -> dict[str, Any]:
    """The certificate as DSM lists it (in a worker thread: it reads and parses)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        raise NotFoundError("the device has no certificate yet") from None

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
    return {"id": fingerprint(cert_path).replace(":", "")[:16].lower(), "desc": "",
            "is_default": True, "is_broken": False, "renewable": False,
            "user_deletable": False, "self_signed_cacrt_info": {},
            "issuer": name(cert.issuer),
            "subject": {**name(cert.subject), "sub_alt_name": alt},
            "valid_from": cert.not_valid_before_utc.strftime(stamp),
            "valid_till": cert.not_valid_after_utc.strftime(stamp),
            "signature_algorithm": cert.signature_hash_algorithm.name
            if cert.signature_hash_algorithm else "",
            "key_types": type(cert.public_key()).__name__.removeprefix("_").replace(
                "PublicKey", "").upper(),
            "fingerprint_sha256": fingerprint(cert_path),
            "expired": cert.not_valid_after_utc < dt.datetime.now(dt.UTC),
            "services": SERVICES}


def register(registry: Registry, cert_path: Callable[[], Path]) -> None:
    async def crt_list(call: ApiCall) -> dict[str, Any]:
        return {"certificates": [await offload.run(described, cert_path())]}

    registry.add(Api("SYNO.Core.Certificate.CRT", "entry.cgi", 1, 1, {"list": crt_list},
                     admin=frozenset({"list"})))
