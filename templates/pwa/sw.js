// 零工市场 service worker (core/pwa.py serves it at /sw.js; docs/push.md).
// - App shell (CSS, scripts, icons, the offline page): cached at install, served cache-first.
// - The board (找活): network first; the last board page is kept for a weak signal and shown with
//   「网络不好，显示的是上次的内容」 when the network fails.
// - Everything else (personal pages, the API, any non-GET) goes to the network and is never stored.
// - Kept pages are dropped on sign-out and whenever a different person is signed in.
// - Web Push (叮咚): shows the notification, with 抢单 where the browser supports actions.
"use strict";

const SHELL = {{ shell|safe }};
const OFFLINE_URL = {{ offline_url|safe }};
const BOARD_PATH = {{ board_path|safe }};
const LOGOUT_PATHS = {{ logout_paths|safe }};
const ICON = {{ icon|safe }};
const BADGE = {{ badge|safe }};
const SHELL_CACHE = "gm-shell-" + VERSION;
const PAGES_CACHE = "gm-pages";
const VIEWER_KEY = "/__gm-viewer";
const SAVED_AT = "x-gm-saved-at";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      // Fetched without cookies: the shell is the same for everyone.
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { credentials: "omit" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((n) => n.startsWith("gm-shell-") && n !== SHELL_CACHE).map((n) => caches.delete(n))),
      )
      .then(() => self.clients.claim()),
  );
});

function forgetPages() {
  return caches.delete(PAGES_CACHE);
}

// Only a page meant for anyone may be kept: a plain 200 HTML answer from us that does not say private.
function keepable(response) {
  if (!response || !response.ok || response.type !== "basic" || response.redirected) return false;
  const type = response.headers.get("content-type") || "";
  const control = (response.headers.get("cache-control") || "").toLowerCase();
  return type.startsWith("text/html") && !/private|no-store/.test(control);
}

async function keepBoard(response) {
  const body = await response.clone().arrayBuffer();
  const headers = new Headers(response.headers);
  headers.set(SAVED_AT, new Date().toISOString());
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(BOARD_PATH, new Response(body, { status: 200, headers: headers }));
}

function savedAtText(iso) {
  const at = new Date(iso);
  if (isNaN(at)) return "";
  const two = (n) => String(n).padStart(2, "0");
  return "（" + (at.getMonth() + 1) + "月" + at.getDate() + "日 " + two(at.getHours()) + ":" + two(at.getMinutes()) + "）";
}

// The kept board, with the page's hidden notice shown.
async function lastBoard() {
  const cache = await caches.open(PAGES_CACHE);
  const kept = await cache.match(BOARD_PATH);
  if (!kept) return null;
  const html = (await kept.text())
    .replace("data-offline-note hidden", "data-offline-note")
    .replace("<span data-offline-at></span>", "<span data-offline-at>" + savedAtText(kept.headers.get(SAVED_AT)) + "</span>");
  return new Response(html, { status: 200, headers: kept.headers });
}

async function offlinePage() {
  const shell = await caches.open(SHELL_CACHE);
  return (await shell.match(OFFLINE_URL)) || new Response("网络不好，请稍后再试。", {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

async function board(request) {
  try {
    const response = await fetch(request);
    if (keepable(response)) await keepBoard(response);
    return response;
  } catch (error) {
    return (await lastBoard()) || offlinePage();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    // Signing out: forget the pages kept for this person (the request itself goes on untouched).
    if (request.method === "POST" && LOGOUT_PATHS.includes(url.pathname)) event.waitUntil(forgetPages());
    return;
  }
  if (SHELL.includes(url.pathname) && url.pathname !== OFFLINE_URL) {
    event.respondWith(
      caches.open(SHELL_CACHE).then((cache) => cache.match(url.pathname).then((hit) => hit || fetch(request))),
    );
    return;
  }
  if (request.mode !== "navigate") return;
  if (url.pathname === BOARD_PATH) {
    event.respondWith(board(request));
    return;
  }
  event.respondWith(fetch(request).catch(() => offlinePage()));
});

// Each page says who is looking (data-viewer): a different person than before drops the kept pages.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "viewer" || typeof data.viewer !== "string") return;
  event.waitUntil(
    caches.open(PAGES_CACHE).then(async (cache) => {
      const before = await cache.match(VIEWER_KEY);
      const previous = before ? await before.text() : null;
      if (previous === data.viewer) return;
      if (previous !== null || data.viewer === "anon") await forgetPages();
      const fresh = await caches.open(PAGES_CACHE);
      await fresh.put(VIEWER_KEY, new Response(data.viewer));
    }),
  );
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  const title = data.title || "零工市场";
  const options = {
    body: data.body || "",
    icon: ICON,
    badge: BADGE,
    tag: data.tag || undefined,
    renotify: Boolean(data.tag),
    vibrate: [200, 100, 200],
    lang: "zh-CN",
    data: { url: data.url || "/" },
  };
  if (data.grab && "actions" in Notification.prototype) {
    options.actions = [{ action: "grab", title: "抢单" }];
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.url) || "/";
  // Only a page of this site: the payload comes from our server, but a stray URL must not leave it.
  const target = new URL(path.startsWith("/") && !path.startsWith("//") ? path : "/", self.location.origin);
  if (event.action === "grab") target.hash = "grab";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const win of windows) {
        if (new URL(win.url).pathname === target.pathname && "focus" in win) return win.focus();
      }
      return self.clients.openWindow(target.href);
    }),
  );
});
