/* A page that must open offline once visited loads this: it registers Bastion's service
   worker (/sw.js) and asks it to keep this page and the scripts and styles it loaded. Service
   workers need a secure origin: HTTPS, or localhost. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js").then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    var keep = [location.pathname + location.search];
    document.querySelectorAll("script[src], link[rel=stylesheet][href]").forEach(function (el) {
      keep.push(el.src || el.href);
    });
    var channel = new MessageChannel();
    channel.port1.onmessage = function (event) {
      // Ready offline once the page itself and everything it loaded are kept.
      if (event.data.kept === event.data.asked) document.documentElement.dataset.offlineReady = "1";
    };
    registration.active.postMessage({ keep: keep }, [channel.port2]);
  }).catch(function () { /* no service worker here: the page works online only */ });
})();
