/* forcesim report page: draws the charts from the JSON beside them and wires the controls.
   Traces carry legendgroup (their variant, "range", "target" or "observed") and meta
   (what they draw); see sim/report/charts.py. */
(function () {
  "use strict";

  // plotly.js is in the page gzip-compressed and in base64 (sim/report/page.py:
  // _plotly_js): the browser unpacks it with DecompressionStream, then runs it
  function unpack(id) {
    var text = atob(document.getElementById(id).textContent.trim());
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }

  function cannot(why) {
    // the tables under each chart hold the same numbers: say so where each chart would be
    document.querySelectorAll(".chart").forEach(function (div) {
      var p = document.createElement("p");
      p.className = "no-chart";
      p.textContent = why + " The table below the chart holds the same numbers.";
      div.style.height = "auto";
      div.appendChild(p);
    });
    document.documentElement.setAttribute("data-charts", "unavailable");
  }

  if (typeof DecompressionStream === "undefined") {
    cannot(
      "This browser cannot unpack the page's charts (they need Chrome or Edge 80, " +
        "Firefox 113, Safari 16.4 or newer)."
    );
    return;
  }
  Promise.resolve()
    .then(function () {
      return unpack("plotly-js");
    })
    .then(function (code) {
      var script = document.createElement("script");
      script.text = code;
      document.head.appendChild(script);
      if (typeof Plotly === "undefined") throw new Error("plotly.js did not start");
      start();
    })
    .catch(function () {
      // a damaged page (its plotly.js not whole) or a browser that cannot run it
      cannot("This browser could not unpack the page's charts.");
    });

  function start() {
    var narrow = window.matchMedia("(max-width: 600px)");
    var config = {
      responsive: true,
      displaylogo: false,
      scrollZoom: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    };

    function draw(id) {
      var div = document.getElementById(id);
      var data = document.getElementById(id + "-data");
      if (!div || !data) return null;
      var fig = JSON.parse(data.textContent);
      // months written once for the traces that share them (sim/report/page.py: _shared_x)
      fig.data.forEach(function (t) {
        if (t.x && t.x.shared !== undefined) t.x = fig.sharedX[t.x.shared].slice();
      });
      if (narrow.matches) {
        // on a phone a drag scrolls the page: no zooming by dragging, a tap still shows values
        fig.layout.dragmode = false;
        fig.layout.margin = { l: 44, r: 8, t: 34, b: 34 };
        // the room is short: months alone label the deadlines, the caption names the unit
        (fig.layout.annotations || []).forEach(function (a) {
          if (typeof a.text === "string" && a.text.indexOf("deadline ") === 0) a.text = a.text.slice(9);
        });
        Object.keys(fig.layout).forEach(function (k) {
          if (k.indexOf("yaxis") === 0) fig.layout[k].title = { text: "" };
        });
      }
      return Plotly.newPlot(div, fig.data, fig.layout, config).then(function () {
        return unstack(div);
      }).then(function () {
        return unstackText(div);
      }).then(function () {
        return makeRoom(div);
      }).then(function () {
        return div;
      });
    }

    // ---------------------------------------------------------------- labels
    // The labels of the deadlines and the as-of line are placed for a chart 1,000 px
    // wide (sim/report/charts.py); on a narrower screen two may meet, or one run past
    // the chart's right edge. Here, as drawn: a label past the right edge moves to the
    // left of its line, and a label meeting one before it moves off it, down (up for a
    // label standing on the axis), one relayout for the whole chart.
    // The first of the boxes ``kept`` that ``box`` meets (each less a pixel), if any.
    function firstHit(kept, box) {
      return kept.filter(function (k) {
        return k.left < box.right - 1 && box.left < k.right - 1 &&
          k.top < box.bottom - 1 && box.top < k.bottom - 1;
      })[0];
    }

    function unstack(div) {
      var anns = div.layout.annotations || [];
      var chart = div.getBoundingClientRect();
      var right = chart.right - div._fullLayout.margin.r;
      var kept = []; // boxes as they will stand
      var updates = {};
      Array.prototype.slice.call(div.querySelectorAll(".annotation")).forEach(function (g) {
        var i = Number(g.getAttribute("data-index"));
        var a = anns[i];
        var r = g.getBoundingClientRect();
        var box = { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
        if (!a || r.width === 0 || a.xref === "paper" || a.xref === undefined) {
          kept.push(box); // a panel's title stays where it is
          return;
        }
        var width = box.right - box.left, height = box.bottom - box.top;
        if (box.right > right && a.xanchor === "left") {
          var line = box.left - (a.xshift || 0);
          box.left = line - 3 - width;
          box.right = line - 3;
          updates["annotations[" + i + "].xanchor"] = "right";
          updates["annotations[" + i + "].xshift"] = -3;
        }
        var down = a.yanchor !== "bottom";
        var moved = 0;
        for (var tries = 0; tries < 6; tries++) {
          var hit = firstHit(kept, box);
          if (!hit) break;
          var step = down ? hit.bottom - box.top + 1 : box.bottom - hit.top + 1;
          box.top += down ? step : -step;
          box.bottom = box.top + height;
          moved += down ? -step : step;
        }
        if (moved) updates["annotations[" + i + "].yshift"] = (a.yshift || 0) + moved;
        kept.push(box);
      });
      return Object.keys(updates).length ? Plotly.relayout(div, updates) : null;
    }

    // The same for the fan's deadline labels, drawn as text by each variant's trace:
    // a label past the plot's right edge goes left of its line, one meeting a label
    // before it moves down off it. Each shown trace, as drawn (a variant picked later
    // is done when it is shown).
    function unstackText(div) {
      var chart = div.getBoundingClientRect();
      var full = div._fullLayout;
      var done = [];
      Array.prototype.slice.call(div.querySelectorAll(".scatterlayer .trace")).forEach(function (g) {
        var cd = g.__data__ && g.__data__[0];
        var t = cd && cd.trace;
        if (!t || t.meta !== "deadline-label" || t.visible === false) return;
        var xa = full[t.xaxis.replace("x", "xaxis")], ya = full[t.yaxis.replace("y", "yaxis")];
        var right = chart.left + xa._offset + xa._length;
        var texts = g.querySelectorAll(".textpoint text");
        var user = div.data[t.index];
        var pos = t.y.map(function (_, j) {
          return Array.isArray(user.textposition) ? user.textposition[j] : user.textposition;
        });
        var ys = t.y.slice();
        var kept = [], changed = false;
        Array.prototype.forEach.call(texts, function (node, j) {
          var r = node.getBoundingClientRect();
          if (r.width === 0) return;
          var box = { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
          var width = r.right - r.left, height = r.bottom - r.top;
          if (box.right > right && pos[j] === "bottom right") {
            var line = chart.left + xa._offset + xa.l2p(xa.d2l(t.x[j]));
            box.right = 2 * line - box.left;
            box.left = box.right - width;
            pos[j] = "bottom left";
            changed = true;
          }
          for (var tries = 0; tries < 6; tries++) {
            var hit = firstHit(kept, box);
            if (!hit) break;
            var step = hit.bottom - box.top + 1;
            box.top += step;
            box.bottom = box.top + height;
            ys[j] = ya.p2l(ya.l2p(ys[j]) + step);
            changed = true;
          }
          kept.push(box);
        });
        if (changed) done.push(Plotly.restyle(div, { textposition: [pos], y: [ys] }, [t.index]));
      });
      return Promise.all(done);
    }

    // Labels placed lower than the page was laid out for (a narrow screen, a label moved
    // down off another) may stand on the data: raise the panel's troop axis until every
    // point drawn under a label along the top (a line's, a band's edge, a mark with its
    // radius) lies below it, as sim.plotting.clearance.clear_top_labels does for the PNG
    // charts. The deadlines' lines and the fan's labels, drawn in troops up to the axis'
    // top, are scaled with it, so they keep their place on screen. The axis only grows.
    function makeRoom(div) {
      var full = div._fullLayout;
      var chart = div.getBoundingClientRect();
      var boxes = {}; // y axis ("y", "y2", ...) -> label boxes on screen
      function add(axis, r) {
        if (r.width > 0) (boxes[axis] = boxes[axis] || []).push(r);
      }
      Array.prototype.slice.call(div.querySelectorAll(".annotation")).forEach(function (g) {
        var a = (div.layout.annotations || [])[Number(g.getAttribute("data-index"))];
        if (!a || typeof a.yref !== "string" || a.yref.indexOf(" domain") < 0 || a.y < 0.5) return;
        add(a.yref.split(" ")[0], g.getBoundingClientRect());
      });
      Array.prototype.slice.call(div.querySelectorAll(".scatterlayer .trace")).forEach(function (g) {
        var t = g.__data__ && g.__data__[0] && g.__data__[0].trace;
        if (!t || t.meta !== "deadline-label" || t.visible !== true) return;
        Array.prototype.forEach.call(g.querySelectorAll(".textpoint text"), function (node) {
          add(t.yaxis || "y", node.getBoundingClientRect());
        });
      });
      var raised = {}; // y axis -> its range raised: { lo, top, f (top / the old top) }
      Object.keys(boxes).forEach(function (axis) {
        var ya = full[axis.replace("y", "yaxis")];
        if (!ya || !ya.range) return;
        var lo = ya.range[0], hi = ya.range[1], need = hi;
        var top = chart.top + ya._offset, height = ya._length;
        (div.calcdata || []).forEach(function (cd) {
          var t = cd[0] && cd[0].trace;
          if (!t || t.visible !== true || (t.yaxis || "y") !== axis) return;
          if (t.meta === "deadline" || t.meta === "deadline-label" || t.mode === "text") return;
          var xa = full[(t.xaxis || "x").replace("x", "xaxis")];
          var marks = (t.mode || "").indexOf("markers") >= 0;
          var size = marks && t.marker && typeof t.marker.size === "number" ? t.marker.size : 0;
          var r = Math.max(size / 2, ((t.line && t.line.width) || 0) / 2) + 2;
          cd.forEach(function (p) {
            if (typeof p.y !== "number" || !isFinite(p.y) || typeof p.x !== "number") return;
            // (a reported range is a mark with a bar up to yh: Plotly's error bars)
            var y = typeof p.yh === "number" && isFinite(p.yh) ? Math.max(p.y, p.yh) : p.y;
            var x = chart.left + xa._offset + xa.c2p(p.x);
            boxes[axis].forEach(function (b) {
              if (x < b.left - r || x > b.right + r) return;
              var k = (b.bottom + r - top) / height; // the share of the axis above the point
              if (k > 0 && k < 0.9) need = Math.max(need, (y - k * lo) / (1 - k));
            });
          });
        });
        if (need > hi * 1.001) raised[axis] = { lo: lo, top: need, f: need / hi };
      });
      if (!Object.keys(raised).length) return null;
      Object.keys(raised).forEach(function (axis) {
        var name = axis.replace("y", "yaxis");
        div.layout[name] = div.layout[name] || {};
        div.layout[name].range = [raised[axis].lo, raised[axis].top];
        div.layout[name].autorange = false;
      });
      div.data.forEach(function (t) {
        var to = raised[t.yaxis || "y"];
        if (!to || (t.meta !== "deadline" && t.meta !== "deadline-label")) return;
        // (not past the new top by a rounding: a label beyond the axis is not drawn)
        t.y = Array.prototype.map.call(t.y, function (v) {
          return v === null ? null : Math.min(v * to.f, to.top);
        });
      });
      // drawn again with the raised axes as its own: "Reset axes" and a double click
      // go back to them (after a relayout they went back below the labels, which then
      // stood past the axis' top, not drawn)
      return Plotly.newPlot(div, div.data, div.layout, config);
    }

    // ---------------------------------------------------------------- envelope
    // The range across lines drawn straight from month end to month end: its lowest
    // and highest at each month's end, and at each point between two where two lines
    // cross (there the lowest or highest changes hands; shading from month end to
    // month end alone would cut across the crossing, outside every line). As
    // sim.plotting.envelope.range_edges does for the PNG and the page as written.
    // months: "YYYY-MM-DD" (UTC midnights); levels: one array per line, null where a
    // line is not drawn (a variant on a shorter calendar, past its end): the range
    // there is that of the others.
    function rangeEdges(months, levels) {
      var out = { x: [], lo: [], hi: [] };
      if (!levels.length) {
        months.forEach(function (m) { out.x.push(m); out.lo.push(null); out.hi.push(null); });
        return out;
      }
      function drawn(v) { return v !== null && v !== undefined; }
      function at(k) { return levels.map(function (y) { return y[k]; }); }
      function corner(when, row) {
        var on = row.filter(drawn);
        var lo = on.length ? Math.min.apply(null, on) : null;
        var hi = on.length ? Math.max.apply(null, on) : null;
        var last = out.x.length - 1;
        // (the same corner again: the month's end of the month before)
        if (last >= 0 && out.x[last] === when && out.lo[last] === lo && out.hi[last] === hi) return;
        out.x.push(when);
        out.lo.push(lo);
        out.hi.push(hi);
      }
      function stamp(ms) { // "YYYY-MM-DD HH:MM:SS.sss", as the page's own corners
        return new Date(ms).toISOString().slice(0, 23).replace("T", " ");
      }
      // over each month, the lines drawn over it: a line that ends or starts there
      // gives the range two corners at that month's end, one with it, one without
      for (var k = 0; k + 1 < months.length; k++) {
        var a0 = at(k), b0 = at(k + 1);
        var both = a0.map(function (v, r) { return drawn(v) && drawn(b0[r]); });
        var a = a0.map(function (v, r) { return both[r] ? v : null; });
        var b = b0.map(function (v, r) { return both[r] ? v : null; });
        corner(months[k], a);
        var ts = [];
        for (var i = 0; i < a.length; i++) {
          for (var j = 0; j < a.length; j++) {
            if (!both[i] || !both[j]) continue;
            var d0 = a[i] - a[j], d1 = b[i] - b[j];
            if (d0 * d1 < 0) ts.push(d0 / (d0 - d1));
          }
        }
        ts.sort(function (p, q) { return p - q; });
        var t0 = Date.parse(months[k] + "T00:00:00Z"), t1 = Date.parse(months[k + 1] + "T00:00:00Z");
        ts.forEach(function (t, m) {
          if (m > 0 && t === ts[m - 1]) return;
          var row = a.map(function (v, r) {
            return both[r] ? Math.round((v + t * (b[r] - v)) * 100) / 100 : null;
          });
          corner(stamp(Math.round(t0 + t * (t1 - t0))), row);
        });
        corner(months[k + 1], b);
      }
      if (months.length === 1) corner(months[0], at(0));
      return out;
    }

    // A target mark (sim/report/charts.py: _targets) stands while any variant it names is
    // ticked, and names only those: its customdata is [hover text, [[milestone, variant]...]],
    // the hover text as _marks_text writes it.
    function ticked(trace, shown) {
      var out = { x: [], y: [], customdata: [] };
      trace.customdata.forEach(function (cd, j) {
        var named = cd[1].filter(function (e) { return shown[e[1]]; }).map(function (e) {
          return e[0] + " (" + e[1] + ")";
        });
        if (!named.length) return;
        out.x.push(trace.x[j]);
        out.y.push(trace.y[j]);
        var text = named.slice(0, 4).join(", ") + (named.length > 4 ? " …" : "");
        out.customdata.push([text, cd[1]]);
      });
      return out;
    }

    function envelopeControls(div) {
      var boxes = Array.prototype.slice.call(
        document.querySelectorAll("#envelope-h ~ fieldset.toggles input[type=checkbox]")
      );
      // each target trace's marks as written (the page keeps those of the variants ticked)
      var targets = {};
      div.data.forEach(function (t, i) {
        if (t.meta === "target") targets[i] = { x: t.x, y: t.y, customdata: t.customdata };
      });
      function apply() {
        var shown = {};
        boxes.forEach(function (b) { shown[b.value] = b.checked; });
        var visible = div.data.map(function (t) {
          // a variant's line, its official figure and its dashes where it shares a
          // path with others come and go with its box
          return t.meta === "variant" || t.meta === "official" || t.meta === "shared"
            ? shown[t.legendgroup] === true
            : true;
        });
        // the shading spans the variants shown, panel by panel
        var xs = [], ys = [], idx = [];
        div.data.forEach(function (t, i) {
          if (t.meta !== "range-low") return;
          var axis = t.xaxis || "x";
          var all = div.data.filter(function (u) {
            return u.meta === "variant" && (u.xaxis || "x") === axis;
          });
          var lines = all.filter(function (u) { return shown[u.legendgroup]; });
          var edges = rangeEdges(all[0].x, lines.map(function (u) { return u.y; }));
          xs.push(edges.x, edges.x);
          ys.push(edges.lo, edges.hi);
          idx.push(i, i + 1);
        });
        Plotly.restyle(div, { visible: visible }).then(function () {
          return unstackText(div);
        });
        if (idx.length) Plotly.restyle(div, { x: xs, y: ys }, idx);
        var marks = Object.keys(targets).map(Number);
        if (marks.length) {
          var kept = marks.map(function (i) { return ticked(targets[i], shown); });
          Plotly.restyle(div, {
            x: kept.map(function (k) { return k.x; }),
            y: kept.map(function (k) { return k.y; }),
            customdata: kept.map(function (k) { return k.customdata; }),
          }, marks);
        }
      }
      boxes.forEach(function (b) { b.addEventListener("change", apply); });
      document.querySelectorAll("#envelope-h ~ fieldset.toggles button").forEach(function (btn) {
        btn.addEventListener("click", function () {
          boxes.forEach(function (b) { b.checked = btn.getAttribute("data-all") === "1"; });
          apply();
        });
      });
    }

    // ---------------------------------------------------------------- fan
    // (the fan, and the fan weighted by the reports: ids fan-... and fan-conditioned-...)
    function fanControls(div) {
      var stem = div.id.replace(/-chart$/, "");
      var select = document.getElementById(stem + "-variant");
      var description = document.getElementById(stem + "-description");
      if (!select) return;
      select.addEventListener("change", function () {
        var chosen = select.value;
        var visible = div.data.map(function (t) {
          // observations by what they draw: a variant may be called "observed"
          return /^observed/.test(t.meta || "") || t.legendgroup === chosen;
        });
        Plotly.restyle(div, { visible: visible }).then(function () {
          return unstackText(div);
        }).then(function () {
          return makeRoom(div);
        });
        var option = select.options[select.selectedIndex];
        if (description) description.textContent = option.getAttribute("data-description") || "";
      });
    }

    var drawn = [];
    var env = draw("envelope-chart");
    if (env) drawn.push(env.then(envelopeControls));
    ["fan-chart", "fan-conditioned-chart"].forEach(function (id) {
      var fan = draw(id);
      if (fan) drawn.push(fan.then(fanControls));
    });
    Promise.all(drawn).then(function () {
      document.documentElement.setAttribute("data-charts", "ready");
    });
  }
})();
