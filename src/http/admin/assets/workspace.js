/* global document, window, fetch, setTimeout, clearTimeout, FileReader, performance, crypto */
// The editor's workspace: after each edit (debounced), POST the issue to
// /admin/workspace/preview and show what comes back — the preflight list (click a line to
// jump there), the inbox line, the size against Gmail's clip, the plain-text part — and
// point the sandboxed preview iframes at the new preview document. Everything from the
// server goes in as text (textContent), never as markup; the reader's HTML only ever
// renders inside the iframes, which may not run scripts.
(function () {
  'use strict';
  var root = document.querySelector('[data-workspace]');
  var body = document.body;

  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  function localText(date) {
    return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }) + ' (' + zone + ')';
  }

  if (!root) return;
  var csrf = body.getAttribute('data-csrf');
  var textarea = root.querySelector('[data-markdown]');
  var subject = root.querySelector('[data-subject]');
  var list = root.querySelector('select[name="list"]');
  var as = root.querySelector('[data-preview-as]');
  var upload = root.querySelector('[data-upload]');
  var frames = root.querySelectorAll('[data-preview-frame]');
  var campaignId = Number(root.getAttribute('data-campaign-id')) || undefined;
  var saved = root.getAttribute('data-saved-markdown');
  var savedSubject = subject ? subject.value : '';
  var seq = 0;
  var shown = 0;
  var timer = null;
  var editedAt = 0;
  var errors = 0;
  var DEBOUNCE_MS = 80;
  // This page's preview slot on the server: each preview replaces the last one.
  var slot = Array.prototype.map
    .call(crypto.getRandomValues(new Uint8Array(18)), function (b) {
      return 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charAt(b & 63);
    })
    .join('');

  function text(sel, value) {
    var el = root.querySelector(sel);
    if (el) el.textContent = value;
  }

  function kb(bytes) {
    return (bytes / 1024).toFixed(1) + ' KB';
  }

  function isDirty() {
    return saved !== null && (textarea.value !== saved || (subject && subject.value !== savedSubject));
  }

  // Test and send act on the saved draft: not while it differs from the page or has errors.
  function updateButtons() {
    var dirty = isDirty();
    var marker = root.querySelector('[data-dirty]');
    if (marker) marker.hidden = !dirty;
    var controls = root.querySelector('[data-send-controls]');
    var sendable = controls && controls.getAttribute('data-sendable') === '1';
    var buttons = root.querySelectorAll('[data-needs-clean]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = dirty || errors > 0 || !sendable;
      buttons[i].title = dirty ? 'Save the draft first' : errors > 0 ? 'Fix the preflight errors first' : '';
    }
  }

  function lineStart(value, line) {
    var pos = 0;
    for (var n = 1; n < line; n++) {
      var next = value.indexOf('\n', pos);
      if (next < 0) return value.length;
      pos = next + 1;
    }
    return pos;
  }

  // Put the caret at the start of `line` and scroll the textarea there.
  function goToLine(line) {
    var value = textarea.value;
    var start = lineStart(value, line);
    var end = value.indexOf('\n', start);
    textarea.focus();
    textarea.setSelectionRange(start, end < 0 ? value.length : end);
    var lineHeight = parseFloat(window.getComputedStyle(textarea).lineHeight) || 18;
    textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
    body.setAttribute('data-caret-line', String(line));
  }

  function showDiagnostics(list, count) {
    var ol = root.querySelector('[data-diagnostics]');
    ol.textContent = '';
    if (list.length === 0) {
      var ok = document.createElement('li');
      ok.className = 'ok';
      ok.textContent = 'No problems found.';
      ol.appendChild(ok);
    }
    list.forEach(function (d) {
      var li = document.createElement('li');
      li.className = 'diagnostic diagnostic-' + d.severity;
      li.setAttribute('data-severity', d.severity);
      if (d.line) li.setAttribute('data-line', String(d.line));
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = (d.line ? 'line ' + d.line : 'issue') + ' · ' + d.severity + ': ' + d.message;
      if (d.line) {
        button.addEventListener('click', function () {
          goToLine(d.line);
        });
      }
      li.appendChild(button);
      ol.appendChild(li);
    });
    var warnings = list.length - count;
    text('[data-preflight-summary]', count + ' error(s), ' + warnings + ' warning(s)' + (count > 0 ? ' — sending is refused until the errors are fixed' : ''));
  }

  function show(data, started, mine) {
    errors = data.errors;
    showDiagnostics(data.diagnostics, data.errors);
    text('[data-template-subject]', data.templateSubject);
    text('[data-inbox-subject]', data.subject);
    text('[data-inbox-preheader]', data.preheader);
    var reader = data.reader;
    text('[data-reader]', reader.sample ? 'Sample reader' + (reader.note ? ': ' + reader.note : '') : 'Personalised for ' + reader.email + (reader.name ? ' (' + reader.name + ')' : ''));
    text(
      '[data-size]',
      data.htmlBytes === null
        ? 'Not compiled: see the preflight list.'
        : 'HTML ' + kb(data.htmlBytes) + ' of Gmail’s ' + kb(data.clipBytes) + ' clip' + (data.htmlBytes > data.clipBytes ? ' — Gmail will clip it' : '') + ' · whole message ' + kb(data.messageBytes),
    );
    text('[data-text-part]', data.text || '');
    updateButtons();
    if (!data.document) {
      body.setAttribute('data-preview-rev', String(mine));
      return;
    }
    var pending = frames.length;
    for (var i = 0; i < frames.length; i++) {
      frames[i].onload = function () {
        pending--;
        if (pending === 0 && mine === seq) {
          // For tests and the bench: which edit is on screen, and how long it took.
          body.setAttribute('data-preview-ms', String(Math.round(performance.now() - started)));
          body.setAttribute('data-preview-rev', String(mine));
        }
      };
      frames[i].src = data.document;
    }
  }

  function refresh() {
    timer = null;
    var mine = ++seq;
    var started = editedAt || performance.now();
    editedAt = 0;
    var payload = { markdown: textarea.value, list: list ? list.value : '', subject: subject ? subject.value : '', as: as ? as.value.trim() : '', slot: slot };
    if (campaignId) payload.campaignId = campaignId;
    fetch('/admin/workspace/preview', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(payload),
    })
      .then(function (res) {
        if (res.status === 401) {
          window.location.href = '/admin/login';
          return null;
        }
        return res.json().then(function (json) {
          if (!res.ok) throw new Error(json.error || 'preview failed');
          return json;
        });
      })
      .then(function (data) {
        // A slower answer to an older edit never replaces a newer one.
        if (!data || mine < shown) return;
        shown = mine;
        show(data, started, mine);
      })
      .catch(function (err) {
        text('[data-preflight-summary]', 'Preview failed: ' + err.message);
      });
  }

  function edited() {
    if (!editedAt) editedAt = performance.now();
    updateButtons();
    if (timer) clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  textarea.addEventListener('input', edited);
  if (subject) subject.addEventListener('input', edited);
  if (as) as.addEventListener('change', edited);
  if (list) list.addEventListener('change', edited);
  if (upload) {
    upload.addEventListener('change', function () {
      var file = upload.files && upload.files[0];
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () {
        textarea.value = String(reader.result);
        edited();
      };
      reader.readAsText(file);
    });
  }

  // Schedule or send now: the datetime-local field is the editor's zone; the server gets
  // ISO 8601 with the zone, after a confirmation that says who, how fast, how long and when.
  var zoneLabel = root.querySelector('[data-timezone]');
  if (zoneLabel) zoneLabel.textContent = '(' + zone + ')';
  var scheduleForm = root.querySelector('[data-schedule-form]');
  if (scheduleForm) {
    scheduleForm.addEventListener('submit', function (ev) {
      var local = scheduleForm.querySelector('[data-at-local]').value;
      var atField = scheduleForm.querySelector('input[name="at"]');
      var estimate = scheduleForm.getAttribute('data-estimate');
      var message;
      if (local) {
        var at = new Date(local);
        if (isNaN(at.getTime())) {
          ev.preventDefault();
          return;
        }
        atField.value = at.toISOString();
        message = 'Schedule for ' + localText(at) + ' = ' + at.toISOString().slice(0, 19).replace('T', ' ') + ' UTC?\n' + estimate;
      } else {
        atField.value = '';
        message = 'Send now?\n' + estimate;
      }
      body.setAttribute('data-last-confirm', message);
      if (!window.confirm(message)) ev.preventDefault();
    });
  }

  updateButtons();
  refresh();
})();
