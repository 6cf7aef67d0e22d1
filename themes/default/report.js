// reportgen page behaviour: sortable tables, filters over every function of a
// profile, callers/callees sections, the sandwich view, "/" to search.
// One file per site (assets/report.js, after flame.js); works from file://.
(function () {
  "use strict";
  window.reportgenPage = true;  // flame.js leaves "/" to this page's router

  // --- helpers: flame.js's (units.label, VLQ), escaping, anchors

  var U = window.reportgenFlame.util;  // flame.js comes first in assets/report.js
  var decode = U.decode, unzig = U.unzig, label = U.label;
  // flame.js's pct shows magnitudes; a table's percentages keep their sign.
  function pct(v, total) { return (total ? v / total * 100 : 0).toFixed(2) + "%"; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // SHA-1, for reportgen.render.site.anchor: readable tail + 8 hex of sha1(utf-8).
  function sha1hex(str) {
    var bytes = new TextEncoder().encode(str), n = bytes.length;
    var words = new Array(((n + 8) >> 6) + 1 << 4).fill(0), i;
    for (i = 0; i < n; i++) words[i >> 2] |= bytes[i] << (24 - (i & 3) * 8);
    words[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
    words[words.length - 1] = n * 8;
    var h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0], w = new Array(80);
    for (var b = 0; b < words.length; b += 16) {
      var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
      for (i = 0; i < 80; i++) {
        w[i] = i < 16 ? words[b + i] : rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        var f, k;
        if (i < 20) { f = (bb & c) | (~bb & d); k = 0x5A827999; }
        else if (i < 40) { f = bb ^ c ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (bb & c) | (bb & d) | (c & d); k = 0x8F1BBCDC; }
        else { f = bb ^ c ^ d; k = 0xCA62C1D6; }
        var t = (rol(a, 5) + f + e + k + w[i]) | 0;
        e = d; d = c; c = rol(bb, 30); bb = a; a = t;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0;
      h[3] = (h[3] + d) | 0; h[4] = (h[4] + e) | 0;
    }
    return h.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }
  function rol(x, s) { return (x << s) | (x >>> (32 - s)); }
  var anchors = {};
  function anchor(name) {
    if (anchors[name] === undefined) {
      var slug = name.slice(name.lastIndexOf("/") + 1).replace(/[^A-Za-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "").slice(0, 40);
      var digest = sha1hex(name).slice(0, 8);
      anchors[name] = slug ? slug + "-" + digest : digest;
    }
    return anchors[name];
  }
  window.reportgenAnchor = anchor;

  // A name as macros.html.j2's nm shows it: isolated in <bdi> (its bidi controls
  // arrive as visible escapes, see render.names), breakable after each "/".
  function nm(name) { return "<bdi>" + esc(name).replace(/\//g, "/<wbr>") + "</bdi>"; }

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  // --- callers/callees page: every function's section, from the page's model

  function renderCalls(box) {
    var M = json(box.getAttribute("data-model"));
    var names = M.names, N = names.length, q = M.q, raw = decode(M.enc), i;
    var flat = new Float64Array(N), cum = new Float64Array(N);
    for (i = 0; i < N; i++) { flat[i] = unzig(raw[2 * i]) * q; cum[i] = unzig(raw[2 * i + 1]) * q; }
    var e = decode(M.edges), callers = [], callees = [];
    for (i = 0; i < N; i++) { callers.push([]); callees.push([]); }
    // Steps, as reportgen.render.function_tables.calls_model packs them.
    var src = 0, dst = 0;
    for (i = 0; i < e.length; i += 3) {
      src += e[i];
      dst = (e[i] === 0 ? dst : 0) + e[i + 1];
      var edge = { src: src, dst: dst, w: unzig(Math.floor(e[i + 2] / 2)) * q, inl: e[i + 2] % 2 };
      callees[edge.src].push(edge); callers[edge.dst].push(edge);
    }
    // pprof's order: |weight| descending, then the other end's name (index = rank).
    function order(list, other) {
      return list.sort(function (x, y) {
        return Math.abs(y.w) - Math.abs(x.w) || x[other] - y[other];
      });
    }
    function rows(list, other) {
      if (!list.length) return '<tr><td colspan="3" class="muted">none</td></tr>';
      return order(list, other).map(function (ed) {
        var name = names[ed[other]];
        return '<tr data-name="' + esc(name) + '"><td class="num" data-value="' + ed.w + '">' +
          esc(label(ed.w, M.scale)) + '</td><td class="num" data-value="' + ed.w + '">' +
          pct(ed.w, M.total) + '</td><td class="name"><a href="#fn-' + anchor(name) + '">' +
          nm(name) + "</a>" + (ed.inl ? ' <span class="tag">(inline)</span>' : "") + "</td></tr>";
      }).join("");
    }
    // Sections in pprof -peek's order: flat descending, then name, then cum.
    var ids = []; for (i = 0; i < N; i++) ids.push(i);
    ids.sort(function (a, b) {
      return Math.abs(flat[b]) - Math.abs(flat[a]) || a - b || Math.abs(cum[b]) - Math.abs(cum[a]);
    });
    var head = '<thead><tr><th data-numeric>value</th><th data-numeric>%</th><th class="name">';
    box.innerHTML = ids.map(function (n) {
      return '<section class="peek" id="fn-' + anchor(names[n]) + '"><h3>' + nm(names[n]) +
        '</h3><div class="facts"><span>flat: <b>' + esc(label(flat[n], M.scale)) + "</b> (" +
        pct(flat[n], M.total) + ")</span><span>cum: <b>" + esc(label(cum[n], M.scale)) +
        "</b> (" + pct(cum[n], M.total) + ')</span></div><div class="pair"><table class="data">' +
        "<caption>Called by</caption>" + head + "caller</th></tr></thead><tbody>" +
        rows(callers[n], "src") + '</tbody></table><table class="data"><caption>Calls</caption>' +
        head + "callee</th></tr></thead><tbody>" + rows(callees[n], "dst") +
        "</tbody></table></div></section>";
    }).join("");
    function target() {
      var old = box.querySelector("section.target");
      if (old) old.classList.remove("target");
      var id = decodeURIComponent(location.hash.slice(1)), sec = id && document.getElementById(id);
      if (sec && box.contains(sec)) { sec.classList.add("target"); sec.scrollIntoView(); }
    }
    window.addEventListener("hashchange", target);
    target();
  }
  document.querySelectorAll("[data-calls]").forEach(renderCalls);

  // --- sortable tables (one delegated listener: rows may be rendered later)

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var v = cell.getAttribute("data-value");
    return v === null ? cell.textContent.trim().toLowerCase() : parseFloat(v);
  }

  // sum% is a running sum in the shown order: recompute it after any re-sort.
  function runningSum(table) {
    var ths = table.tHead ? table.tHead.rows[0].cells : [], s = -1, f = -1, v = -1, k;
    for (k = 0; k < ths.length; k++) {
      if (ths[k].hasAttribute("data-sum")) s = k;
      if (ths[k].hasAttribute("data-flatpct")) f = k;
      if (ths[k].hasAttribute("data-flat")) v = k;
    }
    if (s < 0 || f < 0 || v < 0) return;
    var run = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      if (r.hidden || !r.cells[f]) return;
      var sign = parseFloat(r.cells[v].getAttribute("data-value")) < 0 ? -1 : 1;
      run += sign * (parseFloat(r.cells[f].getAttribute("data-value")) || 0);
      r.cells[s].setAttribute("data-value", run.toFixed(4));
      r.cells[s].textContent = Math.abs(run).toFixed(2) + "%";
    });
  }

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.hasAttribute("data-numeric");
    var was = th.getAttribute("aria-sort");
    // Numbers start largest first, text A to Z; a second click reverses.
    var asc = was ? was === "descending" : !numeric;
    Array.prototype.forEach.call(th.parentNode.children, function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (numeric) { x = Math.abs(x); y = Math.abs(y); }
      var c = x < y ? -1 : x > y ? 1 : 0;
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    runningSum(table);
  }

  function headerOf(e) {
    var th = e.target.closest && e.target.closest("table.data thead th");
    return th ? [th.closest("table"), th] : null;
  }
  document.addEventListener("click", function (e) {
    var hit = headerOf(e);
    if (hit) sortBy(hit[0], hit[1]);
  });
  document.addEventListener("keydown", function (e) {
    var hit = (e.key === "Enter" || e.key === " ") && headerOf(e);
    if (hit) { e.preventDefault(); sortBy(hit[0], hit[1]); }
  });
  document.querySelectorAll("table.data thead th").forEach(function (th) { th.tabIndex = 0; });

  // --- filters; a table with a model filters, sorts and switches over all functions

  function compile(text) {
    try { return new RegExp(text, "i"); } catch (e) {
      var needle = text.toLowerCase();
      return { test: function (s) { return s.toLowerCase().indexOf(needle) >= 0; } };
    }
  }

  function filterRows(table, text, counter) {
    var re = compile(text), shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var hit = !text || re.test(r.getAttribute("data-name") || r.textContent);
      r.hidden = !hit;
      if (hit) shown++;
    });
    if (counter) counter.textContent = shown + " of " + table.tBodies[0].rows.length + " rows";
    runningSum(table);
  }

  var LIMIT = 100, FILTER_LIMIT = 1000;

  function ModelTable(table, tools) {
    var M = null, state = { type: 0, sort: table.getAttribute("data-sort") || "flat", q: "" };
    var counter = document.getElementById(table.id + "-count");
    var sandwich = !!document.getElementById("sandwich");
    function model() {
      if (M) return M;
      M = json(table.getAttribute("data-model"));
      if (M.names_ref) {  // names shared with the page's flame graphs, by index
        var T = json(M.names_ref);
        M.names = M.names.map(function (x) { return typeof x === "number" ? T.names[x] : x; });
      }
      M.vals = M.types.map(function (t) {
        var raw = decode(t.enc), n = M.names.length, flat = new Float64Array(n),
          cum = new Float64Array(n);
        for (var i = 0; i < n; i++) { flat[i] = unzig(raw[2 * i]) * t.q; cum[i] = unzig(raw[2 * i + 1]) * t.q; }
        return { flat: flat, cum: cum };
      });
      state.type = M.cur;
      return M;
    }
    function row(i, t, run) {
      var T = M.types[t], v = M.vals[t], name = M.names[i], a = anchor(name);
      var f = v.flat[i], c = v.cum[i], inl = t === M.cur ? M.inline.charAt(i) : "0";
      var bar = T.total ? Math.min(60, Math.round(Math.abs(c) / T.total * 60)) : 0;
      var p = function (x) { return T.total ? (Math.abs(x) / T.total * 100).toFixed(4) : "0"; };
      // a diff's signed values: the template's sign_class (pos grew, neg shrank)
      var sg = function (x) { return M.diff ? (x > 0 ? " pos" : x < 0 ? " neg" : "") : ""; };
      return '<tr id="' + table.id + "-" + a + '" data-name="' + esc(name) + '">' +
        '<td class="num' + sg(f) + '" data-value="' + f + '">' + esc(label(f, T.scale)) + "</td>" +
        '<td class="num" data-value="' + p(f) + '">' + pct(f, T.total) + "</td>" +
        '<td class="num" data-value="' + run.toFixed(4) + '">' + Math.abs(run).toFixed(2) + "%</td>" +
        '<td class="num' + sg(c) + '" data-value="' + c + '">' + esc(label(c, T.scale)) + "</td>" +
        '<td class="num" data-value="' + p(c) + '"><span class="bar" style="width:' + bar +
        'px"></span>' + pct(c, T.total) + "</td>" +
        '<td class="name">' + (M.calls ? '<a href="' + esc(M.calls) + "#fn-" + a +
        '" title="Callers and callees">' + nm(name) + "</a>" : nm(name)) +
        (inl === "1" ? ' <span class="tag">(inline)</span>' : inl === "2" ?
          ' <span class="tag">(partial-inline)</span>' : "") +
        (sandwich ? ' <a class="sw" href="#sandwich" title="Callers above, callees below">sandwich</a>' : "") +
        '<a class="anchor" href="#' + table.id + "-" + a + '" aria-label="Link to this row">#</a></td></tr>';
    }
    function render() {
      model();
      var t = state.type, v = M.vals[t], key = v[state.sort], other = v[state.sort === "flat" ? "cum" : "flat"];
      var re = state.q ? compile(state.q) : null, ids = [], i;
      for (i = 0; i < M.names.length; i++) {
        if ((v.flat[i] || v.cum[i]) && (!re || re.test(M.names[i]))) ids.push(i);
      }
      // pprof's order: the key descending, then the name, then the other column.
      ids.sort(function (a, b) {
        return Math.abs(key[b]) - Math.abs(key[a]) || a - b || Math.abs(other[b]) - Math.abs(other[a]);
      });
      var limit = re ? FILTER_LIMIT : +(table.getAttribute("data-limit") || LIMIT) || LIMIT;
      var shown = ids.slice(0, limit), run = 0, T = M.types[t];
      table.tBodies[0].innerHTML = shown.map(function (k) {
        run += T.total ? v.flat[k] / T.total * 100 : 0;
        return row(k, t, run);
      }).join("");
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      if (counter) {
        counter.textContent = shown.length + " of " + ids.length + (re ? " matching" : "") +
          " functions shown" + (re ? " (of " + countAll(t) + ")" : "");
      }
    }
    function countAll(t) {
      var v = M.vals[t], n = 0;
      for (var i = 0; i < M.names.length; i++) if (v.flat[i] || v.cum[i]) n++;
      return n;
    }
    var input = tools.querySelector("input[data-filter]");
    if (input) input.addEventListener("input", function () { state.q = input.value; render(); });
    var sortSel = tools.querySelector("select[data-sort]");
    if (sortSel) sortSel.addEventListener("change", function () { state.sort = sortSel.value; render(); });
    var typeSel = tools.querySelector("select[data-type]");
    if (typeSel) typeSel.addEventListener("change", function () { model(); state.type = +typeSel.value; render(); });
  }

  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) return;
    if (table.hasAttribute("data-model")) {
      ModelTable(table, input.closest(".tools"));
      return;
    }
    var counter = document.getElementById(input.getAttribute("data-filter") + "-count");
    input.addEventListener("input", function () { filterRows(table, input.value, counter); });
  });

  // --- sandwich view: callers above, callees below, from the page's flame tree

  var SW = document.getElementById("sandwich");
  function sandwichTree(T, name, up) {
    // Merge, by name along the path, every topmost occurrence of `name`:
    // its subtree (callees) or its path to the root reversed (callers).
    var kids = [{}], w = [0], nm = [name], fr = [-1], par = [-1], n, m;
    function child(p, k) {
      var key = T.names[T.frame[k]], c = kids[p][key];
      if (c === undefined) {
        c = kids[p][key] = w.length;
        kids.push({}); w.push(0); nm.push(key); fr.push(T.frame[k]); par.push(p);
      }
      return c;
    }
    for (n = 1; n < T.n;) {
      if (T.names[T.frame[n]] !== name) { n++; continue; }
      var v = T.weight[n];
      w[0] += v; fr[0] = T.frame[n];
      if (up) {
        var p = 0;
        for (m = T.parent[n]; m > 0; m = T.parent[m]) { p = child(p, m); w[p] += v; }
      } else {
        var map = {}; map[n] = 0;
        for (m = n + 1; m < T.end[n]; m++) { map[m] = child(map[T.parent[m]], m); w[map[m]] += T.weight[m]; }
      }
      n = T.end[n];  // topmost only: recursion inside is already in the subtree
    }
    return { kids: kids, w: w, name: nm, frame: fr, parent: par };
  }

  var SVGNS = "http://www.w3.org/2000/svg";
  function drawSandwich(svg, S, T, up, open) {
    var W = 1200, PAD = 10, ROW = 16, FW = W - 2 * PAD, total = S.w[0] || 1;
    var depth = [0], x = [0], rows = 1, order = [0], k;
    for (k = 0; k < order.length; k++) {  // breadth first, children by weight
      var n = order[k], kids = S.kids[n], xs = x[n];
      Object.keys(kids).map(function (key) { return kids[key]; })
        .sort(function (a, b) { return S.w[b] - S.w[a] || (S.name[a] < S.name[b] ? -1 : 1); })
        .forEach(function (c) {
          depth[c] = depth[n] + 1; x[c] = xs; xs += S.w[c]; order.push(c);
          rows = Math.max(rows, depth[c] + 1);
        });
    }
    var H = rows * ROW + 4;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.textContent = "";
    order.forEach(function (n) {
      var px = S.w[n] / total * FW;
      if (px < 0.5) return;
      var y = up ? H - (depth[n] + 1) * ROW : depth[n] * ROW + 2, xx = PAD + x[n] / total * FW;
      var g = document.createElementNS(SVGNS, "g");
      g.setAttribute("class", "swf");
      g.setAttribute("data-name", S.name[n]);
      var r = document.createElementNS(SVGNS, "rect");
      r.setAttribute("x", xx.toFixed(1)); r.setAttribute("y", y);
      r.setAttribute("width", px.toFixed(1)); r.setAttribute("height", ROW - 1);
      r.setAttribute("fill", T.rules ? T.rules[T.cls[S.frame[n]]] : "#e0a060");
      var t = document.createElementNS(SVGNS, "title");
      t.textContent = S.name[n] + " \u2014 " + label(S.w[n], T.scale) + " (" +
        pct(S.w[n], T.all) + " of the total)";
      g.appendChild(t); g.appendChild(r);
      if (px > 30) {
        var tx = document.createElementNS(SVGNS, "text");
        tx.setAttribute("x", (xx + 3).toFixed(1)); tx.setAttribute("y", y + 11);
        var chars = Math.floor((px - 6) / 6.7), s = S.name[n];
        tx.textContent = s.length <= chars ? s : "\u2026" + s.slice(s.length - chars + 1);
        g.appendChild(tx);
      }
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", t.textContent);
      g.addEventListener("click", function () { open(S.name[n]); });
      g.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(S.name[n]); }
      });
      svg.appendChild(g);
    });
  }

  function openSandwich(name) {
    if (!SW) return;
    var T = window.reportgenFlame && window.reportgenFlame.trees[SW.getAttribute("data-graph")];
    if (!T) return;
    var tables = json(SW.getAttribute("data-strings"));
    T.rules = tables ? tables.rules : null;
    var up = sandwichTree(T, name, true), down = sandwichTree(T, name, false);
    SW.hidden = false;
    document.getElementById("sandwich-name").textContent = name;
    document.getElementById("sandwich-value").textContent = up.w[0] ?
      label(up.w[0], T.scale) + " (" + pct(up.w[0], T.all) + " of the total) passes through it." :
      "It is not in the flame graph (its frames are narrower than the graph draws).";
    drawSandwich(document.getElementById("sandwich-callers"), up, T, true, openSandwich);
    drawSandwich(document.getElementById("sandwich-callees"), down, T, false, openSandwich);
    var link = "#sandwich:" + anchor(name);
    if (location.hash !== link) {
      try { history.pushState(null, "", link); } catch (e) { location.hash = link; }
    }
    SW.scrollIntoView();
  }
  if (SW) {
    window.reportgenSandwich = openSandwich;
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a.sw");
      if (!a) return;
      e.preventDefault();
      openSandwich(a.closest("tr").getAttribute("data-name"));
    });
    document.getElementById("sandwich-close").addEventListener("click", function () {
      SW.hidden = true;
    });
  }

  // --- "/" focuses the search box of the panel under the pointer (a flame
  // graph or a table), else of the panel holding the focus, else the first.
  var pointed = null;
  document.addEventListener("mousemove", function (e) { pointed = e.target; });
  function panelBox(node) {
    for (var n = node; n && n.nodeType === 1; n = n.parentNode) {
      if (n.matches("svg.rgflame")) return document.getElementById(n.id + "-q");
      if (n.matches("table.data") && n.id) {
        var box = document.querySelector('input[data-filter="' + n.id + '"]');
        if (box) return box;
      }
      if (n.matches(".tools")) return n.querySelector("input");
    }
    return null;
  }
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || /^(input|textarea|select)$/i.test(document.activeElement.tagName)) return;
    var box = panelBox(pointed) || panelBox(document.activeElement) ||
      document.querySelector("input[data-filter], svg.rgflame input");
    if (box) { e.preventDefault(); box.focus(); }
  });

  if (window.reportgenFlame) {
    document.querySelectorAll("svg.rgflame").forEach(function (g) { window.reportgenFlame(g.id); });
  }
  // A link to a sandwich (#sandwich:ANCHOR) opens it once the graphs are drawn.
  function sandwichFromHash() {
    var m = /(?:^#|&)sandwich:([^&]+)/.exec(location.hash), T;
    if (!m || !SW) return;
    T = window.reportgenFlame && window.reportgenFlame.trees[SW.getAttribute("data-graph")];
    if (!T) return;
    for (var i = 0; i < T.names.length; i++) {
      if (anchor(T.names[i]) === m[1]) { openSandwich(T.names[i]); return; }
    }
  }
  window.addEventListener("hashchange", sandwichFromHash);
  sandwichFromHash();
})();
