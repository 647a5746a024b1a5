"""The in-process device and its Web API client, shared with the Web API tests."""

from tests.webapi.conftest import api, device

__all__ = ["api", "device"]
