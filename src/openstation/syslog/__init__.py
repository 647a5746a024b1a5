"""Log Center's log sending: the audit log, as RFC 5424 messages, to a syslog server."""
