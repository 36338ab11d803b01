"""Report plots of a prospecting run: the resource map and example spectra.

Bands are drawn from the simulator's own table (sim.minerals, in the ICD's order, the
order of the downlinked depths and centres).  Maps are equirectangular (longitude and
latitude in degrees, 2:1) like the ground track.
"""

import html

import numpy as np

from sim.minerals import BANDS
from sim.report_kit import Plot, PlotSpec, Skip, axis


def _need(h, key):
    try:
        return np.asarray(h.data[key])
    except KeyError:
        raise Skip(f"no {key} in the history") from None


def _marker_trace(lon, lat, idx, name, xa, ya, show, **marker) -> dict:
    return {"type": "scatter", "mode": "markers", "x": lon[idx].tolist(),
            "y": lat[idx].tolist(), "name": name, "xaxis": xa, "yaxis": ya,
            "legendgroup": name, "showlegend": show, "marker": marker,
            "hovertemplate": name + ": lon %{x:.1f}°, lat %{y:.1f}°<extra></extra>"}


def plot_resource_map(h, summary) -> Plot:
    lat = _need(h, "prospect_lat_deg").astype(float)
    lon = _need(h, "prospect_lon_deg").astype(float)
    value = _need(h, "prospect_value").astype(float)
    truth = _need(h, "prospect_truth").astype(float)
    safe = _need(h, "prospect_safe_truth").astype(bool)
    cands = _need(h, "prospect_candidates").astype(int).reshape(-1)
    chosen = _need(h, "prospect_chosen").astype(int).reshape(-1)
    name = html.escape(str(summary.get("resource_name", "resource")), quote=False)
    layout = {"height": 860, "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
              "plot_bgcolor": "#ffffff", "annotations": [],
              "legend": {"orientation": "h", "x": 0.0, "y": -0.07, "yanchor": "top"}}
    plot = Plot(layout=layout)
    try:
        deliverable = np.asarray(h.data["prospect_deliverable_truth"]).astype(bool)
    except KeyError:  # a run from before deliverability was recorded
        deliverable = np.ones_like(safe)
    pool = np.flatnonzero(safe & deliverable & np.isfinite(truth))
    finite_all = np.concatenate([value[np.isfinite(value)], truth[np.isfinite(truth)]])
    cmin, cmax = (float(finite_all.min()), float(finite_all.max())) if finite_all.size \
        else (0.0, 1.0)
    for k, (data, title) in enumerate(((value, f"Estimated {name} (on board)"),
                                       (truth, f"True {name} (simulator)"))):
        xa, ya = ("x", "y") if k == 0 else ("x2", "y2")
        top, bottom = (1.0, 0.54) if k == 0 else (0.46, 0.0)
        layout["xaxis" if k == 0 else "xaxis2"] = axis(
            "east longitude [deg]", range=[-180, 180], dtick=60, anchor=ya,
            constrain="domain")
        layout["yaxis" if k == 0 else "yaxis2"] = axis(
            "latitude [deg]", range=[-90, 90], dtick=30, domain=[bottom, top], anchor=xa,
            scaleanchor=xa, scaleratio=1, constrain="domain")
        layout["annotations"].append({"xref": f"{xa} domain", "yref": f"{ya} domain", "x": 0,
                                      "y": 1, "xanchor": "left", "yanchor": "bottom",
                                      "showarrow": False, "text": f"<b>{title}</b>"})
        seen = np.isfinite(data)
        show = k == 0
        plot.add(_marker_trace(lon, lat, ~seen, "not observed", xa, ya, show, size=5,
                               color="#d9d9d9"))
        idx = np.flatnonzero(seen)
        plot.add({"type": "scatter", "mode": "markers", "x": lon[idx].tolist(),
                  "y": lat[idx].tolist(), "xaxis": xa, "yaxis": ya, "showlegend": False,
                  "name": title, "customdata": data[idx].tolist(),
                  "hovertemplate": "lon %{x:.1f}°, lat %{y:.1f}°: %{customdata:.3g}"
                                   "<extra></extra>",
                  "marker": {"size": 7, "color": data[idx].tolist(), "colorscale": "Viridis",
                             "cmin": cmin, "cmax": cmax, "showscale": k == 0,
                             "colorbar": {"title": {"text": name, "side": "right"},
                                          "len": 0.9, "thickness": 12}}})
        plot.add(_marker_trace(lon, lat, ~safe, "unsafe (truth)", xa, ya, show, size=11,
                               symbol="circle-open", color="#969696"))
        if cands.size:
            plot.add(_marker_trace(lon, lat, cands, "candidates", xa, ya, show, size=16,
                                   symbol="circle-open", color="#ff7f0e",
                                   line={"width": 2, "color": "#ff7f0e"}))
        if pool.size:
            best = pool[np.argmax(truth[pool])]
            plot.add(_marker_trace(lon, lat, [best], "best safe, deliverable site (truth)",
                                   xa, ya, show, size=16, symbol="x-thin-open",
                                   color="#000000", line={"width": 3, "color": "#000000"}))
        if chosen.size and chosen[0] >= 0:
            plot.add(_marker_trace(lon, lat, chosen[:1], "chosen site", xa, ya, show,
                                   size=20, symbol="star", color="#d62728",
                                   line={"width": 1, "color": "#ffffff"}))
    return plot


def _spectrum_layout(ylabel: str) -> dict:
    return {"height": 460, "margin": {"l": 70, "r": 20, "t": 30, "b": 50},
            "plot_bgcolor": "#ffffff", "hovermode": "x", "shapes": [], "annotations": [],
            "xaxis": axis("wavelength [µm]"), "yaxis": axis(ylabel),
            "legend": {"orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom"}}


def _band_marks(layout: dict) -> None:
    """A faint vertical line at each band centre, its name at the top; neighbours'
    names alternate between two heights so close bands' labels do not overlap."""
    for k, band in enumerate(sorted(BANDS, key=lambda b: b.centre_um)):
        layout["shapes"].append({"type": "line", "xref": "x", "yref": "paper",
                                 "x0": band.centre_um, "x1": band.centre_um, "y0": 0, "y1": 1,
                                 "line": {"color": "#cccccc", "width": 1}})
        layout["annotations"].append({"xref": "x", "yref": "paper", "x": band.centre_um,
                                      "y": 1.0 if k % 2 == 0 else 0.86,
                                      "text": html.escape(band.name), "showarrow": False,
                                      "textangle": -90, "xanchor": "right", "yanchor": "top",
                                      "font": {"size": 9, "color": "#777777"}})


def _continuum(r, wl, band, offset=0.0):
    lo = np.abs(wl - band.left_shoulder_um) <= 0.03
    hi = np.abs(wl - band.right_shoulder_um) <= 0.03
    if not (lo.any() and hi.any()):
        return None
    return ([band.left_shoulder_um, band.right_shoulder_um],
            [float(np.nanmean(r[lo])) + offset, float(np.nanmean(r[hi])) + offset])


def plot_example_spectra(h, summary) -> Plot:
    wl = _need(h, "prospect_wavelength_um").astype(float)
    refl = _need(h, "prospect_example_refl").astype(float)
    if refl.size == 0:
        raise Skip("no example spectra kept")
    plot = Plot(layout=_spectrum_layout("reflectance (standard geometry), offset by 0.01"))
    for k, r in enumerate(refl[:4]):
        offset = 0.01 * k
        plot.add({"type": "scatter", "mode": "lines", "x": wl.tolist(),
                  "y": (r + offset).tolist(), "name": f"example {k + 1} (+{offset:g})",
                  "line": {"width": 1}})
        for band in BANDS:
            c = _continuum(r, wl, band, offset)
            if c is not None:
                plot.add({"type": "scatter", "mode": "lines", "x": c[0], "y": c[1],
                          "showlegend": False, "hoverinfo": "skip", "name": "continuum",
                          "line": {"color": "#000000", "dash": "dash", "width": 0.8}})
    _band_marks(plot.layout)
    return plot


def plot_site_spectrum(h, summary) -> Plot:
    """The chosen site's co-added spectrum, its band depths and centres, and the truth."""
    wl = _need(h, "prospect_wavelength_um").astype(float)
    refl, sigma = _need(h, "prospect_site_refl"), _need(h, "prospect_site_sigma")
    if refl.size == 0 or not np.isfinite(refl[0]).any():
        raise Skip("no co-added site spectrum")
    site, n = int(_need(h, "prospect_site_ids")[0]), int(_need(h, "prospect_site_n")[0])
    depth, centre = _need(h, "prospect_site_depth")[0], _need(h, "prospect_site_centre_um")[0]
    detected = _need(h, "prospect_site_detected")[0].astype(bool)
    truth = _need(h, "prospect_site_truth_refl")
    plot = Plot(layout=_spectrum_layout("reflectance (standard geometry)"))
    r, s = refl[0].astype(float), sigma[0].astype(float)
    plot.add({"type": "scatter", "mode": "lines", "x": wl.tolist(), "y": (r - s).tolist(),
              "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip", "name": "-1σ"})
    plot.add({"type": "scatter", "mode": "lines", "x": wl.tolist(), "y": (r + s).tolist(),
              "line": {"width": 0}, "fill": "tonexty", "fillcolor": "rgba(31,119,180,0.3)",
              "name": "±1σ", "hoverinfo": "skip"})
    plot.add({"type": "scatter", "mode": "lines", "x": wl.tolist(), "y": r.tolist(),
              "name": f"site {site}: {n} spectra co-added", "line": {"color": "#1f77b4"}})
    if truth.size:
        plot.add({"type": "scatter", "mode": "lines", "x": wl.tolist(),
                  "y": truth[0].astype(float).tolist(), "name": "truth of the facet",
                  "line": {"color": "#000000", "dash": "dot", "width": 1}})
    xs, ys, texts = [], [], []
    for k, band in enumerate(BANDS):
        c = _continuum(r, wl, band)
        if c is None or not np.isfinite(depth[k]) or not detected[k]:
            continue  # an undetected band's fitted dip is noise: not drawn
        plot.add({"type": "scatter", "mode": "lines", "x": c[0], "y": c[1],
                  "showlegend": False, "hoverinfo": "skip", "name": "continuum",
                  "line": {"color": "#000000", "dash": "dash", "width": 0.8}})
        t = (centre[k] - band.left_shoulder_um) / (band.right_shoulder_um - band.left_shoulder_um)
        xs.append(float(centre[k]))
        ys.append(float((c[1][0] + t * (c[1][1] - c[1][0])) * (1.0 - depth[k])))
        texts.append(html.escape(f"{band.name}: depth {depth[k]:.3f} at {centre[k]:.3f} µm"))
    if xs:
        plot.add({"type": "scatter", "mode": "markers", "x": xs, "y": ys, "text": texts,
                  "name": "detected band (centre, depth)",
                  "hovertemplate": "%{text}<extra></extra>",
                  "marker": {"symbol": "triangle-down", "size": 10, "color": "#d62728"}})
    _band_marks(plot.layout)
    return plot


# The plot specs the run report adds for a prospecting run.
PROSPECT_PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("resource-map", "Resource map",
             "Top: the map the probe built from its spectra; bottom: the truth, on the same "
             "colour scale. The red star (chosen site) should sit on the black cross (best "
             "safe, deliverable site by truth), among the orange candidate rings.",
             plot_resource_map),
    PlotSpec("example-spectra", "Example spectra",
             "Calibrated reflectance with the linear continua (dashed) of the named bands; "
             "the OH band near 2.7 µm should be clear after the thermal tail is removed.",
             plot_example_spectra),
    PlotSpec("site-spectrum", "Chosen site's spectrum",
             "The weighted mean of every accepted spectrum of the chosen site (band ±1σ), "
             "on which the site's band depths and centres are measured (PROBE_SITE_BANDS; "
             "red triangles: detected bands); the dotted line is the simulator's truth of "
             "the facet.", plot_site_spectrum),
)
