"""Touch-and-go pages of the report: descent profile, ground track, sweep scatter.

Plots for one run take the report's history view (sim.report_kit.History) so
they skip cleanly when a key is missing; the sweep page is its own small HTML
file next to aggregate.json.
"""

import html
import json
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim.report_kit import PlotSpec, Skip

# chi-square quantile, 2 degrees of freedom, 99%: the 99% error ellipse.
CHI2_2DOF_99 = 9.2103
TOUCHDOWN_REQ_M = 1.0


def plane_basis(normal):
    n = np.asarray(normal, dtype=float)
    e1 = np.cross(n, [0.0, 0.0, 1.0] if abs(n[2]) < 0.9 else [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(n, e1)


def plot_descent_profile(h, summary) -> Figure:
    t = h.t
    height = h.get("head_height_m")
    vz = h.get("vert_speed_mps")
    if not np.isfinite(height).any():
        raise Skip("not a touch-and-go run (no head height)")
    fig, (ax1, ax2) = _two_rows()
    mins = t / 60.0
    ax1.plot(mins, height, color="#1f77b4", lw=1.0)
    ax1.set_ylabel("sampler-head height [m]")
    ax1.set_yscale("symlog", linthresh=10.0)
    ax2.plot(mins, vz * 100.0, color="#2ca02c", lw=1.0)
    ax2.set_ylabel("vertical speed [cm/s]")
    ax2.set_xlabel("mission time [min]")
    ax2.axhline(-10.0, color="#d62728", lw=0.8, ls=":", label="contact speed 10 cm/s")
    events = summary.get("tag_events_s") or {}
    for name, color in (("descent", "#7f7f7f"), ("checkpoint", "#ff7f0e"),
                        ("matchpoint", "#9467bd"), ("contact", "#d62728"),
                        ("backaway", "#8c564b")):
        if name in events:
            for ax in (ax1, ax2):
                ax.axvline(events[name] / 60.0, color=color, lw=0.9, ls="--")
            ax1.text(events[name] / 60.0, ax1.get_ylim()[1], f" {name}", rotation=90,
                     va="top", ha="right", fontsize=8, color=color)
    ax2.legend(loc="lower left", fontsize=8)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.suptitle("Descent profile")
    return fig


def plot_ground_track(h, summary) -> Figure:
    pos = h.get("pos_bf_m", cols=3, min_cols=3)
    target = summary.get("target_bf_m")
    if target is None:
        raise Skip("not a touch-and-go run (no target)")
    r = np.linalg.norm(pos, axis=1)
    lat = np.degrees(np.arcsin(np.clip(pos[:, 2] / r, -1, 1)))
    lon = np.degrees(np.arctan2(pos[:, 1], pos[:, 0]))
    fig = Figure(figsize=(10.0, 4.6))
    ax1, ax2 = fig.subplots(1, 2)
    tr = np.asarray(target)
    t_lat = math.degrees(math.asin(tr[2] / np.linalg.norm(tr)))
    t_lon = math.degrees(math.atan2(tr[1], tr[0]))
    grid = _surface_grid(h)
    if grid is not None:
        g_lat, g_lon, radius = grid
        # Radius about the mean: the ridge, the flanks and the poles of the top shape.
        mesh = ax1.pcolormesh(g_lon, g_lat, radius - radius.mean(), cmap="terrain",
                              shading="auto", rasterized=True)
        fig.colorbar(mesh, ax=ax1, label="surface radius - mean [m]", shrink=0.85)
        ax1.set_xlim(-180, 180)
        ax1.set_ylim(-90, 90)
    ax1.plot(lon, lat, lw=0.8, color="#1f77b4", label="sub-spacecraft track")
    ax1.plot([t_lon], [t_lat], "r+", ms=12, mew=2, label="target")
    ax1.set_xlabel("longitude [deg]")
    ax1.set_ylabel("latitude [deg]")
    ax1.set_title("On the surface map (body-fixed)")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    # Close-up in the target's local plane: where the head came down.
    normal = tr / np.linalg.norm(tr)
    e1, e2 = plane_basis(normal)
    d = pos - tr
    ax2.plot(d @ e1, d @ e2, lw=0.6, color="#1f77b4", alpha=0.6, label="spacecraft track")
    td = summary.get("touchdown_bf_m")
    if td is not None:
        dt = np.asarray(td) - tr
        ax2.plot([dt @ e1], [dt @ e2], "o", color="#d62728",
                 label=f"touchdown, miss {summary.get('touchdown_miss_m', 0):.2f} m")
    ax2.add_patch(_circle(TOUCHDOWN_REQ_M, "#2ca02c", "1 m requirement"))
    for k, (centre, radius, mapped) in enumerate(_hazards(h)):
        c = np.asarray(centre) - tr
        label = ("mapped hazard" if mapped else "unmapped hazard") if k < 2 else None
        ax2.add_patch(_circle(radius, "#ff7f0e" if mapped else "#7f7f7f", label,
                              centre=(c @ e1, c @ e2), ls="-", fill=True))
    ax2.plot([0], [0], "k+", ms=12, mew=2)
    ax2.set_xlim(-5, 5)
    ax2.set_ylim(-5, 5)
    ax2.set_aspect("equal")
    ax2.set_xlabel("east-ish in the target plane [m]")
    ax2.set_ylabel("north-ish [m]")
    ax2.set_title("Near the target")
    ax2.legend(fontsize=8, loc="upper right")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _circle(radius, color, label, centre=(0.0, 0.0), ls="--", fill=False):
    from matplotlib.patches import Circle

    return Circle(centre, radius, fill=fill, color=color, ls=ls, label=label,
                  alpha=0.35 if fill else 1.0)


def _surface_grid(h):
    """(lat, lon, radius) of the run's surface map, or None for an older history."""
    try:
        lat = np.asarray(h.data["surface_lat_deg"], dtype=float)
        lon = np.asarray(h.data["surface_lon_deg"], dtype=float)
        radius = np.asarray(h.data["surface_radius_m"], dtype=float)
    except (KeyError, TypeError, ValueError):
        return None
    if radius.shape != (lat.size, lon.size) or not np.isfinite(radius).all():
        return None
    return lat, lon, radius


def _hazards(h):
    try:
        centres = np.asarray(h.data["hazards_center_bf_m"], dtype=float).reshape(-1, 3)
        radii = np.asarray(h.data["hazards_radius_m"], dtype=float).reshape(-1)
        mapped = np.asarray(h.data["hazards_mapped"], dtype=bool).reshape(-1)
    except (KeyError, TypeError, ValueError):
        return []
    if not len(centres) == len(radii) == len(mapped):
        return []
    return list(zip(centres, radii, mapped, strict=True))


def _two_rows():
    fig = Figure(figsize=(10.0, 6.0))
    axes = fig.subplots(2, 1, sharex=True)
    return fig, axes


def ellipse_99(points: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Centre, semi-axes (m) and orientation (rad) of the 99% ellipse of 2-D points."""
    centre = points.mean(axis=0)
    cov = np.cov(points.T) if len(points) > 2 else np.eye(2) * 1e-6
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, 0.0)
    a, b = np.sqrt(CHI2_2DOF_99 * vals[::-1])
    angle = math.atan2(vecs[1, -1], vecs[0, -1])
    return centre, float(a), float(b), angle


def write_sweep_report(out_dir: Path, summaries: list[dict], agg: dict) -> Path:
    out_dir = Path(out_dir)
    pts = []
    for s in summaries:
        if s.get("touchdown_bf_m") is not None and s.get("target_bf_m") is not None:
            tr = np.asarray(s["target_bf_m"])
            e1, e2 = plane_basis(tr / np.linalg.norm(tr))
            d = np.asarray(s["touchdown_bf_m"]) - tr
            pts.append((float(d @ e1), float(d @ e2)))
    png = out_dir / "sweep_touchdowns.png"
    fig = Figure(figsize=(6.5, 6.0))
    ax = fig.subplots()
    if pts:
        p = np.asarray(pts)
        ax.plot(p[:, 0], p[:, 1], "o", ms=4, color="#1f77b4", label=f"touchdowns ({len(p)})")
        if len(p) >= 3:
            from matplotlib.patches import Ellipse

            c, a, b, ang = ellipse_99(p)
            ax.add_patch(Ellipse(c, 2 * a, 2 * b, angle=math.degrees(ang), fill=False,
                                 color="#d62728", label=f"99% ellipse ({a:.2f} x {b:.2f} m)"))
        lim = max(1.5, float(np.abs(p).max()) * 1.3)
    else:
        ax.text(0.5, 0.5, "no touchdowns", transform=ax.transAxes, ha="center")
        lim = 1.5
    ax.add_patch(_circle(TOUCHDOWN_REQ_M, "#2ca02c", "1 m requirement"))
    ax.plot([0], [0], "k+", ms=14, mew=2, label="target")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("in the target plane, e1 [m]")
    ax.set_ylabel("e2 [m]")
    ax.set_title(f"Touchdown points, {agg.get('scenario', '')}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.savefig(png, dpi=100, metadata={"Software": None})
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v['p50']:.4g}</td><td>{v['p99']:.4g}</td>"
        f"<td>{v['min']:.4g}</td><td>{v['max']:.4g}</td><td>{v['n']}</td></tr>"
        for k, v in agg["figures"].items())
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Sweep "
            f"{html.escape(str(agg.get('scenario')))}</title></head><body style='font:14px "
            f"sans-serif;max-width:1000px;margin:auto'><h1>Sweep: "
            f"{html.escape(str(agg.get('scenario')))}, {agg['runs']} runs</h1>"
            f"<p>Outcomes: {html.escape(json.dumps(agg['outcomes']))}; wave-off reasons: "
            f"{html.escape(json.dumps(agg['waveoff_reasons']))}</p>"
            f"<img src='{png.name}' alt='touchdown scatter'>"
            f"<h2>Figures over the seeds</h2><table border=1 cellpadding=3>"
            f"<tr><th>figure</th><th>p50</th><th>p99</th><th>min</th><th>max</th><th>n</th></tr>"
            f"{rows}</table></body></html>")
    path = out_dir / "sweep.html"
    path.write_text(page, encoding="utf-8")
    return path


# The plot specs the run report adds for a touch-and-go run.
TAG_PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("08_descent_profile.png", "Descent profile",
             "Height should step down through Checkpoint and Matchpoint to contact at "
             "the red 10 cm/s line, then climb after the back-away burn.",
             plot_descent_profile),
    PlotSpec("09_ground_track.png", "Ground track",
             "The track should end on the target cross, the touchdown dot inside the "
             "green 1 m circle.", plot_ground_track),
)
