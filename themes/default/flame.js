// reportgen flame graph behaviour: zoom, search, tooltips, keyboard, flame/icicle;
// for a diff graph (D.diff) also before/after tooltips and target/base widths.
// Inlined into every flame graph SVG (standalone or inside a page). The only
// global is window.reportgenFlame(id); it is idempotent and keeps all state
// in a closure per graph, so graphs on one page never share anything.
(function () {
  "use strict";
  if (window.reportgenFlame) return;
  var SVGNS = "http://www.w3.org/2000/svg";
  var DIGIT = {};
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split("")
    .forEach(function (c, i) { DIGIT[c] = i; });

  // VLQ: 5 bits a character, the sixth bit says another character follows.
  // Arithmetic, not bit operators: values exceed 32 bits.
  function decode(s) {
    var out = [], val = 0, mul = 1;
    for (var i = 0; i < s.length; i++) {
      var d = DIGIT[s.charAt(i)];
      val += (d & 31) * mul;
      if (d & 32) { mul *= 32; } else { out.push(val); val = 0; mul = 1; }
    }
    return out;
  }
  function unzig(z) { return z % 2 ? -(z + 1) / 2 : z / 2; }

  // Same rules as reportgen.units.label: the largest unit reached, 2 decimals.
  function label(v, scale) {
    var a = Math.abs(v), best = null, i;
    for (i = 0; i < scale.length; i++) {
      if (a / scale[i][1] >= 1 && (!best || scale[i][1] >= best[1])) best = scale[i];
    }
    if (!best && scale.length) {
      best = scale.filter(function (u) { return u[0] === "B" || u[0] === "s"; })[0] || scale[0];
    }
    var text = (best ? v / best[1] : v).toFixed(2);
    if (text.slice(-3) === ".00") text = text.slice(0, -3);
    if (text === "0" || text === "-0") return "0";
    return text + (best ? best[0] : "");
  }
  function pct(v, total) { return (total ? Math.abs(v) / total * 100 : 0).toFixed(2) + "%"; }

  // Same rules as reportgen.render.flamegraph.fit_name.
  function head(name) { var i = name.search(/[(\[ ]/); return i < 0 ? name : name.slice(0, i); }
  function shortForms(name) {
    var forms = [name], h = head(name), cut = h.lastIndexOf("/") + 1;
    if (cut) forms.push(name.slice(cut));
    var dot = h.slice(cut).indexOf(".");
    if (dot > 0) forms.push(name.slice(cut + dot + 1));
    return forms;
  }
  function fitName(name, chars) {
    var forms = shortForms(name);
    for (var i = 0; i < forms.length; i++) if (forms[i].length <= chars) return forms[i];
    return chars >= 3 ? forms[forms.length - 1].slice(0, chars - 1) + "\u2026" : "";
  }

  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  var tables = {};
  function strings(tid) {
    if (!tables[tid]) tables[tid] = JSON.parse(document.getElementById(tid).textContent);
    return tables[tid];
  }

  window.reportgenFlame = function (id) {
    var svg = document.getElementById(id);
    if (!svg || svg.getAttribute("data-ready")) return;
    svg.setAttribute("data-ready", "1");
    var D = JSON.parse(document.getElementById(id + "-data").textContent);
    if (D.strings) {  // a page's graphs share one table of frame names
      var T = strings(D.strings);
      D.names = T.names; D.files = T.files; D.lines = T.lines; D.cls = T.cls;
    }
    var N = D.n, F = D.fields, raw = decode(D.enc);
    var depth = new Int32Array(N), parent = new Int32Array(N), frame = new Int32Array(N);
    var end = new Int32Array(N), w = new Float64Array(N), self = new Float64Array(N);
    var tot = new Float64Array(N), off = new Float64Array(N), next = new Float64Array(N);
    // A diff has both sides per node; w is the drawn side's totals.
    var diff = !!D.diff, after, before, selfA, selfB, bin, wA, wB;
    if (diff) {
      after = new Float64Array(N); before = new Float64Array(N); bin = new Int32Array(N);
      selfA = new Float64Array(N); selfB = new Float64Array(N);
    }
    var path = [], i;
    // Preorder with "levels up" per node rebuilds the tree.
    for (i = 0; i < N; i++) {
      var b = i * F, d = i ? depth[i - 1] + 1 - raw[b] : 0;
      depth[i] = d; path[d] = i; path.length = d + 1;
      parent[i] = d ? path[d - 1] : -1;
      frame[i] = raw[b + 1];
      if (diff) {
        after[i] = unzig(raw[b + 2]) * D.q; selfA[i] = unzig(raw[b + 3]) * D.q;
        before[i] = unzig(raw[b + 4]) * D.q; selfB[i] = unzig(raw[b + 5]) * D.q;
        bin[i] = raw[b + 6];
      } else {
        w[i] = raw[b + 2] * D.q; self[i] = unzig(raw[b + 3]) * D.q;
        tot[i] = F > 4 ? unzig(raw[b + 4]) * D.q : w[i];
      }
      end[i] = i + 1;
    }
    for (i = N - 1; i > 0; i--) end[parent[i]] = Math.max(end[parent[i]], end[i]);
    if (diff) {  // no negative widths, even if a profile had negative values
      wA = after.map(function (v) { return Math.max(v, 0); });
      wB = before.map(function (v) { return Math.max(v, 0); });
      w = D.widths === "base" ? wB : wA;
    }
    // Children sit left to right in order, each as wide as its value.
    function layout() {
      for (var n = 0; n < N; n++) {
        if (n) { off[n] = next[parent[n]]; next[parent[n]] += w[n]; }
        next[n] = off[n];
      }
    }
    layout();
    // The decoded tree, for the page's sandwich view (report.js).
    window.reportgenFlame.trees[id] = {
      n: N, parent: parent, frame: frame, end: end, depth: depth, names: D.names,
      files: D.files, lines: D.lines, cls: D.cls, total: tot, self: self, weight: w,
      unit: D.unit, scale: D.scale, all: D.total, reverse: D.reverse
    };

    var W = D.W, PAD = D.pad, FW = W - 2 * PAD, ROW = D.row, CW = D.cw;
    var group = document.getElementById(id + "-frames");
    var input = document.getElementById(id + "-q");
    var matchedText = document.getElementById(id + "-matched");
    var orientBtn = document.getElementById(id + "-orient");
    var S = { zoom: 0, focus: 0, orient: D.orient, match: null, rects: {} };

    function isMatch(n) { return n > 0 && S.match !== null && S.match[frame[n]] === 1; }
    function frameClass(n, extra) {
      return "c" + (diff ? bin[n] : D.cls[frame[n]]) + (isMatch(n) ? " m" : "") + extra;
    }
    // The nearest frame with a width: what is in one side only has none in the other.
    function shown(n) { while (n > 0 && !(w[n] > 0)) n = parent[n]; return n; }
    function rowY(d) { return D.top + (S.orient === "icicle" ? d : D.maxd - d) * ROW; }

    function addFrame(n, x, px, extra, frag) {
      var y = rowY(depth[n]);
      var rect = el("rect", {
        x: x.toFixed(1), y: y, width: px.toFixed(1), height: ROW - 1, "data-n": n,
        "class": frameClass(n, extra),
        tabindex: n === S.focus ? "0" : "-1"
      }, frag);
      S.rects[n] = rect;
      if (px >= 3 * CW + 6) {
        var text = fitName(D.names[frame[n]], Math.floor((px - 6) / CW));
        var tc = extra.trim();
        if (diff) {  // light text on the darkest colours; labels fade with their frame
          tc = (tc + (D.dark.indexOf(bin[n]) >= 0 ? " dk" : "") + (isMatch(n) ? " m" : "")).trim();
        }
        if (text) el("text", { x: (x + 3).toFixed(1), y: y + 11, "class": tc }, frag)
          .textContent = text;
      }
    }

    function draw() {
      var frag = document.createDocumentFragment(), z = S.zoom;
      var scale = FW / (w[z] || 1), x0 = off[z], n;
      S.rects = {};
      for (n = parent[z]; n >= 0; n = parent[n]) addFrame(n, PAD, FW, " a", frag);
      for (n = z; n < end[z];) {
        var px = w[n] * scale;
        if (px < D.minpx) { n = end[n]; continue; }  // its whole subtree is narrower
        addFrame(n, PAD + (off[n] - x0) * scale, px, "", frag);
        n++;
      }
      if (!S.rects[S.focus]) S.focus = z;
      if (S.rects[S.focus]) S.rects[S.focus].setAttribute("tabindex", "0");
      group.textContent = "";
      group.appendChild(frag);
    }

    // Topmost matches only: a match inside a matched frame is not counted again.
    function matchedValue(z) {
      for (var a = z; a >= 0; a = parent[a]) if (isMatch(a)) return w[z];
      var sum = 0;
      for (var n = z + 1; n < end[z];) {
        if (isMatch(n)) { sum += w[n]; n = end[n]; } else n++;
      }
      return sum;
    }

    function showMatched(error) {
      matchedText.setAttribute("class", error ? "bad" : "");
      if (error) { matchedText.textContent = "Invalid regular expression"; return; }
      if (S.match === null) { matchedText.textContent = ""; return; }
      var text = "Matched: " + pct(matchedValue(0), w[0]) + " of total";
      if (S.zoom) text += ", " + pct(matchedValue(S.zoom), w[S.zoom]) + " of the zoomed frame";
      matchedText.textContent = text;
    }

    function search(query) {
      var re = null, bad = false;
      try {
        // Smart case: a lower-case query matches either case.
        if (query) re = new RegExp(query, query.toLowerCase() === query ? "i" : "");
      } catch (e) { bad = true; }
      S.match = re ? new Uint8Array(D.names.length) : null;
      if (re) D.names.forEach(function (name, k) { S.match[k] = re.test(name) ? 1 : 0; });
      if (diff) {
        // A diff keeps its colours on matches and fades the rest, labels too.
        svg.classList.toggle("searching", S.match !== null);
        draw();
      } else {
        // Only colours change: recolour the drawn frames instead of redrawing.
        // Drawn frames before the zoomed one in preorder are its faded ancestors.
        Object.keys(S.rects).forEach(function (key) {
          S.rects[key].setAttribute("class", frameClass(+key, +key < S.zoom ? " a" : ""));
        });
      }
      showMatched(bad);
    }

    function readHash() {
      var items = location.hash.replace(/^#/, "").split("&");
      for (var k = 0; k < items.length; k++) {
        var cut = items[k].lastIndexOf(":"), num = items[k].slice(cut + 1);
        if (cut > 0 && items[k].slice(0, cut) === id && /^[0-9]+$/.test(num) && +num < N) {
          return +num;
        }
      }
      return 0;
    }

    function writeHash() {
      var items = location.hash.replace(/^#/, "").split("&").filter(function (s) {
        return s && s.slice(0, s.lastIndexOf(":")) !== id;
      });
      if (S.zoom) items.push(id + ":" + S.zoom);
      var url = items.length ? "#" + items.join("&") : location.pathname + location.search;
      try { history.pushState(null, "", url); } catch (e) { location.hash = items.join("&"); }
    }

    function zoom(n, fromHistory) {
      if (n === S.zoom) return;
      S.zoom = n; S.focus = n;
      hideTip();
      draw();
      showMatched(false);
      if (!fromHistory) writeHash();
    }

    function reset() {
      input.value = "";
      S.match = null;
      if (S.zoom) zoom(0); else draw();
      showMatched(false);
    }

    // Tooltip: one group on top of everything, filled on hover or focus.
    var tip = el("g", { id: id + "-tip", "class": "tip", visibility: "hidden" }, svg);
    var tipBox = el("rect", { rx: 4 }, tip), tipText = el("text", {}, tip);

    function tipLines(n) {
      var name = D.names[frame[n]], lines = [], k;
      for (k = 0; k < name.length && lines.length < 3; k += 150) lines.push(name.slice(k, k + 150));
      if (k < name.length) lines[2] += "\u2026";
      var file = D.files[frame[n]];
      if (file) lines.push(file + (D.lines[frame[n]] ? ":" + D.lines[frame[n]] : ""));
      if (diff) {
        lines.push(change("", before[n], after[n]));
        lines.push(change("self: ", selfB[n], selfA[n]));
      } else {
        lines.push("total " + label(tot[n], D.scale) + " (" + pct(tot[n], D.total) + ")   self " +
                   label(self[n], D.scale) + " (" + pct(self[n], D.total) + ")");
      }
      if (S.zoom && n >= S.zoom && n < end[S.zoom]) {
        lines.push(pct(w[n], w[S.zoom]) + " of the zoomed frame");
      }
      return lines;
    }

    // "before X, after Y, delta +Z (+p%)", p of before, as the diff page writes it.
    function change(prefix, b, a) {
      var d = a - b, p = b ? (d >= 0 ? "+" : "") + (d / b * 100).toFixed(1) + "%"
        : a ? "new" : "none";
      return prefix + "before " + label(b, D.scale) + ", after " + label(a, D.scale) +
        ", delta " + (d > 0 ? "+" : "") + label(d, D.scale) + " (" + p + ")";
    }

    var tipNode = -1, tipW = 0, tipH = 0;
    function showTip(n, x, y) {
      tip.setAttribute("visibility", "visible");
      if (n !== tipNode) {  // measuring text forces a layout: only when the frame changes
        tipNode = n;
        tipText.textContent = "";
        var lines = tipLines(n), width = 0;
        lines.forEach(function (line, k) {
          var t = el("tspan", { x: 8, dy: k ? 16 : 0, "class": k ? "" : "b" }, tipText);
          t.textContent = line;
        });
        Array.prototype.forEach.call(tipText.childNodes, function (t) {
          width = Math.max(width, t.getComputedTextLength());
        });
        tipW = Math.min(width + 16, W - 2 * PAD);
        tipH = lines.length * 16 + 8;
        tipText.setAttribute("y", 16);
        tipBox.setAttribute("width", tipW);
        tipBox.setAttribute("height", tipH);
      }
      var width = tipW, height = tipH;
      var tx = Math.max(PAD, Math.min(x + 12, W - PAD - width));
      var ty = y + 18 + height > svg.viewBox.baseVal.height ? y - height - 8 : y + 18;
      tip.setAttribute("transform",
                       "translate(" + tx.toFixed(1) + "," + Math.max(0, ty).toFixed(1) + ")");
    }
    function hideTip() { tip.setAttribute("visibility", "hidden"); tipNode = -1; }

    function svgPoint(e) {
      var m = svg.getScreenCTM();
      if (!m) return { x: 0, y: 0 };
      var p = svg.createSVGPoint();
      p.x = e.clientX; p.y = e.clientY;
      return p.matrixTransform(m.inverse());
    }
    function nodeOf(target) {
      var n = target && target.getAttribute && target.getAttribute("data-n");
      return n === null || n === undefined ? -1 : +n;
    }

    group.addEventListener("mousemove", function (e) {
      var n = nodeOf(e.target);
      if (n < 0) { hideTip(); return; }
      var p = svgPoint(e);
      showTip(n, p.x, p.y);
    });
    group.addEventListener("mouseleave", hideTip);
    group.addEventListener("click", function (e) {
      var n = nodeOf(e.target);
      if (n >= 0) zoom(n);
    });
    group.addEventListener("focusin", function (e) {
      var n = nodeOf(e.target);
      if (n < 0) return;
      S.focus = n;
      e.target.setAttribute("aria-label", tipLines(n).join("; "));  // for screen readers
      showTip(n, +e.target.getAttribute("x"), +e.target.getAttribute("y"));
    });
    group.addEventListener("focusout", hideTip);

    function moveFocus(n) {
      if (n < 0 || !S.rects[n]) return;
      var old = S.rects[S.focus];
      if (old) old.setAttribute("tabindex", "-1");
      S.rects[n].setAttribute("tabindex", "0");
      S.rects[n].focus();
    }
    function sibling(n, step) {
      for (var k = n + step; k >= 0 && k < N; k += step) {
        if (depth[k] < depth[n]) return -1;
        if (depth[k] === depth[n] && S.rects[k]) return k;
      }
      return -1;
    }
    group.addEventListener("keydown", function (e) {
      var n = nodeOf(e.target);
      if (n < 0) return;
      var up = S.orient === "icicle" ? "ArrowUp" : "ArrowDown";
      var down = S.orient === "icicle" ? "ArrowDown" : "ArrowUp";
      if (e.key === "Enter" || e.key === " ") { zoom(n); moveFocus(S.zoom); }
      else if (e.key === up) moveFocus(parent[n]);
      else if (e.key === down) moveFocus(end[n] > n + 1 && S.rects[n + 1] ? n + 1 : -1);
      else if (e.key === "ArrowLeft") moveFocus(sibling(n, -1));
      else if (e.key === "ArrowRight") moveFocus(sibling(n, 1));
      else return;
      e.preventDefault();
    });

    function button(name, action) {
      var b = document.getElementById(id + "-" + name);
      b.addEventListener("click", action);
      b.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); action(); }
      });
    }
    button("reset", reset);
    button("orient", function () {
      S.orient = S.orient === "icicle" ? "flame" : "icicle";
      orientBtn.querySelector("text").textContent = S.orient === "icicle" ? "Flame" : "Icicle";
      draw();
    });
    function openSandwich() {
      var n = S.zoom || S.focus;
      if (window.reportgenSandwich && n > 0) window.reportgenSandwich(D.names[frame[n]]);
    }
    if (document.getElementById(id + "-sandwich")) button("sandwich", openSandwich);
    group.addEventListener("keydown", function (e) {
      var n = nodeOf(e.target);
      if (e.key === "s" && n > 0 && window.reportgenSandwich) {
        e.preventDefault();
        window.reportgenSandwich(D.names[frame[n]]);
      }
    });
    if (diff) {
      button("widths", function () {
        w = w === wA ? wB : wA;
        var base = w === wB;
        document.getElementById(id + "-widths").querySelector("text").textContent =
          base ? "Target widths" : "Base widths";
        document.getElementById(id + "-wnote").textContent = D.wnotes[base ? "base" : "target"];
        layout();
        hideTip();
        var z = shown(S.zoom);
        if (z !== S.zoom) zoom(z); else draw();
        showMatched(false);
      });
    }
    input.addEventListener("input", function () { search(input.value); });

    // "/" and Esc act on the graph under the pointer or holding the focus;
    // with none, "/" goes to the first graph on the page.
    function active(g) {
      return g.matches(":hover") || g.contains(document.activeElement);
    }
    document.addEventListener("keydown", function (e) {
      // On a report page, report.js routes "/" to the panel under the pointer.
      if (e.key === "/" && !window.reportgenPage &&
          !/^(input|textarea|select)$/i.test(e.target.tagName || "")) {
        var all = Array.prototype.slice.call(document.querySelectorAll("svg.rgflame"));
        var owner = all.filter(active)[0] || all[0];
        if (owner === svg) { e.preventDefault(); input.focus(); }
      } else if (e.key === "Escape" && active(svg)) {
        reset();
        if (document.activeElement === input) input.blur();
      }
    });
    function fromHistory() { var n = shown(readHash()); if (n !== S.zoom) zoom(n, true); }
    window.addEventListener("popstate", fromHistory);
    window.addEventListener("hashchange", fromHistory);

    S.zoom = shown(readHash());
    S.focus = S.zoom;
    draw();
    if (input.value) search(input.value);  // a browser may restore the field
    if (S.zoom && document.documentElement !== svg && svg.scrollIntoView) svg.scrollIntoView();
  };
  window.reportgenFlame.trees = {};
  // Shared with report.js (loaded after this file in a site's assets).
  window.reportgenFlame.util = { decode: decode, unzig: unzig, label: label, pct: pct };
})();
