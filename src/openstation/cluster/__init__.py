"""Clusters between openstation devices: a High Availability pair and a VMM cluster."""
