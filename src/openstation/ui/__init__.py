"""Web pages: install wizard, login, desktop with Control Panel, Personal, Log Center, and
the virtual front panel."""
