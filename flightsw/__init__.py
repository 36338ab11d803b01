"""Flight software of the asteroid prospector probe.

Everything here could run on the probe: it imports neither the simulator nor
the HIL rig, and gets time only from a Clock and inputs only from a Bus.
"""
