// Trace timeline: goroutine lanes on a canvas; wheel zooms, drag pans, hover explains.
(function () {
  "use strict";
  var canvas = document.getElementById("timeline");
  var tip = document.getElementById("timeline-tip");
  var dataEl = document.getElementById("timeline-data");
  if (!canvas || !dataEl) return;
  var d = JSON.parse(dataEl.textContent);
  var LANE = 14, TOP = 20, LABEL = 220;
  var COLORS = {"run": "#d7191c", "wait-p": "#2c7bb6", "blocked": "#d01c8b", "syscall": "#7b3294"};
  var view = {a: 0, b: Math.max(1, d.end)};
  var ctx = canvas.getContext("2d");

  function size() {
    var ratio = window.devicePixelRatio || 1;
    var w = canvas.clientWidth;
    canvas.width = w * ratio;
    canvas.height = (TOP + LANE * d.lanes.length + 4) * ratio;
    canvas.style.height = (TOP + LANE * d.lanes.length + 4) + "px";
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }
  function xOf(t) { return LABEL + (t - view.a) / (view.b - view.a) * (canvas.clientWidth - LABEL); }
  function tOf(x) { return view.a + (x - LABEL) / (canvas.clientWidth - LABEL) * (view.b - view.a); }
  function ms(ns) { return (ns / 1e6).toFixed(3) + " ms"; }
  function fg() { return getComputedStyle(document.body).color; }

  function draw() {
    var w = canvas.clientWidth;
    ctx.clearRect(0, 0, w, canvas.height);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = fg();
    for (var k = 0; k <= 4; k++) {
      var t = view.a + (view.b - view.a) * k / 4;
      ctx.fillText(ms(t), Math.min(xOf(t), w - 70), 12);
    }
    d.lanes.forEach(function (lane, i) {
      var y = TOP + i * LANE;
      ctx.fillStyle = fg();
      ctx.save();
      ctx.beginPath(); ctx.rect(0, y, LABEL - 4, LANE); ctx.clip();
      ctx.fillText(lane.label, 2, y + 11);
      ctx.restore();
      var segs = lane.segs;
      for (var j = lidx(segs, view.a); j < segs.length; j++) {
        var s = segs[j];
        if (s[0] > view.b) break;
        var x0 = Math.max(LABEL, xOf(s[0])), x1 = Math.min(w, xOf(s[1]));
        if (x1 < LABEL) continue;
        var st = s[2], merged = st.charAt(0) === "~";
        ctx.fillStyle = COLORS[merged ? st.slice(1) : st] || "#636363";
        ctx.globalAlpha = merged ? 0.55 : 1;
        ctx.fillRect(x0, y + 2, Math.max(1, x1 - x0), LANE - 4);
      }
      ctx.globalAlpha = 1;
    });
  }
  // first segment that may end after t (segments are sorted by start and do not overlap)
  function lidx(segs, t) {
    var lo = 0, hi = segs.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (segs[m][1] < t) lo = m + 1; else hi = m; }
    return lo;
  }
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect(), x = e.clientX - r.left;
    if (x < LABEL) return;
    var t = tOf(x), f = e.deltaY < 0 ? 0.8 : 1.25;
    var a = t - (t - view.a) * f, b = t + (view.b - t) * f;
    if (b - a < 1000) return;
    view.a = Math.max(0, a); view.b = Math.min(d.end, b);
    draw();
  }, {passive: false});
  var drag = null;
  canvas.addEventListener("mousedown", function (e) { drag = {x: e.clientX, a: view.a, b: view.b}; });
  window.addEventListener("mouseup", function () { drag = null; });
  canvas.addEventListener("dblclick", function () { view.a = 0; view.b = Math.max(1, d.end); draw(); });
  canvas.addEventListener("mousemove", function (e) {
    var r = canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    if (drag) {
      var dt = (e.clientX - drag.x) / (canvas.clientWidth - LABEL) * (drag.b - drag.a);
      var span = drag.b - drag.a, a = Math.min(Math.max(0, drag.a - dt), d.end - span);
      view.a = a; view.b = a + span; draw(); return;
    }
    var i = Math.floor((y - TOP) / LANE), lane = d.lanes[i];
    if (!lane || x < LABEL) { tip.style.display = "none"; return; }
    var t = tOf(x), segs = lane.segs, j = lidx(segs, t), s = segs[j];
    if (!s || s[0] > t) { tip.style.display = "none"; return; }
    var st = s[2], text = lane.label + "\n";
    text += (st.charAt(0) === "~" ? "mostly " + st.slice(1) + " (short stretches merged)" : st) +
      (d.reasons[s[3]] ? " (" + d.reasons[s[3]] + ")" : "") + "\n" + ms(s[0]) + " – " + ms(s[1]) +
      " (" + ms(s[1] - s[0]) + ")";
    if (d.stacks[s[4]]) text += "\n" + d.stacks[s[4]];
    tip.textContent = text;
    tip.style.display = "block";
    tip.style.left = Math.min(x + 12, canvas.clientWidth * 0.4) + "px";
    tip.style.top = (y + 12) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  window.addEventListener("resize", function () { size(); draw(); });
  size(); draw();
})();
