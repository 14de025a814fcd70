/* global document, window, fetch, setTimeout */
// Live updates for the dashboard: poll the page's JSON twin every second and swap in
// counters (textContent, never HTML) and server-rendered, server-escaped fragments.
(function () {
  'use strict';
  var body = document.body;
  var url = body.getAttribute('data-live-url');

  document.addEventListener('submit', function (ev) {
    var btn = ev.target.querySelector('[data-confirm]');
    var msg = btn && btn.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  // Scheduled times in the editor's zone, beside UTC.
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  var times = document.querySelectorAll('time[data-local-time]');
  for (var t = 0; t < times.length; t++) {
    var when = new Date(times[t].getAttribute('datetime'));
    if (isNaN(when.getTime())) continue;
    var span = document.createElement('span');
    span.className = 'local-time';
    span.textContent = ' · ' + when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) + ' (' + zone + ')';
    times[t].parentNode.insertBefore(span, times[t].nextSibling);
  }

  if (!url) return;

  function setText(sel, value) {
    var els = document.querySelectorAll(sel);
    for (var i = 0; i < els.length; i++) els[i].textContent = value;
  }

  function apply(data) {
    if (data.stats) {
      Object.keys(data.stats).forEach(function (k) {
        var v = data.stats[k];
        setText('[data-stat="' + k + '"]', v === null ? '—' : String(v));
        setText('[data-field="' + k + '"]', v === null ? '—' : String(v));
      });
      var status = document.querySelector('[data-field="status"]');
      if (status) status.className = 'status status-' + data.stats.status;
    }
    if (typeof data.progress === 'number') {
      var bar = document.querySelector('[data-progress] .bar');
      var label = document.querySelector('[data-progress] span');
      if (bar) bar.style.width = (data.progress * 100).toFixed(1) + '%';
      if (label) label.textContent = Math.round(data.progress * 100) + '%';
    }
    if (data.actions) {
      Object.keys(data.actions).forEach(function (a) {
        var form = document.querySelector('form[data-action="' + a + '"]');
        if (form) form.hidden = !data.actions[a];
      });
    }
    if (data.fragments) {
      Object.keys(data.fragments).forEach(function (name) {
        var el = document.querySelector('[data-fragment="' + name + '"]');
        // Fragments are rendered and escaped on the server by the same code as the page.
        if (el && el.innerHTML !== data.fragments[name]) el.innerHTML = data.fragments[name];
      });
    }
    body.setAttribute('data-updated', String(Date.now()));
  }

  var interval = 1000;

  function poll() {
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 401) {
          window.location.href = '/admin/login';
          return null;
        }
        return res.ok ? res.json() : null;
      })
      .then(function (data) {
        if (data) {
          apply(data);
          if (typeof data.interval === 'number' && data.interval >= 500) interval = data.interval;
        }
      })
      .catch(function () {})
      .then(function () {
        setTimeout(poll, interval);
      });
  }
  setTimeout(poll, 1000);
})();
