"""Start and stop real `openstation run` processes: for this project's tests and benchmarks,
and for developers of NAS integrations who test against a virtual device."""

from __future__ import annotations

import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

STRONG = "Str0ng!pass"


def openstation(*args: str, timeout: float = 60, check: bool = False,
                input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would."""
    result = subprocess.run([sys.executable, "-m", "openstation", *args], capture_output=True,
                            text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"},
                            input=input_text)
    if check and result.returncode != 0:
        raise AssertionError(f"openstation {args} failed:\n{result.stdout}\n{result.stderr}")
    return result


def wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    """Poll `check` every 0.1 s until it holds; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def wait_for_status(data: Path, label: str, timeout: float = 30) -> None:
    """Wait until the device on `data` reports the status `label`. A reset restarts the
    device, so "no device is running" in between is waited through, not a failure."""
    def reached() -> bool:
        answer = openstation("status", "--data-dir", str(data), "--json")
        if answer.returncode != 0:
            return False
        facts = json.loads(answer.stdout)
        return bool(facts.get("running") and facts.get("status") == label)

    wait_for(reached, timeout)


def get_json(url: str, timeout: float = 5) -> Any:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the device's certificate is self-signed
    with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.read())


class DeviceProcess:
    """One device process; `start()` returns once the Web API answers."""

    def __init__(self, data_dir: Path, *args: str, ephemeral_ports: bool = True,
                 env: dict[str, str] | None = None, prefix: list[str] | None = None,
                 discovery: bool = False, file_services: bool = False) -> None:
        self.data_dir = data_dir
        self.args = args
        self.prefix = prefix or []  # e.g. ["ip", "netns", "exec", NAME]
        self.ephemeral_ports = ephemeral_ports  # False: listen on the configured UI ports
        self.discovery = discovery  # True: findhost 9999, SSDP 1900 and mDNS, as configured
        self.file_services = file_services  # False: no smbd, no SFTP (most tests)
        self.env = env or {}
        self.proc: subprocess.Popen[str] | None = None
        self.runtime: dict[str, Any] = {}

    def start(self, timeout: float = 20) -> DeviceProcess:
        runtime_file = self.data_dir / "system" / "running.json"
        ports = ["--http-port", "0", "--https-port", "0"] if self.ephemeral_ports else []
        discovery = [] if self.discovery else [
            "--findhost-port", "0", "--ssdp-port", "0", "--no-mdns"]
        if self.ephemeral_ports:
            discovery += ["--cluster-port", "0"]
        if not self.file_services:
            discovery += ["--no-file-services"]
        elif self.ephemeral_ports:
            discovery += ["--smb-port", "0", "--sftp-port", "0", "--webdav-port", "0",
                          "--webdavs-port", "0"]
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "openstation", "run", "--data-dir",
             str(self.data_dir), *ports, *discovery, *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **self.env},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"device exited {self.proc.returncode}:\n{out}\n{err}")
            try:
                runtime = json.loads(runtime_file.read_text())
            except (OSError, ValueError):
                time.sleep(0.02)
                continue
            if runtime.get("pid") == self.proc.pid:
                self.runtime = runtime
                return self
            time.sleep(0.02)
        self.kill()
        raise AssertionError("device did not come up in time")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runtime['ports']['http']}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.runtime['ports']['https']}"

    @property
    def fingerprint(self) -> str:
        """Its HTTPS certificate's SHA-256, as a peer pairing with it must be told."""
        return str(self.runtime.get("certificate_fingerprint", ""))

    def peer(self, url: str | None = None) -> list[str]:
        """The --peer and --peer-fingerprint options naming this device (at `url`, by
        default its HTTPS address on loopback)."""
        return ["--peer", url or self.https_url, "--peer-fingerprint", self.fingerprint]

    def api(self, api: str, method: str, version: int = 1, **params: str) -> Any:
        query = "&".join(f"{k}={v}" for k, v in
                         {"api": api, "method": method, "version": version, **params}.items())
        return get_json(f"{self.url}/webapi/entry.cgi?{query}")

    def install(self, server_name: str = "nas1", user: str = "alice",
                password: str = STRONG) -> subprocess.CompletedProcess[str]:
        return openstation("install", "--url", self.url, "--server-name", server_name,
                           "--admin-user", user, "--password", password)

    def stop(self, timeout: float = 10) -> tuple[int, str, str]:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def refresh(self, timeout: float = 20) -> None:
        """Re-read the running device's ports (they move, e.g. after a Mode 1 reset; after
        Mode 2's reboot the file comes back once every service is up, HTTPS last)."""
        runtime_file = self.data_dir / "system" / "running.json"

        def written() -> bool:
            try:
                self.runtime = json.loads(runtime_file.read_text())
            except (OSError, ValueError):
                return False
            return True

        wait_for(written, timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class Web:
    """A small synchronous DSM Web API client (urllib): usable from a thread inside a network
    namespace (netlab.Client) as well as on loopback."""

    def __init__(self, base: str, timeout: float = 10) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.sid = ""

    def call(self, api: str, method: str, version: int = 1, **params: Any) -> dict[str, Any]:
        fields = {"api": api, "method": method, "version": str(version),
                  **{k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        if self.sid:
            fields["_sid"] = self.sid
        request = urllib.request.Request(f"{self.base}/webapi/entry.cgi",
                                         data=urllib.parse.urlencode(fields).encode())
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return dict(json.loads(response.read()))

    def ok(self, api: str, method: str, version: int = 1, **params: Any) -> Any:
        answer = self.call(api, method, version, **params)
        assert answer["success"], (api, method, answer)
        return answer.get("data")

    def login(self, user: str = "alice", password: str = STRONG) -> Web:
        self.sid = self.ok("SYNO.API.Auth", "login", 6, account=user, passwd=password,
                           format="sid")["sid"]
        return self

    def upload(self, folder: str, name: str, body: bytes) -> dict[str, Any]:
        boundary = secrets.token_hex(12)
        parts = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n"
                 f"{folder}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                 f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                 ).encode() + body + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.base}/webapi/entry.cgi?api=SYNO.FileStation.Upload&version=2"
            f"&method=upload&_sid={self.sid}", data=parts,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=self.timeout * 6) as response:
            return dict(json.loads(response.read()))

    def download(self, path: str) -> bytes:
        query = urllib.parse.urlencode({"api": "SYNO.FileStation.Download", "version": "2",
                                        "method": "download", "mode": "download",
                                        "path": path, "_sid": self.sid})
        with urllib.request.urlopen(f"{self.base}/webapi/entry.cgi?{query}",
                                    timeout=self.timeout) as response:
            return bytes(response.read())

    def probe(self) -> dict[str, Any]:
        return dict(self.ok("SYNO.SHA.Cluster", "probe"))
