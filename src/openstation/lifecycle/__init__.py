"""Device status, install and reinstall, and (later) the reset engine and its journal."""
