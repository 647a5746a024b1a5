"""The device's self-signed TLS certificate, made at first boot (and after a Mode 2 wipe)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
import subprocess
import sys
from pathlib import Path

from openstation.errors import StoreError
from openstation.files import write_atomic


def ensure_certificate(cert_path: Path, key_path: Path, common_name: str,
                       addresses: list[str], now: dt.datetime) -> None:
    """Create a self-signed certificate and key unless both already exist."""
    if cert_path.exists() and key_path.exists():
        return
    cert_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert, key = make_certificate(common_name, addresses, now)
    write_atomic(key_path, key, mode=0o600)
    write_atomic(cert_path, cert, mode=0o644)


def fingerprint(cert_path: Path) -> str:
    """The certificate's SHA-256 fingerprint (of its DER form), as browsers show it:
    colon-separated upper-case hex. "" while there is no certificate."""
    try:
        der = ssl.PEM_cert_to_DER_cert(cert_path.read_text())
    except (OSError, ValueError):
        return ""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def fingerprint_bytes(text: str) -> bytes | None:
    """The 32 bytes a fingerprint names (colons, spaces and case ignored), or None."""
    cleaned = text.replace(":", "").replace(" ", "").strip()
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def make_in_child(cert_path: Path, key_path: Path, common_name: str, addresses: list[str]
                  ) -> subprocess.Popen[bytes] | None:
    """Start making the certificate in a child process, or None if both files exist.

    A first boot does this while it opens the store: the key pair is made on the other
    core, and `cryptography` (~11 MB resident) never enters the device process."""
    if cert_path.exists() and key_path.exists():
        return None
    return subprocess.Popen([sys.executable, "-m", "openstation.security.tls", str(cert_path),
                             str(key_path), common_name, *addresses],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificate(common_name: str, addresses: list[str], now: dt.datetime
                     ) -> tuple[bytes, bytes]:
    """A self-signed certificate and its key, both PEM."""
    # Imported here: only a first boot needs them, and they cost ~10 MB resident.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())  # fast to make, unlike RSA: boot stays quick
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "openstation"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName(common_name)]
    for address in addresses:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            alt_names.append(x509.DNSName(address))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """An SSL context serving the device certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_path, key_path)
    except (OSError, ssl.SSLError) as exc:
        raise StoreError(f"TLS certificate {cert_path} is unusable ({exc})") from None
    return context


if __name__ == "__main__":  # the child of `make_in_child`
    ensure_certificate(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4:],
                       dt.datetime.now(dt.UTC))
