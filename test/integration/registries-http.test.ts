import { afterEach, expect, it } from "vitest";
import { HttpClient, USER_AGENT } from "../../src/registries/index.js";
import { loopback, sendJson } from "./registries-helpers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it("limits requests in flight and spaces request starts per host", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const starts: number[] = [];
  const srv = await loopback(async (_url, _req, res) => {
    starts.push(Date.now());
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((r) => setTimeout(r, 30));
    inFlight--;
    sendJson(res, { ok: true });
  });
  cleanups.push(srv.close);
  const http = new HttpClient({ perHostConcurrency: 2, minIntervalMs: 40 });
  await Promise.all(Array.from({ length: 6 }, (_, i) => http.getJson(`${srv.base}/x?i=${i}`)));
  expect(maxInFlight).toBeLessThanOrEqual(2);
  // Six starts at least 40 ms apart span 200 ms at the client; arrival times jitter with connection setup.
  expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(160);
  expect(srv.requests.every((r) => r.headers["user-agent"] === USER_AGENT)).toBe(true);
});

it("sends validators, returns 304 as notModified, and spots HTML without a content-type", async () => {
  const srv = await loopback((url, req, res) => {
    if (url.pathname === "/html") {
      res.writeHead(200);
      return res.end("  <html><body>login</body></html>");
    }
    if (
      req.headers["if-none-match"] === '"a"' ||
      req.headers["if-modified-since"] === "Tue, 01 Jul 2025 00:00:00 GMT"
    ) {
      res.writeHead(304);
      return res.end();
    }
    return sendJson(res, { v: 1 }, 200, { etag: '"a"', "last-modified": "Tue, 01 Jul 2025 00:00:00 GMT" });
  });
  cleanups.push(srv.close);
  const http = new HttpClient();
  const first = await http.getJson(`${srv.base}/doc`);
  expect(first).toMatchObject({ notModified: false, body: { v: 1 }, etag: '"a"' });
  expect(await http.getJson(`${srv.base}/doc`, { etag: '"a"' })).toMatchObject({ status: 304, notModified: true });
  const byDate = await http.getJson(`${srv.base}/doc`, { lastModified: "Tue, 01 Jul 2025 00:00:00 GMT" });
  expect(byDate.notModified).toBe(true);
  await expect(http.getJson(`${srv.base}/html`)).rejects.toThrow(/expected JSON but got HTML \(HTTP 200/);
});

it("a Retry-After beyond the limit fails fast instead of stalling the crawl", async () => {
  const srv = await loopback((_url, _req, res) => {
    res.writeHead(429, { "retry-after": "3600" });
    res.end();
  });
  cleanups.push(srv.close);
  const t0 = Date.now();
  await expect(new HttpClient({ maxRetryAfterMs: 1000 }).getJson(`${srv.base}/x`)).rejects.toThrow(
    /HTTP 429; Retry-After exceeds our limit/,
  );
  expect(Date.now() - t0).toBeLessThan(1000);
});
