"""TLS certificate, machine key, and (later) firewall and Auto Block."""
