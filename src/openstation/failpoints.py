"""Named points where a test can make the process die as if the power failed.

`OPENSTATION_FAILPOINT=<name>` makes the process SIGKILL itself on reaching that point;
the crash tests use it to stop a reset between any two of its steps. Unset, it costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "OPENSTATION_FAILPOINT"


def failpoint(name: str) -> None:
    """Die here, at once and without cleaning up, if the environment names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
