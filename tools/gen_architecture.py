"""Write the generated part of docs/architecture.md: one table per flight component.

The tables are read off the assembled flight software (which commands each component
registered, which parameters it listens to, which rate-group tasks run its code) and
off its source (the telemetry messages it builds, the event sources it emits under),
so they cannot drift from the code.  The prose around them is docs/architecture.in.md.

    python tools/gen_architecture.py            # rewrite docs/architecture.md
    python tools/gen_architecture.py --check    # exit 1 if it is out of date
"""

import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from generated_doc import write_or_check  # noqa: E402

from flightsw.app import FlightSoftware  # noqa: E402
from flightsw.config import BodyModel, FlightConfig, VehicleConfig  # noqa: E402
from flightsw.core.clock import SimClock  # noqa: E402
from flightsw.core.commands import command_name  # noqa: E402

TEMPLATE = ROOT / "docs" / "architecture.in.md"
OUT = ROOT / "docs" / "architecture.md"
MARK = "<!-- component tables -->"
COMPONENTS = ("devices", "navigation", "control", "tag_sequence", "mass", "survey",
              "fault_protection", "housekeeping", "uplink", "ground_services", "telemetry_rates")
_MESSAGE = re.compile(r"MAVLink_(\w+)_message")
_EVENT = re.compile(r'emit\(\s*Severity\.(\w+),\s*"(\w+)"')


class _NullBus:
    def send(self, msg) -> None:
        pass

    def poll(self) -> list:
        return []


def _flight() -> FlightSoftware:
    config = FlightConfig(
        vehicle=VehicleConfig(1500.0, (2400.0, 2100.0, 1700.0), 4, 0.12, 0.2, 1.0, 0.005),
        body=BodyModel(4.892, 85.65, -60.17, 4.296057 * 3600.0),
        hover_point_bf_m=(1082.5, 0.0, 625.0))
    return FlightSoftware(config, _NullBus(), SimClock())


def _owner(fn):
    return getattr(fn, "__self__", None)


def _table(fsw: FlightSoftware, name: str) -> list[str]:
    comp = getattr(fsw, name)
    cls = type(comp)
    source = inspect.getsource(inspect.getmodule(cls))
    commands = sorted(command_name(cid) for cid, reg in fsw.commands._commands.items()
                      if _owner(reg.handler) is comp)
    params = sorted({p for listener, names in fsw.params._listeners
                     if _owner(listener) is comp for p in (names or ())})
    tasks = [f"{task.name} ({rate_hz:g} Hz)"
             for _, rate_hz, task in fsw.scheduler.tasks_by_group() if _owner(task.run) is comp]
    telemetry = sorted({m.upper() for m in _MESSAGE.findall(source)})
    events = sorted({f"{src} ({sev})" for sev, src in _EVENT.findall(source)})
    shared = {id(x) for x in (fsw.config, fsw.body, fsw.params, fsw.modes, fsw.events,
                              fsw.clock, fsw.commands, fsw.port, fsw.control.guidance)}
    shared |= {id(getattr(fsw, c)) for c in COMPONENTS}
    uses = [k for k, v in vars(comp).items()
            if not k.startswith("_") and (id(v) in shared or inspect.ismethod(v))]
    state = [k for k in vars(comp) if not k.startswith("_") and k not in uses]
    doc = (inspect.getdoc(inspect.getmodule(cls)) or "").split("\n\n")[0].replace("\n", " ")
    path = Path(inspect.getsourcefile(cls)).resolve().relative_to(ROOT)
    rows = [f"### `{name}`: {cls.__name__} ({path})",
            "", doc, "",
            "| | |", "|---|---|",
            f"| state | {', '.join(f'`{s}`' for s in state) or '-'} |",
            f"| uses | {', '.join(f'`{u}`' for u in uses) or '-'} |",
            f"| tasks | {', '.join(tasks) or '- (called by the wiring)'} |",
            f"| commands | {', '.join(commands) or '-'} |",
            f"| parameters | {', '.join(params) or '-'} |",
            f"| telemetry | {', '.join(telemetry) or '-'} |",
            f"| events | {', '.join(events) or '-'} |", ""]
    return rows


def render() -> str:
    fsw = _flight()
    lines = []
    for name in COMPONENTS:
        lines += _table(fsw, name)
    body = "\n".join(lines)
    template = TEMPLATE.read_text()
    return template.replace(MARK, MARK + "\n\n" + body)


def main() -> int:
    return write_or_check(__doc__.splitlines()[0], OUT, ROOT, render, "gen_architecture.py")


if __name__ == "__main__":
    sys.exit(main())
