"""Band analysis on realistic asteroid spectra (issue 18): the issue's figures, both methods.

    .venv/bin/python bench/bench_bands_realistic.py                 # 300 per type, ~1 min
    .venv/bin/python bench/bench_bands_realistic.py --per-type 100  # quicker

The set is tests/flightsw/prospect/realistic_spectra.py (C, B, Cb, Ch, S, V, M, D on
curved continua, the probe's grid and noise).  For each method ("chord": the straight
line between shoulders, what the flight flies; "fit": the curved-continuum fit) and
each SNR (one spectrum; 4 and 16 co-added, i.e. the noise divided by 2 and 4), it
prints:
  0.7 um band >= 2 % deep: recall and precision (targets >= 0.9, >= 0.95);
  1 um band (PYX_09 or OL_105) detected on the dark featureless types (target <= 5 %);
  S-type band I centre error, median / p95 / max nm (target <= 10 nm);
  S vs C-complex told apart by PYX_09 | OL_105 | PYX_19 detected: balanced accuracy
  (target >= 0.97);
and the analysis' cost per spectrum (all five bands, one core).  Figures, not pass/fail.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "flightsw" / "prospect"))

import realistic_spectra as rs  # noqa: E402

from flightsw.prospect.bands import analyse_bands  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-type", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2018)
    ap.add_argument("--coadd", default="1,4,16", help="spectra co-added, comma-separated")
    args = ap.parse_args(argv)
    print(f"band analysis on realistic spectra: {args.per_type} per type x {len(rs.TYPES)} "
          f"types, seed {args.seed}, probe grid ({rs.cfg.N_CHANNELS} channels)")
    head = ("| method | co-added | 0.7 um recall | 0.7 um precision | 0.7 um 1-2 % found "
            "| 1 um on dark | S band I err nm (median / p95 / max) | S vs C balanced "
            "| S flagged | C flagged | M flagged | us/spectrum |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    notes = []
    for n in (int(v) for v in args.coadd.split(",")):
        s = rs.make_set(args.per_type, seed=args.seed + n, snr_scale=n ** 0.5)
        for method in ("chord", "fit"):
            t0 = time.process_time()
            out = analyse_bands(s.wavelength_um, s.reflectance, sigma_2d=s.sigma, method=method)
            us = (time.process_time() - t0) / len(s.types) * 1e6
            sc = rs.score(s, out)
            e = sc["s_band1_err_nm"]
            print(f"| {method} | {n} | {sc['phyllo_recall']:.2f} ({sc['phyllo_tp']}/"
                  f"{sc['phyllo_pos']}) | {sc['phyllo_precision']:.3f} ({sc['phyllo_fp']} false "
                  f"of {sc['phyllo_neg']}) | {sc['phyllo_shallow_rate']:.2f} "
                  f"| {sc['one_um_false_dark']:.3f} | {e[0]:.1f} / {e[1]:.1f} / {e[2]:.0f} "
                  f"| {sc['s_vs_c_balanced']:.3f} | {sc['s_flagged']:.2f} | {sc['c_flagged']:.3f} "
                  f"| {sc['flags_by_type']['M']:.2f} | {us:.0f} |")
            by = sc["one_um_false_by_type"]
            notes.append(f"{method}, {n} co-added: 1 um on dark by type "
                         + ", ".join(f"{k} {v:.3f}" for k, v in by.items())
                         + "; 0.7 um false by type "
                         + ", ".join(f"{k} {v:.3f}" for k, v in sc["phyllo_false_by_type"].items()))
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
