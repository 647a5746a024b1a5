"""openstation: a virtual Synology-style NAS (DSM 6.2) with DSM's two RESET modes."""

from __future__ import annotations

__version__ = "0.1.0"
