// The run report's page script: decode the embedded arrays, draw every plot with
// Plotly, and keep long time series light: each is down-sampled to a min and a max per
// pixel bucket of the visible range (so a one-sample spike still shows), again from the
// full data after every zoom or pan.
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("report-data").textContent);
  var arrays = {};

  function nanToNull(v) { return v === v ? v : null; }

  // One stored array as a typed array (2-D maps as an array of plain rows, as Plotly
  // wants z): an evenly spaced axis from start and step, the rest inflated from gzip.
  function decode(spec) {
    if (spec.range) {
      var axis = new Float64Array(spec.range[2]);
      for (var j = 0; j < axis.length; j++) axis[j] = spec.range[0] + j * spec.range[1];
      return Promise.resolve(axis);
    }
    var bin = atob(spec.gz), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (buf) {
      var flat = spec.dtype === "f8" ? new Float64Array(buf)
        : spec.dtype === "u1" ? new Uint8Array(buf) : new Float32Array(buf);
      if (spec.shape.length !== 2) return flat;
      var rows = [], cols = spec.shape[1];
      for (var r = 0; r < spec.shape[0]; r++) {
        rows.push(Array.prototype.map.call(flat.subarray(r * cols, (r + 1) * cols), nanToNull));
      }
      return rows;
    });
  }

  function decodeAll() {
    var names = Object.keys(payload.arrays);
    return Promise.all(names.map(function (n) { return decode(payload.arrays[n]); }))
      .then(function (decoded) { names.forEach(function (n, k) { arrays[n] = decoded[k]; }); });
  }

  function array(name) { return arrays[name]; }

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

  // Down-sample y(x) over [x0, x1] (null: all) to `buckets` buckets.  s.how "minmax"
  // keeps each bucket's min and max in time order, "max"/"min" one of them (the edges
  // of a band); y is multiplied by s.scale; with s.mask only samples whose mask equals
  // s.keep count (the others are gaps).
  function decimate(s, x0, x1, buckets) {
    var x = array(s.x), y = array(s.y), k = s.scale === undefined ? 1 : s.scale;
    var mask = s.mask ? array(s.mask) : null, keep = s.keep;
    var i0 = 0, i1 = x.length, i;
    if (x0 !== null) { i0 = Math.max(0, lowerBound(x, x0) - 1); i1 = Math.min(x.length, lowerBound(x, x1) + 1); }
    function at(j) { var v = y[j] * k; return (mask && mask[j] !== keep) ? NaN : v; }
    var ox = [], oy = [], n = i1 - i0;
    if (n <= 2 * buckets) {
      for (i = i0; i < i1; i++) { ox.push(x[i]); oy.push(nanToNull(at(i))); }
      return [ox, oy];
    }
    var size = n / buckets;
    for (var b = 0; b < buckets; b++) {
      var st = i0 + Math.floor(b * size), e = i0 + Math.floor((b + 1) * size);
      var lo = -1, hi = -1, vlo = 0, vhi = 0;
      for (i = st; i < e; i++) {
        var v = at(i);
        if (v !== v) continue;
        if (lo < 0 || v < vlo) { lo = i; vlo = v; }
        if (hi < 0 || v > vhi) { hi = i; vhi = v; }
      }
      if (lo < 0) { ox.push(x[st]); oy.push(null); continue; }  // all missing: a gap
      if (s.how === "max") { ox.push(x[hi]); oy.push(vhi); }
      else if (s.how === "min") { ox.push(x[lo]); oy.push(vlo); }
      else if (lo === hi) { ox.push(x[lo]); oy.push(vlo); }
      else if (lo < hi) { ox.push(x[lo], x[hi]); oy.push(vlo, vhi); }
      else { ox.push(x[hi], x[lo]); oy.push(vhi, vlo); }
    }
    return [ox, oy];
  }

  function sampled(fig, div, range) {
    var buckets = Math.max(200, Math.round(div.clientWidth || 1000));
    var xs = [], ys = [];
    fig.series.forEach(function (s) {
      var d = decimate(s, range ? range[0] : null, range ? range[1] : null, buckets);
      xs.push(d[0]); ys.push(d[1]);
    });
    return [xs, ys];
  }

  function draw(id, fig) {
    var div = document.getElementById(id), started = performance.now();
    var data = resolve(fig.data);
    var xr = fig.layout.xaxis && fig.layout.xaxis.range;  // a plot may open zoomed in
    var first = sampled(fig, div, xr && fig.series.length ? xr : null);
    fig.series.forEach(function (s, k) { data[s.trace].x = first[0][k]; data[s.trace].y = first[1][k]; });
    var config = {responsive: true, displaylogo: false, scrollZoom: false,
                  modeBarButtonsToRemove: ["lasso2d", "select2d"]};
    return Plotly.newPlot(div, data, fig.layout, config).then(function () {
      div.setAttribute("data-rendered", "1");
      div.setAttribute("data-draw-ms", Math.round(performance.now() - started));
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

  // Plots are drawn one after another in page order, yielding to the browser between
  // them: the first screen is up while the rest are still being drawn.
  function drawInOrder(ids, k) {
    if (k >= ids.length) return Promise.resolve();
    return draw(ids[k], payload.plots[ids[k]]).catch(function (err) {
      var div = document.getElementById(ids[k]);
      div.setAttribute("data-rendered", "failed");
      div.textContent = "This plot could not be drawn: " + err;
      console.error(err);
    }).then(function () {
      if (k === 0) document.body.setAttribute("data-first-plot-ms", Math.round(performance.now()));
      return new Promise(function (res) { setTimeout(res, 0); });
    }).then(function () { return drawInOrder(ids, k + 1); });
  }

  function failAll(why) {
    Object.keys(payload.plots).forEach(function (id) {
      var div = document.getElementById(id);
      div.setAttribute("data-rendered", "failed");
      div.textContent = why;
    });
  }

  if (typeof DecompressionStream === "undefined" || typeof Plotly === "undefined") {
    // Say so in the page rather than leave blank boxes.
    failAll(typeof Plotly === "undefined" ? "The plotting library did not load."
      : "This browser cannot unpack the plots' data (it needs DecompressionStream: " +
        "Chrome or Edge 80+, Firefox 113+, Safari 16.4+).");
    document.body.setAttribute("data-plots-done", "0");
    return;
  }

  var t0 = performance.now();
  decodeAll().then(function () {
    document.body.setAttribute("data-decode-ms", Math.round(performance.now() - t0));
    return drawInOrder(Object.keys(payload.plots), 0);
  }, function (err) {
    failAll("The plots' data could not be unpacked: " + err);
    console.error(err);
  }).then(function () {
    document.body.setAttribute("data-plots-done", Math.round(performance.now()));
  });
})();
