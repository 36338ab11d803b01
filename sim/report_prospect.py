"""Report plots of a prospecting run: the resource map and example spectra.

Bands are drawn from the simulator's own table (sim.minerals, in the ICD's order, the
order of the downlinked depths and centres).
"""

import numpy as np
from matplotlib.figure import Figure

from sim.minerals import BANDS
from sim.report_kit import PlotSpec, Skip


def _need(h, key):
    try:
        return np.asarray(h.data[key])
    except KeyError:
        raise Skip(f"no {key} in the history") from None


def plot_resource_map(h, summary) -> Figure:
    lat, lon = _need(h, "prospect_lat_deg"), _need(h, "prospect_lon_deg")
    value, truth = _need(h, "prospect_value"), _need(h, "prospect_truth")
    safe = _need(h, "prospect_safe_truth").astype(bool)
    cands, chosen = _need(h, "prospect_candidates"), _need(h, "prospect_chosen")
    fig = Figure(figsize=(10, 7.5))
    name = summary.get("resource_name", "resource")
    for ax, data, title in ((fig.add_subplot(2, 1, 1), value, f"Estimated {name} (on board)"),
                            (fig.add_subplot(2, 1, 2), truth, f"True {name} (simulator)")):
        seen = np.isfinite(data)
        ax.scatter(lon[~seen], lat[~seen], s=8, c="0.85", label="not observed")
        sc = ax.scatter(lon[seen], lat[seen], s=14, c=data[seen], cmap="viridis")
        fig.colorbar(sc, ax=ax)
        ax.scatter(lon[~safe], lat[~safe], s=30, facecolors="none", edgecolors="0.6",
                   linewidths=0.5, label="unsafe (truth)")
        if cands.size:
            ax.scatter(lon[cands], lat[cands], s=90, facecolors="none", edgecolors="orange",
                       linewidths=1.5, label="candidates")
        if chosen.size and chosen[0] >= 0:
            ax.scatter(lon[chosen], lat[chosen], s=200, marker="*", c="red", label="chosen")
        try:
            deliverable = np.asarray(h.data["prospect_deliverable_truth"]).astype(bool)
        except KeyError:  # a run from before deliverability was recorded
            deliverable = np.ones_like(safe)
        pool = np.flatnonzero(safe & deliverable & np.isfinite(truth))
        if pool.size:
            best = pool[np.argmax(truth[pool])]
            ax.scatter([lon[best]], [lat[best]], s=120, marker="x", c="black",
                       label="best safe, deliverable site (truth)")
        ax.set_title(title)
        ax.set_xlabel("longitude (deg)")
        ax.set_ylabel("latitude (deg)")
        ax.set_xlim(-180, 180)
        ax.set_ylim(-90, 90)
    fig.axes[0].legend(loc="lower left", fontsize=7, ncol=3)
    fig.tight_layout()
    return fig


def plot_example_spectra(h, summary) -> Figure:
    wl, refl = _need(h, "prospect_wavelength_um"), _need(h, "prospect_example_refl")
    if refl.size == 0:
        raise Skip("no example spectra kept")
    fig = Figure(figsize=(10, 5))
    ax = fig.add_subplot(1, 1, 1)
    for k, r in enumerate(refl[:4]):
        offset = 0.01 * k
        ax.plot(wl, r + offset, lw=0.8)
        for band in BANDS:
            lo = (wl >= band.left_shoulder_um - 0.03) & (wl <= band.left_shoulder_um + 0.03)
            hi = (wl >= band.right_shoulder_um - 0.03) & (wl <= band.right_shoulder_um + 0.03)
            if lo.any() and hi.any():
                ax.plot([band.left_shoulder_um, band.right_shoulder_um],
                        [np.nanmean(r[lo]) + offset, np.nanmean(r[hi]) + offset], "k--",
                        lw=0.6)
    for band in BANDS:
        ax.axvline(band.centre_um, color="0.7", lw=0.5)
        ax.text(band.centre_um, ax.get_ylim()[1], band.name, fontsize=7, rotation=90,
                va="top")
    ax.set_xlabel("wavelength (um)")
    ax.set_ylabel("reflectance (standard geometry), offset")
    ax.set_title("Example spectra after calibration, photometry and thermal removal; "
                 "dashed: band continua")
    fig.tight_layout()
    return fig


def plot_site_spectrum(h, summary) -> Figure:
    """The chosen site's co-added spectrum, its band depths and centres, and the truth."""
    wl = _need(h, "prospect_wavelength_um")
    refl, sigma = _need(h, "prospect_site_refl"), _need(h, "prospect_site_sigma")
    if refl.size == 0 or not np.isfinite(refl[0]).any():
        raise Skip("no co-added site spectrum")
    site, n = int(_need(h, "prospect_site_ids")[0]), int(_need(h, "prospect_site_n")[0])
    depth, centre = _need(h, "prospect_site_depth")[0], _need(h, "prospect_site_centre_um")[0]
    detected = _need(h, "prospect_site_detected")[0].astype(bool)
    truth = _need(h, "prospect_site_truth_refl")
    fig = Figure(figsize=(10, 5))
    ax = fig.add_subplot(1, 1, 1)
    r, s = refl[0], sigma[0]
    ax.fill_between(wl, r - s, r + s, color="C0", alpha=0.3, lw=0)
    ax.plot(wl, r, color="C0", lw=0.9, label=f"site {site}: {n} spectra co-added (+-1 sigma)")
    if truth.size:
        ax.plot(wl, truth[0], color="k", lw=0.7, ls=":", label="truth of the facet")
    for k, band in enumerate(BANDS):
        lo = np.abs(wl - band.left_shoulder_um) <= 0.03
        hi = np.abs(wl - band.right_shoulder_um) <= 0.03
        if not (lo.any() and hi.any() and np.isfinite(depth[k]) and detected[k]):
            continue  # an undetected band's fitted dip is noise: not drawn
        r_l, r_r = np.nanmean(r[lo]), np.nanmean(r[hi])
        ax.plot([band.left_shoulder_um, band.right_shoulder_um], [r_l, r_r], "k--", lw=0.6)
        t = (centre[k] - band.left_shoulder_um) / (band.right_shoulder_um - band.left_shoulder_um)
        floor = (r_l + t * (r_r - r_l)) * (1.0 - depth[k])
        ax.plot([centre[k]], [floor], "v", color="C3", ms=5)
        ax.text(centre[k], floor, f" {band.name}\n {depth[k]:.3f}", fontsize=7, va="top")
    ax.set_xlabel("wavelength (um)")
    ax.set_ylabel("reflectance (standard geometry)")
    ax.set_title("Chosen site's co-added spectrum: detected bands (triangles), continua "
                 "(dashed)")
    ax.legend(fontsize=8, loc="upper center")
    fig.tight_layout()
    return fig


# The plot specs the run report adds for a prospecting run.
PROSPECT_PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("10_resource_map.png", "Resource map",
             "Top: the map the probe built from its spectra; bottom: the truth. The red "
             "star (chosen site) should sit on the black cross (best safe site by truth).",
             plot_resource_map),
    PlotSpec("11_example_spectra.png", "Example spectra",
             "Calibrated reflectance with the linear continua of the named bands; the "
             "OH band near 2.7 um should be clear after the thermal tail is removed.",
             plot_example_spectra),
    PlotSpec("12_site_spectrum.png", "Chosen site's spectrum",
             "The weighted mean of every accepted spectrum of the chosen site, on which "
             "the site's band depths and centres are measured (PROBE_SITE_BANDS); the "
             "dotted line is the simulator's truth of the facet.",
             plot_site_spectrum),
)
