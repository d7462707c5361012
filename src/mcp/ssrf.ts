import { lookup as dnsLookup } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { AppError } from "../core/errors.js";

/** Ranges a remote probe must not reach unless private networks are allowed (RFC 6890 special-purpose and friends). */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 96], // unspecified, loopback and the old IPv4-compatible form
  ["64:ff9b::", 96], // NAT64 can reach private IPv4
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7], // ULA
  ["fe80::", 10], // link-local
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, "ipv6");
}

/** True when an IP literal is private, loopback, link-local, CGNAT, ULA, multicast or otherwise not public. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return BLOCKED.check(bare, "ipv4");
  if (family === 6) {
    // IPv4-mapped/translated (::ffff:…, also as hex once URL-normalised) reach IPv4 hosts: refuse them all.
    // (BlockList cannot hold ::ffff:0:0/96: it would match every IPv4 address.)
    if (/^::ffff:/i.test(bare) || /^(0{1,4}:){5}ffff:/i.test(bare)) return true;
    return BLOCKED.check(bare, "ipv6");
  }
  return true; // not an IP at all: refuse rather than guess
}

/** Raised when a destination is refused; its code (blocked) tells it from ordinary network failures. */
export class BlockedDestinationError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("blocked", message, options);
    this.name = "BlockedDestinationError";
  }
}

/** A response body larger than the limit. */
export class ResponseTooLargeError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("too_large", message, options);
    this.name = "ResponseTooLargeError";
  }
}

export interface GuardedFetchOptions {
  allowPrivateNetwork: boolean;
  /** Bytes per response body; a larger body fails the read. */
  maxResponseBytes: number;
  maxRedirects?: number;
  /** Exact origins (scheme://host:port) allowed even when private: an explicit allowlist, checked on every hop. */
  allowedOrigins?: string[];
  /** Called with every final response (status, headers), so callers can see 401s the SDK hides. */
  onResponse?: (url: string, res: Response) => void;
}

/**
 * A DNS lookup that checks every address a name resolves to and refuses the connection when any is private.
 * Used as the socket's lookup, so the address checked is the address connected to (no DNS-rebinding window).
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as unknown as { address: string; family: number }[];
      if (!allowPrivate) {
        const bad = list.find((a) => isPrivateAddress(a.address));
        if (bad) {
          return callback(new BlockedDestinationError(`refused private address ${bad.address} for ${hostname}`), "", 0);
        }
      }
      const first = list[0];
      if (!first) return callback(new Error(`no address for ${hostname}`), "", 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: unknown) => void)(null, list);
      callback(null, first.address, first.family);
    });
  };
}

/** Checks a URL before any connection: scheme, and IP literals (which skip DNS lookup). */
export function checkUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BlockedDestinationError(`not a valid URL: ${raw.slice(0, 200)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BlockedDestinationError(`refused URL scheme ${url.protocol}`);
  }
  if (url.username || url.password) throw new BlockedDestinationError("refused URL with embedded credentials");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!allowPrivate) {
    if (isIP(host) && isPrivateAddress(host)) throw new BlockedDestinationError(`refused private address ${host}`);
    if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(host)) {
      throw new BlockedDestinationError(`refused local host name ${host}`);
    }
  }
  return url;
}

function headersToObject(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  new Headers(h).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/** Counts bytes through a web stream and errors once the cap is passed. */
function capStream(body: Readable, max: number, url: string): ReadableStream<Uint8Array> {
  let seen = 0;
  body.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > max) body.destroy(new ResponseTooLargeError(`response from ${url} exceeded ${max} bytes`));
  });
  return Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>;
}

/** One HTTP exchange without following redirects, over a socket whose address was checked. */
function requestOnce(url: URL, init: RequestInit, opts: GuardedFetchOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === "https:" ? https : http;
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const req = mod.request(
      url,
      {
        method: init.method ?? "GET",
        headers: headersToObject(init.headers),
        lookup: guardedLookup(opts.allowPrivateNetwork),
        signal,
      },
      (res) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
        }
        const status = res.statusCode ?? 0;
        const nullBody = [101, 204, 205, 304].includes(status) || init.method === "HEAD";
        if (nullBody) res.resume();
        const response = new Response(nullBody ? null : capStream(res, opts.maxResponseBytes, url.href), {
          status: status < 200 || status > 599 ? 502 : status,
          statusText: res.statusMessage ?? "",
          headers,
        });
        Object.defineProperty(response, "url", { value: url.href });
        resolve(response);
      },
    );
    req.on("error", reject);
    const body = init.body;
    if (body === undefined || body === null) req.end();
    else if (typeof body === "string" || body instanceof Uint8Array) req.end(body);
    else if (body instanceof URLSearchParams) req.end(body.toString());
    else reject(new Error("unsupported request body type"));
  });
}

/**
 * A fetch for the SDK transports that refuses private destinations (each redirect re-checked) and caps body sizes.
 */
export function createGuardedFetch(opts: GuardedFetchOptions): typeof fetch {
  const maxRedirects = opts.maxRedirects ?? 5;
  const guarded = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    let current = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    let reqInit: RequestInit = init;
    for (let hop = 0; hop <= maxRedirects; hop++) {
      const listed = opts.allowedOrigins?.includes(URL.canParse(current) ? new URL(current).origin : "") ?? false;
      const hopOpts = listed ? { ...opts, allowPrivateNetwork: true } : opts;
      const url = checkUrl(current, hopOpts.allowPrivateNetwork);
      const res = await requestOnce(url, reqInit, hopOpts);
      const location = res.headers.get("location");
      if ([301, 302, 303, 307, 308].includes(res.status) && location) {
        // Safe to ignore: a redirect's body is discarded unread; a failed cancel means the stream already ended.
        await res.body?.cancel().catch(() => {});
        const next = new URL(location, url);
        // Credentials stay with the origin that was given them.
        const headers = headersToObject(reqInit.headers);
        if (next.origin !== url.origin) {
          delete headers.authorization;
          delete headers.cookie;
        }
        const toGet = res.status === 303 || ((res.status === 301 || res.status === 302) && reqInit.method === "POST");
        reqInit = { ...reqInit, headers, ...(toGet ? { method: "GET", body: undefined } : {}) };
        current = next.href;
        continue;
      }
      opts.onResponse?.(url.href, res);
      return res;
    }
    throw new BlockedDestinationError(`more than ${maxRedirects} redirects`);
  };
  return guarded as typeof fetch;
}
