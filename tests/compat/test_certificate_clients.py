"""Control Panel > Security > Certificate as synology-api's core_certificate lists it,
unchanged: the certificate the device really serves on HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]


def test_the_served_certificate_is_listed(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.base_api import BaseApi
    from synology_api.core_certificate import Certificate

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    BaseApi.shared_session = None
    client = Certificate("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                         secure=False, cert_verify=False, dsm_version=6, debug=False,
                         otp_code=None)
    listed = client.list_cert()["data"]["certificates"]
    assert len(listed) == 1 and listed[0]["is_default"]
    served = ssl.get_server_certificate(("127.0.0.1", device.runtime["ports"]["https"]))
    import hashlib

    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(served)).hexdigest().upper()
    assert listed[0]["fingerprint_sha256"].replace(":", "") == digest
    assert "127.0.0.1" in listed[0]["subject"]["sub_alt_name"]
    assert listed[0]["expired"] is False and listed[0]["valid_till"].endswith("GMT")
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    assert bob.call("SYNO.Core.Certificate.CRT", "list")["error"]["code"] == 105


def served_subject(device: DeviceProcess, port: int | None = None) -> str:
    """The common name an HTTPS listener presents now (a new handshake)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    pem = ssl.get_server_certificate(("127.0.0.1", port or device.runtime["ports"]["https"]))
    cert = x509.load_pem_x509_certificate(pem.encode())
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_create_import_default_export_delete(device_factory: Factory, tmp_path: Path) -> None:
    """Certificates made, imported (key checked), made the default — live for the next
    handshake, kept across a restart — exported without the private key, deleted; refusals
    for bad pairs, the served one, and users without rights. synology-api's upload_cert,
    set_default_cert, export_cert and delete_certificate, unchanged."""
    import datetime as dt
    import io
    import zipfile

    from synology_api.base_api import BaseApi
    from synology_api.core_certificate import Certificate

    from openstation.security.tls import make_certificate

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    first = served_subject(device)
    made = admin.ok("SYNO.Core.Certificate", "create", common_name="nas.example",
                    subject_alt_name='["nas.example", "127.0.0.1"]', as_default="true")
    assert served_subject(device) == "nas.example"  # no restart
    now = dt.datetime.now(dt.UTC)
    cert, key = make_certificate("imported.example", ["127.0.0.1"], now)
    _, other_key = make_certificate("other.example", [], now)
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)

    BaseApi.shared_session = None
    client = Certificate("127.0.0.1", str(device.runtime["ports"]["http"]), "alice", STRONG,
                         secure=False, cert_verify=False, dsm_version=6, debug=False,
                         otp_code=None)
    status, answer = client.upload_cert(str(tmp_path / "key.pem"), str(tmp_path / "cert.pem"),
                                        set_as_default=False)
    assert status == 200 and answer["success"], answer
    imported = answer["data"]["id"]
    listed = {c["id"]: c for c in client.list_cert()["data"]["certificates"]}
    assert len(listed) == 3 and listed[made["id"]]["is_default"]
    assert listed[imported]["subject"]["common_name"] == "imported.example"
    assert client.set_default_cert(imported)["success"]
    assert served_subject(device) == "imported.example"
    exported = client.export_cert(imported)
    assert exported is not None
    with zipfile.ZipFile(io.BytesIO(exported.getvalue())) as archive:
        assert archive.namelist() == ["cert.pem"]
        assert b"PRIVATE KEY" not in archive.read("cert.pem")

    # One PEM file holding the certificate and its key, given as the certificate: only the
    # certificate is kept (the key never reaches the readable files or an export).
    combined = admin.ok("SYNO.Core.Certificate", "import", cert=(cert + key).decode(),
                        key=key.decode(), inter_cert=(cert + key).decode())
    kept = admin.ok("SYNO.Core.Certificate", "export", id=combined["id"])["cert"]
    assert "PRIVATE KEY" not in kept and kept.count("BEGIN CERTIFICATE") == 2
    for bad in ({"cert": cert.decode(), "key": other_key.decode()},  # not its key
                {"cert": "garbage", "key": key.decode()},
                {"cert": cert.decode(), "key": "x" * (70 << 10)}):
        refused = admin.call("SYNO.Core.Certificate", "import", **bad)
        assert refused["error"]["code"] == 120, refused
    assert admin.call("SYNO.Core.Certificate.CRT", "delete",
                      ids=f'["{imported}"]')["error"]["code"] != 0  # the served one
    assert admin.call("SYNO.Core.Certificate", "create", common_name="bad name;x",
                      )["error"]["code"] == 120
    assert client.delete_certificate([made["id"]])["success"]
    assert len(client.list_cert()["data"]["certificates"]) == 2

    admin.ok("SYNO.Core.User", "create", name="bob", password="B0b!secret")
    bob = Web(device.url).login("bob", "B0b!secret")
    for api, method in (("SYNO.Core.Certificate", "create"), ("SYNO.Core.Certificate.CRT",
                                                             "set")):
        assert bob.call(api, method, common_name="x.example", id=imported)["error"][
            "code"] == 105

    device.stop()
    device.start()  # the default is kept across a restart
    assert served_subject(device) == "imported.example" != first


def rsa_pair(common_name: str) -> tuple[bytes, bytes]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def test_an_rsa_certificate_replaces_an_elliptic_curve_one_live(device_factory: Factory,
                                                                tmp_path: Path) -> None:
    """The device's own certificate is EC; an imported RSA one made the default is what
    the next handshake presents (a context's certificates of two kinds would otherwise
    both be held, and the old one offered)."""
    device = device_factory(tmp_path / "data", file_services=True)
    assert device.install("nas1", "alice", STRONG).returncode == 0
    admin = Web(device.url).login()
    admin.ok("SYNO.Core.FileServ.WebDAV", "set", enable="true")
    device.refresh()
    webdavs = device.runtime["file_services"]["webdavs"]
    cert, key = rsa_pair("rsa.example")
    admin.ok("SYNO.Core.Certificate", "import", cert=cert.decode(), key=key.decode(),
             as_default="true")
    assert served_subject(device) == "rsa.example"
    assert served_subject(device, webdavs) == "rsa.example"  # WebDAV's HTTPS too, live
    listed = admin.ok("SYNO.Core.Certificate.CRT", "list")["certificates"]
    default = next(c for c in listed if c["is_default"])
    assert default["key_types"] == "RSA" and default["subject"]["common_name"] == "rsa.example"
