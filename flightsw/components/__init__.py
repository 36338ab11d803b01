"""The flight software's components, in the manner of F Prime components.

Each owns its state, registers its own commands with the dispatcher, listens
to its own parameters, and sends its own telemetry and events.  `flightsw.app`
only creates them, connects them and puts their tasks in rate groups.
"""
