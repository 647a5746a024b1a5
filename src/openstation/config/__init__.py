"""The configuration store: typed sections with factory defaults, in one SQLite file."""

from __future__ import annotations

from openstation.config.store import AuditEntry, ConfigStore, Transaction

__all__ = ["AuditEntry", "ConfigStore", "Transaction"]
