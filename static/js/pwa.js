// Every page: register the service worker (/sw.js, core/pwa.py) and tell it who is looking, so the pages it
// keeps for a weak signal are dropped when another person (or no one) is signed in on this phone.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  const body = document.body;
  const url = body.getAttribute("data-sw");
  const viewer = body.getAttribute("data-viewer") || "anon";
  if (!url) return;

  function tell(worker) {
    if (worker) worker.postMessage({ type: "viewer", viewer: viewer });
  }

  navigator.serviceWorker
    .register(url, { scope: "/" })
    .then((registration) => {
      tell(registration.active || registration.waiting || registration.installing);
      return navigator.serviceWorker.ready;
    })
    .then((registration) => tell(registration.active))
    .catch(() => {
      // No worker (private mode, an old browser): the site works as before, only without offline pages.
    });
})();
