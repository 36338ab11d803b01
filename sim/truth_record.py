"""The world's truth of a run, as the judge keeps it: what happened (contact, sample,
impulses, the truth of every spectrum's footprint) in the simulator's own terms.

Written beside the flight log as truth.npz, so that a finished run can be scored
again from flight.tlog and this record alone (sim/scoring.py); the static truth
(surface, site, safe sites, truth ranks) is rebuilt from the scenario by World.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TRUTH_FILE = "truth.npz"


@dataclass
class TruthRecord:
    tag: dict | None = None  # world.tag_truth plus the sampler and back-away figures
    # spectrum_id -> (depths, centres, resource index, lit, abundances) of the footprint
    spectrum_truth: dict = field(default_factory=dict)
    gravity_exact_evaluations: int | None = None
    # sim.safety's watch: clearance, contacts, escape (scalars; "clearance" the per-second
    # minima as arrays); the faults as injected (sim.faults); the thrusters' impulses.
    safety: dict | None = None
    clearance: dict | None = None
    faults: list | None = None
    actuators: dict | None = None

    @classmethod
    def from_world(cls, world) -> TruthRecord:
        tag = None
        if world.site is not None:
            tag = dict(world.tag_truth)
            tag.update(sample_mass_true_kg=world.sampler.collected_kg,
                       backaway_impulse_ns=world.backaway_impulse_ns,
                       mass_kg=world.mass_kg,
                       regolith_density_kgm3=world.regolith["density_kgm3"],
                       gm_true_m3s2=world.gm_true_m3s2)
        spectra = dict(world.prospect.spectrum_truth) if world.prospect is not None else {}
        safety, clearance = world.safety.record(world)
        return cls(tag, spectra, getattr(world.gravity, "exact_evaluations", None),
                   safety, clearance, world.faults.record(), world.thrusters.totals())

    def save(self, out_dir: Path) -> None:
        ids = np.array(sorted(self.spectrum_truth), dtype=np.int64)
        rows = [self.spectrum_truth[int(i)] for i in ids]
        nb = len(rows[0][0]) if rows else 0
        na = len(rows[0][4]) if rows else 0

        def table(k: int, width: int) -> np.ndarray:
            return np.array([r[k] for r in rows], dtype=float).reshape(len(rows), width)

        scalars = {"tag": self.tag, "gravity_exact_evaluations": self.gravity_exact_evaluations,
                   "safety": self.safety, "faults": self.faults, "actuators": self.actuators}
        clearance = {f"clearance_{k}": v for k, v in (self.clearance or {}).items()}
        np.savez_compressed(
            Path(out_dir) / TRUTH_FILE, scalars_json=np.array(json.dumps(scalars)), **clearance,
            spectrum_id=ids,
            depth=table(0, nb), centre_um=table(1, nb),
            resource=np.array([r[2] for r in rows], dtype=float),
            lit=np.array([r[3] for r in rows], dtype=bool),
            abundances=table(4, na))

    @classmethod
    def load(cls, out_dir: Path) -> TruthRecord:
        with np.load(Path(out_dir) / TRUTH_FILE) as z:
            scalars = json.loads(str(z["scalars_json"]))
            clearance = {k[len("clearance_"):]: z[k] for k in z.files
                         if k.startswith("clearance_")} or None
            spectra = {
                int(i): (tuple(float(x) for x in d), tuple(float(x) for x in c), float(r),
                         bool(lit), tuple(float(x) for x in a))
                for i, d, c, r, lit, a in zip(z["spectrum_id"], z["depth"], z["centre_um"],
                                              z["resource"], z["lit"], z["abundances"],
                                              strict=True)}
        tag = scalars["tag"]
        if tag is not None and tag.get("touchdown_point_bf_m") is not None:
            tag["touchdown_point_bf_m"] = tuple(tag["touchdown_point_bf_m"])
        return cls(tag, spectra, scalars["gravity_exact_evaluations"], scalars.get("safety"),
                   clearance, scalars.get("faults"), scalars.get("actuators"))
