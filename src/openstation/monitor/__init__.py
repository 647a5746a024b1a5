"""Resource Monitor: one-second samples of the device's host, kept as a bounded history
(history.py, pure), taken and streamed live (sampler.py), with alarm rules (alarms.py)."""
