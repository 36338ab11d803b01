"""Hardware in the loop: the devboard firmware (C sources in hil/firmware, package data),
its build, the emulated board, the serial links and the rig that flies the flight software
against the simulator through them (hil/README.md).

A regular package, not a namespace one: the firmware's sources are found through
importlib.resources, which cannot read a namespace package on Python 3.11, and the API
reference is generated from this one folder only.
"""
