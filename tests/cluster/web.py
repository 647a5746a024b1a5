"""A small synchronous DSM Web API client (urllib), usable from a thread inside a network
namespace (netlab.Client) as well as on loopback."""

from __future__ import annotations

import hashlib
import json
import secrets
import urllib.parse
import urllib.request
from typing import Any

from openstation.testing import STRONG


class Web:
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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
