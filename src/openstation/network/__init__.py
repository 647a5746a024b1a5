"""Network settings and the addresses the device serves (virtual backend for now)."""
