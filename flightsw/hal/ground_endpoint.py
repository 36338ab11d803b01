"""Where a ground link talks: a pymavlink connection string, checked and opened.

Supported kinds, as pymavlink's `mavutil.mavlink_connection` reads them:

    tcpin:HOST:PORT   the flight side listens (as ArduPilot SITL on 5760); a ground
                      station connects with tcp:HOST:PORT
    tcp:HOST:PORT     the flight side connects to a ground station that listens
    udpin:HOST:PORT   the flight side listens; it answers whoever sent to it
    udp:HOST:PORT     the same (pymavlink's older spelling)
    udpout:HOST:PORT  the flight side sends to a ground station listening there
                      (MAVProxy or QGroundControl on 14550) and hears its answers

A tcpin: link serves one ground station at a time (the next one to connect is
served when it leaves); give --ground once per ground station to serve several.
HOST may be left out (`tcpin:5760`, `tcpin::5760`): the link is then on
127.0.0.1, so that nothing outside the machine reaches the probe unless the
operator names another address.  Anything else (serial devices, log files,
broadcast, websockets) is refused: those are not ground links.

Opening errors become `GroundLinkError`, one line naming the connection string
and what is wrong (a port in use, a connection refused, a host unknown).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass

KINDS = ("tcpin", "tcp", "udpin", "udp", "udpout")
DEFAULT_HOST = "127.0.0.1"
_LISTENING_KINDS = ("tcpin", "udpin", "udp")


class GroundLinkError(Exception):
    """A ground connection that cannot be used (one line naming it)."""


@dataclass(frozen=True)
class GroundEndpoint:
    text: str  # as the operator wrote it
    kind: str
    host: str
    port: int

    @property
    def listens(self) -> bool:
        return self.kind in _LISTENING_KINDS

    @property
    def is_tcp(self) -> bool:
        return self.kind in ("tcpin", "tcp")

    @property
    def pymavlink_device(self) -> str:
        return f"{self.kind}:{self.host}:{self.port}"


def parse_endpoint(text: str) -> GroundEndpoint:
    """A connection string -> GroundEndpoint; GroundLinkError (one line) if it is not one."""
    expected = ("expected KIND:HOST:PORT or KIND:PORT with KIND one of "
                + ", ".join(f"{k}:" for k in KINDS))
    if not isinstance(text, str) or ":" not in text:
        raise GroundLinkError(f"{text!r}: not a ground connection; {expected}")
    kind, _, rest = text.partition(":")
    if kind not in KINDS:
        raise GroundLinkError(f"{text!r}: {kind!r} is not a supported ground connection "
                              f"kind; {expected}")
    host, sep, port_text = rest.rpartition(":")
    if not sep:
        host, port_text = "", rest
    host = host.strip() or DEFAULT_HOST
    if host.startswith("[") or ":" in host:
        raise GroundLinkError(f"{text!r}: IPv6 addresses are not supported (pymavlink opens "
                              f"IPv4 sockets); {expected}")
    try:
        port = int(port_text)
    except ValueError:
        raise GroundLinkError(f"{text!r}: port {port_text!r} is not a number; {expected}") \
            from None
    if not 1 <= port <= 65535:
        raise GroundLinkError(f"{text!r}: port {port} out of range; expected 1-65535")
    return GroundEndpoint(text, kind, host, port)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def describe_os_error(endpoint: GroundEndpoint, exc: OSError) -> str:
    """One line for an OSError raised while opening `endpoint`."""
    where = f"{endpoint.text}"
    code = getattr(exc, "errno", None)
    if isinstance(exc, socket.gaierror):
        return f"{where}: unknown host {endpoint.host!r}"
    if code == errno.EADDRINUSE:
        return f"{where}: port {endpoint.port} on {endpoint.host} is already in use"
    if code == errno.EADDRNOTAVAIL:
        return f"{where}: {endpoint.host} is not an address of this machine"
    if code in (errno.EACCES, errno.EPERM):
        return f"{where}: not allowed to use port {endpoint.port} (permission denied)"
    if code == errno.ECONNREFUSED:
        return (f"{where}: connection refused (no ground station listening on "
                f"{endpoint.host}:{endpoint.port})")
    if code in (errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"{where}: {endpoint.host}:{endpoint.port} unreachable ({exc.strerror})"
    text = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{where}: cannot open: {text}"


def check_udp_port_free(endpoint: GroundEndpoint) -> None:
    """A UDP port already bound elsewhere, refused by name.

    pymavlink binds with SO_REUSEADDR, with which Linux lets a second process bind
    the same UDP port and share (steal) its datagrams: try a bind without it first.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind((endpoint.host, endpoint.port))
    except OSError as exc:
        raise GroundLinkError(describe_os_error(endpoint, exc)) from None
    finally:
        probe.close()


def open_connection(endpoint: GroundEndpoint):
    """The pymavlink connection object of `endpoint`, open; GroundLinkError if it cannot be.

    A tcp: connection is tried once (pymavlink would retry for seconds, printing):
    the operator starts the ground station first, or uses tcpin:.
    """
    from pymavlink import mavutil

    if endpoint.kind in ("udpin", "udp"):
        check_udp_port_free(endpoint)
    try:
        if endpoint.kind == "tcp":
            conn = mavutil.mavtcp(f"{endpoint.host}:{endpoint.port}", retries=0,
                                  reconnect_delay=0)
        else:
            conn = mavutil.mavlink_connection(endpoint.pymavlink_device, input=True)
        if endpoint.kind == "udpout":
            _pin_udpout(conn, endpoint)
    except OSError as exc:
        raise GroundLinkError(describe_os_error(endpoint, exc)) from None
    except ValueError as exc:  # pymavlink's own checks of HOST:PORT
        raise GroundLinkError(f"{endpoint.text}: {str(exc).splitlines()[0]}") from None
    return conn


def _pin_udpout(conn, endpoint: GroundEndpoint) -> None:
    """udpout: hear only the ground station the link sends to.

    Connecting the UDP socket makes the kernel drop datagrams from any other
    address; binding it to 127.0.0.1 first (when the ground station is on this
    machine) keeps the answering port off the network.
    """
    address = (socket.gethostbyname(endpoint.host), endpoint.port)
    if is_loopback(endpoint.host):
        conn.port.bind((DEFAULT_HOST, 0))
    conn.port.connect(address)
