import { hash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { brotliCompressSync, gzipSync, constants as zlib } from "node:zlib";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

/*
 * HTTP conventions shared by every answer: content coding, conditional requests, problem details, rate limits.
 * Written over node:zlib rather than hono/compress: hono's middleware streams every body through CompressionStream
 * (gzip/deflate only, no br) and re-reads the response; here the body is a string already in hand, compressed once
 * synchronously at a fast level (measured in BENCHMARKS.md).
 */

/**
 * Headers middlewares want on the answer (CORS, rate limit), handed to the code that builds the Response instead of
 * set on `c.res` afterwards: touching `c.res.headers` turns @hono/node-server's light response into a full web
 * Response whose body is then streamed (a third of a small answer's cost). Answers built elsewhere (the MCP SDK's,
 * hono's own) get them the slow way, after the handler.
 */
export function addHeaders(c: Context, headers: Record<string, string>): void {
  let cur = c.get("extraHeaders" as never) as Record<string, string> | undefined;
  if (!cur) {
    cur = {};
    c.set("extraHeaders" as never, cur as never);
  }
  for (const k in headers) {
    const v = headers[k] as string;
    cur[k] = k === "Vary" && cur[k] ? `${cur[k]}, ${v}` : v;
  }
}

/**
 * A request header by its lower-case name: from node's parsed headers when served by @hono/node-server (hono's
 * `c.req.header` validates the name and searches the raw headers on every call), else from the web Request.
 */
export function reqHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const v = incoming.headers[name];
  return typeof v === "string" ? v : Array.isArray(v) ? v.join(", ") : undefined;
}

/** The headers added for this answer, marking them as applied (so no middleware sets them again). */
function takeHeaders(c: Context): Record<string, string> {
  const h = (c.get("extraHeaders" as never) as Record<string, string> | undefined) ?? {};
  c.set("extraHeadersApplied" as never, true as never);
  return h;
}

/** Whether the answer was built with the added headers (by sendBody or problem). */
export function headersApplied(c: Context): boolean {
  return !!c.get("extraHeadersApplied" as never);
}

/** After the handler: applies added headers the slow way when the answer was not built by sendBody/problem. */
export function applyHeadersLate(c: Context): void {
  if (c.get("extraHeadersApplied" as never)) return;
  const h = (c.get("extraHeaders" as never) as Record<string, string> | undefined) ?? {};
  for (const [k, v] of Object.entries(h)) {
    if (k === "Vary") c.res.headers.append(k, v);
    else c.res.headers.set(k, v);
  }
  c.set("extraHeadersApplied" as never, true as never);
}

/** Bodies shorter than this go out as they are: the coding would cost more than it saves. */
const MIN_COMPRESS_BYTES = 1024;

/** The content coding to use for an Accept-Encoding header: br, then gzip, when the client accepts them. */
export function negotiateEncoding(accept: string | undefined): "br" | "gzip" | null {
  if (!accept) return null;
  const q = new Map<string, number>();
  for (const part of accept.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const v = qp ? Number(qp.slice(2)) : 1;
    q.set(name, Number.isFinite(v) ? v : 0);
  }
  const star = q.get("*");
  const ok = (c: string) => (q.has(c) ? (q.get(c) as number) > 0 : star !== undefined && star > 0);
  if (ok("br")) return "br";
  if (ok("gzip")) return "gzip";
  return null;
}

/**
 * Whether If-None-Match matches: `*`, or any tag of the list by weak comparison (W/ and the coding suffix of a
 * compressed variant are ignored), as RFC 9110 asks for If-None-Match.
 */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === bare || tag.replace(/-(?:br|gzip)"$/, '"') === bare;
  });
}

/**
 * A 200 answer with a body, an ETag, and (when the client accepts it and the body is worth it) br or gzip; a 304
 * when If-None-Match matches. Every answer says `Vary: Accept-Encoding`, so caches keep the codings apart.
 */
export function sendBody(c: Context, body: string, contentType: string, extra?: Record<string, string>): Response {
  // Encoded once: the ETag is the hash of these bytes and the same bytes go to the socket (a string would be
  // encoded twice, for the hash and for the write — a tenth of a small answer's CPU).
  const bytes = Buffer.from(body, "utf8");
  const etag = `"${hash("sha1", bytes, "base64url")}"`;
  const added = takeHeaders(c);
  const headers: Record<string, string> = { "Cache-Control": "no-cache" };
  for (const k in added) headers[k] = added[k] as string;
  headers.Vary = added.Vary ? `${added.Vary}, Accept-Encoding` : "Accept-Encoding";
  if (extra) for (const k in extra) headers[k] = extra[k] as string;
  if (ifNoneMatch(reqHeader(c, "if-none-match"), etag)) {
    headers.ETag = etag;
    return new Response(null, { status: 304, headers });
  }
  const coding = bytes.length >= MIN_COMPRESS_BYTES ? negotiateEncoding(reqHeader(c, "accept-encoding")) : null;
  if (!coding) {
    headers.ETag = etag;
    headers["Content-Type"] = contentType;
    return new Response(bytes, { status: 200, headers });
  }
  const buf =
    coding === "br"
      ? brotliCompressSync(bytes, {
          params: {
            [zlib.BROTLI_PARAM_QUALITY]: 4,
            [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
            [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        })
      : gzipSync(bytes, { level: 6 });
  // A coded variant is a different representation: its strong ETag says which coding.
  headers.ETag = `${etag.slice(0, -1)}-${coding}"`;
  headers["Content-Type"] = contentType;
  headers["Content-Encoding"] = coding;
  return new Response(buf, { status: 200, headers });
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/**
 * An RFC 9457 problem details answer (application/problem+json) that keeps the API's earlier error fields:
 * `error: {status, code, message, parameter?}` is still there, beside `type`, `title`, `status`, `detail`.
 */
export function problem(
  c: Context,
  status: number,
  code: string,
  message: string,
  opts: { parameter?: string | undefined; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Response {
  const body = {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail: message,
    instance: c.req.path,
    code,
    ...(opts.parameter ? { parameter: opts.parameter } : {}),
    ...(opts.extra ?? {}),
    error: { status, code, message, ...(opts.parameter ? { parameter: opts.parameter } : {}) },
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...takeHeaders(c), "Content-Type": "application/problem+json; charset=utf-8", ...(opts.headers ?? {}) },
  });
}

/** Rate limiting per client address; see README "Rate limits". */
export interface RateLimitConfig {
  /** Requests per minute per client address (a token bucket of this size refilled over a minute); 0 turns it off. */
  perMinute: number;
  /** Whether loopback clients (127.0.0.0/8, ::1) are limited too. */
  loopback: boolean;
}

/** Whether an address is the machine itself. */
export function isLoopback(addr: string): boolean {
  const a = addr.replace(/^::ffff:/i, "");
  if (isIP(a) === 4) return a.startsWith("127.");
  return a === "::1";
}

function clientAddress(c: Context): string {
  // Served by node: the socket's address, as getConnInfo reads it, without building its answer object.
  const address = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
  if (address) return address;
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    // Not served by @hono/node-server (app.request in a test): one shared bucket.
    return "unknown";
  }
}

/**
 * A token bucket per client address: `perMinute` requests at once, refilled at perMinute/60 per second. Every
 * limited answer carries `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers); a refused one is
 * a 429 problem with `Retry-After`. A gate run before the handler (see app.ts `gated`): it returns the 429, or
 * undefined to let the request through.
 */
export function rateLimiter(cfg: RateLimitConfig): (c: Context) => Response | undefined {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const capacity = cfg.perMinute;
  const perMs = cfg.perMinute / 60_000;
  const policy = `"default";q=${capacity};w=60`;
  // Whether an address is loopback, remembered for the addresses seen lately (a parse per request otherwise).
  const loopback = new Map<string, boolean>();
  const isLoop = (addr: string): boolean => {
    let v = loopback.get(addr);
    if (v === undefined) {
      v = isLoopback(addr);
      if (loopback.size >= 10_000) loopback.clear();
      loopback.set(addr, v);
    }
    return v;
  };
  return (c) => {
    const addr = clientAddress(c);
    if (!cfg.loopback && isLoop(addr)) return undefined;
    const now = Date.now();
    let b = buckets.get(addr);
    if (!b) {
      if (buckets.size >= 50_000) {
        // Forget clients whose buckets are full again (idle for a minute or more) before growing further.
        for (const [k, v] of buckets) if (v.tokens + (now - v.at) * perMs >= capacity) buckets.delete(k);
      }
      b = { tokens: capacity, at: now };
      buckets.set(addr, b);
    }
    b.tokens = Math.min(capacity, b.tokens + (now - b.at) * perMs);
    b.at = now;
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
      return problem(c, 429, "rate_limited", `rate limit: at most ${capacity} requests a minute per client`, {
        headers: { "Retry-After": String(wait), "RateLimit-Policy": policy, RateLimit: `"default";r=0;t=${wait}` },
      });
    }
    b.tokens -= 1;
    const reset = Math.ceil((capacity - b.tokens) / perMs / 1000);
    addHeaders(c, { "RateLimit-Policy": policy, RateLimit: `"default";r=${Math.floor(b.tokens)};t=${reset}` });
    return undefined;
  };
}
