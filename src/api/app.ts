import type { IncomingMessage } from "node:http";
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { AppError, oneLine } from "../core/errors.js";
import { logger } from "../core/log.js";
import { migrationsApplied } from "../store/api.js";
import type { Sqlite } from "../store/db.js";
import { currentCatalogStats } from "../store/stats.js";
import { renderDocsPage } from "./docs-page.js";
import { ApiError, statusFor } from "./errors.js";
import {
  addHeaders,
  applyHeadersLate,
  headersApplied,
  problem,
  type RateLimitConfig,
  rateLimiter,
  reqHeader,
  sendBody,
} from "./http.js";
import { handleMcpHttp, type McpHttpOptions } from "./mcp-server.js";
import { openApiDocument, ROUTES } from "./openapi.js";
import {
  ChangesQuerySchema,
  EmptyQuerySchema,
  PolicyQuerySchema,
  ServerListQuerySchema,
  ToolListQuerySchema,
} from "./params.js";
import { buildPolicy } from "./policy.js";
import {
  listChangesPage,
  listServerPage,
  listToolPageJson,
  policyInputs,
  requireServer,
  serverDetailJson,
  toolDetailJson,
} from "./queries.js";

/** API settings beyond the catalog handle. */
export interface ApiConfig {
  /** Allowed CORS origins; `["*"]` (the default) allows any, `[]` sends no CORS headers. */
  corsOrigins?: string[];
  /** Version reported in the OpenAPI document. */
  version?: string;
  /** Rate limiting per client address (default: 600 requests a minute, loopback clients not limited). */
  rateLimit?: RateLimitConfig;
  /** Time budget of one list query in milliseconds (default 2000); past it the answer is a 503. */
  queryBudgetMs?: number;
  /** Who may call /mcp: Origin and Host checks against DNS rebinding (see McpHttpOptions). */
  mcp?: McpHttpOptions;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { perMinute: 600, loopback: false };
export const DEFAULT_QUERY_BUDGET_MS = 2000;

/** What the app is made from: nothing is opened or read from the environment inside. */
export interface AppDeps {
  sqlite: Sqlite;
  config?: ApiConfig;
  /** Optional extra routes (e.g. a dashboard) mounted at the root after the API's own. */
  dashboard?: Hono;
}

/** The first problem of a failed parse, as a 400 naming the parameter. */
function paramError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError("bad_input", "invalid parameters");
  const keys = (issue as { keys?: string[] }).keys;
  if (issue.code === "unrecognized_keys" && keys?.[0]) {
    return new ApiError("bad_input", `${keys[0]}: unknown parameter`, keys[0]);
  }
  const name = String(issue.path[0] ?? "query");
  return new ApiError("bad_input", `${name}: ${issue.message}`, name);
}

/** Parses the query string with a strict schema; a parameter given twice is refused rather than guessed at. */
function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  // Detail endpoints take no query: skip the parse on the hot path when there is none.
  if ((schema as z.ZodType) === EmptyQuerySchema && !c.req.url.includes("?")) return {} as z.infer<S>;
  const all = c.req.queries();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) {
    if (v.length > 1) throw new ApiError("bad_input", `${k}: given more than once`, k);
    if (v[0] !== undefined) flat[k] = v[0];
  }
  const r = schema.safeParse(flat);
  if (!r.success) throw paramError(r.error);
  return r.data;
}

/** Path parameters are capped like query ones: long junk gets a 400, not a database lookup. */
function pathParam(c: Context, name: string): string {
  const v = c.req.param(name) ?? "";
  if (v.length === 0 || v.length > 300) throw new ApiError("bad_input", `${name}: must be 1–300 characters`, name);
  return v;
}

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON answer with an ETag over its body (304 on If-None-Match), compressed when the client accepts it. */
function sendJson(c: Context, data: unknown): Response {
  return sendBody(c, JSON.stringify(data), JSON_TYPE);
}

const CORS_ALLOW_HEADERS = "Content-Type, If-None-Match, Authorization, Mcp-Protocol-Version, Mcp-Session-Id";

/** A check every /v1 and /mcp request passes before its handler: an answer ends the request there. */
type Gate = (c: Context) => Response | undefined;

type Handler = (c: Context) => Response | Promise<Response>;

/**
 * CORS for a read-only API. The headers are handed to the code that builds the answer (addHeaders): hono/cors
 * touches `c.res` before the handler, which makes hono rebuild every response through a stream (a third of the
 * throughput on small JSON answers). A preflight is answered here.
 */
function corsGate(origins: string[]): Gate {
  const any = origins.includes("*");
  const exposed = "ETag, Mcp-Session-Id, RateLimit, RateLimit-Policy, Retry-After";
  // Allowing any origin, the headers are the same for every answer: built once.
  const anyHeaders = { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": exposed };
  return (c) => {
    const origin = any ? undefined : reqHeader(c, "origin");
    const allow = any ? "*" : origin && origins.includes(origin) ? origin : null;
    if (c.req.method === "OPTIONS" && reqHeader(c, "access-control-request-method")) {
      const headers: Record<string, string> = any ? {} : { Vary: "Origin" };
      if (allow) {
        headers["Access-Control-Allow-Origin"] = allow;
        headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS";
        headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS;
        headers["Access-Control-Max-Age"] = "600";
      }
      return new Response(null, { status: 204, headers });
    }
    if (any) addHeaders(c, anyHeaders);
    else {
      if (allow) addHeaders(c, { "Access-Control-Allow-Origin": allow, "Access-Control-Expose-Headers": exposed });
      addHeaders(c, { Vary: "Origin" });
    }
    return undefined;
  };
}

/**
 * Runs a handler behind the gates (CORS, then the rate limit). Not hono middleware: a route with middleware in front
 * goes through hono's compose (an async call per layer and a promise per request); a route with one synchronous
 * handler is called directly and its Response handed to node as it is (measured: a sixth of a tool detail's CPU).
 * Answers built by sendBody/problem carry the gates' headers already; any other answer (hono's own, the MCP SDK's)
 * gets them after.
 */
function gated(
  gates: Gate[],
  handler: (c: Context) => Response | Promise<Response>,
): (c: Context) => Response | Promise<Response> {
  if (gates.length === 0) return handler;
  return (c) => {
    for (const g of gates) {
      const early = g(c);
      if (early) return withLateHeaders(c, early);
    }
    const res = handler(c);
    return res instanceof Promise ? res.then((r) => withLateHeaders(c, r)) : withLateHeaders(c, res);
  };
}

/** An answer with the gates' headers applied, unless the code that built it applied them already. */
function withLateHeaders(c: Context, res: Response): Response {
  if (headersApplied(c)) return res;
  c.res = res;
  applyHeadersLate(c);
  return c.res;
}

const MAX_MCP_BODY = 1_000_000;

/**
 * A request body from node's stream, or undefined when it is longer than `max` bytes. Read with stream events, not
 * `for await` (an async iterator and a promise per chunk on every call).
 */
function readBody(incoming: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onData = (chunk: Buffer) => {
      n += chunk.length;
      if (n > max) {
        incoming.off("data", onData);
        incoming.off("end", onEnd);
        incoming.off("error", onError);
        // Stop reading: the connection is closed after the answer (see the caller).
        incoming.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      incoming.off("error", onError);
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8"));
    };
    const onError = (err: Error) => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      reject(err);
    };
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("error", onError);
  });
}

/** Creates the HTTP app (JSON under /v1, health, docs, and the MCP endpoint at /mcp) over an open catalog. */
export function createApp(deps: AppDeps): Hono {
  const { sqlite } = deps;
  const origins = deps.config?.corsOrigins ?? ["*"];
  const doc = openApiDocument(deps.config?.version);
  const docsHtml = renderDocsPage(doc);
  const app = new Hono();

  // CORS and limits apply to the API and MCP endpoints (every answer under /v1 and /mcp, errors and 404s
  // included); health checks stay free.
  const gates: Gate[] = [];
  if (origins.length > 0) gates.push(corsGate(origins));
  const rl = deps.config?.rateLimit ?? DEFAULT_RATE_LIMIT;
  if (rl.perMinute > 0) gates.push(rateLimiter(rl));
  // Every path answers all its methods from one handler (GET/HEAD, POST, then OPTIONS 204 and 405, both with
  // Allow): a path with a second handler for "any other method" would make hono run both through its compose.
  const routes = new Map<string, { GET?: Handler; POST?: Handler }>();
  const on = (method: "GET" | "POST", path: string, h: Handler) => {
    routes.set(path, { ...routes.get(path), [method]: h });
  };
  const isGatedPath = (p: string) => p === "/mcp" || p.startsWith("/v1/");
  const budgetMs = deps.config?.queryBudgetMs ?? DEFAULT_QUERY_BUDGET_MS;

  app.onError((err, c) => {
    const status = statusFor(err);
    const code =
      err instanceof ApiError ? (err.options.apiCode ?? err.code) : err instanceof AppError ? err.code : "internal";
    // Internal errors do not leak their text: it may hold paths or SQL.
    const message = status === 500 ? "internal error" : oneLine(err);
    if (status === 500)
      logger.error({ method: c.req.method, path: c.req.path }, `api: ${c.req.method} ${c.req.path}: ${oneLine(err)}`);
    const api = err instanceof ApiError ? err : undefined;
    return problem(c, status, code, message, {
      parameter: api?.parameter,
      ...(api?.options.extra ? { extra: api.options.extra } : {}),
      ...(api?.options.headers ? { headers: api.options.headers } : {}),
    });
  });
  const notFound = (c: Context) => problem(c, 404, "not_found", `no such endpoint: ${c.req.method} ${c.req.path}`);
  const gatedNotFound = gated(gates, notFound);
  app.notFound((c) => (isGatedPath(c.req.path) ? gatedNotFound(c) : notFound(c)));

  on("GET", "/healthz", (c) => c.json({ status: "ok" }));
  on("GET", "/readyz", (c) => {
    try {
      const m = migrationsApplied(sqlite);
      return c.json({ status: m.ok ? "ready" : "not_ready", detail: m.detail }, m.ok ? 200 : 503);
    } catch (err) {
      return c.json({ status: "not_ready", detail: oneLine(err) }, 503);
    }
  });

  on("GET", "/v1/openapi.json", (c) => {
    parseQuery(c, EmptyQuerySchema);
    return sendJson(c, doc);
  });
  on("GET", "/v1/docs", (c) => {
    parseQuery(c, EmptyQuerySchema);
    return c.html(docsHtml);
  });

  on("GET", "/v1/servers", (c) => sendJson(c, listServerPage(sqlite, parseQuery(c, ServerListQuerySchema), budgetMs)));
  on("GET", "/v1/servers/:server", (c) => {
    parseQuery(c, EmptyQuerySchema);
    return sendBody(c, serverDetailJson(sqlite, pathParam(c, "server")), JSON_TYPE);
  });
  on("GET", "/v1/servers/:server/policy", (c) => {
    const q = parseQuery(c, PolicyQuerySchema);
    const server = requireServer(sqlite, pathParam(c, "server"));
    const { tools, unlisted } = policyInputs(sqlite, server);
    const p = buildPolicy(server, tools, { ...q, unlisted });
    if (p.text !== null) return sendBody(c, p.text, "text/plain; charset=utf-8");
    return sendJson(c, p.json);
  });

  on("GET", "/v1/tools", (c) =>
    sendBody(c, listToolPageJson(sqlite, parseQuery(c, ToolListQuerySchema), budgetMs), JSON_TYPE),
  );
  on("GET", "/v1/tools/:server/:tool", (c) => {
    parseQuery(c, EmptyQuerySchema);
    return sendBody(c, toolDetailJson(sqlite, pathParam(c, "server"), pathParam(c, "tool")), JSON_TYPE);
  });

  on("GET", "/v1/changes", (c) => sendJson(c, listChangesPage(sqlite, parseQuery(c, ChangesQuerySchema))));
  on("GET", "/v1/stats", (c) => {
    parseQuery(c, EmptyQuerySchema);
    return sendJson(c, currentCatalogStats(sqlite));
  });

  const mcpOptions = deps.config?.mcp ?? {};
  on("POST", "/mcp", async (c) => {
    // Served by node: read the body from the socket and hand it to the SDK parsed, so the web Request hono made
    // never has to build its body stream (a fifth of a small MCP call). Invalid JSON is handed on as null: the SDK
    // answers it as the parse error it is.
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    let parsedBody: unknown;
    if (incoming) {
      const text = await readBody(incoming, MAX_MCP_BODY);
      if (text === undefined) {
        // The rest of the body is not read: the connection cannot carry another request, so it is closed (a client
        // reusing it got a reset on its next request).
        return problem(c, 413, "too_large", `request body over ${MAX_MCP_BODY} bytes`, {
          headers: { Connection: "close" },
        });
      }
      try {
        parsedBody = JSON.parse(text);
      } catch {
        parsedBody = null;
      }
    }
    return handleMcpHttp(sqlite, c.req.raw, { ...mcpOptions, queryBudgetMs: budgetMs }, parsedBody);
  });

  // A known path asked with a method it does not answer: 405 naming the ones it does; OPTIONS: 204 with Allow.
  for (const r of ROUTES)
    if (!routes.has(r.path.replace(/\{(\w+)\}/g, ":$1"))) throw new Error(`no handler for ${r.path}`);
  for (const [path, methods] of routes) {
    const allow = [...(methods.GET ? ["GET", "HEAD"] : []), ...(methods.POST ? ["POST"] : []), "OPTIONS"].join(", ");
    const handler: Handler = (c) => {
      const m = c.req.method;
      const h = m === "GET" || m === "HEAD" ? methods.GET : m === "POST" ? methods.POST : undefined;
      if (h) return h(c);
      if (m === "OPTIONS") return new Response(null, { status: 204, headers: { Allow: allow } });
      return problem(c, 405, "method_not_allowed", `${m} is not allowed on ${c.req.path}; allowed: ${allow}`, {
        headers: { Allow: allow },
      });
    };
    app.all(path, isGatedPath(path) ? gated(gates, handler) : handler);
  }

  if (deps.dashboard) app.route("/", deps.dashboard);
  return app;
}
