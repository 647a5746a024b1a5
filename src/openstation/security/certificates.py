"""Control Panel > Security > Certificate: the device's certificates, one of them the default
the listeners serve (HTTPS, the Vault, WebDAV's HTTPS).

They live in `system/certificates/` (`<id>.crt` with its chain, `<id>.key`, 0600), the id
being the start of the certificate's SHA-256. The default is also at the data directory's
`tls.crt`/`tls.key`, written atomically (so a power cut leaves the old or the new one),
where the listeners read it. A pair is checked before it is kept: both parse, the key is
the certificate's, it is RSA of 2048 bits or more or an elliptic curve, and it has not
expired. Everything here blocks (files, parsing): callers run it off the loop.

Mode 1 leaves the certificates; Mode 2 wipes them with `system/`, and a fresh one is made
at the next boot, as on a new device."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from openstation import offload
from openstation.config.sections import HACluster
from openstation.config.store import ConfigStore
from openstation.errors import ConflictError, NotFoundError, ValidationError
from openstation.files import write_atomic
from openstation.security.tls import make_certificate

MAX_PEM = 64 << 10  # bytes: a certificate with its chain is a few kilobytes
ID = re.compile(r"^[0-9a-f]{16}$")
NAME = re.compile(r"^[A-Za-z0-9*.-]{1,253}$|^[0-9a-fA-F:.]{2,45}$")  # a DNS name or an IP


@dataclass(frozen=True)
class Pair:
    cert_pem: bytes  # the certificate, then its chain
    key_pem: bytes
    certificate: x509.Certificate

    @property
    def id(self) -> str:
        return certificate_id(self.certificate)


def certificate_id(cert: x509.Certificate) -> str:
    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()[:16]


def checked(cert_pem: bytes, key_pem: bytes, chain_pem: bytes = b"",
            now: dt.datetime | None = None) -> Pair:
    """A pair that may be served, or ValidationError naming every problem (pure)."""
    problems: dict[str, str] = {}
    for name, pem in (("cert", cert_pem), ("key", key_pem), ("inter_cert", chain_pem)):
        if len(pem) > MAX_PEM:
            problems[name] = f"over {MAX_PEM // 1024} KiB"
    if problems:
        raise ValidationError(problems)
    cert = key = None
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        problems["cert"] = "not a PEM certificate"
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        problems["key"] = "not an unencrypted PEM private key of a supported kind"
    chain: list[x509.Certificate] = []
    if chain_pem.strip():
        try:
            chain = x509.load_pem_x509_certificates(chain_pem)
        except ValueError:
            problems["inter_cert"] = "not PEM certificates"
    if cert is not None:
        try:  # parsed lazily by the library: a malformed one must fail here, not later
            _ = cert.extensions, cert.signature_hash_algorithm, cert.public_key()
        except (ValueError, UnsupportedAlgorithm):
            problems["cert"] = "a certificate whose extensions or key cannot be read"
            cert = None
    if cert is not None and key is not None:
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
            problems["key"] = "an RSA key of at least 2048 bits"
        elif not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            problems["key"] = "an RSA or elliptic-curve key"
        elif key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) != cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
            problems["key"] = "is not the certificate's key"
        if cert.not_valid_after_utc < (now or dt.datetime.now(dt.UTC)):
            problems["cert"] = "has expired"
    if problems or cert is None or not isinstance(key, rsa.RSAPrivateKey |
                                                   ec.EllipticCurvePrivateKey):
        raise ValidationError(problems)
    # Kept as re-encoded certificates only: whatever else the PEM text held (a private key
    # pasted after the certificate, say) never reaches the readable files.
    encoding = serialization.Encoding.PEM
    body = b"".join(c.public_bytes(encoding) for c in [cert, *chain])
    key_out = key.private_bytes(encoding, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return Pair(body, key_out, cert)


class Certificates:
    """The certificates kept on the system partition, and the default one."""

    def __init__(self, folder: Path, served_cert: Path, served_key: Path) -> None:
        self.folder = folder
        self.served_cert = served_cert
        self.served_key = served_key

    def _adopt_served(self) -> None:
        """The certificate made at first boot becomes one of the kept ones."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            cert = x509.load_pem_x509_certificate(self.served_cert.read_bytes())
        except (OSError, ValueError):
            return
        kept = self.folder / f"{certificate_id(cert)}.crt"
        if not kept.exists():
            write_atomic(kept.with_suffix(".key"), self.served_key.read_bytes(), 0o600)
            write_atomic(kept, self.served_cert.read_bytes(), 0o644)

    def default_id(self) -> str | None:
        try:
            return certificate_id(x509.load_pem_x509_certificate(self.served_cert.read_bytes()))
        except (OSError, ValueError):
            return None

    def ids(self) -> list[str]:
        self._adopt_served()
        return sorted(p.stem for p in self.folder.glob("*.crt") if ID.match(p.stem))

    def pem(self, cert_id: str) -> bytes:
        if not ID.match(cert_id) or not (self.folder / f"{cert_id}.crt").exists():
            raise NotFoundError(f"no certificate {cert_id!r}")
        return (self.folder / f"{cert_id}.crt").read_bytes()

    def certificate(self, cert_id: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.pem(cert_id))

    def add(self, pair: Pair) -> str:
        self._adopt_served()
        write_atomic(self.folder / f"{pair.id}.key", pair.key_pem, 0o600)
        write_atomic(self.folder / f"{pair.id}.crt", pair.cert_pem, 0o644)
        return pair.id

    def create(self, common_name: str, names: list[str]) -> str:
        cert_pem, key_pem = make_certificate(common_name, names, dt.datetime.now(dt.UTC))
        return self.add(checked(cert_pem, key_pem))

    def make_default(self, cert_id: str) -> None:
        """Serve `cert_id` from now on (its files copied into place atomically, the key
        first: a power cut between leaves a pair a restart repairs, see `repair`)."""
        cert = self.pem(cert_id)
        write_atomic(self.served_key, (self.folder / f"{cert_id}.key").read_bytes(), 0o600)
        write_atomic(self.served_cert, cert, 0o644)

    def repair(self) -> None:
        """At boot: a served key that is not the served certificate's (a power cut between
        the two writes of `make_default`) is put right from the kept copy."""
        served = self.default_id()
        if served is None or not (self.folder / f"{served}.key").exists():
            return
        try:
            checked(self.served_cert.read_bytes(), self.served_key.read_bytes())
        except (ValidationError, OSError):
            write_atomic(self.served_key, (self.folder / f"{served}.key").read_bytes(), 0o600)

    def delete(self, cert_id: str) -> None:
        self.pem(cert_id)
        if cert_id == self.default_id():
            raise ConflictError("the default certificate is served: make another the "
                                "default first")
        (self.folder / f"{cert_id}.crt").unlink()
        (self.folder / f"{cert_id}.key").unlink(missing_ok=True)


class CertificateService:
    """Changes to the certificates: checked, audited, and made live by `applied` (the
    listeners reload their context; WebDAV restarts). Not while in an HA pair: the peer
    pinned this certificate when the pair was made."""

    def __init__(self, certificates: Certificates, store: ConfigStore,
                 applied: Callable[[], Awaitable[None]]) -> None:
        self.certificates = certificates
        self.store = store
        self.applied = applied
        self._lock = asyncio.Lock()  # one change at a time: a key never meets another's cert

    def _log(self, actor: str, action: str, cert_id: str, detail: dict[str, Any]) -> None:
        with self.store.transaction(actor, "certificates") as tx:
            tx.audit(action, "certificates", cert_id, detail)

    def _not_paired(self) -> None:
        if self.store.get(HACluster).member:
            raise ConflictError("this device is in a High Availability pair, whose peer "
                                "pinned its certificate: remove the pair first")

    async def listed(self) -> list[tuple[str, x509.Certificate | None, bool]]:
        """Each kept certificate (None: one that cannot be read any more), and whether it
        is the default."""
        def read() -> list[tuple[str, x509.Certificate | None, bool]]:
            default = self.certificates.default_id()
            found: list[tuple[str, x509.Certificate | None, bool]] = []
            for cert_id in self.certificates.ids():
                try:
                    cert: x509.Certificate | None = self.certificates.certificate(cert_id)
                except (OSError, ValueError):
                    cert = None
                found.append((cert_id, cert, cert_id == default))
            return found
        return await offload.run(read)

    async def add(self, actor: str, cert_pem: bytes, key_pem: bytes, chain_pem: bytes,
                  *, default: bool) -> str:
        if default:
            self._not_paired()
        pair = await offload.run(checked, cert_pem, key_pem, chain_pem)
        async with self._lock:
            cert_id = await offload.run(self.certificates.add, pair)
        self._log(actor, "import", cert_id, {"subject": pair.certificate.subject.rfc4514_string()})
        if default:
            await self.set_default(actor, cert_id)
        return cert_id

    async def create(self, actor: str, common_name: str, names: list[str], *,
                     default: bool) -> str:
        if not common_name or len(common_name) > 64 or not NAME.match(common_name) or \
                len(names) > 32 or not all(NAME.match(n) for n in names):
            raise ValidationError({"common_name": "a host name or an address (and up to 32 "
                                                  "more in subject_alt_name)"})
        if default:
            self._not_paired()
        async with self._lock:
            cert_id = await offload.run(self.certificates.create, common_name, names)
        self._log(actor, "create", cert_id, {"common_name": common_name, "names": names})
        if default:
            await self.set_default(actor, cert_id)
        return cert_id

    async def set_default(self, actor: str, cert_id: str) -> None:
        self._not_paired()
        async with self._lock:
            await offload.run(self.certificates.pem, cert_id)  # NotFoundError first
            await offload.run(self.certificates.make_default, cert_id)
            self._log(actor, "set_default", cert_id, {})
            await self.applied()

    async def delete(self, actor: str, cert_id: str) -> None:
        async with self._lock:
            await offload.run(self.certificates.delete, cert_id)
        self._log(actor, "delete", cert_id, {})
