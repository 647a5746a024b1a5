"""Where an account's scheduled script runs: a bubblewrap sandbox (Debian `bubblewrap`, the
sandbox Flatpak uses) that shows it the host's programs read only and, of the volume, only
the shared folders the account may open — read-write or read-only by its rights; nothing of
`system/`, other shares or the host's own files. It keeps the device's Unix identity but
none of its capabilities, so the bindings are the boundary (pure: the command line).

The device never adds users to the host, so the sandbox, not a Unix account, is what keeps
an account's script to the account's rights. Root's scripts (the device's identity) run
without it, and need the password confirmed again to be made."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

# What a shell script needs of the host's /etc (not the whole of it: /etc/shadow is root's)
ETC = ("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "ssl",
       "ca-certificates", "resolv.conf", "hosts", "nsswitch.conf", "host.conf", "mime.types")
MERGED = ("bin", "sbin", "lib", "lib32", "lib64")  # links into /usr on a merged-/usr host


def missing() -> str | None:
    """Why account scripts cannot run here, or None."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian: apt-get install bubblewrap): an " \
               "account's script runs only in its sandbox"
    return None


def command(volume: Path, shares: Iterable[tuple[str, bool]], cwd: Path,
            script: str) -> list[str]:
    """bwrap's argv for `script`, seeing `shares` ((name, writable)) of `volume`."""
    argv = ["bwrap", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--ro-bind", "/usr", "/usr"]
    for name in MERGED:
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", str(host.readlink()), str(host)]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), str(host)]
    for name in ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", str(volume)]
    for name, writable in sorted(shares):
        folder = str(volume / name)
        argv += ["--bind" if writable else "--ro-bind", folder, folder]
    return [*argv, "--chdir", str(cwd), "/bin/sh", "-c", script]
