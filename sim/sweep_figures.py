"""The sweep report's pictures: histograms of figures over the runs, and the touchdown
scatter with its 99 % ellipse, each a PNG handed back as a data: URI so that the page is
one self-contained file (sim.sweep_report).

Matplotlib's Figure on the Agg canvas, no pyplot state; no "Software" stamp in the PNG,
so the same sweep gives the same page byte for byte.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.report_kit import COLORS, mpl_text
from sim.report_tag import TOUCHDOWN_REQ_M, ellipse_99, plane_basis

DPI = 100
PANELS_PER_IMAGE = 12
COLUMNS = 4


def data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def histogram_images(columns: dict[str, np.ndarray], color: str = COLORS[0]) -> list[str]:
    """Histograms of each named series (finite values), PANELS_PER_IMAGE to an image, with
    the median (dashed) and the 99th percentile (dotted) marked."""
    names = list(columns)
    images = []
    for start in range(0, len(names), PANELS_PER_IMAGE):
        chunk = names[start:start + PANELS_PER_IMAGE]
        rows = math.ceil(len(chunk) / COLUMNS)
        fig = Figure(figsize=(11.0, 2.5 * rows + 0.3))
        FigureCanvasAgg(fig)
        axes = fig.subplots(rows, COLUMNS, squeeze=False).ravel()
        for ax, name in zip(axes, chunk, strict=False):
            values = np.asarray(columns[name], dtype=float)
            values = values[np.isfinite(values)]
            bins = int(min(30, max(5, math.ceil(math.sqrt(values.size)))))
            ax.hist(values, bins=bins, color=color, alpha=0.8)
            for q, style in ((50, "--"), (99, ":")):
                ax.axvline(np.percentile(values, q), color="#d62728", lw=0.9, ls=style)
            ax.set_title(mpl_text(_wrapped(name)), fontsize=8)
            ax.set_ylabel("runs", fontsize=7)
            ax.tick_params(labelsize=7)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
            ax.xaxis.get_offset_text().set_fontsize(7)
            ax.grid(alpha=0.3)
        for ax in axes[len(chunk):]:
            ax.set_visible(False)
        fig.tight_layout(pad=0.6)
        images.append(data_uri(fig))
    return images


def _wrapped(name: str, width: int = 40) -> str:
    """A panel title on at most two lines: the words and the unit of a figure are long,
    and cutting them would cut the unit."""
    import textwrap

    lines = textwrap.wrap(name, width)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder=" …")]
    return "\n".join(lines)


def touchdown_offsets(summaries) -> np.ndarray:
    """(seed, e1, e2) of every touchdown: its offset from the target in the target's plane
    (m), in the basis the run report uses (sim.report_tag)."""
    rows = []
    for s in summaries:
        if not s or s.get("touchdown_bf_m") is None or s.get("target_bf_m") is None:
            continue
        target = np.asarray(s["target_bf_m"], dtype=float)
        e1, e2 = plane_basis(target / np.linalg.norm(target))
        d = np.asarray(s["touchdown_bf_m"], dtype=float) - target
        rows.append((float(s.get("seed", -1)), float(d @ e1), float(d @ e2)))
    return np.asarray(rows, dtype=float).reshape(-1, 3)


def touchdown_image(points: np.ndarray, label_seeds: int = 5) -> tuple[str, dict | None]:
    """The scatter of touchdown offsets (seed, e1, e2) about the target, with the 99 %
    ellipse (from three touchdowns on) and the 1 m requirement; the seeds of the farthest
    few written beside them.  Returns the image and the ellipse (centre, semi-axes in m,
    orientation in degrees) or None."""
    from matplotlib.patches import Circle, Ellipse

    fig = Figure(figsize=(6.5, 6.0))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    xy = points[:, 1:3]
    ellipse = None
    ax.plot(xy[:, 0], xy[:, 1], "o", ms=4, color=COLORS[0], label=f"touchdowns ({len(xy)})")
    if len(xy) >= 3:
        centre, a, b, angle = ellipse_99(xy)
        ellipse = {"centre_m": [float(centre[0]), float(centre[1])], "semi_major_m": a,
                   "semi_minor_m": b, "angle_deg": math.degrees(angle)}
        ax.add_patch(Ellipse(centre, 2 * a, 2 * b, angle=math.degrees(angle), fill=False,
                             color="#d62728", label=f"99 % ellipse ({a:.2f} x {b:.2f} m)"))
    far = np.argsort(-np.hypot(xy[:, 0], xy[:, 1]))[:label_seeds]
    for k in far:
        ax.annotate(f"{int(points[k, 0])}", xy[k], xytext=(4, 4), textcoords="offset points",
                    fontsize=7, color="#555555")
    ax.add_patch(Circle((0.0, 0.0), TOUCHDOWN_REQ_M, fill=False, color="#2ca02c", ls="--",
                        label=f"{TOUCHDOWN_REQ_M:g} m requirement"))
    ax.plot([0], [0], "k+", ms=14, mew=2, label="target")
    reach = float(np.abs(xy).max()) if len(xy) else 0.0
    if ellipse is not None:
        reach = max(reach, abs(ellipse["centre_m"][0]) + ellipse["semi_major_m"],
                    abs(ellipse["centre_m"][1]) + ellipse["semi_major_m"])
    lim = max(1.5, reach * 1.15)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("in the target plane, e1 [m]")
    ax.set_ylabel("e2 [m]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return data_uri(fig), ellipse
