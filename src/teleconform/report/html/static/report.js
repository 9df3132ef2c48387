(function () {
  "use strict";
  var doc = document;
  function all(sel) { return Array.prototype.slice.call(doc.querySelectorAll(sel)); }
  function evidenceRow(row) {
    var next = row.nextElementSibling;
    return next && next.classList.contains("evidence-row") ? next : null;
  }
  function setOpen(row, open) {
    var ev = evidenceRow(row);
    if (!ev) { return; }
    ev.hidden = !open;
    row.classList.toggle("open", open);
    row.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function toggle(row) { setOpen(row, row.getAttribute("aria-expanded") !== "true"); }
  doc.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element) || t.closest("a")) { return; }
    var row = t.closest("tr.clause");
    if (row) { toggle(row); }
  });
  doc.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (t instanceof Element && t.matches("tr.clause") && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      toggle(t);
    }
  });
  var boxes = all("input.filter");
  function applyFilters() {
    var on = {};
    boxes.forEach(function (b) { on[b.getAttribute("data-filter")] = b.checked; });
    var rows = all("tr.clause"), shown = 0;
    rows.forEach(function (row) {
      var show = on[row.getAttribute("data-status")] !== false;
      row.classList.toggle("filtered", !show);
      var ev = evidenceRow(row);
      if (ev) { ev.classList.toggle("filtered", !show); }
      if (show) { shown += 1; }
    });
    all("section.area").forEach(function (area) {
      area.hidden = area.querySelector("tr.clause:not(.filtered)") === null;
    });
    var counter = doc.getElementById("shown-count");
    if (counter) { counter.textContent = shown + " of " + rows.length + " clauses shown"; }
  }
  boxes.forEach(function (b) { b.addEventListener("change", applyFilters); });
  function byId(id, fn) {
    var el = doc.getElementById(id);
    if (el) { el.addEventListener("click", fn); }
  }
  byId("expand-failing", function () {
    all("tr.clause").forEach(function (row) {
      var s = row.getAttribute("data-status");
      setOpen(row, (s === "fail" || s === "error") && !row.classList.contains("filtered"));
    });
  });
  byId("collapse-all", function () {
    all("tr.clause").forEach(function (row) { setOpen(row, false); });
  });
  all("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var pre = button.closest(".curl").querySelector("pre");
      var text = pre.textContent;
      function selectIt() {
        var range = doc.createRange();
        range.selectNodeContents(pre);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        button.textContent = "selected";
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          button.textContent = "copied";
        }, selectIt);
      } else { selectIt(); }
    });
  });
  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? doc.getElementById(id) : null;
    if (el && el.matches("tr.clause")) {
      if (el.classList.contains("filtered")) {
        var status = el.getAttribute("data-status");
        var box = doc.querySelector('input.filter[data-filter="' + status + '"]');
        if (box) { box.checked = true; applyFilters(); }
      }
      setOpen(el, true);
      el.scrollIntoView({block: "start"});
    }
  }
  window.addEventListener("hashchange", openFromHash);
  applyFilters();
  openFromHash();
})();
