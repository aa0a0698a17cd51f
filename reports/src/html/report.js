(function () {
  "use strict";
  var $ = function (s, r) { return (r || document).querySelector(s); };
  var $$ = function (s, r) { return Array.prototype.slice.call((r || document).querySelectorAll(s)); };
  var state = { o: {}, v: {}, s: "", q: "", diff: false };
  var chips = $$(".chip[data-f]");
  chips.forEach(function (c) { state[c.dataset.f][c.dataset.val] = c.getAttribute("aria-pressed") === "true"; });

  function visible(el) {
    var d = el.dataset;
    var os = (d.o || "").split(" ");
    var okO = os.some(function (o) { return state.o[o]; });
    if (!okO) return false;
    if (d.v !== undefined && state.v[d.v] === false) return false;
    if (state.s && d.s !== state.s) return false;
    if (state.q && d.q !== undefined && d.q.indexOf(state.q) < 0) return false;
    if (state.diff && d.diff !== undefined && d.diff !== "1") return false;
    return true;
  }

  function apply() {
    var shown = 0, total = 0;
    $$("[data-row]").forEach(function (el) {
      var ok = visible(el);
      el.hidden = !ok;
      if (el.dataset.row === "case") { total++; if (ok) shown++; }
    });
    $$(".table-wrap, .case-list-wrap").forEach(function (w) {
      var rows = $$("[data-row]", w);
      var none = $(".none-shown", w);
      if (none && rows.length) none.hidden = rows.some(function (r) { return !r.hidden; });
    });
    $$("tr[data-section]").forEach(function (tr) { tr.classList.toggle("selected", !!state.s && tr.dataset.section === state.s); });
    var label = $("#shown");
    if (label) label.textContent = "Showing " + shown + " of " + total + " cases";
    document.body.dataset.ready = "1";
  }

  chips.forEach(function (c) {
    c.addEventListener("click", function () {
      var on = c.getAttribute("aria-pressed") !== "true";
      var group = chips.filter(function (x) { return x.dataset.f === c.dataset.f; });
      var allOn = group.every(function (x) { return x.getAttribute("aria-pressed") === "true"; });
      // From "all on", a click shows only that value; clicking the last one on turns all on.
      if (allOn) {
        group.forEach(function (x) { x.setAttribute("aria-pressed", String(x === c)); });
      } else {
        c.setAttribute("aria-pressed", String(on));
        if (group.every(function (x) { return x.getAttribute("aria-pressed") === "false"; })) {
          group.forEach(function (x) { x.setAttribute("aria-pressed", "true"); });
        }
      }
      group.forEach(function (x) { state[x.dataset.f][x.dataset.val] = x.getAttribute("aria-pressed") === "true"; });
      apply();
    });
  });

  var sel = $("#f-section");
  if (sel) sel.addEventListener("change", function () { state.s = sel.value; apply(); });
  $$("tr[data-section]").forEach(function (tr) {
    tr.addEventListener("click", function () {
      var s = tr.dataset.section;
      state.s = state.s === s ? "" : s;
      if (sel) sel.value = state.s;
      apply();
    });
  });
  var q = $("#f-q");
  if (q) q.addEventListener("input", function () { state.q = q.value.trim().toLowerCase(); apply(); });
  var diff = $("#f-diff");
  if (diff) diff.addEventListener("change", function () { state.diff = diff.checked; apply(); });
  var diffLink = $("#diff-link");
  if (diffLink && diff) diffLink.addEventListener("click", function () {
    diff.checked = true; state.diff = true; apply();
    $("#matrix").scrollIntoView({ block: "start" });
  });
  var hex = $("#f-hex");
  if (hex) hex.addEventListener("change", function () {
    document.body.classList.toggle("show-hex", hex.checked);
    $$(".hexbox").forEach(function (b) { b.checked = hex.checked; });
  });

  var expand = $("#expand-all"), collapse = $("#collapse-all");
  if (expand) expand.addEventListener("click", function () { $$("details.case").forEach(function (d) { if (!d.hidden) d.open = true; }); });
  if (collapse) collapse.addEventListener("click", function () { $$("details.case").forEach(function (d) { d.open = false; }); });
  $$(".stext").forEach(function (t) { t.addEventListener("click", function () { t.classList.toggle("open"); }); });

  // A link to a case opens it.
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.hidden = false; el.open = true; el.scrollIntoView({ block: "start" }); }
  }
  window.addEventListener("hashchange", openTarget);

  // Matrix: a cell opens its broker's detail in the dialog, with tabs for the row's other
  // brokers.
  var dlg = $("#dlg"), body = $("#dlg-body"), tabs = $("#dlg-tabs");
  var brokers = $$(".matrix thead th.broker").map(function (th) { return th.textContent; });
  function show(detail) {
    var t = document.getElementById(detail);
    if (!t) return;
    body.textContent = "";
    body.appendChild(t.content.cloneNode(true));
    $$("button", tabs).forEach(function (b) { b.setAttribute("aria-selected", String(b.dataset.detail === detail)); });
  }
  $$(".cell[data-detail]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!dlg) return;
      tabs.textContent = "";
      $$(".mcell", b.closest("tr")).forEach(function (td, i) {
        var c = $(".cell", td);
        var tab = document.createElement("button");
        tab.type = "button";
        tab.className = "tab";
        tab.setAttribute("role", "tab");
        var dot = document.createElement("i");
        dot.className = c.className.replace("cell", "dot");
        tab.appendChild(dot);
        tab.appendChild(document.createTextNode(brokers[i] || ""));
        if (c.dataset.detail) {
          tab.dataset.detail = c.dataset.detail;
          tab.addEventListener("click", function () { show(c.dataset.detail); });
        } else {
          tab.disabled = true;
          tab.title = "Not run against this broker";
        }
        tabs.appendChild(tab);
      });
      show(b.dataset.detail);
      if (dlg.showModal) dlg.showModal(); else dlg.setAttribute("open", "");
      body.focus();
    });
  });
  var close = $("#dlg-close");
  if (close) close.addEventListener("click", function () { dlg.close(); });
  if (dlg) dlg.addEventListener("click", function (e) { if (e.target === dlg) dlg.close(); });

  window.addEventListener("beforeprint", function () { $$("details.case").forEach(function (d) { d.open = true; }); });
  apply();
  openTarget();
})();
