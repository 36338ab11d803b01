"""The `prospector` command line: the top of the arrows (hil -> sim -> flightsw)."""


def init(mpstate):
    """MAVProxy's `module load prospector`: it imports a module of that name and calls init.

    The module itself is ground/mavproxy_prospector.py (imported here, not above,
    so that the command line never loads MAVProxy).
    """
    from ground.mavproxy_prospector import init as init_mavproxy_module

    return init_mavproxy_module(mpstate)
