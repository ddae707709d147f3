// Keep-alive HTTPS loop with fetch(), the same script for bun (BoringSSL linked in,
// hooks discovered) and node (OpenSSL, hooks by exported symbols): N GETs of URL after
// one warm-up request (handshake outside the clock). Prints wall_s= cpu_s= ops= like
// tls_loop_client.c. Usage: RUNTIME tls_fetch_loop.js URL N
(async () => {
  const [url, nArg] = process.argv.slice(2);
  const n = Number(nArg || 1000);
  await (await fetch(url)).text();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await (await fetch(url)).text();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  console.log(`wall_s=${wall.toFixed(4)} cpu_s=${((c.user + c.system) / 1e6).toFixed(4)} ops=${n}`);
})();
