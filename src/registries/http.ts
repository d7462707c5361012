import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../core/errors.js";
import { PageError, parseJsonText } from "./sanitise.js";

/** Names the project to every registry we crawl, so operators can reach us. */
export const USER_AGENT = "mcp-census/0.1 (+https://github.com/mcp-census/mcp-census)";

export interface HttpClientOptions {
  userAgent?: string;
  /** Requests in flight per host. */
  perHostConcurrency?: number;
  /** Minimum gap between request starts to one host (a rate limit). */
  minIntervalMs?: number;
  /** Retries after the first attempt, for 429, 5xx, timeouts and network errors. */
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The longest Retry-After we will wait; a longer one fails the request. */
  maxRetryAfterMs?: number;
  timeoutMs?: number;
  /** Bodies larger than this are refused. */
  maxBytes?: number;
}

export interface GetOptions {
  headers?: Record<string, string>;
  /** Validators from an earlier fetch: sent as If-None-Match / If-Modified-Since. */
  etag?: string;
  lastModified?: string;
}

export type HttpResponse<T> =
  | { status: 304; notModified: true; url: string }
  | { status: number; notModified: false; url: string; body: T; etag?: string; lastModified?: string };

/** Counters a crawl reports. */
export interface HttpStats {
  requests: number;
  retries: number;
  notModified: number;
  bytes: number;
}

interface HostState {
  active: number;
  lastStart: number;
  pausedUntil: number;
  waiters: (() => void)[];
}

/** One attempt failed in a way a later attempt can fix (network error, timeout, 408/429/5xx); retried here. */
class RetryableError extends AppError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super("network", message, options);
    this.name = "RetryableError";
  }
}

/** A polite HTTP client on global fetch: per-host limits, retries with backoff, conditional requests, size caps. */
export class HttpClient {
  readonly stats: HttpStats = { requests: 0, retries: 0, notModified: 0, bytes: 0 };
  private readonly o: Required<HttpClientOptions>;
  private readonly hosts = new Map<string, HostState>();

  constructor(opts: HttpClientOptions = {}) {
    this.o = {
      userAgent: opts.userAgent ?? USER_AGENT,
      perHostConcurrency: opts.perHostConcurrency ?? 4,
      minIntervalMs: opts.minIntervalMs ?? 0,
      maxRetries: opts.maxRetries ?? 4,
      baseDelayMs: opts.baseDelayMs ?? 500,
      maxDelayMs: opts.maxDelayMs ?? 30_000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 120_000,
      timeoutMs: opts.timeoutMs ?? 30_000,
      maxBytes: opts.maxBytes ?? 64 * 1024 * 1024,
    };
  }

  /** GET a JSON document; HTML or malformed JSON is a bad_input error naming the URL. */
  async getJson<T = unknown>(url: string, opts: GetOptions = {}): Promise<HttpResponse<T>> {
    const r = await this.request(url, { accept: "application/json", ...opts });
    if (r.notModified) return r;
    const text = r.body.toString("utf8");
    const trimmed = text.trimStart();
    if (/html/i.test(r.contentType) || trimmed.startsWith("<")) {
      throw new PageError(
        `GET ${url}: expected JSON but got HTML (HTTP ${r.status}, ${r.contentType || "no content-type"})`,
        text.slice(0, 4096),
      );
    }
    try {
      return { ...r, body: parseJsonText(text, `GET ${url}`) as T };
    } catch (err) {
      throw new PageError((err as Error).message, text.slice(0, 4096));
    }
  }

  /** GET text (a README). */
  async getText(url: string, opts: GetOptions = {}): Promise<HttpResponse<string>> {
    const r = await this.request(url, { accept: "text/plain, text/markdown, */*", ...opts });
    return r.notModified ? r : { ...r, body: r.body.toString("utf8") };
  }

  /** GET raw bytes (an archive). */
  async getBytes(url: string, opts: GetOptions = {}): Promise<HttpResponse<Buffer>> {
    const r = await this.request(url, { accept: "*/*", ...opts });
    return r;
  }

  private async request(
    url: string,
    opts: GetOptions & { accept: string },
  ): Promise<HttpResponse<Buffer> & { contentType: string }> {
    let host: string;
    try {
      host = new URL(url).host;
    } catch {
      throw new AppError("bad_input", `not a URL: ${url}`);
    }
    const headers: Record<string, string> = {
      "user-agent": this.o.userAgent,
      accept: opts.accept,
      ...opts.headers,
    };
    if (opts.etag) headers["if-none-match"] = opts.etag;
    if (opts.lastModified) headers["if-modified-since"] = opts.lastModified;
    for (let attempt = 0; ; attempt++) {
      const release = await this.acquire(host);
      try {
        return await this.once(url, headers);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        if (attempt >= this.o.maxRetries) {
          throw new AppError(err.code, `GET ${url}: ${err.message} (gave up after ${attempt + 1} attempts)`, {
            cause: err,
          });
        }
        let delay = this.backoff(attempt);
        if (err.retryAfterMs !== undefined) {
          if (err.retryAfterMs > this.o.maxRetryAfterMs) {
            throw new AppError(err.code, `GET ${url}: ${err.message}; Retry-After exceeds our limit, try later`, {
              cause: err,
            });
          }
          delay = err.retryAfterMs;
          // Every request to this host waits, not just this one: the limit is the host's.
          const h = this.host(host);
          h.pausedUntil = Math.max(h.pausedUntil, Date.now() + delay);
        }
        this.stats.retries++;
        release();
        await sleep(delay);
      } finally {
        release();
      }
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** attempt);
    // Half fixed, half random: spreads retries of many clients without ever retrying at once.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private async once(
    url: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse<Buffer> & { contentType: string }> {
    this.stats.requests++;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.o.timeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: ac.signal, redirect: "follow" });
      } catch (err) {
        const why = ac.signal.aborted ? `timed out after ${this.o.timeoutMs} ms` : `network error: ${cause(err)}`;
        throw new RetryableError(why, undefined, { cause: err });
      }
      const contentType = res.headers.get("content-type") ?? "";
      if (res.status === 304) {
        await res.body?.cancel();
        this.stats.notModified++;
        return { status: 304, notModified: true, url, contentType };
      }
      if (res.status === 429 || res.status === 408 || res.status >= 500) {
        // Safe to ignore (here and below): the body is discarded unread; a failed cancel means the stream already
        // ended or errored, and the status decides what happens next.
        await res.body?.cancel().catch(() => {});
        throw new RetryableError(`HTTP ${res.status}`, res.status === 429 ? retryAfter(res) : undefined);
      }
      if (res.status >= 400) {
        await res.body?.cancel().catch(() => {});
        const hint = res.status === 401 || res.status === 403 ? " (check the API key)" : "";
        throw new AppError("network", `GET ${url}: HTTP ${res.status}${hint}`);
      }
      const body = await this.readCapped(res, url, ac).catch((err) => {
        if (err instanceof AppError) throw err;
        throw new RetryableError(ac.signal.aborted ? `timed out after ${this.o.timeoutMs} ms` : cause(err), undefined, {
          cause: err,
        });
      });
      return {
        status: res.status,
        notModified: false,
        url,
        body,
        contentType,
        etag: res.headers.get("etag") ?? undefined,
        lastModified: res.headers.get("last-modified") ?? undefined,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private async readCapped(res: Response, url: string, ac: AbortController): Promise<Buffer> {
    const declared = Number(res.headers.get("content-length") ?? "0");
    const tooBig = () => new AppError("bad_input", `GET ${url}: response larger than ${this.o.maxBytes} bytes`);
    if (declared > this.o.maxBytes) {
      ac.abort();
      throw tooBig();
    }
    if (!res.body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.o.maxBytes) {
        ac.abort();
        throw tooBig();
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
    this.stats.bytes += size;
    return Buffer.concat(chunks, size);
  }

  private host(host: string): HostState {
    let h = this.hosts.get(host);
    if (!h) {
      h = { active: 0, lastStart: 0, pausedUntil: 0, waiters: [] };
      this.hosts.set(host, h);
    }
    return h;
  }

  /** Waits for a slot on the host (concurrency, spacing, pauses after 429); returns an idempotent release. */
  private async acquire(host: string): Promise<() => void> {
    const h = this.host(host);
    while (h.active >= this.o.perHostConcurrency) {
      await new Promise<void>((resolve) => h.waiters.push(resolve));
    }
    h.active++;
    // Reserve the start time before sleeping, so concurrent waiters space out instead of waking together.
    let startAt = Math.max(Date.now(), h.pausedUntil, h.lastStart + this.o.minIntervalMs);
    h.lastStart = startAt;
    while (startAt > Date.now()) {
      await sleep(startAt - Date.now());
      // A 429 seen meanwhile pauses the host further.
      if (h.pausedUntil > startAt) {
        startAt = h.pausedUntil;
        h.lastStart = Math.max(h.lastStart, startAt);
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      h.active--;
      h.waiters.shift()?.();
    };
  }
}

/** Retry-After in ms from seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfter(res: Response): number | undefined {
  const v = res.headers.get("retry-after");
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

function cause(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
