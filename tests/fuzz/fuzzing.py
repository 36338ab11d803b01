"""Structure-aware fuzzing of every reader and entry point (issue 21).

Four targets, each a generator that mutates real input the way damage or a
hostile user would, and a check that feeds one input to the entry points in
process:

- `tlog`: a slice of a golden flight log (160 records of hover-60s or of
  hover-commands-90s) with stamps set, bits flipped, bytes inserted or
  deleted, length bytes corrupted, records duplicated, dropped, swapped or cut
  -> `read_columns` (in memory; 1 case in 8 in small chunks, where frames
  cross chunk boundaries) and `frame_table` (the same frames), the text and
  the JSON of `log info`, then through the CLI `log info` (text and --json
  in turn), `log export` (1 case in 10) and `replay` (1 in 25);
- `stream`: MAVLink frames of those logs and one of every message type the
  golden logs hold, mixed with garbage (often 0xFD-heavy) -> the link's
  FrameReader (backlog bounded after every feed) and a SerialBus on a
  `loop://` port (1 case in 10);
- `scenario`: a packaged scenario with values swapped for extremes (0, -1,
  1e308, nan, inf, 10**26, text, tables), keys dropped or added, bytes
  flipped -> `load_scenario`;
- `config`: a golden flight_config.json mutated the same way -> replay's
  `load_recording` (and a short replay, 1 valid case in 20).

A generator asks a `Draw` for its choices: `HypothesisDraw` inside a
hypothesis test (`make test`: shrinking, derandomized), `RandomDraw` over a
seeded `random.Random` in the campaign (`make fuzz`: a case costs tens of
microseconds to make instead of milliseconds; case i of a run is the same
for the same seed).  Both run the same mutation code.

A failure is a traceback (any exception but the one-line errors each entry
point promises), a broken invariant, or a hang (a case over its time limit,
caught in process by SIGALRM).  Each failure is saved under
tests/fuzz/cases/<target>/ and replayed by tests/fuzz/test_fuzz.py; `make
fuzz` (tools/fuzz.py) runs as many cases as asked.

Everything a case does not change is made once per process: the parsed seeds
and their leaf paths, the CLI's argument parser, the run folders the CLI
reads (a `Workspace`, cleared between cases, rebuilt after a failure).
"""

import atexit
import contextlib
import copy
import hashlib
import io
import json
import math
import os
import random
import shutil
import signal
import tempfile
import time
import tomllib
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import fuzz_ground
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
CASES = Path(__file__).resolve().parent / "cases"
SLICE_RECORDS = 160            # records of a golden log in a tlog case: about 3 s of flight
TLOG_SEEDS = ("hover-60s", "hover-commands-90s")
FRAME_POOL_LOGS = ("hover-60s", "hover-commands-90s", "tag-descent-start", "survey-slice")
CONFIG_SEEDS = ("hover-60s", "hover-60s", "tag-descent-start")
SCENARIO_SEEDS = ("bennu-hover", "bennu-tag", "psyche", "bennu")
TIME_LIMIT_S = {"tlog": 30.0, "stream": 10.0, "scenario": 5.0, "config": 30.0, "ground": 10.0}
EXTREMES = (0, -1, 1, 0.0, -0.0, 1e-320, 1e308, -1e308, math.nan, math.inf, -math.inf,
            10**26, 2**63, -(2**63), 2**64, "", "x" * 300, "1.5", True, False, [], {},
            [1e308, 1e308, 1e308], [0.0, 0.0], {"x": 1})


class Hang(Exception):
    """A case ran past its time limit."""


# --------------------------------------------------------------------------- choices


class RandomDraw:
    """Choices from a seeded random.Random, a little biased to the ends of each range
    (as hypothesis is): 1 in 16 the lowest, 1 in 16 the highest."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        u = self.rng.random()
        if u < 0.0625:
            return lo
        if u < 0.125:
            return hi
        return self.rng.randint(lo, hi)

    def bool(self) -> bool:
        return self.rng.random() < 0.5

    def choice(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def binary(self, min_size: int, max_size: int) -> bytes:
        return self.rng.randbytes(self.int(min_size, max_size))

    def bytes_from(self, alphabet: tuple, min_size: int, max_size: int) -> bytes:
        return bytes(self.rng.choices(alphabet, k=self.int(min_size, max_size)))


class HypothesisDraw:
    """The same choices from a hypothesis `draw` (shrinkable)."""

    def __init__(self, draw):
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def bool(self) -> bool:
        return self.draw(st.booleans())

    def choice(self, seq):
        return self.draw(st.sampled_from(seq))

    def binary(self, min_size: int, max_size: int) -> bytes:
        return self.draw(st.binary(min_size=min_size, max_size=max_size))

    def bytes_from(self, alphabet: tuple, min_size: int, max_size: int) -> bytes:
        return bytes(self.draw(st.lists(st.sampled_from(alphabet), min_size=min_size,
                                        max_size=max_size)))


# --------------------------------------------------------------------------- seeds


def _records(blob: bytes) -> list[bytes]:
    from ground.logs.frames import frame_table

    table = frame_table(blob)
    return [blob[int(table.first[i]) - 8:int(table.end[i])] for i in range(len(table))]


_BASE: dict = {}


def _cached(key, make):
    if key not in _BASE:
        _BASE[key] = make()
    return _BASE[key]


def base_tlog_records(name: str = "hover-60s") -> list[bytes]:
    """The first SLICE_RECORDS records of a golden log (timestamp + frame each)."""
    return _cached(("records", name), lambda: _records(
        (GOLDEN / name / "flight.tlog").read_bytes())[:SLICE_RECORDS])


def frame_pool() -> list[bytes]:
    """MAVLink frames for streams: the tlog seeds' frames, and the first frame of every
    message type in the golden logs (spectra, lidar scans, resource maps ...)."""
    def make():
        frames = [r[8:] for name in TLOG_SEEDS for r in base_tlog_records(name)]
        seen = set()
        for name in FRAME_POOL_LOGS:
            for rec in _records((GOLDEN / name / "flight.tlog").read_bytes()):
                msg_id = int.from_bytes(rec[8 + 7:8 + 10], "little")  # MAVLink 2 msgid
                if rec[8] == 0xFD and msg_id not in seen:
                    seen.add(msg_id)
                    frames.append(rec[8:])
        return frames
    return _cached("frames", make)


def base_config_text(name: str) -> str:
    return _cached(("config", name),
                   lambda: (GOLDEN / name / "flight_config.json").read_text())


def _leaf_paths(node, path=()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _leaf_paths(value, path + (key,))
    elif isinstance(node, list) and len(node) <= 8:
        for k, value in enumerate(node):
            out += _leaf_paths(value, path + (k,))
    return out


def base_config(name: str) -> tuple[dict, list[tuple]]:
    """(parsed flight_config.json, its leaf paths): never changed, copied where mutated."""
    def make():
        tree = json.loads(base_config_text(name))
        _remember_json(tree)
        return tree, _leaf_paths(tree)
    return _cached(("config-tree", name), make)


_JSON: dict[int, str] = {}  # id of a table or list of a seed (alive in _BASE) -> its JSON


def _remember_json(node) -> None:
    if isinstance(node, (dict, list)):
        _JSON[id(node)] = json.dumps(node)
        for value in (node.values() if isinstance(node, dict) else node):
            _remember_json(value)


def to_json(node) -> str:
    """json.dumps(node), the parts a mutation left as they were in the seed taken as
    they were written once (the shape model of a config is most of its 40-60 kB)."""
    text = _JSON.get(id(node))
    if text is not None:
        return text
    if isinstance(node, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {to_json(value)}"
                               for key, value in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(to_json(value) for value in node) + "]"
    return json.dumps(node)


def base_scenario(name: str) -> tuple[dict, list[tuple]]:
    def make():
        tree = tomllib.loads((ROOT / "sim" / "scenarios" / f"{name}.toml").read_text())
        return tree, _leaf_paths(tree)
    return _cached(("scenario", name), make)


# --------------------------------------------------------------------------- generators

JUNK_BYTES = (0xFD, 0xFE, 0x00, 0xFF)
TLOG_OPS = ("stamp_top", "stamp_bytes", "stamp_flip", "flip", "insert", "delete", "length",
            "duplicate", "drop", "swap", "truncate")


def gen_junk(d) -> bytes:
    """Garbage: random bytes, a run of marker-like bytes, or a false frame start."""
    kind = d.int(0, 2)
    if kind == 0:
        return d.binary(1, 40)
    if kind == 1:
        return d.bytes_from(JUNK_BYTES, 1, 60)
    return bytes([0xFD, d.int(0, 255)]) + d.binary(0, 30)


def gen_tlog(d) -> bytes:
    """A golden log slice with 1 to 5 structure-aware mutations."""
    records = list(base_tlog_records(d.choice(TLOG_SEEDS)))
    for _ in range(d.int(1, 5)):
        kind, a, b = d.choice(TLOG_OPS), d.int(0, 2**31), d.int(0, 2**31)
        if not records:
            break
        i, j = a % len(records), b % len(records)
        rec = bytearray(records[i])
        if kind == "stamp_top":
            rec[0] = b % 256
        elif kind == "stamp_bytes":
            rec[:8] = (gen_junk(d) * 8)[:8]
        elif kind == "stamp_flip":
            rec[b % 8] ^= 1 << (a % 8)
        elif kind == "flip":
            rec[b % len(rec)] ^= 1 << (a % 8)
        elif kind == "length":
            rec[9] = b % 256
        elif kind == "insert":
            at = b % (len(rec) + 1)
            rec[at:at] = gen_junk(d)
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


def gen_stream(d) -> tuple[bytes, list[int], int]:
    """(byte stream, read sizes, backlog bound): frames of the logs amid garbage."""
    frames = frame_pool()
    parts = []
    for _ in range(d.int(1, 30)):
        if d.bool():
            frame = bytearray(frames[d.int(0, len(frames) - 1)])
            if d.int(0, 4) == 0:
                frame[d.int(0, len(frame) - 1)] ^= 1 << d.int(0, 7)
            parts.append(bytes(frame))
        else:
            parts.append(gen_junk(d))
    if d.int(0, 3) == 0:  # a flood of frame markers
        parts.insert(d.int(0, len(parts)), bytes([0xFD]) * d.int(100, 4_000))
    sizes = [d.int(1, 5000) for _ in range(d.int(1, 6))]
    bound = d.choice((8192, 16384, 65536))
    return b"".join(parts), sizes, bound


def _fresh(node):
    """A copy of a dict or list one level deep."""
    return dict(node) if isinstance(node, dict) else list(node)


def _mutate_tree(d, tree, paths: list[tuple]):
    """Replace, delete or add 1 to 4 entries anywhere in a parsed document.

    `tree` is never changed: the tables and lists on the way to an entry are
    copied before it is changed (the rest is shared with `tree`), which gives the
    document a deep copy then the same changes would, without copying 64 kB."""
    root = _fresh(tree)
    copied = {id(root)}
    keep = [root]  # the copies stay alive, so no other object gets their id
    for _ in range(d.int(1, 4)):
        path = paths[d.int(0, len(paths) - 1)]
        parent = root
        try:
            for part in path[:-1]:
                child = parent[part]
                if isinstance(child, (dict, list)) and id(child) not in copied:
                    child = _fresh(child)
                    parent[part] = child
                    copied.add(id(child))
                    keep.append(child)
                parent = child
        except (KeyError, IndexError, TypeError):
            continue
        action = d.choice(("extreme", "extreme", "extreme", "delete", "add", "scale"))
        key = path[-1]
        try:
            if action == "extreme":
                parent[key] = _extreme(d)
            elif action == "scale" and isinstance(parent[key], (int, float)) \
                    and not isinstance(parent[key], bool):
                parent[key] = parent[key] * d.choice((-1, 0, 1e3, 1e-3, 1e30))
            elif action == "delete":
                del parent[key]
            elif action == "add" and isinstance(parent, dict):
                parent[d.choice(("extra", "mass_kg", "seed", "rate_hz"))] = _extreme(d)
        except (KeyError, IndexError, TypeError):
            continue
    return root


def _extreme(d):
    # a fresh copy: a shared list or table could end up inside itself
    value = d.choice(EXTREMES)
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def _flip_text(d, text: str) -> str:
    if d.int(0, 4):
        return text
    data = bytearray(text.encode())
    for _ in range(d.int(1, 3)):
        data[d.int(0, len(data) - 1)] = d.int(0, 255)
    return data.decode("utf-8", "replace")


def gen_ground(d) -> tuple[list[bytes], bool]:
    return fuzz_ground.gen_ground(d, gen_junk)


def gen_scenario(d) -> str:
    tree, paths = base_scenario(d.choice(SCENARIO_SEEDS))
    return _flip_text(d, to_toml(_mutate_tree(d, tree, paths)))


def gen_config(d) -> str:
    tree, paths = base_config(d.choice(CONFIG_SEEDS))
    return _flip_text(d, to_json(_mutate_tree(d, tree, paths)))


def _strategy(gen: Callable):
    @st.composite
    def cases(draw):
        return gen(HypothesisDraw(draw))
    return cases


tlog_cases = _strategy(gen_tlog)
stream_cases = _strategy(gen_stream)
scenario_cases = _strategy(gen_scenario)
config_cases = _strategy(gen_config)


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


# --------------------------------------------------------------------------- workspace


class Workspace:
    """Folders for the cases of one process.

    `run(kind, seed)` is a run folder made once (flight_config.json, flight.tlog
    and a user's own file, as a case needs them); `scratch` is for what a case's
    commands write, emptied after every case.  After a failure everything is made
    again (the failing case may have changed it)."""

    def __init__(self):
        # named after the process, so that what a process killed mid-case leaves is found
        self.root = Path(tempfile.mkdtemp(prefix=f"fuzz-{os.getpid()}-", dir=_memory_dir()))
        self.scratch = self.root / "scratch"
        self.scratch.mkdir()
        self.runs: dict[tuple[str, str], tuple[Path, dict]] = {}

    def run(self, kind: str, seed: str, files: dict) -> tuple[Path, dict]:
        """(folder, {name: bytes}) holding `files` (made on first use)."""
        key = (kind, seed)
        if key not in self.runs:
            folder = self.root / f"{kind}-{seed}"
            folder.mkdir()
            for name, data in files.items():
                (folder / name).write_bytes(data)
            self.runs[key] = folder, dict(files)
        return self.runs[key]

    def after_case(self, failed: bool) -> None:
        if failed:
            self.reset()
        elif any(self.scratch.iterdir()):
            shutil.rmtree(self.scratch)
            self.scratch.mkdir()

    def reset(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.scratch.mkdir()
        self.runs.clear()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def remove_workspaces_of(pid: int) -> None:
    """Remove the workspaces a dead process left (it could not remove them itself)."""
    for folder in Path(_memory_dir() or tempfile.gettempdir()).glob(f"fuzz-{pid}-*"):
        shutil.rmtree(folder, ignore_errors=True)


def _memory_dir() -> str | None:
    """/dev/shm when there is one: rewriting a file on ext4 (/tmp here) waits for the
    disk on close (auto_da_alloc), 3 ms a case; None: the system's temporary folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _contents(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------- checks

_PARSER: list = []


def _cli(args: list[str]) -> int:
    """prospector's main in process, output swallowed; exceptions propagate (a traceback).

    The argument parser is built once (argparse takes 4 ms to build it, and
    parse_args leaves it as it was): main() runs with build_parser answering it."""
    import prospector.cli as cli

    if not _PARSER:
        _PARSER.append(cli.build_parser())
    build = cli.build_parser
    cli.build_parser = lambda: _PARSER[0]
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = cli.main(args)
    finally:
        cli.build_parser = build
    if status not in (0, 1, 2):
        raise AssertionError(f"exit status {status}")
    return status


USER_FILE = b"a user's file"
SMALL_CHUNKS = (1, 3, 8, 8)  # x OVERLAP_BYTES (the least a chunk may be), plus n % 97 bytes


def _seed_of(data: bytes) -> str:
    """The seed log a case was made from (most of its records still in it), for its config."""
    def kept(name):
        return sum(rec in data for rec in base_tlog_records(name)[1:SLICE_RECORDS:8])
    return max(TLOG_SEEDS, key=kept)


def check_tlog(data: bytes, n: int, ws: Workspace) -> None:
    from ground.logs.columns import read_columns
    from ground.logs.frames import frame_table
    from ground.logs.info import format_info, log_info
    from ground.logs.scan import DEFAULT_CHUNK_BYTES, OVERLAP_BYTES

    chunk = DEFAULT_CHUNK_BYTES
    if n % 8 == 1:  # frames across chunk boundaries: the same frames as frame_table's
        chunk = SMALL_CHUNKS[(n // 8) % 4] * OVERLAP_BYTES + n % 97
    log = read_columns(data, chunk_bytes=chunk)
    info = log_info(log)
    as_json = asdict(info)
    as_json["duration_s"] = info.duration_s  # what log info --json adds
    json.dumps(as_json, indent=2)
    format_info("case", len(data), info)
    if data:
        table = frame_table(data)
        assert table.report.frames == log.report.frames, \
            f"read_columns in chunks of {chunk} B: {log.report.frames} frames, " \
            f"frame_table: {table.report.frames}"
    seed = _seed_of(data)
    run, files = ws.run("tlog", seed, {
        "flight_config.json": base_config_text(seed).encode(), "mine.txt": USER_FILE})
    (run / "flight.tlog").write_bytes(data)
    _cli(["log", "info", str(run)] + (["--json"] if n % 2 else []))  # both formats made above
    if n % 10 == 0:
        _cli(["log", "export", str(run), "--format", "npz", "--out", str(ws.scratch / "x.npz")])
    if n % 25 == 0:
        _cli(["replay", str(run), "--out", str(ws.scratch / "replay")])
        _cli(["replay", str(run), "--out", str(run), "--force"])  # not ours: refused
    assert _contents(run) == {**files, "flight.tlog": data}, \
        "a command changed the user's files"


def check_stream(case, n: int, ws: Workspace) -> None:
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


def check_scenario(text: str, n: int, ws: Workspace) -> None:
    from sim.scenario import ScenarioError, load_scenario

    path = ws.scratch / "case.toml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_scenario(str(path))
    except ScenarioError as err:
        assert "\n" not in str(err)


def check_config(text: str, n: int, ws: Workspace) -> None:
    from ground.replay import ReplayError, load_recording

    run, files = ws.run("config", "hover-60s",
                        {"flight.tlog": b"".join(base_tlog_records("hover-60s"))})
    (run / "flight_config.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load_recording(run)
    except ReplayError as err:
        assert "\n" not in str(err)
        return
    if n % 20 == 0:
        _cli(["replay", str(run), "--out", str(ws.scratch / "replay"), "--until", "1"])
    assert set(_contents(run)) == {"flight.tlog", "flight_config.json"}, \
        "replay changed the files of the run it read"


check_ground = fuzz_ground.check_ground
ground_frame_pool = fuzz_ground.ground_frame_pool


@dataclass
class Target:
    name: str
    generate: Callable  # (Draw) -> case
    check: Callable     # (case, n, Workspace) -> None, raises on a failure
    suffix: str

    def strategy(self):
        return _strategy(self.generate)()


TARGETS = {
    "tlog": Target("tlog", gen_tlog, check_tlog, ".tlog"),
    "stream": Target("stream", gen_stream, check_stream, ".json"),
    "scenario": Target("scenario", gen_scenario, check_scenario, ".toml"),
    "config": Target("config", gen_config, check_config, ".json"),
    "ground": Target("ground", gen_ground, check_ground, ".json"),
}


def random_case(target: str, seed: int, i: int):
    """Case i of a campaign with this seed (the same every time)."""
    return TARGETS[target].generate(RandomDraw(random.Random(f"{seed}/{target}/{i}")))


# --------------------------------------------------------------------------- running


@dataclass
class Tally:
    inputs: int = 0
    tracebacks: int = 0
    hangs: int = 0
    harness_errors: int = 0  # the generator failed (a bug of the harness, not of the target)
    seconds: float = 0.0     # wall time in cases
    cpu_seconds: float = 0.0  # CPU time of making and running the cases
    saved: list[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        for name in ("inputs", "tracebacks", "hangs", "harness_errors", "seconds",
                     "cpu_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.saved += other.saved


def encode(target: str, case) -> bytes:
    if target == "ground":
        datagrams, signed = case
        return json.dumps({"datagrams": [g.hex() for g in datagrams], "signed": signed}).encode()
    if target == "stream":
        stream, sizes, bound = case
        return json.dumps({"stream": stream.hex(), "sizes": sizes, "bound": bound}).encode()
    if isinstance(case, bytes):  # tlog
        return case
    return case.encode("utf-8", "surrogateescape")


def decode(target: str, data: bytes):
    if target == "tlog":
        return data
    if target == "ground":
        d = json.loads(data)
        return [bytes.fromhex(g) for g in d["datagrams"]], d["signed"]
    if target == "stream":
        d = json.loads(data)
        return bytes.fromhex(d["stream"]), d["sizes"], d["bound"]
    return data.decode("utf-8", "surrogateescape")


def _on_alarm(signum, frame):
    raise Hang()


_WS: list = []


def default_workspace() -> Workspace:
    """The workspace of run_case when given none (make test), removed at exit."""
    if not _WS:
        _WS.append(Workspace())
        atexit.register(_WS[0].close)
    return _WS[0]


def shown(path: Path) -> str:
    """A path as the project names it (relative to the checkout when inside it)."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def save_case(target: str, case, n: int | None = None) -> Path:
    """tests/fuzz/cases/<target>/<hash>[-n<n>]<suffix>: n, the case's number, chooses
    which entry points see it (export 1 in 10 ...), so the replay uses it too."""
    data = encode(target, case)
    folder = CASES / target
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:12] + ("" if n is None else f"-n{n}")
    path = folder / (name + TARGETS[target].suffix)
    path.write_bytes(data)
    return path


def case_number(path: Path) -> int | None:
    """The n a saved case failed with (None: not recorded)."""
    head, sep, n = path.stem.rpartition("-n")
    return int(n) if sep and n.isdigit() else None


def run_case(target: str, case, n: int, tally: Tally | None = None,
             save: bool = True, ws: Workspace | None = None) -> str | None:
    """Feed one case to its entry points; None, or what went wrong (also saved)."""
    ws = ws if ws is not None else default_workspace()
    problem = None
    start = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S[target])
    try:
        TARGETS[target].check(case, n, ws)
    except Hang:
        problem = f"hang: over {TIME_LIMIT_S[target]:g} s"
    except Exception:  # the point: every exception that escapes is a failure
        problem = traceback.format_exc(limit=-3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    ws.after_case(problem is not None)
    if tally is not None:
        tally.inputs += 1
        tally.seconds += time.perf_counter() - start
        if problem is not None:
            if problem.startswith("hang"):
                tally.hangs += 1
            else:
                tally.tracebacks += 1
    if problem is not None and save:
        path = save_case(target, case, n)
        if tally is not None:
            tally.saved.append(shown(path))
    return problem


def warm_up() -> None:
    """Parse the seeds and import everything the checks use (one case of each target
    through all its entry points), so that processes forked after this one read no
    code or seed from the disk: a run is not disturbed by edits to the tree."""
    clean = {"tlog": b"".join(base_tlog_records()),
             "stream": (b"".join(frame_pool()), [4096], 16384),
             "scenario": to_toml(base_scenario(SCENARIO_SEEDS[0])[0]),
             "config": base_config_text(CONFIG_SEEDS[0]),
             "ground": ([raw for _, raw in ground_frame_pool()], False)}
    for name in CONFIG_SEEDS:
        base_config(name)
    for name in SCENARIO_SEEDS:
        base_scenario(name)
    for name in TLOG_SEEDS:
        base_tlog_records(name)
    ws = Workspace()
    try:
        for target in clean:
            random_case(target, 0, 0)
            problem = run_case(target, clean[target], 0, save=False, ws=ws)
            if problem is not None:
                raise RuntimeError(f"an undamaged {target} case fails:\n{problem}")
    finally:
        ws.close()


def saved_cases() -> list[tuple[str, Path]]:
    out = []
    for target in TARGETS:
        folder = CASES / target
        if folder.is_dir():
            out += [(target, p) for p in sorted(folder.iterdir()) if p.is_file()]
    return out
