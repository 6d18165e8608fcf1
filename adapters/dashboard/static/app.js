// Engram dashboard: small progressive enhancements. Every page works
// without this script; it is served from this origin under a CSP that
// allows no inline script.
'use strict';
document.addEventListener('click', function (e) {
  var t = e.target.closest('[data-confirm]');
  if (t && !window.confirm(t.getAttribute('data-confirm'))) { e.preventDefault(); return; }
  var c = e.target.closest('[data-copy]');
  if (c) {
    var el = document.getElementById(c.getAttribute('data-copy'));
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () { c.textContent = 'Copied'; });
    }
  }
});
document.addEventListener('change', function (e) {
  var all = e.target.closest('[data-check-all]');
  if (!all) return;
  var boxes = all.form.querySelectorAll('input[type=checkbox][name="' + all.getAttribute('data-check-all') + '"]');
  for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
});
