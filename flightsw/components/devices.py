"""The device drivers of the spacecraft, created on one BusPort (the thrusters are
commanded through flightsw.components.propulsion)."""

from flightsw.hal.bus import BusPort
from flightsw.hal.drivers import (
    Altimeter,
    Imu,
    Instruments,
    NavCamera,
    Power,
    Sampler,
    ScanLidar,
    Spectrometer,
    StarTracker,
    Wheels,
)


class Devices:
    """Every typed driver; each subscribes to its own messages on the port.

    The creation order is the subscription order on the port, which fixes the order
    in which one frame's messages reach the drivers: keep it.
    """

    def __init__(self, port: BusPort, wheel_count: int):
        self.imu = Imu(port)
        self.star_tracker = StarTracker(port)
        self.altimeter = Altimeter(port)
        self.navcam = NavCamera(port)
        self.power = Power(port)
        self.wheels = Wheels(port, wheel_count)
        self.spectrometer = Spectrometer(port)
        self.sampler = Sampler(port)
        self.scan_lidar = ScanLidar(port)
        self.instruments = Instruments(port)
