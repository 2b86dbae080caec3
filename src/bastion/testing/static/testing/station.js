/* The station page: a USB barcode scanner types into one input and ends with Enter.
   A tube barcode opens (or switches to) the current tube; anything else is a resident code
   or ID number scanned into it. Every scan gets a client-made UUID and its time, goes into a
   queue kept in localStorage, and is sent with the batch endpoint; a failed send keeps it
   queued and retries with backoff, on the `online` event or on "Sync now". The server
   replays a client id it already holds, so a retry never counts anyone twice. An item the
   server cannot take at all is set aside with the reason (kept, listed, the crew alarmed);
   it never holds up the queue behind it. */
(function () {
  "use strict";

  var root = document.getElementById("st");
  if (!root) return;
  var api = root.dataset.api;
  var stationId = root.dataset.station;
  var T = JSON.parse(document.getElementById("st-strings").textContent);
  var state = JSON.parse(document.getElementById("st-state").textContent);
  var KEY = "bastion.station." + stationId + ".";
  var MAX_BATCH = 200;

  var RESIDENT_CODE = /^R\d{1,15}-[A-Z2-7]{6}$/;
  var FAMILY_CODE = /^F\d{1,15}-[A-Z2-7]{6}$/;
  var ID_NUMBER = /^\d{17}[\dX]$/;
  var TUBE = /^[A-Z0-9][A-Z0-9-]{3,39}$/;
  var DOCUMENT = /^(?=.*\d)[A-Z0-9()]{5,18}$/;   // a passport, permit or residence card

  var $ = function (id) { return document.getElementById(id); };
  var input = $("st-scan");
  var banner = $("st-banner");

  function fmt(s, v) { return String(s).replace("%s", v); }
  function fill(s, values) {  // "%(name)s" placeholders
    return String(s).replace(/%\((\w+)\)s/g, function (m, k) { return k in values ? values[k] : m; });
  }
  // The round's tube labels (its pattern, over the whole barcode): anything else is not a tube.
  function tubePattern() {
    var p = state.round && state.round.tube_pattern;
    if (!p) return TUBE;
    try { return new RegExp("^(?:" + p + ")$", "i"); } catch (e) { return TUBE; }
  }
  function load(name, dflt) {
    try { var v = localStorage.getItem(KEY + name); return v === null ? dflt : JSON.parse(v); }
    catch (e) { return dflt; }
  }
  function save(name, value) {
    try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* full */ }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // Plain http on a LAN has no randomUUID: a v4 UUID from getRandomValues.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {}),
    });
  }
  function detail(resp) {
    return resp.json().then(function (d) {
      if (d && d.errors && d.errors.length) return d.errors.map(function (e) { return e.message; }).join(" ");
      return (d && (d.detail || d.message)) || resp.statusText;
    }, function () { return String(resp.status); });
  }

  // ------------------------------------------------------------------ state on this device
  var queue = load("queue", []);          // scans not yet answered by the server
  var refusals = load("refusals", []);    // refused when synced (after being queued)
  var tube = load("tube", null);          // {barcode, filled, capacity, single}
  var pool = parseInt(root.dataset.pool, 10) || 10;
  var single = $("st-single");            // the next tube opened holds one person (a retest)
  var retest = null;                      // {code, who, back}: a retest waiting for its tube
  var openHere = (state.tubes || []).filter(function (t) { return tube && t.barcode === tube.barcode; })[0];
  var queuedHere = tube && queue.some(function (q) { return q.tube === tube.barcode; });
  if (tube && !openHere && !queuedHere) tube = null;
  else if (openHere) { tube.filled = openHere.filled; tube.capacity = openHere.capacity; }
  // The tube the station fills is kept on the server: a second device or a reload continues
  // it, unless this device still holds scans of its own tube to send.
  if (state.current && !queuedHere) tube = state.current;
  if (!tube && state.tubes && state.tubes.length) tube = state.tubes[0];

  // ------------------------------------------------------------------------------ display
  function alarm(text) {
    banner.textContent = text;
    banner.hidden = false;
    banner.classList.remove("st-flash");
    void banner.offsetWidth; // restart the flash
    banner.classList.add("st-flash");
    if (navigator.vibrate) navigator.vibrate([200, 80, 200]);
  }
  function calm() { banner.hidden = true; banner.classList.remove("st-notice"); }
  function offerRetest(code, who) {
    // A retest-list member scanned into a pooled tube: sample them in a single tube.
    var box = $("st-retest");
    if (!box) return;
    retest = { code: code, who: who };
    $("st-retest-text").textContent = fill(T.retest_offer, { name: who });
    box.hidden = false;
  }
  function endRetest() {
    retest = null;
    if ($("st-retest")) $("st-retest").hidden = true;
    if (single) single.checked = false;
  }
  function notice(text) {
    banner.textContent = text;
    banner.classList.add("st-notice");
    banner.hidden = false;
  }

  function pendingIn(barcode) {
    return queue.filter(function (q) { return q.tube === barcode; }).length;
  }
  function renderTube() {
    var filled = tube ? tube.filled + pendingIn(tube.barcode) : 0;
    var cap = tube ? tube.capacity : pool;
    $("st-tube").textContent = tube ? tube.barcode : "—";
    $("st-tube").classList.toggle("st-single-tube", !!(tube && tube.capacity === 1));
    $("st-filled").textContent = filled;
    $("st-capacity").textContent = cap;
    var bar = $("st-bar-fill");
    bar.style.width = Math.min(100, cap ? (100 * filled) / cap : 0) + "%";
    bar.classList.toggle("full", filled >= cap);
  }
  function renderQueue() {
    var n = queue.length;
    $("st-queue-count").textContent = n;
    var box = $("st-sync");
    box.dataset.count = n;
    box.classList.toggle("st-pending", n > 0);
    $("st-sync-text").textContent = n ? fmt(T.waiting, n) : (navigator.onLine ? T.synced : T.offline);
  }
  function li(cls, main, sub) {
    var el = document.createElement("li");
    if (cls) el.className = cls;
    var a = document.createElement("span"); a.className = "st-who"; a.textContent = main;
    var b = document.createElement("span"); b.className = "st-where"; b.textContent = sub;
    el.appendChild(a); el.appendChild(b);
    return el;
  }
  function hhmm(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toTimeString().slice(0, 5);
  }
  function renderRecent() {
    var ol = $("st-recent");
    ol.textContent = "";
    queue.slice().reverse().slice(0, 10).forEach(function (q) {
      ol.appendChild(li("st-waiting", masked(q.code), q.tube + " · " + hhmm(q.at) + " · " + T.waiting_one));
    });
    (state.recent || []).slice(0, Math.max(0, 10 - queue.length)).forEach(function (s) {
      ol.appendChild(li("", s.name + " " + (s.id_number || ""),
        s.tube + " · " + hhmm(s.at) + (s.manual ? " · " + T.manual : "")));
    });
  }
  function renderRefusals() {
    var ul = $("st-refusals");
    ul.textContent = "";
    refusals.slice(0, 50).forEach(function (r) {
      ul.appendChild(li("st-refused", r.code + " — " + r.message, r.tube + " · " + hhmm(r.at)));
    });
    $("st-refusals-box").hidden = refusals.length === 0;
  }
  function renderHours() {
    var ul = $("st-hours");
    ul.textContent = "";
    var rows = state.per_hour || [];
    var max = rows.reduce(function (m, r) { return Math.max(m, r[1]); }, 1);
    rows.forEach(function (r) {
      var el = document.createElement("li");
      var t = document.createElement("span"); t.textContent = hhmm(r[0]);
      var bar = document.createElement("span"); bar.className = "st-hbar";
      bar.style.width = Math.max(2, (100 * r[1]) / max) + "%";
      var n = document.createElement("b"); n.textContent = r[1];
      el.appendChild(t); el.appendChild(bar); el.appendChild(n);
      ul.appendChild(el);
    });
    $("st-today").textContent = state.today || 0;
    if ($("st-manual-today")) $("st-manual-today").textContent = state.manual_today || 0;
  }
  function render() { renderTube(); renderQueue(); renderRecent(); renderRefusals(); renderHours(); }

  // ------------------------------------------------------------------------------- sync
  var busy = false, failures = 0, timer = null;
  // The tube requests in flight, one at a time: two quick switches reach the server in the
  // order the crew made them (or another device would continue the tube they left), and
  // scans go after the tube they fill is opened (not racing to open it twice).
  var tubeRequests = Promise.resolve();
  function tubesOpened() {  // ... but a hanging request holds the scans 10 s at most
    return Promise.race([tubeRequests, new Promise(function (ok) { setTimeout(ok, 10000); })]);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(sync, ms);
  }
  function refusalText(r) {
    // The server's message names the earlier tube for already_sampled; add it if not.
    var msg = r.message || (r.reason === "tube_full" ? T.tube_full : T.refused + ": " + r.reason);
    if (r.reason === "already_sampled" && r.tube && !r.retest && msg.indexOf(r.tube) < 0) {
      msg = fmt(T.in_tube, r.tube) + " — " + msg;
    }
    return msg;
  }
  function masked(code) {
    // An ID number is not left on screen in full: what the server shows, 4 + stars + 4.
    return ID_NUMBER.test(code) ? code.slice(0, 4) + "**********" + code.slice(-4) : code;
  }
  function refreshState() {
    return fetch(api, { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) return;
      return resp.json().then(function (d) { state = d; save("state", d); render(); });
    }).catch(function () { /* offline: keep what we have */ });
  }

  // An answer that blames what was sent (a body the server refused, or the server failing on
  // this batch), not the link or the login: the batch is split until the item at fault is
  // alone, and that one is set aside with the reason while the rest go through.
  function blamesItems(status) {
    return status === 400 || status === 409 || status === 413 || status === 422 || status === 500;
  }
  function setAside(q, status, msg) {
    var item = { client_id: q.client_id, code: masked(q.code), tube: q.tube, at: q.at,
                 reason: "set_aside", message: fmt(T.set_aside, status + " " + msg), scan: q };
    refusals.unshift(item);
    queue = queue.filter(function (x) { return x.client_id !== q.client_id; });
    save("queue", queue); save("refusals", refusals);
    alarm(item.code + ": " + item.message);
    render();
  }
  function applyResults(batch, results) {
    var sent = {};
    batch.forEach(function (q) { sent[q.client_id] = q; });
    var answered = {};
    var lastRefused = null, retestOf = null;
    results.forEach(function (r) {
      answered[r.client_id] = true;
      var q = sent[r.client_id] || {};
      if (r.status === "refused") {
        var who = r.name ? r.name + " " + (r.id_number || "") : masked(q.code || "");
        var item = { client_id: r.client_id, code: who, tube: q.tube, at: q.at,
                     reason: r.reason, message: refusalText(r) };
        if (q.tries > 0) refusals.unshift(item);   // found out only at sync: list it
        lastRefused = item;
        if (r.retest) retestOf = { code: q.code, who: r.name || who };
      } else if (tube && r.tube === tube.barcode && r.capacity) {
        tube.filled = r.filled; tube.capacity = r.capacity;
      }
      if (r.kind === "family" && r.status !== "refused" && r.message) notice(r.message);
    });
    queue = queue.filter(function (q) { return !answered[q.client_id]; });
    save("queue", queue); save("refusals", refusals); save("tube", tube);
    if (lastRefused) alarm(lastRefused.code + ": " + lastRefused.message);
    if (retestOf) offerRetest(retestOf.code, retestOf.who);
    render();
  }
  function send(batch) {
    return post(api + "/scans/batch", {
      scans: batch.map(function (q) {
        return { client_id: q.client_id, tube: q.tube, code: q.code, at: q.at, manual: !!q.manual,
                 single: !!q.single };
      }),
    }).then(function (resp) {
      if (resp.ok) return resp.json().then(function (d) { applyResults(batch, d.results); });
      if (blamesItems(resp.status)) {
        if (batch.length > 1) {
          var half = Math.ceil(batch.length / 2);
          return send(batch.slice(0, half)).then(function () { return send(batch.slice(half)); });
        }
        return detail(resp).then(function (msg) { setAside(batch[0], resp.status, msg); });
      }
      return detail(resp).then(function (msg) { throw new Error(resp.status + " " + msg); });
    });
  }

  function sync() {
    if (busy || !queue.length) { renderQueue(); return Promise.resolve(); }
    busy = true;
    clearTimeout(timer);
    $("st-sync-text").textContent = T.syncing;
    var batch = queue.slice(0, MAX_BATCH);
    var sent = {};
    batch.forEach(function (q) { sent[q.client_id] = q; });
    return tubesOpened().then(function () { return send(batch); }).then(function () {
      failures = 0;
      return refreshState();
    }).catch(function (err) {
      failures += 1;
      queue.forEach(function (q) { if (sent[q.client_id]) q.tries = (q.tries || 0) + 1; });
      save("queue", queue);
      if (!(err instanceof TypeError) && /^4\d\d /.test(err.message)) alarm(fmt(T.error, err.message));
    }).then(function () {
      busy = false;
      renderQueue();
      if (queue.length) schedule(failures ? Math.min(30000, 1000 * Math.pow(2, failures - 1)) : 0);
    });
  }

  // ---------------------------------------------------------------------------- scanning
  function openTube(barcode, quiet) {
    // Switch at once (so scanning goes on offline); the server confirms when it can.
    var known = (state.tubes || []).filter(function (t) { return t.barcode === barcode; })[0];
    var before = tube;
    // A single tube is a detour (a retest): the crew comes back to the pooled tube.
    if (before && before.barcode !== barcode && !quiet && !(single && single.checked)) {
      var filled = before.filled + pendingIn(before.barcode);
      // Leaving a tube half full is a decision, not a slip of the scanner.
      if (filled > 0 && filled < before.capacity &&
          !confirm(fill(T.half_full_confirm, { tube: before.barcode, filled: filled,
                                               capacity: before.capacity, next: barcode }))) {
        return;
      }
    }
    var one = !known && !!(single && single.checked);
    tube = known ? { barcode: barcode, filled: known.filled, capacity: known.capacity }
                 : { barcode: barcode, filled: 0, capacity: one ? 1 : pool, single: one };
    save("tube", tube);
    calm();
    render();
    var waiting = retest && one ? retest : null;
    var asked = tubeRequests.then(function () {
      return post(api + "/tubes", { barcode: barcode, single: one });
    });
    tubeRequests = asked.catch(function () {});
    return asked.then(function (resp) {
      if (resp.ok) {
        return resp.json().then(function (t) {
          if (tube && tube.barcode === t.barcode) {
            tube.filled = t.filled; tube.capacity = t.capacity; save("tube", tube); renderTube();
          }
          return true;
        });
      }
      if (resp.status >= 400 && resp.status < 500) {
        return detail(resp).then(function (msg) {
          // Refused (not a tube of this round, used elsewhere): stay on the tube before.
          if (tube && tube.barcode === barcode && !pendingIn(barcode)) {
            tube = before; save("tube", tube); render();
          }
          alarm(barcode + ": " + msg);
          return false;
        });
      }
      return true;
    }, function () { return true; /* offline: the first scan's batch opens it later */ }
    ).then(function (opened) {
      if (!waiting || !opened) return;
      // The retest goes into its single tube; then the crew is back on the pooled tube.
      scanCode(waiting.code);
      endRetest();
      if (before && before.barcode !== barcode) {
        openTube(before.barcode, true);
        notice(fill(T.retested, { name: waiting.who, tube: barcode }));
      }
    });
  }

  function scanCode(code, manual) {
    if (!tube) { alarm(T.no_tube); return; }
    if (tube.filled + pendingIn(tube.barcode) >= tube.capacity) { alarm(T.tube_full); return; }
    calm();
    queue.push({ client_id: uuid(), tube: tube.barcode, code: code, at: new Date().toISOString(),
                 tries: 0, manual: !!manual, single: tube.capacity === 1 });
    save("queue", queue);
    render();
    sync();
  }

  function handle(raw) {
    var value = (raw || "").trim().toUpperCase();
    if (!value) return;
    if (RESIDENT_CODE.test(value) || FAMILY_CODE.test(value) || ID_NUMBER.test(value)) scanCode(value);
    else if (TUBE.test(value) && tubePattern().test(value)) openTube(value);
    else if (DOCUMENT.test(value)) scanCode(value);   // the server finds the document's holder
    else alarm(fill(T.not_a_tube, { code: value }));  // a typo or a word: no tube is opened
  }

  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      var v = input.value;
      input.value = "";
      handle(v);
    }
  });
  // The input keeps the focus: a tap anywhere else than a control gives it back.
  function refocus() {
    var a = document.activeElement;
    if (!input.disabled && (!a || a === document.body || a === root)) input.focus();
  }
  input.addEventListener("blur", function () { setTimeout(refocus, 150); });
  document.addEventListener("click", function (e) {
    if (!e.target.closest("a, button, input, select, textarea")) input.focus();
  });

  // ------------------------------------------------------------------------ manual entry
  // When a code will not scan: find the person by a document number or a name (children
  // are listed under their guardian) and sample them; the scan is marked as manual.
  var manualForm = $("st-manual");
  if (manualForm) manualForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("st-manual-q").value.trim();
    var list = $("st-manual-results");
    if (!q) return;
    fetch(api + "/people?q=" + encodeURIComponent(q), { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) return detail(resp).then(function (msg) { alarm(fmt(T.error, msg)); });
      return resp.json().then(function (people) {
        list.innerHTML = "";
        if (!people.length) { list.appendChild(li("st-none", T.no_match, "")); return; }
        people.forEach(function (p) {
          var sub = [p.document, p.room, p.guardian ? fmt(T.under_guardian, p.guardian) : ""]
            .filter(Boolean).join(" · ");
          var row = li(p.guardian ? "st-ward" : "", p.name, sub);
          var button = document.createElement("button");
          button.type = "button";
          button.className = "btn small";
          button.textContent = p.sampled ? T.sampled : T.sample;
          button.disabled = p.sampled;
          button.addEventListener("click", function () {
            scanCode(p.code, true);
            button.disabled = true;
            button.textContent = T.sampled;
          });
          row.appendChild(button);
          list.appendChild(row);
        });
      });
    }).catch(function (err) { alarm(fmt(T.error, err.message)); });
  });

  // ----------------------------------------------------------------------------- buttons
  $("st-sync-now").addEventListener("click", function () { failures = 0; sync(); input.focus(); });

  var retestButton = $("st-retest-single");
  if (retestButton) retestButton.addEventListener("click", function () {
    if (single) single.checked = true;
    $("st-retest").hidden = true;
    notice(fill(T.scan_single, { name: retest ? retest.who : "" }));
    input.focus();
  });
  if (single) single.addEventListener("change", function () { input.focus(); });

  var closeTube = $("st-close-tube");
  if (closeTube) closeTube.addEventListener("click", function () {
    if (!tube) return;
    if (queue.length && !confirm(fmt(T.close_tube_confirm, queue.length))) return;
    var barcode = tube.barcode;
    post(api + "/tubes/" + encodeURIComponent(barcode) + "/close").then(function (resp) {
      if (!resp.ok) return detail(resp).then(function (msg) { alarm(barcode + ": " + msg); });
      tube = null; save("tube", null); calm(); render(); refreshState();
    }).catch(function (e) { alarm(fmt(T.error, e.message)); });
    input.focus();
  });

  var closeStation = $("st-close-station");
  if (closeStation) closeStation.addEventListener("click", function () {
    if (queue.length && !confirm(fmt(T.close_station_confirm, queue.length))) return;
    post(api + "/close").then(function (resp) {
      if (!resp.ok) return detail(resp).then(function (msg) { alarm(msg); });
      tube = null; save("tube", null); location.reload();
    }).catch(function (e) { alarm(fmt(T.error, e.message)); });
  });

  window.addEventListener("beforeunload", function (e) {
    if (queue.length) { e.preventDefault(); e.returnValue = T.leave_warning; return T.leave_warning; }
  });
  window.addEventListener("online", function () { failures = 0; sync(); });
  window.addEventListener("offline", renderQueue);
  window.addEventListener("storage", function (e) {
    if (e.key === KEY + "queue") { queue = load("queue", []); render(); }
  });

  render();
  input.focus();
  if (queue.length) sync();
})();
