// reportgen page behaviour: sortable tables and row filters.
// Inlined into each page; works from file:// with no network.
(function () {
  "use strict";
  window.reportgenPage = true;  // flame.js leaves "/" to this page's router

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var v = cell.getAttribute("data-value");
    return v === null ? cell.textContent.trim().toLowerCase() : parseFloat(v);
  }

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.hasAttribute("data-numeric");
    var asc = th.getAttribute("aria-sort") === "descending";
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
  }

  function filterRows(table, text, counter) {
    var re = null;
    try { re = new RegExp(text, "i"); } catch (e) { re = null; }
    var needle = text.toLowerCase(), shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var name = r.getAttribute("data-name") || r.textContent;
      var hit = !text || (re ? re.test(name) : name.toLowerCase().indexOf(needle) >= 0);
      r.hidden = !hit;
      if (hit) shown++;
    });
    if (counter) counter.textContent = shown + " of " + table.tBodies[0].rows.length + " rows";
  }

  document.querySelectorAll("table.data").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th); }
      });
    });
  });

  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var counter = document.getElementById(input.getAttribute("data-filter") + "-count");
    if (!table) return;
    input.addEventListener("input", function () { filterRows(table, input.value, counter); });
  });

  // "/" focuses the search box of the panel under the pointer (a flame graph
  // or a table), else of the panel holding the focus, else the page's first.
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
})();
