// The verify page's service worker: keeps the page, its scripts and the WebAssembly module so
// the page opens and verifies with no network. Network first (so an online visit always gets
// the server's current page and root keys), the stored copy when the network fails. It never
// touches /api/: the page stores the signed bundle itself and uploads records itself.

const CACHE = 'permitseal-verify';
const FILES = [
  '/verify', '/verify/app.js', '/verify/store.js', '/verify/i18n.js', '/verify/style.css',
  '/verify/icon.svg', '/verify/icon-192.png', '/verify/icon-512.png', '/verify/manifest.webmanifest', '/verify/permitseal_web.js',
  '/verify/permitseal_web_bg.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin
      || !FILES.includes(url.pathname)) {
    return;
  }
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const answer = await fetch(event.request, { cache: 'no-store' });
      if (answer.ok) await cache.put(url.pathname, answer.clone());
      return answer;
    } catch (e) {
      const kept = await cache.match(url.pathname);
      if (kept) return kept;
      throw e;
    }
  })());
});
