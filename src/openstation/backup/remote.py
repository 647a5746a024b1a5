"""Destinations on other machines: a Vault (restic's REST protocol) and a WebDAV folder
(restic's rclone backend), each over HTTPS pinned to the certificate the administrator
named by its fingerprint. Credentials reach restic and rclone in their environment only."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path
from urllib.parse import quote, urlsplit

from openstation.backup import plan
from openstation.backup.restic import Repository, obscured
from openstation.errors import ConflictError
from openstation.files import write_atomic
from openstation.security.tls import fingerprint_bytes


def located(location: str, password: str, cache_dir: Path, user: str = "",
            user_password: str = "", cacert: Path | None = None) -> Repository:
    """A repository as restic is given it: a Vault's location carries its account
    (restic 0.14 reads REST credentials only there; it is passed in the environment); a
    WebDAV folder becomes rclone's remote, configured by environment; both trust only
    the pinned certificate."""
    full, extra = location, {}
    if user and location.startswith("rest:https://"):
        full = (f"rest:https://{quote(user, safe='')}:{quote(user_password, safe='')}@"
                + location[len("rest:https://"):])
    elif location.startswith("webdav:"):
        full, url = plan.rclone_location(location)
        name = f"RCLONE_CONFIG_{plan.RCLONE_REMOTE.upper()}_"
        extra = {name + "TYPE": "webdav", name + "URL": url, name + "VENDOR": "other",
                 name + "USER": user, name + "PASS": obscured(user_password)}
        if cacert is not None:
            extra["RCLONE_CA_CERT"] = str(cacert.absolute())
    return Repository(full, password, cache_dir=cache_dir, cacert=cacert, shown=location,
                      extra_env=extra)


class PinnedCertificates:
    """The pinned certificates as files restic and rclone read (kept in the tasks'
    records; written when a task is made and at boot, off the loop)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, cert: str) -> Path:
        return self.folder / f"{hashlib.sha256(cert.encode()).hexdigest()[:32]}.pem"

    def write(self, certs: list[str]) -> None:
        for cert in certs:
            path = self.path(cert)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != cert:
                write_atomic(path, cert.encode(), 0o600)


def pinned_certificate(url: str, fingerprint: str) -> str:
    """The certificate (PEM) a Vault at `url` shows, if it is the one `fingerprint` names
    (in a worker thread: it connects)."""
    parsed = urlsplit(url.partition(":")[2])
    try:
        pem = ssl.get_server_certificate((parsed.hostname or "", parsed.port or 443),
                                         timeout=10)
    except (OSError, ValueError) as exc:
        raise ConflictError(f"cannot reach the Vault at {parsed.hostname}: {exc}") from None
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest()
    if digest != fingerprint_bytes(fingerprint):
        raise ConflictError("the Vault's certificate is not the one the fingerprint names: "
                            "refused (someone in the middle, or a mistyped fingerprint)")
    return pem
