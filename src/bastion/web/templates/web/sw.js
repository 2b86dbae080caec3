/* Bastion's service worker: the field pages (the station page; any page that loads
   web/offline.js) open and work offline once visited.

   Network first: online, every page, script and style comes fresh from the server; offline
   (or the server silent for NAVIGATION_WAIT ms), the last copy kept here. Only the pages that
   asked to be kept, and static files, are kept; the API never is (a page's own queue copes).
   The cache is named after the release (a hash of this script and the files the pages load):
   a new release installs a new worker, which carries the kept pages over and drops the old
   cache. */
"use strict";
var VERSION = "{{ version }}";
var CACHE = "bastion-" + VERSION;
var NAVIGATION_WAIT = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(self.skipWaiting());
});

function carryPages(old, fresh) {
  return old.keys().then(function (requests) {
    return Promise.all(requests.filter(function (r) {
      return new URL(r.url).pathname.indexOf("/static/") !== 0;
    }).map(function (r) {
      return old.match(r).then(function (resp) { return resp && fresh.put(r, resp); });
    }));
  });
}

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (fresh) {
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("bastion-") === 0 && n !== CACHE;
      }).map(function (n) {
        return caches.open(n).then(function (old) { return carryPages(old, fresh); })
          .then(function () { return caches.delete(n); });
      }));
    });
  }).then(function () { return self.clients.claim(); }));
});

// A page asks to be kept, with the scripts and styles it loaded; the answer on the message's
// port says how many were kept, once they are in the cache (not before: the page tells the crew
// it is ready offline only then).
self.addEventListener("message", function (event) {
  var keep = (event.data && event.data.keep) || [];
  var reply = event.ports && event.ports[0];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(keep.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (resp) {
        if (resp.ok && !resp.redirected) return cache.put(url, resp).then(function () { return 1; });
        return 0;
      }).catch(function () { return 0; /* offline now: kept at the next visit */ });
    }));
  }).then(function (kept) {
    if (reply) reply.postMessage({ kept: kept.reduce(function (a, b) { return a + b; }, 0),
                                   asked: keep.length });
  }));
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); },
                 function (e) { clearTimeout(timer); reject(e); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  var isStatic = url.pathname.indexOf("/static/") === 0;
  if (!isStatic && request.mode !== "navigate") return;
  event.respondWith(caches.open(CACHE).then(function (cache) {
    // Pages vary by cookie and language; the device keeps the one copy its crew last saw.
    return cache.match(request, { ignoreVary: true }).then(function (kept) {
      if (!kept && !isStatic) return fetch(request);  // a page nobody asked to keep
      var network = fetch(request).then(function (resp) {
        if (resp.ok && !resp.redirected && resp.type === "basic") {
          cache.put(request, resp.clone());
        }
        return resp;
      });
      if (!kept) return network;
      return withTimeout(network, NAVIGATION_WAIT).catch(function () { return kept; });
    });
  }));
});
