"""Control Panel > Task Scheduler: scheduled tasks (user scripts, recycle-bin cleaning,
service control, the beeper) and the virtual power schedule."""
