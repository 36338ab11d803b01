"""Actuator allocation: wheel motor torques for a desired body torque.

The wheel axes and thruster directions are vehicle configuration
(flightsw.vehicle_geometry).
"""


def wheel_torque_allocation(axes: list[tuple[float, float, float]]) -> list[tuple[float, ...]]:
    """Minimum-norm map from a desired body torque to wheel motor torques.

    The body receives -sum(a_j * tau_j), so tau = -pinv(A) @ torque_body with
    A the 3 x n matrix of axes.  Returned as rows (one per wheel) of -pinv(A).
    """
    n = len(axes)
    # A A^T (3x3), invert by cofactors: no numpy needed for a one-off.
    m = [[sum(axes[j][r] * axes[j][c] for j in range(n)) for c in range(3)] for r in range(3)]
    det = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
           - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
           + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))
    if abs(det) < 1e-12:
        raise ValueError("wheel axes do not span three dimensions")
    inv = [[0.0] * 3 for _ in range(3)]
    for r in range(3):
        for c in range(3):
            r1, r2 = [i for i in range(3) if i != c]
            c1, c2 = [i for i in range(3) if i != r]
            minor = m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]
            inv[r][c] = (-1) ** (r + c) * minor / det
    rows = []
    for j in range(n):
        a = axes[j]
        rows.append(tuple(-(a[0] * inv[0][c] + a[1] * inv[1][c] + a[2] * inv[2][c])
                          for c in range(3)))
    return rows


def spans_three_axes(axes: list[tuple[float, float, float]]) -> bool:
    """True when torques about every axis can be made from these wheel axes."""
    try:
        wheel_torque_allocation(axes)
    except ValueError:
        return False
    return True
