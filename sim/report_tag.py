"""Touch-and-go plots of the run report: the descent profile and the ground track, and
the geometry the sweep pages share (the target-plane basis, the 99 % ellipse).

Plots take the report's history view (sim.report_kit.History) so they skip cleanly when
a key is missing.  The sweep's own pages are sim.sweep_page and sim.sweep_report.
"""

import math

import numpy as np

from sim.report_format import as_float, hms
from sim.report_kit import REQUIREMENT_COLOR, Plot, PlotSpec, Skip, axis
from sim.report_timeplot import Row, hline, series, time_plot, yref

# chi-square quantile, 2 degrees of freedom, 99%: the 99% error ellipse.
CHI2_2DOF_99 = 9.2103
TOUCHDOWN_REQ_M = 1.0
CONTACT_MPS = 0.10  # the nominal contact speed the descent plot marks


def plane_basis(normal):
    n = np.asarray(normal, dtype=float)
    e1 = np.cross(n, [0.0, 0.0, 1.0] if abs(n[2]) < 0.9 else [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(n, e1)


def local_east_north(normal) -> tuple[np.ndarray, np.ndarray]:
    """East and north unit vectors of the plane normal to ``normal`` (body-fixed, the
    spin axis is +z); at a pole, where east is undefined, the body-fixed x and y."""
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    east = np.cross([0.0, 0.0, 1.0], n)
    if np.linalg.norm(east) < 1e-9:
        return np.array([0.0, 1.0, 0.0]), np.array([-1.0, 0.0, 0.0]) * np.sign(n[2])
    east /= np.linalg.norm(east)
    return east, np.cross(n, east)


def lat_lon_deg(points_bf_m) -> tuple[np.ndarray, np.ndarray]:
    """Planetocentric latitude and east longitude (deg) of body-fixed points."""
    p = np.atleast_2d(np.asarray(points_bf_m, dtype=float))
    r = np.linalg.norm(p, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lat = np.degrees(np.arcsin(np.clip(p[:, 2] / r, -1, 1)))
    return lat, np.degrees(np.arctan2(p[:, 1], p[:, 0]))


PHASE_COLORS = (("descent", "#7f7f7f"), ("checkpoint", "#ff7f0e"), ("matchpoint", "#9467bd"),
                ("contact", "#d62728"), ("backaway", "#8c564b"))


def plot_descent_profile(h, summary) -> Plot:
    height = h.get("head_height_m")
    vz = h.get("vert_speed_mps")
    if not np.isfinite(height).any():
        raise Skip("not a touch-and-go run (no head height)")
    plot = time_plot(h, [Row("sampler-head height [m] (log)", height_px=280, log=True),
                         Row("vertical speed [cm/s]", height_px=220)])
    # On a log axis the last centimetres read as well as the first kilometre; contact
    # (height 0) is floored at 1 cm.
    series(plot, h, 0, "head_height_m", np.where(np.isfinite(height),
                                                 np.maximum(height, 0.01), np.nan),
           "sampler-head height", "#1f77b4", width=1.5)
    series(plot, h, 1, "vert_speed_cmps", vz * 100.0, "vertical speed", "#2ca02c", width=1.5)
    # Open on the touch-and-go itself, descent to back-away (double-click shows the whole
    # run): the head height is known all run long, so the sequence's own events bound it.
    events = summary.get("tag_events_s") or {}
    marks = [as_float(events.get(name)) for name, _ in PHASE_COLORS] \
        if isinstance(events, dict) else []
    marks = [t / h.t_scale for t in marks if t is not None and math.isfinite(t)]
    flying = np.flatnonzero(np.isfinite(height))
    if h.n > 1 and len(marks) >= 2:
        t0, t1 = min(marks), max(marks)
        pad = max(0.1 * (t1 - t0), 60.0 / h.t_scale)
        plot.layout["xaxis"]["range"] = [float(t0 - pad), float(t1 + pad)]
    elif h.n > 1 and 0 < len(flying) < h.n:
        t0, t1 = h.tx[flying[0]], h.tx[flying[-1]]
        pad = 0.05 * max(t1 - t0, h.dt / h.t_scale)
        plot.layout["xaxis"]["range"] = [float(t0 - pad), float(t1 + pad)]
    hline(plot, h, 1, -100.0 * CONTACT_MPS, f"contact speed {100 * CONTACT_MPS:g} cm/s",
          REQUIREMENT_COLOR)
    for name, color in PHASE_COLORS:
        t = as_float(events.get(name)) if isinstance(events, dict) else None
        if t is None:
            continue
        x = t / h.t_scale
        plot.layout["shapes"].append({"type": "line", "xref": "x", "yref": "paper", "x0": x,
                                      "x1": x, "y0": 0, "y1": 1,
                                      "line": {"color": color, "dash": "dash", "width": 1.2}})
        # The name goes in the legend (and the hover): labels on the plot would collide.
        plot.add({"type": "scatter", "mode": "markers", "x": [x], "y": [0.0],
                  "yaxis": yref(1), "name": f"{name} T+{hms(t)}",
                  "marker": {"symbol": "line-ns-open", "size": 18, "color": color,
                             "line": {"width": 2, "color": color}},
                  "hovertemplate": f"{name} at T+{hms(t)} ({t:.1f} s)<extra></extra>"})
    return plot


def _thin(n: int, limit: int = 4000) -> np.ndarray:
    """Indices of at most ``limit`` evenly spaced samples, the last one included."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.concatenate([np.linspace(0, n - 1, limit).astype(int), [n - 1]]))


def plot_ground_track(h, summary) -> Plot:
    pos = h.get("pos_bf_m", cols=3, min_cols=3)[:, :3]
    target = summary.get("target_bf_m")
    if target is None:
        raise Skip("not a touch-and-go run (no target)")
    tr = np.asarray(target, dtype=float)
    keep = _thin(len(pos))
    lat, lon = lat_lon_deg(pos[keep])
    # Break the line where the track wraps from +180 to -180 deg.
    wrap = np.concatenate([[False], np.abs(np.diff(lon)) > 180.0])
    lat, lon = np.insert(lat, np.flatnonzero(wrap), np.nan), np.insert(
        lon, np.flatnonzero(wrap), np.nan)
    t_lat, t_lon = (float(v[0]) for v in lat_lon_deg(tr))
    map_w = 0.56
    layout = {
        "height": 520, "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "plot_bgcolor": "#ffffff", "shapes": [],
        "legend": {"orientation": "h", "x": 0.0, "y": -0.14, "yanchor": "top"},
        # Equirectangular: one degree of longitude as wide as one of latitude, 2:1 map.
        "xaxis": axis("east longitude [deg]", domain=[0.0, map_w], range=[-180, 180],
                      dtick=60, constrain="domain"),
        "yaxis": axis("latitude [deg]", range=[-90, 90], dtick=30, scaleanchor="x",
                      scaleratio=1, constrain="domain"),
        "xaxis2": axis("east of target [m]", domain=[map_w + 0.17, 1.0], range=[-5, 5],
                       anchor="y2", constrain="domain"),
        "yaxis2": axis("north of target [m]", range=[-5, 5], anchor="x2", scaleanchor="x2",
                       scaleratio=1, constrain="domain"),
        "annotations": [
            {"xref": "x domain", "yref": "y domain", "x": 0, "y": 1.0, "yanchor": "bottom",
             "xanchor": "left", "showarrow": False, "text": "Body-fixed map"},
            {"xref": "x2 domain", "yref": "y2 domain", "x": 0, "y": 1.0, "yanchor": "bottom",
             "xanchor": "left", "showarrow": False, "text": "Near the target (local plane)"}],
    }
    plot = Plot(layout=layout)
    grid = _surface_grid(h)
    if grid is not None:
        g_lat, g_lon, radius = grid
        plot.add({"type": "heatmap", "x": g_lon.tolist(), "y": g_lat.tolist(),
                  "z": h.store.ref("surface_radius_rel_m", radius - radius.mean()),
                  "colorscale": "Greys", "reversescale": True, "zsmooth": False,
                  "colorbar": {"title": {"text": "radius − mean [m]", "side": "right"},
                               "x": map_w + 0.01, "xanchor": "left", "len": 0.8,
                               "thickness": 12},
                  "hovertemplate": "lon %{x:.0f}°, lat %{y:.0f}°: %{z:.1f} m<extra></extra>",
                  "name": "surface"})
    # A white halo under the track keeps it readable over dark and light terrain alike.
    for width, color, name in ((5, "#ffffff", None), (2, "#d62728", "sub-spacecraft track")):
        plot.add({"type": "scatter", "mode": "lines", "x": h.store.ref("track.lon", lon),
                  "y": h.store.ref("track.lat", lat), "line": {"color": color, "width": width},
                  "name": name or "", "showlegend": name is not None,
                  "hoverinfo": "skip" if name is None else "x+y"})
    plot.add({"type": "scatter", "mode": "markers", "x": [t_lon], "y": [t_lat],
              "name": f"target ({t_lat:.1f}°, {t_lon:.1f}°)",
              "marker": {"symbol": "cross-thin-open", "size": 18, "color": "#0050b3",
                         "line": {"width": 3, "color": "#0050b3"}}})
    east, north = local_east_north(tr)
    near = pos - tr
    horiz = np.column_stack([near @ east, near @ north])
    close = np.linalg.norm(horiz, axis=1) <= 20.0
    horiz_close = np.where(close[:, None], horiz, np.nan)[keep]
    plot.add({"type": "scatter", "mode": "lines", "xaxis": "x2", "yaxis": "y2",
              "x": h.store.ref("near.east", horiz_close[:, 0]),
              "y": h.store.ref("near.north", horiz_close[:, 1]), "showlegend": False,
              "line": {"color": "#1f77b4", "width": 1}, "opacity": 0.7,
              "name": "spacecraft track (within 20 m)"})
    plot.add({"type": "scatter", "mode": "markers", "xaxis": "x2", "yaxis": "y2", "x": [0.0],
              "y": [0.0], "showlegend": False, "name": "target",
              "marker": {"symbol": "cross-thin-open", "size": 18, "color": "#0050b3",
                         "line": {"width": 3, "color": "#0050b3"}}})
    shapes = layout["shapes"]
    shapes.append(_circle_shape(0.0, 0.0, TOUCHDOWN_REQ_M, "#2ca02c", dash="dash"))
    for centre, radius, mapped in _hazards(h):
        c = np.asarray(centre) - tr
        shapes.append(_circle_shape(float(c @ east), float(c @ north), float(radius),
                                    "#ff7f0e" if mapped else "#7f7f7f", fill=True))
    td = summary.get("touchdown_bf_m")
    if td is not None:
        d = np.asarray(td, dtype=float) - tr
        miss = as_float(summary.get("touchdown_miss_m"))
        label = "touchdown" + (f", miss {miss:.2f} m" if miss is not None else "")
        td_lat, td_lon = (float(v[0]) for v in lat_lon_deg(td))
        # Drawn after the target so the dot sits on top of the cross, on both panels.
        for xa, ya, x, y, show in (("x", "y", td_lon, td_lat, True),
                                   ("x2", "y2", float(d @ east), float(d @ north), False)):
            plot.add({"type": "scatter", "mode": "markers", "xaxis": xa, "yaxis": ya,
                      "x": [x], "y": [y], "name": label, "showlegend": show,
                      "marker": {"size": 11, "color": "#ffd400",
                                 "line": {"width": 2, "color": "#000000"}}})
    plot.add({"type": "scatter", "mode": "lines", "x": [None], "y": [None],
              "name": f"{TOUCHDOWN_REQ_M:g} m requirement circle (right)",
              "line": {"color": "#2ca02c", "dash": "dash"}})
    return plot


def _circle_shape(x: float, y: float, radius: float, color: str, dash: str = "solid",
                  fill: bool = False) -> dict:
    return {"type": "circle", "xref": "x2", "yref": "y2", "x0": x - radius, "x1": x + radius,
            "y0": y - radius, "y1": y + radius, "line": {"color": color, "dash": dash},
            "fillcolor": color if fill else "rgba(0,0,0,0)", "opacity": 0.45 if fill else 1.0}


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


def ellipse_99(points: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Centre, semi-axes (m) and orientation (rad) of the 99% ellipse of 2-D points."""
    centre = points.mean(axis=0)
    cov = np.cov(points.T) if len(points) > 2 else np.eye(2) * 1e-6
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, 0.0)
    a, b = np.sqrt(CHI2_2DOF_99 * vals[::-1])
    angle = math.atan2(vecs[1, -1], vecs[0, -1])
    return centre, float(a), float(b), angle


# The plot specs the run report adds for a touch-and-go run.
TAG_PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("descent-profile", "Descent profile",
             "Height (log scale) should step down through Checkpoint and Matchpoint to "
             "contact at the red 10 cm/s line, then climb after the back-away burn; the "
             "dashed verticals are the phases, named in the legend.  It opens on the "
             "descent; double-click for the whole run.",
             plot_descent_profile),
    PlotSpec("ground-track", "Ground track",
             "Left: the track (red on a white halo) over the shape model's radius on an "
             "equirectangular map; the yellow touchdown dot should sit on the blue target "
             "cross.  Right: the target's local plane, east and north in metres; the "
             "touchdown inside the green dashed 1 m circle, clear of hazards (orange: "
             "mapped, grey: unmapped).", plot_ground_track),
)
