"""SMB, SFTP and WebDAV throughput of a real device, beside a plain copy on the same disk.

A file of MEGABYTES is put to a share and got back over SMB (smbclient against the
device's smbd), over SFTP (asyncssh's client against the device's server) and over WebDAV
(curl, plain HTTP), each as the median of RUNS, and over SMB into an encrypted share
(gocryptfs), and over SFTP and WebDAV into a share with a quota (each packet checked
against it); the baseline is `cp` of the same file on
the same disk, in the same run.

    python bench/fileserv.py [MEGABYTES] [RUNS]      (default 1024 5; needs root, Samba
                                                      and gocryptfs with FUSE)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncssh

from openstation.testing import STRONG, DeviceProcess, Web

MB = 1 << 20


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def smb(port: int, command: str, share: str = "bench") -> None:
    subprocess.run(["smbclient", f"//127.0.0.1/{share}", "-p", str(port), "-U",
                    f"alice%{STRONG}", "-c", command], check=True, capture_output=True)


def sftp(port: int, put: bool, local: Path, remote: str) -> None:
    async def transfer() -> None:
        async with asyncssh.connect("127.0.0.1", port, username="alice", password=STRONG,
                                    known_hosts=None, client_keys=None, agent_path=None,
                                    preferred_auth="password") as conn, \
                conn.start_sftp_client() as client:
            if put:
                await client.put(str(local), remote)
            else:
                await client.get(remote, str(local))

    asyncio.run(transfer())


def webdav(port: int, put: bool, local: Path, share: str = "bench") -> None:
    url = f"http://127.0.0.1:{port}/{share}/dav.bin"
    transfer = ["-T", str(local)] if put else ["-o", str(local)]
    subprocess.run(["curl", "-sSf", "-u", f"alice:{STRONG}", *transfer, url], check=True,
                   stdout=subprocess.DEVNULL)


def main(megabytes: int, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="fileserv-bench-", dir=Path.cwd()))
    device = DeviceProcess(work / "data", file_services=True).start()
    try:
        assert device.install().returncode == 0
        admin = Web(device.url).login()
        admin.ok("SYNO.Core.Share", "create", name="bench")
        admin.ok("SYNO.Core.Share", "create", name="vault",  # gocryptfs
                 shareinfo={"encryption": True, "enc_passwd": "vault pass 1"})
        # a quota four times the file: every SFTP packet and WebDAV block is checked
        admin.ok("SYNO.Core.Share", "create", name="quota", share_quota=4 * megabytes)
        admin.ok("SYNO.Core.FileServ.FTP.SFTP", "set", enable="true")
        admin.ok("SYNO.Core.FileServ.WebDAV", "set", enable="true")
        device.refresh()
        ports = device.runtime["file_services"]
        source = work / "source.bin"
        with source.open("wb") as f:
            block = os.urandom(MB)
            for _ in range(megabytes):
                f.write(block)
        share = work / "data" / "volume1" / "bench"
        rows: dict[str, list[float]] = {name: [] for name in (
            "cp (baseline)", "SMB put", "SMB get", "SMB put, encrypted",
            "SMB get, encrypted", "SFTP put", "SFTP get", "SFTP put, quota", "WebDAV put",
            "WebDAV get", "WebDAV put, quota")}
        for _ in range(runs):
            rows["cp (baseline)"].append(timed(lambda: shutil.copyfile(source,
                                                                       work / "copy.bin")))
            rows["SMB put"].append(timed(lambda: smb(ports["smb"],
                                                     f"put {source} smb.bin")))
            rows["SMB get"].append(timed(lambda: smb(ports["smb"],
                                                     f"get smb.bin {work / 'smb-back.bin'}")))
            rows["SMB put, encrypted"].append(timed(lambda: smb(
                ports["smb"], f"put {source} smb.bin", "vault")))
            rows["SMB get, encrypted"].append(timed(lambda: smb(
                ports["smb"], f"get smb.bin {work / 'vault-back.bin'}", "vault")))
            rows["SFTP put"].append(timed(lambda: sftp(ports["ssh"], True, source,
                                                       "/bench/sftp.bin")))
            rows["SFTP get"].append(timed(lambda: sftp(ports["ssh"], False,
                                                       work / "sftp-back.bin",
                                                       "/bench/sftp.bin")))
            rows["SFTP put, quota"].append(timed(lambda: sftp(ports["ssh"], True, source,
                                                              "/quota/sftp.bin")))
            rows["WebDAV put"].append(timed(lambda: webdav(ports["webdav"], True, source)))
            rows["WebDAV put, quota"].append(timed(lambda: webdav(ports["webdav"], True,
                                                                  source, "quota")))
            rows["WebDAV get"].append(timed(lambda: webdav(ports["webdav"], False,
                                                           work / "dav-back.bin")))
            for name in ("smb.bin", "sftp.bin", "dav.bin"):
                assert (share / name).stat().st_size == megabytes * MB
                if name != "smb.bin":
                    assert (share.with_name("quota") / name).stat().st_size == megabytes * MB
        print(f"{megabytes} MiB, {runs} rounds; the ratio is taken in each round (the page "
              "cache moves every figure from round to round), then its median")
        copies = rows["cp (baseline)"]
        for name, seconds in rows.items():
            rate = megabytes / statistics.median(seconds)
            ratio = statistics.median(copy / taken for copy, taken in zip(copies, seconds,
                                                                          strict=True))
            print(f"  {name:<20} {rate:8.0f} MB/s   {ratio:5.2f} x cp")
    finally:
        device.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1024,
         int(sys.argv[2]) if len(sys.argv) > 2 else 5)
