"""The hardware panel: STATUS and POWER LEDs, the beeper, (later) the RESET button."""
