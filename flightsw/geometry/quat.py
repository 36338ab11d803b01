"""Quaternion and small-vector algebra in plain Python floats.

Why plain floats: a control cycle calls these dozens of times, and a numpy
call on a 3- or 4-vector costs microseconds where a tuple expression costs
tens of nanoseconds (FACTS.md, "Timing on these machines").

Convention (the whole project uses it):
- scalar-first Hamilton quaternions (w, x, y, z);
- the attitude quaternion q_i_to_sc rotates spacecraft-frame vectors into the
  inertial frame when applied actively: v_i = q * v_sc * conj(q), so
  v_sc = conj(q) * v_i * q.  Equivalent to scipy's
  Rotation.from_quat([x, y, z, w]).apply(v_sc) == v_i;
- kinematics: dq/dt = 0.5 * q * (0, w_sc) with w_sc the rate in the
  spacecraft frame.
"""

import math

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]

IDENTITY: Quat = (1.0, 0.0, 0.0, 0.0)


def q_mul(a: Quat, b: Quat) -> Quat:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )


def q_conj(q: Quat) -> Quat:
    return (q[0], -q[1], -q[2], -q[3])


def q_normalize(q: Quat) -> Quat:
    n = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if n == 0.0:
        raise ValueError("zero quaternion cannot be normalised")
    # Keep w >= 0 so the same rotation always has the same representation.
    if q[0] < 0.0:
        n = -n
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def q_rotate(q: Quat, v: Vec3) -> Vec3:
    """Active rotation of v by q: spacecraft frame -> inertial for q_i_to_sc."""
    w, x, y, z = q
    vx, vy, vz = v
    # t = 2 * cross(q_vec, v); v' = v + w t + cross(q_vec, t)
    tx = 2.0 * (y * vz - z * vy)
    ty = 2.0 * (z * vx - x * vz)
    tz = 2.0 * (x * vy - y * vx)
    return (
        vx + w * tx + (y * tz - z * ty),
        vy + w * ty + (z * tx - x * tz),
        vz + w * tz + (x * ty - y * tx),
    )


def q_rotate_inv(q: Quat, v: Vec3) -> Vec3:
    """Inverse rotation: inertial -> spacecraft frame for q_i_to_sc."""
    return q_rotate((q[0], -q[1], -q[2], -q[3]), v)


def q_from_axis_angle(axis: Vec3, angle_rad: float) -> Quat:
    n = norm(axis)
    if n == 0.0:
        return IDENTITY
    s = math.sin(0.5 * angle_rad) / n
    return (math.cos(0.5 * angle_rad), axis[0] * s, axis[1] * s, axis[2] * s)


def q_from_rotvec(rv: Vec3) -> Quat:
    angle = norm(rv)
    if angle < 1e-12:
        return q_normalize((1.0, 0.5 * rv[0], 0.5 * rv[1], 0.5 * rv[2]))
    return q_from_axis_angle(rv, angle)


def q_to_rotvec(q: Quat) -> Vec3:
    """Rotation vector (axis * angle, rad) of q, angle in [0, pi]."""
    w, x, y, z = q
    if w < 0.0:
        w, x, y, z = -w, -x, -y, -z
    s = math.sqrt(x * x + y * y + z * z)
    if s < 1e-12:
        return (2.0 * x, 2.0 * y, 2.0 * z)
    angle = 2.0 * math.atan2(s, w)
    k = angle / s
    return (x * k, y * k, z * k)


def q_from_dcm_columns(x_i: Vec3, y_i: Vec3, z_i: Vec3) -> Quat:
    """Quaternion whose spacecraft axes, expressed in inertial, are x_i, y_i, z_i.

    The three vectors must be orthonormal and right-handed.
    """
    # Matrix R with columns x_i, y_i, z_i (spacecraft -> inertial).
    r00, r10, r20 = x_i
    r01, r11, r21 = y_i
    r02, r12, r22 = z_i
    trace = r00 + r11 + r22
    if trace > 0.0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = (0.25 * s, (r21 - r12) / s, (r02 - r20) / s, (r10 - r01) / s)
    elif r00 > r11 and r00 > r22:
        s = 2.0 * math.sqrt(1.0 + r00 - r11 - r22)
        q = ((r21 - r12) / s, 0.25 * s, (r01 + r10) / s, (r02 + r20) / s)
    elif r11 > r22:
        s = 2.0 * math.sqrt(1.0 + r11 - r00 - r22)
        q = ((r02 - r20) / s, (r01 + r10) / s, 0.25 * s, (r12 + r21) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + r22 - r00 - r11)
        q = ((r10 - r01) / s, (r02 + r20) / s, (r12 + r21) / s, 0.25 * s)
    return q_normalize(q)


def q_angle_between(a: Quat, b: Quat) -> float:
    """Smallest rotation angle (rad) taking attitude a to attitude b.

    atan2 of the relative rotation's vector and scalar parts: acos of a dot
    product near 1 would lose half the digits for small angles.
    """
    w, x, y, z = q_mul((a[0], -a[1], -a[2], -a[3]), b)
    return 2.0 * math.atan2(math.sqrt(x * x + y * y + z * z), abs(w))


def dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: Vec3, b: Vec3) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def norm(a: Vec3) -> float:
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])


def unit(a: Vec3) -> Vec3:
    n = norm(a)
    if n == 0.0:
        raise ValueError("zero vector has no direction")
    return (a[0] / n, a[1] / n, a[2] / n)


def add(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def scale(a: Vec3, k: float) -> Vec3:
    return (a[0] * k, a[1] * k, a[2] * k)


def mat_vec(m: tuple[Vec3, Vec3, Vec3], v: Vec3) -> Vec3:
    """Row-major 3x3 matrix (tuple of rows) times vector."""
    return (dot(m[0], v), dot(m[1], v), dot(m[2], v))


def mat_t_vec(m: tuple[Vec3, Vec3, Vec3], v: Vec3) -> Vec3:
    """Transpose of a row-major 3x3 matrix times vector."""
    return (
        m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2],
        m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
        m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2],
    )
