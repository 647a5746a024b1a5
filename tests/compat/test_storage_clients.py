"""Storage Manager's disks, pool and volume as synology-api's core_storage reads them,
unchanged: the volume's figures are the file system holding volume1; the disks are the
model's bays, virtual, and say so."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from openstation.testing import STRONG, DeviceProcess, Web

Factory = Callable[..., DeviceProcess]


def test_disks_pool_volume(device_factory: Factory, tmp_path: Path) -> None:
    from synology_api.core_storage import CoreStorage

    device = device_factory(tmp_path / "data")
    assert device.install("nas1", "alice", STRONG).returncode == 0
    client = CoreStorage("127.0.0.1", str(device.runtime["ports"]["http"]), "alice",
                         STRONG, secure=False, cert_verify=False, dsm_version=6,
                         debug=False, otp_code=None)
    disks = client.storage_disk_list()["data"]["disks"]
    assert len(disks) == 4 and all(d["is_virtual"] for d in disks)  # a DS918+: 4 bays
    assert client.storage_disk_get("sata2")["data"]["disk"]["name"] == "Drive 2"
    pools = client.storage_pool_list()["data"]["storagePools"]
    assert client.storage_pool_get(pools[0]["id"])["data"]["pool"]["status"] == "normal"
    volume = client.storage_volume_get("/volume1")["data"]["volume"]
    total = shutil.disk_usage(device.data_dir / "volume1").total
    assert int(volume["size"]["total"]) == total
    assert client.storage_volume_list()["data"]["total"] == 1
    admin = Web(device.url).login()
    assert admin.call("SYNO.Core.Storage.Disk", "get", id="sata9")["error"]["code"] == 120
