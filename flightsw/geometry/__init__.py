"""Pure mathematics shared by the flight software and the simulator.

quat: quaternions and small vectors in plain floats; frames: the target's spin
(body-fixed <-> inertial) and the effective gravity of a rotating surface; mesh:
triangle meshes (ray casts one or many at a time, distances to the surface, relief
standing on a face).  Nothing here decides anything: the flight software's
algorithms and the simulator's truth are built on top, each with its own code.
"""
