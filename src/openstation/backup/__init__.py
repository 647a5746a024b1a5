"""Hyper Backup on restic: tasks, runs, versions, integrity checks, restores."""
