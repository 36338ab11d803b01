"""The emulated devboard: QEMU's netduinoplus2 (STM32F405) running our firmware.

USART1 (the flight link) and USART2 (the stimulus link) are QEMU's first two
`-serial` devices, each on a pseudo-terminal (or on TCP at 127.0.0.1 with
nodelay).  The board is started paused (`-S`): bytes sent before the other
side has opened its port would be lost, so the caller opens both ports and
only then calls `resume()`, which continues the CPU over QMP.  (QEMU's pty
backend then holds input to the guest for up to a second, until its
connection timer fires; the rig waits for the board to answer before a run.)

The ports are published as stable symlinks in the work directory
(`flight.pty`, `stim.pty`) so that a SerialBus can re-open the same path when
the board comes back with new pseudo-terminals, as a udev by-id link does
for a real board.  The emulator is stopped by its process id, whatever way
the run ends (`stop()` is idempotent; the rig calls it in a finally block).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

_PTY_LINE = re.compile(r"char device redirected to (\S+) \(label (serial\d)\)")


class BoardError(Exception):
    """The emulated board could not be started or controlled (one line)."""


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the rig dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Qmp:
    """Just enough of the QEMU Machine Protocol: connect, execute, close."""

    def __init__(self, path: Path, timeout_s: float = 5.0):
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._sock.settimeout(timeout_s)
                self._sock.connect(str(path))
                break
            except OSError:
                self._sock.close()
                if time.monotonic() > deadline:
                    raise BoardError(f"QMP socket {path} did not come up") from None
                time.sleep(0.01)
        self._file = self._sock.makefile("rw", encoding="utf-8")
        self._file.readline()  # greeting
        self.execute("qmp_capabilities")

    def execute(self, command: str, **arguments) -> dict:
        request = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self._file.write(json.dumps(request) + "\n")
        self._file.flush()
        while True:
            line = self._file.readline()
            if not line:
                raise BoardError(f"QMP: no answer to {command}")
            reply = json.loads(line)
            if "event" in reply:
                continue  # asynchronous events (RESUME, RESET, ...)
            if "error" in reply:
                raise BoardError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return", {})

    def close(self) -> None:
        try:
            self._file.close()
            self._sock.close()
        except OSError:
            pass


class EmulatedBoard:
    """One QEMU process at a time; `start` (paused), `resume`, `stop`, `restart`."""

    MACHINE = "netduinoplus2"

    def __init__(self, firmware: Path, workdir: Path, *, transport: str = "pty",
                 qemu: str = "qemu-system-arm", start_timeout_s: float = 10.0):
        if transport not in ("pty", "tcp"):
            raise ValueError(f"transport must be 'pty' or 'tcp', got {transport!r}")
        self.firmware = Path(firmware)
        self.workdir = Path(workdir)
        self.transport = transport
        self.qemu = qemu
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen | None = None
        self._drain_thread: threading.Thread | None = None
        self._qmp: _Qmp | None = None
        self._output: deque[str] = deque(maxlen=50)
        self._tcp_ports: tuple[int, int] | None = None
        self.starts = 0
        self.pids: list[int] = []
        self.flight_port = str(self.workdir / "flight.pty")
        self.stim_port = str(self.workdir / "stim.pty")
        if transport == "tcp":
            self._tcp_ports = (_free_tcp_port(), _free_tcp_port())
            self.flight_port = f"socket://127.0.0.1:{self._tcp_ports[0]}"
            self.stim_port = f"socket://127.0.0.1:{self._tcp_ports[1]}"

    # -- life cycle -----------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start QEMU paused and publish both ports; returns once they exist."""
        if self.alive:
            raise BoardError("the emulated board is already running")
        if not self.firmware.is_file():
            raise BoardError(f"{self.firmware}: no firmware image")
        self.workdir.mkdir(parents=True, exist_ok=True)
        qmp_path = self.workdir / "qmp.sock"
        qmp_path.unlink(missing_ok=True)
        if self.transport == "pty":
            serials = ["-serial", "pty", "-serial", "pty"]
        else:
            serials = []
            for port in self._tcp_ports:
                serials += ["-serial", f"tcp:127.0.0.1:{port},server=on,wait=off,nodelay=on"]
        cmd = [self.qemu, "-M", self.MACHINE, "-display", "none", "-monitor", "none", "-S",
               "-kernel", str(self.firmware), *serials,
               "-qmp", f"unix:{qmp_path},server=on,wait=off"]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True,
                                          start_new_session=True, preexec_fn=_die_with_parent)
        except OSError as exc:
            raise BoardError(f"{self.qemu}: cannot start: {exc.strerror}") from None
        self.starts += 1
        self.pids.append(self._proc.pid)
        try:
            ptys = self._read_ptys()
            if self.transport == "pty":
                self._publish(ptys)
            self._qmp = _Qmp(qmp_path)
        except BaseException:
            self.stop()
            raise

    def _read_ptys(self) -> dict[str, str]:
        """Read QEMU's output until both pty lines are seen, then drain it in a thread."""
        proc = self._proc
        found: dict[str, str] = {}
        ready = threading.Event()

        def drain():
            for line in proc.stdout:
                self._output.append(line.rstrip())
                m = _PTY_LINE.search(line)
                if m:
                    found[m.group(2)] = m.group(1)
                    if len(found) >= 2:
                        ready.set()
            ready.set()  # QEMU exited

        self._drain_thread = threading.Thread(target=drain, name="qemu-output", daemon=True)
        self._drain_thread.start()
        if self.transport == "tcp":
            return {}
        ready.wait(self.start_timeout_s)
        if len(found) < 2:
            tail = self._output[-1] if self._output else "no output"
            raise BoardError(f"QEMU did not open its serial ports: {tail}")
        return found

    def _publish(self, ptys: dict[str, str]) -> None:
        for link, label in ((self.flight_port, "serial0"), (self.stim_port, "serial1")):
            tmp = Path(link + ".new")
            tmp.unlink(missing_ok=True)
            os.symlink(ptys[label], tmp)
            os.replace(tmp, link)

    def unpublish(self) -> None:
        """Remove the port symlinks (a SerialBus re-opening them then fails cleanly)."""
        if self.transport == "pty":
            for link in (self.flight_port, self.stim_port):
                Path(link).unlink(missing_ok=True)

    def resume(self) -> None:
        """Let the CPU run (call once both ports are open)."""
        if self._qmp is None:
            raise BoardError("the emulated board is not started")
        self._qmp.execute("cont")

    def reset(self) -> None:
        """Press the reset button (the firmware reboots; the ports stay)."""
        if self._qmp is None:
            raise BoardError("the emulated board is not started")
        self._qmp.execute("system_reset")

    def set_realtime_priority(self, priority: int) -> str:
        """Put every thread of the emulator in SCHED_FIFO at `priority`, as if the board
        had a CPU of its own; returns what was done (it may be refused)."""
        if not self.alive or not hasattr(os, "sched_setscheduler"):
            return "off"
        try:
            for tid in os.listdir(f"/proc/{self._proc.pid}/task"):
                os.sched_setscheduler(int(tid), os.SCHED_FIFO, os.sched_param(priority))
        except OSError as exc:
            return f"SCHED_FIFO refused ({exc.strerror})"
        return f"SCHED_FIFO {priority}"

    def kill(self) -> None:
        """Pull the plug: SIGKILL, as a board unplugged mid-run (fault injection)."""
        if self.alive:
            os.kill(self._proc.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop QEMU by its process id (SIGTERM, then SIGKILL); idempotent."""
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=2.0)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
                except ProcessLookupError:
                    pass
            else:
                proc.wait()
            # The output thread ends at end of file once QEMU is gone; then close the pipe.
            if self._drain_thread is not None:
                self._drain_thread.join(timeout=2.0)
                self._drain_thread = None
            if proc.stdout is not None:
                proc.stdout.close()
        self.unpublish()
        (self.workdir / "qmp.sock").unlink(missing_ok=True)

    def restart(self) -> None:
        """Stop whatever is left and start a fresh, paused board."""
        self.stop()
        self.start()

    def output_tail(self) -> list[str]:
        return list(self._output)

    def __enter__(self) -> EmulatedBoard:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
