"""Shared folders on volume1 and the metadata that lets a reinstalled system find them."""
