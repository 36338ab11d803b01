"""Housekeeping: the HEARTBEAT that carries the mode, and the scheduler's statistics
(telemetry at 0.1 Hz, reset by RESET_SCHED_STATS)."""

from flightsw.core.commands import CommandDispatcher, CommandResult
from flightsw.core.modes import ModeManager
from flightsw.core.scheduler import Scheduler


class Housekeeping:
    def __init__(self, modes: ModeManager, commands: CommandDispatcher, send):
        self.modes = modes
        self.send = send
        self.scheduler: Scheduler | None = None
        commands.register_ground_command("RESET_SCHED_STATS", self._cmd_reset_stats)

    def watch(self, scheduler: Scheduler) -> None:
        """The scheduler whose statistics go down and are reset on command."""
        self.scheduler = scheduler
        scheduler.add_task("background", scheduler.telemetry_task(self.send))

    def send_heartbeat(self) -> None:
        self.send(self.modes.heartbeat_message())

    def _cmd_reset_stats(self, params) -> CommandResult:
        self.scheduler.reset_stats()
        return CommandResult.ACCEPTED
