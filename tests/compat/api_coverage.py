"""How much of synology-api's core management surface a device answers (issue 21's measure).

Every method of synology-api's core management modules that needs no argument and only
reads (its name has no verb such as set, create or delete) is called, unchanged, against a
device. A call succeeds when DSM's envelope says `success` with a `data` object (or no data,
as DSM's bare acknowledgements). Anything else is a failure: an API missing from
SYNO.API.Info (the library fails before sending), a method the device refuses (103), an
error code, or an exception.

Some calls no server can answer: the library looks an API up in the list it kept of APIs
whose names contain its application's ("Core"), so a SYNO.Storage.CGI.* call from
core_storage fails before sending even when the device lists that API. Those are counted
apart ("library cannot call"), not as the device's failures.

`python -m tests.compat.api_coverage` starts a device and prints the table the README shows.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODULES = ("core_sys_info", "core_system", "core_user", "core_group", "core_share",
           "core_network", "core_security", "core_storage", "core_package",
           "core_certificate", "core_upgrade", "core_notification", "log_center",
           "task_scheduler", "event_scheduler", "core_external_device", "core_service_hw",
           "security_advisor")
# A name holding one of these words changes something: not a read.
_WRITE_WORDS = """
    set create delete add remove start stop install clean send upload renew recreate apply
    init verify test restore update enable disable run cancel edit save kick import export
    reboot shutdown register open oauth dry manual uninstall reset trigger repair expand
    deploy defrag mount unmount format modify change migrate deactivate activate login
    logout connect disconnect retry pause resume release switch do assemble sync configure
    pack enter skip ignore rescan emit wake scrubbing reassemble replace erase
    transfer convert unlock failover execute"""
WRITES = frozenset(_WRITE_WORDS.split())


@dataclass
class Outcome:
    module: str
    method: str
    ok: bool | None  # None: the library cannot make this call against any server
    why: str = ""
    absent: bool = False  # answered "none"/"off" for a feature the device lacks (absent.py)


@dataclass
class Coverage:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_module(self) -> dict[str, tuple[int, int, int, int]]:
        """module → (calls the library can make, succeeded with the device's state,
        answered as a feature the device lacks, calls the library cannot make)."""
        table: dict[str, tuple[int, int, int, int]] = {}
        for o in self.outcomes:
            calls, real, absent, unreachable = table.get(o.module, (0, 0, 0, 0))
            if o.ok is None:
                unreachable += 1
            else:
                calls += 1
                real += bool(o.ok) and not o.absent
                absent += bool(o.ok) and o.absent
            table[o.module] = (calls, real, absent, unreachable)
        return table

    @property
    def callable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok is not None]

    @property
    def ratio(self) -> float:
        """Calls that succeeded, of those the library can make."""
        return sum(bool(o.ok) for o in self.callable) / len(self.callable)

    @property
    def real_ratio(self) -> float:
        """Calls answered from the device's own state (not "this feature is absent")."""
        return sum(bool(o.ok) and not o.absent for o in self.callable) / len(self.callable)

    def markdown(self) -> str:
        lines = ["| module | calls | from the device's state | feature absent, said so "
                 "| library cannot call |", "|---|---:|---:|---:|---:|"]
        for module, (calls, real, absent, unreachable) in self.by_module().items():
            lines.append(f"| {module} | {calls} | {real} | {absent} | {unreachable} |")
        real = sum(bool(o.ok) and not o.absent for o in self.callable)
        absent = sum(bool(o.ok) and o.absent for o in self.callable)
        lines.append(f"| **all** | {len(self.callable)} | {real} ({self.real_ratio:.0%}) | "
                     f"{absent} (in all {self.ratio:.0%}) | "
                     f"{len(self.outcomes) - len(self.callable)} |")
        return "\n".join(lines)


def api_of(function: Any) -> str:
    """The API a library method calls (its `api_name = '…'`)."""
    found = re.search(r"api_name\s*=\s*['\"]([\w.]+)['\"]", inspect.getsource(function))
    return found.group(1) if found else ""


def read_methods() -> Iterator[tuple[str, type, str]]:
    from synology_api.base_api import BaseApi

    for name in MODULES:
        module = importlib.import_module(f"synology_api.{name}")
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and issubclass(cls, BaseApi)) or \
                    cls.__module__ != module.__name__:
                continue
            for method, function in vars(cls).items():
                if method.startswith("_") or not callable(function):
                    continue
                params = list(inspect.signature(function).parameters.values())[1:]
                if any(p.default is p.empty and p.kind not in (p.VAR_POSITIONAL,
                                                               p.VAR_KEYWORD)
                       for p in params) or set(method.split("_")) & WRITES:
                    continue
                yield name, cls, method


def _verdict(answer: Any) -> tuple[bool, str]:
    """DSM's envelope: `success`; a value the library already took out of it: its content."""
    if answer is None or answer == "":
        return False, "no answer"
    if not isinstance(answer, dict) or "success" not in answer:
        return True, ""
    if answer["success"] is True:
        return True, ""
    return False, f"error {answer.get('error', {}).get('code')}"


def listed_apis(port: int) -> set[str]:
    import requests

    answer = requests.get(f"http://127.0.0.1:{port}/webapi/query.cgi", timeout=30, params={
        "api": "SYNO.API.Info", "version": "1", "method": "query", "query": "all"}).json()
    return set(answer["data"])


def measure(port: int, account: str, password: str) -> Coverage:
    from openstation.webapi import absent

    coverage = Coverage()
    listed = listed_apis(port)
    lacking = absent.names()
    clients: dict[type, Any] = {}
    for module, cls, method in read_methods():
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the library prints freely
                client = clients.get(cls)
                if client is None:
                    client = clients[cls] = cls("127.0.0.1", str(port), account, password,
                                                secure=False, cert_verify=False,
                                                dsm_version=6, debug=False, otp_code=None)
                ok, why = _verdict(getattr(client, method)())
        except KeyError as exc:
            # listed, yet not in the library's own filtered list: no server could answer
            ok, why = (None if exc.args and exc.args[0] in listed else False), f"KeyError: {exc}"
        except Exception as exc:  # the library's own failure is this call's failure
            ok, why = False, f"{type(exc).__name__}: {str(exc)[:80]}"
        coverage.outcomes.append(Outcome(module, method, ok, why,
                                         api_of(getattr(cls, method)) in lacking))
    return coverage


def main() -> None:
    from openstation.testing import STRONG, DeviceProcess

    with tempfile.TemporaryDirectory() as scratch:
        device = DeviceProcess(Path(scratch) / "data").start()
        try:
            assert device.install("nas1", "alice", STRONG).returncode == 0
            coverage = measure(device.runtime["ports"]["http"], "alice", STRONG)
        finally:
            device.kill()
    print(coverage.markdown())
    for outcome in coverage.outcomes:
        if outcome.ok is False:
            print(f"  {outcome.module}.{outcome.method}: {outcome.why}")


if __name__ == "__main__":
    main()
