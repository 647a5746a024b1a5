"""Being found and finding: Synology Assistant's findhost protocol, mDNS, SSDP."""
