"""The ground segment: what a ground station does with the probe's data.

Log readers, export, compare and replay.  Imports the flight software (to decode
its ICD and to re-run it in replay); imported by neither flightsw nor sim.
"""
