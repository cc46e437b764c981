# Fixture server for stress.sh on 127.0.0.1:PORT: /set.html writes a cookie, localStorage,
# IndexedDB and Cache Storage (window.allDone settles when all are acknowledged; ?dl=1 then
# starts /slow.bin, 4,096,000 bytes over 2 s); /read.html reads them back (window.readAll).
import http.server, socketserver, sys, time
SET = b"""<!doctype html><title>set</title><p>set</p><a id=dl href="/slow.bin" download>dl</a><script>
const v = new URLSearchParams(location.search).get('v') || 'x';
window.allDone = (async () => {
  document.cookie = 'kept=' + v + '; max-age=86400; path=/';
  localStorage.setItem('keptItem', v);
  await new Promise((ok, bad) => {
    const open = indexedDB.open('keptdb', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('s');
    open.onerror = () => bad(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('s', 'readwrite');
      tx.objectStore('s').put(v, 'k');
      tx.oncomplete = () => ok();
      tx.onerror = () => bad(tx.error);
    };
  });
  const cache = await caches.open('keptcache');
  await cache.put('/cached', new Response(v));
  if (location.search.includes('dl=1')) document.getElementById('dl').click();
  return 'done ' + v;
})();
</script>"""
READ = b"""<!doctype html><title>read</title><p>read</p><script>
window.readAll = (async () => {
  const idb = await new Promise((ok) => {
    const open = indexedDB.open('keptdb', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('s');
    open.onsuccess = () => {
      const r = open.result.transaction('s').objectStore('s').get('k');
      r.onsuccess = () => ok(r.result === undefined ? 'none' : r.result);
      r.onerror = () => ok('err');
    };
    open.onerror = () => ok('openerr');
  });
  const cache = await caches.open('keptcache');
  const hit = await cache.match('/cached');
  const c = hit ? await hit.text() : 'none';
  return JSON.stringify({cookie: document.cookie, ls: localStorage.getItem('keptItem'), idb, cache: c});
})();
</script>"""
SIZE = 20 * 200 * 1024
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        p = self.path.split('?')[0]
        if p == '/slow.bin':
            self.send_response(200)
            self.send_header('Content-Type', 'application/octet-stream')
            self.send_header('Content-Disposition', 'attachment; filename="slow.bin"')
            self.send_header('Content-Length', str(SIZE))
            self.end_headers()
            chunk = b'x' * (SIZE // 20)
            try:
                for _ in range(20):
                    self.wfile.write(chunk); self.wfile.flush(); time.sleep(0.1)
            except Exception: pass
            return
        body = SET if p == '/set.html' else READ if p == '/read.html' else b'<p>404</p>'
        self.send_response(200 if body != b'<p>404</p>' else 404)
        self.send_header('Content-Type', 'text/html'); self.send_header('Content-Length', str(len(body)))
        self.end_headers(); self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(('127.0.0.1', int(sys.argv[1])), H)
s.serve_forever()
