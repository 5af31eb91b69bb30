// inkmath service worker: keeps the page's own files so the page opens offline once visited.
// Pages, scripts and GET answers (the model list, the API schema) come from the network first, so an update is
// seen at once when online, and from the cache when offline. Reading (POST) always needs the server.
const CACHE = "inkmath-v4";  // v4: check.js; v3: v2 could hold another file (the API schema opened in a tab) as the page
const SHELL = ["/", "/static/app.js", "/static/view.js", "/static/photo.js", "/static/check.js", "/static/drawings.js", "/static/style.css", "/static/icon.svg",
               "/static/icon-192.png", "/manifest.webmanifest", "/favicon.ico", "/api/models", "/openapi.json"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  // the page, whatever its ?mode=, is kept as "/"; anything else opened in a tab (/openapi.json) as itself
  const page = req.mode === "navigate" && url.pathname === "/";
  const key = page ? "/" : req;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok) cache.put(key, res.clone());
      return res;
    } catch (e) {
      const hit = await cache.match(key, { ignoreSearch: page });
      if (hit) return hit;
      throw e;
    }
  })());
});
