// The run report's page script: decode the embedded arrays, draw every plot with
// Plotly, and keep long time series light: each is down-sampled to a min and a max per
// pixel bucket of the visible range (so a one-sample spike still shows), again from the
// full data after every zoom or pan.
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("report-data").textContent);
  var arrays = {};

  function decode(spec) {
    var bin = atob(spec.b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var flat = spec.dtype === "f8" ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
    if (spec.shape.length !== 2) return flat;
    var rows = [], cols = spec.shape[1];  // 2-D (maps): an array of rows, as Plotly wants z
    for (var r = 0; r < spec.shape[0]; r++) {
      rows.push(Array.prototype.map.call(flat.subarray(r * cols, (r + 1) * cols), nanToNull));
    }
    return rows;
  }

  function nanToNull(v) { return v === v ? v : null; }

  function array(name) {
    if (!(name in arrays)) arrays[name] = decode(payload.arrays[name]);
    return arrays[name];
  }

  // Replace every {"$ref": name} in a figure with its decoded array (as a plain array
  // with gaps as null: Plotly draws null as a break).
  function resolve(value) {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === "object") {
      if (typeof value.$ref === "string") {
        var a = array(value.$ref);
        return Array.isArray(a) ? a : Array.prototype.map.call(a, nanToNull);
      }
      var out = {};
      for (var k in value) out[k] = resolve(value[k]);
      return out;
    }
    return value;
  }

  function lowerBound(x, v) {
    var lo = 0, hi = x.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (x[mid] < v) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // Down-sample y(x) over [x0, x1] to `buckets` buckets; `how`: "minmax" keeps each
  // bucket's min and max in time order, "max"/"min" one of them (edges of a band).
  function decimate(x, y, x0, x1, buckets, how) {
    var i0 = 0, i1 = x.length;
    if (x0 !== null) { i0 = Math.max(0, lowerBound(x, x0) - 1); i1 = Math.min(x.length, lowerBound(x, x1) + 1); }
    var ox = [], oy = [], n = i1 - i0, i;
    if (n <= 2 * buckets) {
      for (i = i0; i < i1; i++) { ox.push(x[i]); oy.push(nanToNull(y[i])); }
      return [ox, oy];
    }
    var size = n / buckets;
    for (var b = 0; b < buckets; b++) {
      var s = i0 + Math.floor(b * size), e = i0 + Math.floor((b + 1) * size), lo = -1, hi = -1;
      for (i = s; i < e; i++) {
        var v = y[i];
        if (v !== v) continue;
        if (lo < 0 || v < y[lo]) lo = i;
        if (hi < 0 || v > y[hi]) hi = i;
      }
      if (lo < 0) { ox.push(x[s]); oy.push(null); continue; }  // all missing: a gap
      if (how === "max") { ox.push(x[hi]); oy.push(y[hi]); }
      else if (how === "min") { ox.push(x[lo]); oy.push(y[lo]); }
      else {
        var first = Math.min(lo, hi), last = Math.max(lo, hi);
        ox.push(x[first]); oy.push(y[first]);
        if (last !== first) { ox.push(x[last]); oy.push(y[last]); }
      }
    }
    return [ox, oy];
  }

  function sampled(fig, div, range) {
    var buckets = Math.max(200, Math.round((div.clientWidth || 1000) * 1.0));
    var xs = [], ys = [];
    fig.series.forEach(function (s) {
      var d = decimate(array(s.x), array(s.y), range ? range[0] : null, range ? range[1] : null, buckets, s.how);
      xs.push(d[0]); ys.push(d[1]);
    });
    return [xs, ys];
  }

  function draw(id, fig) {
    var div = document.getElementById(id);
    var data = resolve(fig.data);
    var first = sampled(fig, div, null);
    fig.series.forEach(function (s, k) { data[s.trace].x = first[0][k]; data[s.trace].y = first[1][k]; });
    var config = {responsive: true, displaylogo: false, scrollZoom: false,
                  modeBarButtonsToRemove: ["lasso2d", "select2d"]};
    return Plotly.newPlot(div, data, fig.layout, config).then(function () {
      div.setAttribute("data-rendered", "1");
      if (!fig.series.length) return;
      var traces = fig.series.map(function (s) { return s.trace; });
      div.on("plotly_relayout", function (ev) {
        var range;
        if ("xaxis.range[0]" in ev) range = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
        else if (ev["xaxis.range"]) range = ev["xaxis.range"];
        else if (ev["xaxis.autorange"]) range = null;
        else return;
        var d = sampled(fig, div, range);
        Plotly.restyle(div, {x: d[0], y: d[1]}, traces);
      });
    });
  }

  var pending = Object.keys(payload.plots).map(function (id) {
    return draw(id, payload.plots[id]).catch(function (err) {
      var div = document.getElementById(id);
      div.setAttribute("data-rendered", "failed");
      div.textContent = "This plot could not be drawn: " + err;
      throw err;
    });
  });
  Promise.allSettled(pending).then(function () { document.body.setAttribute("data-plots-done", "1"); });
})();
