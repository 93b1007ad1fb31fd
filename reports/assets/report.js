// loopspec report: enhancements only. The page is complete without this
// script; it adds the matrix filters, expand/collapse buttons, opens the
// <details> a link points into, and records how long the page took to render
// (data-render-ms on <html>, read by the browser test).
(function () {
  'use strict';

  // The matrix's column headers stick just under the page header, whatever
  // its height. Set on those few cells only: a custom property on the root
  // would restyle the whole page.
  function keepHeaderHeight() {
    var header = document.querySelector('header.top');
    if (!header) return;
    var top = header.offsetHeight + 'px';
    Array.prototype.forEach.call(document.querySelectorAll('#matrix-table > thead th'), function (th) {
      th.style.top = top;
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  // Matrix filters: free text over rule ids and titles, and which rows to show.
  function matrixFilters() {
    var table = document.getElementById('matrix-table');
    var bar = document.getElementById('matrix-filters');
    if (!table || !bar) return;
    var search = el('input', { type: 'search', placeholder: 'Filter rules by id or title', 'aria-label': 'Filter rules' });
    var mode = el('select', { 'aria-label': 'Rows to show' });
    [['all', 'All rules'], ['f', 'Failing in some run'], ['u', 'Unexpected in some run'], ['d', 'Differing between runs']]
      .forEach(function (o) { mode.appendChild(el('option', { value: o[0] }, o[1])); });
    var shown = el('span', { class: 'shown' });
    bar.appendChild(search);
    bar.appendChild(mode);
    bar.appendChild(shown);
    var bodies = Array.prototype.slice.call(table.tBodies);
    var rows = [];
    bodies.forEach(function (body) {
      Array.prototype.forEach.call(body.querySelectorAll('tr.rr'), function (tr) {
        rows.push({ tr: tr, body: body, text: tr.cells[0].textContent.toLowerCase() });
      });
    });
    function apply() {
      var q = search.value.trim().toLowerCase();
      var m = mode.value;
      var visible = 0;
      var perBody = new Map();
      rows.forEach(function (r) {
        var ok = (!q || r.text.indexOf(q) >= 0) && (m === 'all' || r.tr.hasAttribute('data-' + m));
        r.tr.classList.toggle('hidden', !ok);
        if (ok) { visible++; perBody.set(r.body, true); }
      });
      bodies.forEach(function (b) { b.classList.toggle('hidden', !perBody.get(b)); });
      shown.textContent = visible + ' of ' + rows.length + ' rules shown';
    }
    search.addEventListener('input', apply);
    mode.addEventListener('change', apply);
    apply();
  }

  // "Expand all" / "Collapse all" for a section's <details>.
  function expandButtons() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-expand]'), function (holder) {
      var section = document.getElementById(holder.getAttribute('data-expand'));
      if (!section) return;
      [['Expand all', true], ['Collapse all', false]].forEach(function (b) {
        var button = el('button', { type: 'button' }, b[0]);
        button.addEventListener('click', function () {
          Array.prototype.forEach.call(section.querySelectorAll('details'), function (d) {
            if (!d.classList.contains('stderr')) d.open = b[1];
          });
        });
        holder.appendChild(button);
        holder.appendChild(document.createTextNode(' '));
      });
    });
  }

  // A link into a closed <details> opens it (and its ancestors).
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target) return;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === 'DETAILS') node.open = true;
    }
    target.scrollIntoView();
  }

  keepHeaderHeight();
  matrixFilters();
  expandButtons();
  window.addEventListener('hashchange', openTarget);
  window.addEventListener('resize', keepHeaderHeight);
  openTarget();
  window.addEventListener('load', function () {
    document.body.getBoundingClientRect();  // forces style and layout before the time is taken
    document.documentElement.setAttribute('data-render-ms', String(Math.round(performance.now())));
  });
})();
