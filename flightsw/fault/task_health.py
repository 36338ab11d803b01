"""Task health in the manner of F Prime's Health component: every scheduled task must
answer (a run that returns) within its allowance, and the count of task faults is
watched.  Fault protection asks once a second and decides what a silence costs."""


class TaskHealth:
    """State: per task its last count of successful runs and when it changed; the
    scheduler's total fault count at the last look."""

    def __init__(self):
        self._ok: dict[str, tuple[int, int]] = {}  # task -> (successful runs, at us)
        self._faults = 0
        self._period_s: dict[str, float] | None = None

    def new_faults(self, scheduler) -> int:
        """Task faults (exceptions, overruns) since the last call."""
        faults = sum(f for _, f in scheduler.task_counts().values())
        new, self._faults = faults - self._faults, faults
        return new

    def not_answering(self, scheduler, t_us: int, health_s: float) -> list[str]:
        """Tasks without a successful run for health_s (a slow task: two of its periods)."""
        if self._period_s is None:
            self._period_s = {task.name: 1.0 / rate
                              for _, rate, task in scheduler.tasks_by_group()}
        missing = []
        for name, (runs, fails) in scheduler.task_counts().items():
            ok = runs - fails
            prev = self._ok.get(name)
            limit_us = max(health_s, 2.0 * self._period_s[name]) * 1e6
            if prev is None or ok != prev[0]:
                self._ok[name] = (ok, t_us)
            elif t_us - prev[1] > limit_us:
                missing.append(name)
        return missing
