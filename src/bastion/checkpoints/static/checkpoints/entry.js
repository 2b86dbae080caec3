/* A checkpoint's entry page on a phone. Each vehicle saved gets a client-made UUID and goes
   into a queue kept in localStorage; the queue is sent to the batch endpoint at once, and again
   on the `online` event and every 15 s while anything waits. The server replays a client id it
   holds, so a retry never stores a vehicle twice. An entry the server refuses is taken off the
   queue and listed with its reasons. A plate seen before fills its route and its people (their
   numbers masked: the server copies them from the row named by `known_id`). */
(function () {
  "use strict";
  var root = document.getElementById("cp");
  if (!root) return;
  var api = root.dataset.api;
  var KEY = "bastion.checkpoint." + root.dataset.place + ".";
  var T = JSON.parse(document.getElementById("cp-strings").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var form = $("cp-form"), people = $("cp-people"), tpl = $("cp-person");

  function fill(s, v) { return String(s).replace(/%\((\w+)\)s/g, function (m, k) { return k in v ? v[k] : m; }); }
  function load(name) { try { return JSON.parse(localStorage.getItem(KEY + name)) || []; } catch (e) { return []; } }
  function save(name, value) { try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* full */ } }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  var queue = load("queue"), refused = load("refused"), sending = false;

  function show() {
    var sync = $("cp-sync");
    sync.dataset.count = queue.length;
    sync.textContent = queue.length ? fill(T.queued, { n: queue.length }) + (navigator.onLine ? "" : " · " + T.offline) : T.sent;
    var list = $("cp-refused");
    list.textContent = "";
    refused.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = (r.plate || "") + " — " + fill(T.refused, { why: r.why });
      list.appendChild(li);
    });
  }
  function say(text) { var p = $("cp-said"); p.textContent = text; p.hidden = !text; }

  function personBox(values) {
    var box = tpl.content.firstElementChild.cloneNode(true);
    var n = people.children.length + 1;
    box.querySelector("legend").textContent = T.person + " " + n;
    box.querySelector(".cp-remove").textContent = T.remove;
    box.querySelector(".cp-remove").addEventListener("click", function () { box.remove(); });
    values = values || {};
    box.querySelectorAll("[data-f]").forEach(function (el) {
      var v = values[el.dataset.f];
      if (el.type === "checkbox") el.checked = !!(v === undefined ? n === 1 : v);
      else if (v !== undefined && v !== null) el.value = v;
    });
    if (values.known_id) {  // numbers masked: kept on the server, shown as a hint only
      ["doc_number", "phone"].forEach(function (f) {
        var el = box.querySelector('[data-f="' + f + '"]');
        el.placeholder = values[f] + " (" + T.known + ")"; el.value = "";
      });
      box.querySelector('[data-f="doc_kind"]').value = values.doc_kind;
    }
    people.appendChild(box);
    return box;
  }

  function item() {
    var occupants = Array.prototype.map.call(people.children, function (box) {
      var o = {};
      box.querySelectorAll("[data-f]").forEach(function (el) {
        o[el.dataset.f] = el.type === "checkbox" ? el.checked : el.value.trim();
      });
      o.temperature = parseFloat(o.temperature);
      o.known_id = o.known_id ? parseInt(o.known_id, 10) : null;
      return o;
    });
    return {
      client_id: uuid(),
      arrived_at: new Date().toISOString(),
      plate: $("cp-plate").value.trim(),
      kind: $("cp-kind").value,
      cargo: $("cp-cargo").value.trim(),
      origin: $("cp-origin").value.trim(),
      destination: $("cp-destination").value.trim(),
      occupants: occupants,
    };
  }

  // A batch the server refuses whole (422: an item it cannot even read) is sent again one
  // entry at a time, and the entry refused alone is set aside with the reason: it never
  // holds up the queue behind it.
  var one = false;
  function setAside(item, resp) {
    return resp.json().then(function (d) {
      return (d.errors || []).map(function (e) { return (e.field ? e.field + ": " : "") + e.message; }).join(" ") || d.detail;
    }, function () { return String(resp.status); }).then(function (why) {
      refused.unshift({ plate: item.plate, why: why });
      queue = queue.filter(function (q) { return q.client_id !== item.client_id; });
      save("queue", queue); save("refused", refused);
      return null;
    });
  }
  function send() {
    if (sending || !queue.length) { show(); return; }
    sending = true;
    var batch = queue.slice(0, one ? 1 : 100);
    fetch(api + "/entries/batch", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ entries: batch }),
    }).then(function (resp) {
      if (resp.status === 422 && batch.length > 1) { one = true; return null; }
      if (resp.status === 422) return setAside(batch[0], resp);
      if (!resp.ok) throw new Error(resp.status);
      return resp.json();
    }).then(function (data) {
      if (!data) return;
      var done = {};
      data.results.forEach(function (r, i) {
        done[r.client_id] = true;
        if (r.status === "refused") {
          refused.unshift({ plate: batch[i].plate, why: r.errors.map(function (e) { return e.message; }).join(" ") });
        } else if (r.status === "accepted") {
          say(fill(T.accepted, { plate: batch[i].plate || "", n: batch[i].occupants.length }));
        }
      });
      queue = queue.filter(function (q) { return !done[q.client_id]; });
      refused = refused.slice(0, 20);
      save("queue", queue); save("refused", refused);
    }).catch(function () { /* offline or the server away: kept, sent later */ })
      .then(function () {
        sending = false; show();
        if (one && queue.length && navigator.onLine) setTimeout(send, 0);
        else one = false;
      });
  }

  var looked = "";
  $("cp-plate").addEventListener("change", function () {
    var plate = this.value.replace(/[\s·.\-]/g, "").toUpperCase();
    if (!plate || plate === looked || !navigator.onLine) return;
    looked = plate;
    fetch(api + "/plates/" + encodeURIComponent(plate), { credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (usual) {
        if (!usual) { $("cp-seen").hidden = true; return; }
        $("cp-kind").value = usual.kind;
        ["cargo", "origin", "destination"].forEach(function (f) { if (!$("cp-" + f).value) $("cp-" + f).value = usual[f]; });
        people.textContent = "";
        usual.occupants.forEach(function (o) { personBox(o); });
        $("cp-seen").textContent = fill(T.seen, { n: usual.seen });
        $("cp-seen").hidden = false;
      }).catch(function () {});
  });

  $("cp-add").addEventListener("click", function () { personBox({ driver: false }); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    queue.push(item());
    save("queue", queue);
    form.reset(); people.textContent = ""; personBox(); looked = "";
    $("cp-seen").hidden = true;
    show(); send();
    $("cp-plate").focus();
  });
  window.addEventListener("online", send);
  $("cp-sync-now").addEventListener("click", send);
  setInterval(function () { if (queue.length) send(); }, 15000);
  personBox();
  show(); send();
})();
