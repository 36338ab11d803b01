"""The `prospector` command line: the top of the arrows (hil -> sim -> flightsw)."""
