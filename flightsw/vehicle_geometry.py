"""The vehicle as built: where its thrusters fire and about which axes its wheels spin.

Configuration, not an algorithm: the flight software allocates torques and forces
over these axes (flightsw.gnc.allocation) and the simulator applies the forces and
torques of the same hardware (sim.world), each with its own code.

The spacecraft carries 6 thrusters firing along +x, -x, +y, -y, +z, -z of the
spacecraft frame (slots 0..5 of PROBE_THRUSTER_CMD) and 3 or 4 reaction wheels
(4 in a pyramid about +z, any 3 of them give full authority).
"""

import math

THRUSTER_DIRECTIONS_SC = (
    (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0),
    (0.0, 1.0, 0.0), (0.0, -1.0, 0.0),
    (0.0, 0.0, 1.0), (0.0, 0.0, -1.0),
)


def wheel_axes_sc(count: int) -> list[tuple[float, float, float]]:
    """Spin axes of the wheels in the spacecraft frame."""
    if count == 3:
        return [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    if count == 4:
        # Pyramid: cant angle acos(1/sqrt(3)) gives equal authority on all axes.
        s = math.sqrt(2.0 / 3.0)
        c = math.sqrt(1.0 / 3.0)
        axes = []
        for k in range(4):
            az = math.radians(45.0 + 90.0 * k)
            axes.append((s * math.cos(az), s * math.sin(az), c))
        return axes
    raise ValueError(f"wheel count must be 3 or 4, got {count}")
