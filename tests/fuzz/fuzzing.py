"""Structure-aware fuzzing of every reader and entry point (issue 21).

Four targets, each a hypothesis strategy that mutates real input the way damage
or a hostile user would, and a check that feeds one input to the entry points
in process:

- `tlog`: a slice of a golden flight log with stamps set, bits flipped, bytes
  inserted or deleted, length bytes corrupted, records duplicated, dropped,
  swapped or cut -> `read_columns`, `frame_table`, `log info` (text and
  --json), `log export` (1 case in 10) and `replay` (1 in 25) through the CLI;
- `stream`: MAVLink frames of that log mixed with garbage (often 0xFD-heavy)
  -> the link's FrameReader (backlog bounded after every feed) and a SerialBus
  on a `loop://` port (1 case in 10);
- `scenario`: a packaged scenario with values swapped for extremes (0, -1,
  1e308, nan, inf, 10**26, text, tables), keys dropped or added, bytes
  flipped -> `load_scenario`;
- `config`: a golden flight_config.json mutated the same way -> replay's
  `load_recording` (and a short replay, 1 valid case in 20).

A failure is a traceback (any exception but the one-line errors each entry
point promises), a broken invariant, or a hang (a case over its time limit).
Each failure is saved under tests/fuzz/cases/<target>/ and replayed by
tests/fuzz/test_fuzz.py; `make fuzz` (tools/fuzz.py) runs as many cases as asked.
"""

import contextlib
import hashlib
import io
import json
import math
import signal
import tempfile
import time
import tomllib
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
CASES = Path(__file__).resolve().parent / "cases"
SLICE_RECORDS = 160            # records of hover-60s in a tlog case: about 3 s of flight
TIME_LIMIT_S = {"tlog": 30.0, "stream": 10.0, "scenario": 5.0, "config": 30.0}
EXTREMES = (0, -1, 1, 0.0, -0.0, 1e-320, 1e308, -1e308, math.nan, math.inf, -math.inf,
            10**26, 2**63, -(2**63), 2**64, "", "x" * 300, "1.5", True, False, [], {},
            [1e308, 1e308, 1e308], [0.0, 0.0], {"x": 1})


class Hang(Exception):
    """A case ran past its time limit."""


# --------------------------------------------------------------------------- inputs


def _records(blob: bytes) -> list[bytes]:
    from ground.logs.frames import frame_table

    table = frame_table(blob)
    return [blob[int(table.first[i]) - 8:int(table.end[i])] for i in range(len(table))]


_BASE: dict = {}


def base_tlog_records() -> list[bytes]:
    if "records" not in _BASE:
        blob = (GOLDEN / "hover-60s" / "flight.tlog").read_bytes()
        _BASE["records"] = _records(blob)[:SLICE_RECORDS]
    return _BASE["records"]


def base_config_text(name: str) -> str:
    key = f"config-{name}"
    if key not in _BASE:
        _BASE[key] = (GOLDEN / name / "flight_config.json").read_text()
    return _BASE[key]


def base_scenario(name: str) -> dict:
    key = f"scenario-{name}"
    if key not in _BASE:
        _BASE[key] = tomllib.loads((ROOT / "sim" / "scenarios" / f"{name}.toml").read_text())
    return _BASE[key]


_junk = st.one_of(
    st.binary(min_size=1, max_size=40),
    st.lists(st.sampled_from([0xFD, 0xFE, 0x00, 0xFF]), min_size=1, max_size=60).map(bytes),
    st.builds(lambda n, tail: bytes([0xFD, n]) + tail, st.integers(0, 255),
              st.binary(max_size=30)),
)
_op = st.tuples(
    st.sampled_from(["stamp_top", "stamp_bytes", "stamp_flip", "flip", "insert", "delete",
                     "length", "duplicate", "drop", "swap", "truncate"]),
    st.integers(0, 2**31), st.integers(0, 2**31), _junk)


@st.composite
def tlog_cases(draw) -> bytes:
    """A golden log slice with 1 to 5 structure-aware mutations."""
    records = list(base_tlog_records())
    ops = draw(st.lists(_op, min_size=1, max_size=5))
    for kind, a, b, junk in ops:
        if not records:
            break
        i, j = a % len(records), b % len(records)
        rec = bytearray(records[i])
        if kind == "stamp_top":
            rec[0] = b % 256
        elif kind == "stamp_bytes":
            rec[:8] = (junk * 8)[:8]
        elif kind == "stamp_flip":
            rec[b % 8] ^= 1 << (a % 8)
        elif kind == "flip":
            rec[b % len(rec)] ^= 1 << (a % 8)
        elif kind == "length":
            rec[9] = b % 256
        elif kind == "insert":
            at = b % (len(rec) + 1)
            rec[at:at] = junk
        elif kind == "delete":
            at = b % len(rec)
            del rec[at:at + 1 + a % 24]
        elif kind == "duplicate":
            records.insert(j, bytes(rec))
            continue
        elif kind == "drop":
            del records[i]
            continue
        elif kind == "swap":
            records[i], records[j] = records[j], records[i]
            continue
        records[i] = bytes(rec)
        if kind == "truncate":
            blob = b"".join(records)
            return blob[: b % (len(blob) + 1)]
    return b"".join(records)


@st.composite
def stream_cases(draw) -> tuple[bytes, list[int], int]:
    """(byte stream, read sizes, backlog bound): frames of the log amid garbage."""
    frames = [r[8:] for r in base_tlog_records()]
    parts = []
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.booleans()):
            frame = bytearray(frames[draw(st.integers(0, len(frames) - 1))])
            if draw(st.integers(0, 4)) == 0:
                frame[draw(st.integers(0, len(frame) - 1))] ^= 1 << draw(st.integers(0, 7))
            parts.append(bytes(frame))
        else:
            parts.append(draw(_junk))
    if draw(st.integers(0, 3)) == 0:  # a flood of frame markers
        parts.insert(draw(st.integers(0, len(parts))),
                     bytes([0xFD]) * draw(st.integers(100, 4_000)))
    sizes = draw(st.lists(st.integers(1, 5000), min_size=1, max_size=6))
    bound = draw(st.sampled_from([8192, 16384, 65536]))
    return b"".join(parts), sizes, bound


def _leaf_paths(node, path=()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _leaf_paths(value, path + (key,))
    elif isinstance(node, list) and len(node) <= 8:
        for k, value in enumerate(node):
            out += _leaf_paths(value, path + (k,))
    return out


def _mutate_tree(draw, tree, big_lists_ok: bool):
    """Replace, delete or add 1 to 4 entries anywhere in a parsed document."""
    import copy

    def extreme():  # a fresh copy: a shared list or table could end up inside itself
        return copy.deepcopy(draw(st.sampled_from(EXTREMES)))

    tree = copy.deepcopy(tree)
    paths = _leaf_paths(tree)
    for _ in range(draw(st.integers(1, 4))):
        path = paths[draw(st.integers(0, len(paths) - 1))]
        parent = tree
        try:
            for part in path[:-1]:
                parent = parent[part]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["extreme", "extreme", "extreme", "delete", "add",
                                       "scale"]))
        key = path[-1]
        try:
            if action == "extreme":
                parent[key] = extreme()
            elif action == "scale" and isinstance(parent[key], (int, float)) \
                    and not isinstance(parent[key], bool):
                parent[key] = parent[key] * draw(st.sampled_from([-1, 0, 1e3, 1e-3, 1e30]))
            elif action == "delete":
                del parent[key]
            elif action == "add" and isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "mass_kg", "seed", "rate_hz"]))] = \
                    extreme()
        except (KeyError, IndexError, TypeError):
            continue
    return tree


def _flip_text(draw, text: str) -> str:
    if draw(st.integers(0, 4)):
        return text
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 3))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return data.decode("utf-8", "replace")


@st.composite
def scenario_cases(draw) -> str:
    name = draw(st.sampled_from(["bennu-hover", "bennu-tag", "psyche", "bennu"]))
    tree = _mutate_tree(draw, base_scenario(name), big_lists_ok=True)
    return _flip_text(draw, to_toml(tree))


@st.composite
def config_cases(draw) -> str:
    name = draw(st.sampled_from(["hover-60s", "hover-60s", "tag-descent-start"]))
    tree = json.loads(base_config_text(name))
    tree = _mutate_tree(draw, tree, big_lists_ok=False)
    return _flip_text(draw, json.dumps(tree))


# --------------------------------------------------------------------------- TOML out


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    return json.dumps(str(value))


def to_toml(tree: dict, path: str = "") -> str:
    """Enough TOML for a scenario: tables, arrays of tables, inline values."""
    lines = []
    for key, value in tree.items():
        if not (isinstance(value, dict) or (isinstance(value, list) and value
                                            and all(isinstance(v, dict) for v in value))):
            lines.append(f"{json.dumps(str(key))} = {_toml_value(value)}")
    for key, value in tree.items():
        sub = f"{path}.{json.dumps(str(key))}" if path else json.dumps(str(key))
        if isinstance(value, dict):
            lines += [f"[{sub}]", to_toml(value, sub)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for entry in value:
                lines += [f"[[{sub}]]", to_toml(entry, sub)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- checks


def _cli(args: list[str]) -> int:
    """prospector's main in process, output swallowed; exceptions propagate (a traceback)."""
    from prospector.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = main(args)
    if status not in (0, 1, 2):
        raise AssertionError(f"exit status {status}")
    return status


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def check_tlog(data: bytes, n: int, tmp: Path) -> None:
    from ground.logs.columns import read_columns
    from ground.logs.frames import frame_table
    from ground.logs.info import format_info, log_info

    log = read_columns(data)
    json.dumps(asdict(log_info(log)))
    format_info("case", len(data), log_info(log))
    if data:
        table = frame_table(data)
        assert table.report.frames == log.report.frames
    run = tmp / "run"
    run.mkdir()
    (run / "flight.tlog").write_bytes(data)
    (run / "flight_config.json").write_text(base_config_text("hover-60s"))
    (run / "mine.txt").write_text("a user's file")
    before = _snapshot(run)
    _cli(["log", "info", str(run)])
    _cli(["log", "info", str(run), "--json"])
    if n % 10 == 0:
        _cli(["log", "export", str(run), "--format", "npz", "--out", str(tmp / "x.npz")])
    if n % 25 == 0:
        _cli(["replay", str(run), "--out", str(tmp / "replay")])
        _cli(["replay", str(run), "--out", str(run), "--force"])  # not ours: refused
    assert _snapshot(run) == before, "a command changed the user's files"


def check_stream(case, n: int, tmp: Path) -> None:
    from flightsw.hal.mavlink_stream import MAX_FRAME_LEN, FrameReader
    from flightsw.hal.serial_bus import SerialBus

    stream, sizes, bound = case
    reader = FrameReader(max_work_bytes=8192, max_backlog_bytes=bound)
    at = k = 0
    while at < len(stream):
        size = sizes[k % len(sizes)]
        for msg in reader.feed(stream[at:at + size]):
            assert msg.get_msgbuf()[0] == 0xFD
        assert reader.backlog <= bound + MAX_FRAME_LEN, "backlog past its bound"
        at, k = at + size, k + 1
    for _ in range(100_000):
        if not reader.backlog:
            break
        reader.feed()
    assert not reader.backlog, "backlog never drained"
    if n % 10 == 0:
        bus = SerialBus("loop://", max_rx_backlog_bytes=max(bound, 8192))
        try:
            for lo in range(0, len(stream), 4096):
                bus.send_raw(stream[lo:lo + 4096])
                bus.poll()
                assert bus.stats()["rx_backlog_bytes"] <= bus.max_rx_backlog_bytes + MAX_FRAME_LEN
            for _ in range(100_000):
                bus.poll()
                if not bus.stats()["rx_backlog_bytes"]:
                    break
        finally:
            bus.close()


def check_scenario(text: str, n: int, tmp: Path) -> None:
    from sim.scenario import ScenarioError, load_scenario

    path = tmp / "case.toml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_scenario(str(path))
    except ScenarioError as err:
        assert "\n" not in str(err)


def check_config(text: str, n: int, tmp: Path) -> None:
    from ground.replay import ReplayError, load_recording

    run = tmp / "run"
    run.mkdir()
    records = base_tlog_records()
    (run / "flight.tlog").write_bytes(b"".join(records))
    (run / "flight_config.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_recording(run)
    except ReplayError as err:
        assert "\n" not in str(err)
        return
    if n % 20 == 0:
        _cli(["replay", str(run), "--out", str(tmp / "replay"), "--until", "1"])


@dataclass
class Target:
    name: str
    strategy: Callable
    check: Callable
    suffix: str


TARGETS = {
    "tlog": Target("tlog", tlog_cases, check_tlog, ".tlog"),
    "stream": Target("stream", stream_cases, check_stream, ".json"),
    "scenario": Target("scenario", scenario_cases, check_scenario, ".toml"),
    "config": Target("config", config_cases, check_config, ".json"),
}


# --------------------------------------------------------------------------- running


@dataclass
class Tally:
    inputs: int = 0
    tracebacks: int = 0
    hangs: int = 0
    harness_errors: int = 0  # the generator failed (a bug of the harness, not of the target)
    seconds: float = 0.0
    saved: list[str] = field(default_factory=list)


def encode(target: str, case) -> bytes:
    if target == "tlog":
        return case
    if target == "stream":
        stream, sizes, bound = case
        return json.dumps({"stream": stream.hex(), "sizes": sizes, "bound": bound}).encode()
    return case.encode("utf-8", "surrogateescape")


def decode(target: str, data: bytes):
    if target == "tlog":
        return data
    if target == "stream":
        d = json.loads(data)
        return bytes.fromhex(d["stream"]), d["sizes"], d["bound"]
    return data.decode("utf-8", "surrogateescape")


def _on_alarm(signum, frame):
    raise Hang()


def run_case(target: str, case, n: int, tally: Tally | None = None,
             save: bool = True) -> str | None:
    """Feed one case to its entry points; None, or what went wrong (also saved)."""
    problem = None
    start = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S[target])
    try:
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            TARGETS[target].check(case, n, Path(tmp))
    except Hang:
        problem = f"hang: over {TIME_LIMIT_S[target]:g} s"
    except Exception:  # the point: every exception that escapes is a failure
        problem = traceback.format_exc(limit=-3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if tally is not None:
        tally.inputs += 1
        tally.seconds += time.perf_counter() - start
        if problem is not None:
            if problem.startswith("hang"):
                tally.hangs += 1
            else:
                tally.tracebacks += 1
    if problem is not None and save:
        data = encode(target, case)
        folder = CASES / target
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (hashlib.sha1(data).hexdigest()[:12] + TARGETS[target].suffix)
        path.write_bytes(data)
        if tally is not None:
            tally.saved.append(str(path.relative_to(ROOT)))
    return problem


def saved_cases() -> list[tuple[str, Path]]:
    out = []
    for target in TARGETS:
        folder = CASES / target
        if folder.is_dir():
            out += [(target, p) for p in sorted(folder.iterdir()) if p.is_file()]
    return out
