"""Prospecting pipeline benchmark: spectra per second, per-stage cost, batch vs one-at-a-time.

    .venv/bin/python bench/bench_prospect.py            # 20,000 spectra, ~1 min
    .venv/bin/python bench/bench_prospect.py --quick    # 4,000 spectra

One run, same machine, same synthetic readouts (an independent instrument
model here: counts = bias + (gain*resp*L*t + dark(T)*t + Poisson/read noise)/e_per_dn,
scene = standard reflectance x photometry x F_sun/pi + eps*B(T_surface)):
  1. the whole onboard pipeline on a batch, one core: spectra per second (best of 3);
  2. per-stage cost in microseconds per spectrum (the pipeline's stage_hook);
  3. the peer: the same pipeline called one spectrum at a time (what a naive
     per-message implementation does), on a subset, and the ratio;
  4. accuracy on the way: OH_27 depth error p95 and surface temperature error p95.
Figures, not pass/fail.  Target: >= 10,000 spectra per second.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core (before numpy loads BLAS)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flightsw.prospect import instrument as ins  # noqa: E402
from flightsw.prospect.photometry import photometric_factor  # noqa: E402
from flightsw.prospect.pipeline import STAGES, ProspectPipeline  # noqa: E402
from flightsw.prospect.site_spectra import SiteSpectra  # noqa: E402
from flightsw.prospect.solar import planck_radiance_wm2srum, solar_irradiance_wm2um  # noqa: E402

WL = ins.WAVELENGTH_UM
EPS = 0.9
N_SITES = 2000


def readouts(n, rng, kind="science", geometry=None, temp_k=None, depth=None, det_c=22.0):
    gain = 1.0 + 0.01 * np.sin(np.linspace(0, 2, ins.N_CHANNELS))
    if kind == "science":
        cos_i, cos_e, phase, d_au = geometry
        cont = 0.03 * (1 + 0.05 * (WL - 0.55))
        refl = cont * (1 - depth[:, None] * np.exp(-0.5 * ((WL - 2.74) / 0.04) ** 2))
        L = refl * photometric_factor(cos_i, cos_e, phase, WL) \
            * solar_irradiance_wm2um(WL, 1.0) / np.pi / d_au[:, None] ** 2 \
            + EPS * planck_radiance_wm2srum(WL, temp_k[:, None])
    elif kind == "dark":
        L = np.zeros((n, WL.size))
    else:
        L = np.repeat(ins.lamp_radiance_wm2srum()[None, :], n, axis=0)
    e = gain * ins.RESPONSIVITY_E_PER_S_PER_RADIANCE * L * ins.INTEGRATION_S \
        + ins.dark_rate_e_per_s(det_c) * ins.INTEGRATION_S
    e = rng.poisson(e) + rng.normal(0, ins.READ_NOISE_E, e.shape)
    return np.clip(np.round(ins.BIAS_DN + e / ins.E_PER_DN), 0, ins.FULL_SCALE_DN).astype(
        np.uint16)


def make_batch(n, rng):
    geometry = (rng.uniform(0.5, 1.0, n), rng.uniform(0.6, 1.0, n), rng.uniform(20, 50, n),
                rng.uniform(1.0, 1.2, n))
    temp_k = rng.uniform(340, 390, n)
    depth = rng.uniform(0.0, 0.2, n)
    counts = readouts(n, rng, "science", geometry, temp_k, depth)
    counts[rng.random(n) < 0.01, 100] = ins.FULL_SCALE_DN  # a few saturated
    return dict(counts=counts, geometry=geometry, temp_k=temp_k, depth=depth,
                site_ids=rng.integers(0, N_SITES, n))


def new_pipeline(rng):
    p = ProspectPipeline(n_sites=N_SITES, keep_reflectance=False)
    for _ in range(8):
        p.add_dark(readouts(1, rng, "dark")[0], 22.0)
        p.add_calibration(readouts(1, rng, "cal")[0], 22.0)
    return p


def run(p, b, rows=slice(None), hook=None):
    g = b["geometry"]
    return p.process(b["counts"][rows], 22.0, g[0][rows], g[1][rows], g[2][rows], g[3][rows],
                     site_ids=b["site_ids"][rows], stage_hook=hook)


class StageTimer:
    def __init__(self):
        self.totals = dict.fromkeys(STAGES, 0.0)
        self.t = None

    def start(self):
        self.t = time.perf_counter()

    def __call__(self, name):
        now = time.perf_counter()
        self.totals[name] += now - self.t
        self.t = now


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="4,000 spectra, 1,000 in the peer")
    ap.add_argument("-n", type=int, default=None, help="spectra in the batch")
    args = ap.parse_args()
    n = args.n or (4_000 if args.quick else 20_000)
    n_peer = 1_000 if args.quick else 2_000
    rng = np.random.default_rng(12345)
    print(f"prospect bench: {n} spectra x {ins.N_CHANNELS} channels, python "
          f"{platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    b = make_batch(n, rng)

    best, res, p_batch = float("inf"), None, None
    timer = StageTimer()
    repeats = 3
    for _ in range(repeats):
        p = new_pipeline(np.random.default_rng(1))
        t0 = time.perf_counter()
        res = run(p, b)
        p_batch = p
        best = min(best, time.perf_counter() - t0)
    for _ in range(repeats):
        p = new_pipeline(np.random.default_rng(1))
        timer.start()
        run(p, b, hook=timer)
    rate = n / best
    print(f"\nbatch pipeline: {rate:,.0f} spectra/s ({best * 1e6 / n:.1f} us/spectrum, "
          f"best of {repeats}); target >= 10,000")
    print("per stage (us per spectrum, mean of 3):")
    for name in STAGES:
        print(f"  {name:<11s} {timer.totals[name] / repeats * 1e6 / n:8.2f}")
    print(f"  {'total':<11s} {sum(timer.totals.values()) / repeats * 1e6 / n:8.2f}")

    # The campaign's per-site co-add of the accepted spectra, and the site band analysis
    # at the end of the scan (what PROBE_SITE_BANDS carries).
    keep = ProspectPipeline(n_sites=N_SITES, keep_reflectance=True)
    keep.calibration = p_batch.calibration
    full = run(keep, b)
    acc = full.reject_reason == 0
    sites = SiteSpectra(N_SITES, WL)
    t0 = time.perf_counter()
    sites.add(b["site_ids"][acc], full.reflectance[acc], full.reflectance_sigma[acc])
    t_add = time.perf_counter() - t0
    t0 = time.perf_counter()
    sites.analyse(np.flatnonzero(sites.n_spectra))
    t_sites = time.perf_counter() - t0
    print(f"site co-add: {t_add * 1e6 / acc.sum():.1f} us/spectrum; band analysis of "
          f"{np.count_nonzero(sites.n_spectra)} co-added sites: {t_sites * 1e3:.1f} ms")

    p = new_pipeline(np.random.default_rng(1))
    t0 = time.perf_counter()
    for k in range(n_peer):
        run(p, b, rows=slice(k, k + 1))
    peer = (time.perf_counter() - t0) / n_peer
    print(f"\npeer, same pipeline one spectrum at a time: {1 / peer:,.0f} spectra/s "
          f"({peer * 1e6:.0f} us/spectrum, {n_peer} spectra)")
    print(f"ratio batch / one-at-a-time: {rate * peer:.1f}x")

    ok = res.reject_reason == 0
    err = np.abs(res.hydration_index[ok] - b["depth"][ok])
    terr = np.abs(res.surface_temp_k[ok] - b["temp_k"][ok])
    print(f"\naccepted {ok.sum()} / {n}; rejected by reason {dict(p_batch.rejected)}")
    print(f"OH_27 depth |error| p95 {np.percentile(err, 95):.4f} (3 % albedo, SNR ~50 design)")
    print(f"surface temperature |error| p95 {np.percentile(terr, 95):.2f} K")


if __name__ == "__main__":
    main()
