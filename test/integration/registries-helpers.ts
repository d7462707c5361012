import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpClient } from "../../src/registries/index.js";
import { type Catalog, openCatalog } from "../../src/store/db.js";

export const SHARED = join(import.meta.dirname, "../../../shared/fixtures/registries");
export const FIXTURES = join(import.meta.dirname, "../fixtures/registries");

/** The 358 real server.json entries of the 2025-09-29 official seed. */
export function officialSeed(): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(SHARED, "official/seed_2025-09-29_358.json"), "utf8"));
}

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), "utf8")) as T;
}

/** A fresh SQLite catalog file in its own temp folder. */
export function tempCatalog(): Catalog & { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), "mcp-census-reg-"));
  const cat = openCatalog(join(dir, "catalog.db"));
  return {
    ...cat,
    dir,
    dispose() {
      cat.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Recorded {
  url: URL;
  headers: IncomingMessage["headers"];
}

export type Handler = (url: URL, req: IncomingMessage, res: ServerResponse) => unknown;

/** A loopback HTTP server; every request is recorded. */
export async function loopback(
  handler: Handler,
): Promise<{ base: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push({ url, headers: req.headers });
    Promise.resolve(handler(url, req, res)).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function sendJson(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

/** An item as the live official API lists it. */
export interface OfficialItem {
  server: Record<string, unknown>;
  _meta: {
    "io.modelcontextprotocol.registry/official": {
      status: "active" | "deprecated" | "deleted";
      publishedAt: string;
      updatedAt: string;
      isLatest: boolean;
    };
  };
}

export function wrapOfficial(server: Record<string, unknown>, updatedAt = "2025-09-29T00:00:00Z"): OfficialItem {
  return {
    server,
    _meta: {
      "io.modelcontextprotocol.registry/official": {
        status: "active",
        publishedAt: "2025-09-29T00:00:00Z",
        updatedAt,
        isLatest: true,
      },
    },
  };
}

/**
 * Replays the official registry from a mutable item list the way the live API pages it: limit (≤100), an opaque
 * cursor, updated_since (which alone includes deleted entries) and ETags per page when asked.
 */
export function officialHandler(
  items: OfficialItem[],
  opts: { etags?: boolean; override?: (url: URL, res: ServerResponse) => boolean } = {},
): Handler {
  return (url, req, res) => {
    if (opts.override?.(url, res)) return;
    if (url.pathname !== "/v0.1/servers") return sendJson(res, { error: "not found" }, 404);
    const limit = Math.min(100, Number(url.searchParams.get("limit") ?? 30));
    const since = url.searchParams.get("updated_since");
    // Hostile test items may lack _meta: list them as active.
    const meta = (i: OfficialItem) =>
      i?._meta?.["io.modelcontextprotocol.registry/official"] ?? { status: "active", updatedAt: "" };
    const visible = items.filter((i) => (since ? meta(i).updatedAt > since : meta(i).status !== "deleted"));
    const cursor = url.searchParams.get("cursor");
    const start = cursor ? Number(Buffer.from(cursor, "base64url").toString()) : 0;
    const page = visible.slice(start, start + limit);
    const end = start + page.length;
    const nextCursor = end < visible.length ? Buffer.from(String(end)).toString("base64url") : undefined;
    const body = JSON.stringify({ servers: page, metadata: { count: page.length, nextCursor } });
    if (opts.etags) {
      const etag = `"${Buffer.from(body).length}-${start}-${page.length}"`;
      if (req.headers["if-none-match"] === etag) {
        res.writeHead(304, { etag });
        return res.end();
      }
      return sendJson(res, body, 200, { etag });
    }
    sendJson(res, body);
  };
}

/** A client with short retry delays, so bad-input tests stay fast. */
export function quickHttp(): HttpClient {
  return new HttpClient({ baseDelayMs: 20, maxDelayMs: 200, timeoutMs: 2000 });
}

export function count(cat: Catalog, sql: string, ...args: unknown[]): number {
  return (cat.sqlite.prepare(sql).get(...args) as { n: number }).n;
}
