import { z } from "zod";
import { PACKAGE_VERSION } from "../core/package-info.js";
import {
  ChangesQuerySchema,
  EmptyQuerySchema,
  PATH_PARAMS,
  PolicyQuerySchema,
  ServerListQuerySchema,
  ToolListQuerySchema,
} from "./params.js";
import { ANSWER_SCHEMAS, int, str } from "./schemas.js";

type Json = Record<string, unknown>;

/** One documented route; the app registers exactly these (a test checks both ways). */
export interface RouteDoc {
  path: string;
  summary: string;
  description?: string;
  query: z.ZodObject;
  pathParams: (keyof typeof PATH_PARAMS)[];
  /** Component schema of the 200 body, or a media map for non-JSON bodies. */
  ok: string | Record<string, Json>;
  errors: number[];
  tag: string;
}

export const ROUTES: RouteDoc[] = [
  {
    path: "/v1/servers",
    summary: "List servers",
    description: "Servers in the catalog, filtered and paged. Removed servers are left out.",
    query: ServerListQuerySchema,
    pathParams: [],
    ok: "ServerPage",
    errors: [400],
    tag: "servers",
  },
  {
    path: "/v1/servers/{server}",
    summary: "One server",
    description: "Probe status, tool counts by category and risk, token cost of its tool definitions, sources, tools.",
    query: EmptyQuerySchema,
    pathParams: ["server"],
    ok: "ServerDetail",
    errors: [400, 404],
    tag: "servers",
  },
  {
    path: "/v1/servers/{server}/policy",
    summary: "Recommended policy for a server",
    description: "The policy decision for the server's current tools, in the requested format.",
    query: PolicyQuerySchema,
    pathParams: ["server"],
    ok: { "application/json": { type: "object" }, "text/plain": { type: "string" } },
    errors: [400, 404, 501],
    tag: "policy",
  },
  {
    path: "/v1/tools",
    summary: "Search tools",
    description: "Current tools across the catalog, filtered, searched and paged.",
    query: ToolListQuerySchema,
    pathParams: [],
    ok: "ToolPage",
    errors: [400, 404],
    tag: "tools",
  },
  {
    path: "/v1/tools/{server}/{tool}",
    summary: "One tool",
    description: "Definition as received, classification with its evidence, and every stored version.",
    query: EmptyQuerySchema,
    pathParams: ["server", "tool"],
    ok: "ToolDetail",
    errors: [400, 404],
    tag: "tools",
  },
  {
    path: "/v1/changes",
    summary: "Changes feed",
    description:
      "Changes to servers' tool listings (added, removed, definition or classification changed), newest first.",
    query: ChangesQuerySchema,
    pathParams: [],
    ok: "ChangePage",
    errors: [400, 404],
    tag: "catalog",
  },
  {
    path: "/v1/stats",
    summary: "Catalog totals",
    query: EmptyQuerySchema,
    pathParams: [],
    ok: "Stats",
    errors: [400],
    tag: "catalog",
  },
  {
    path: "/healthz",
    summary: "Liveness",
    query: EmptyQuerySchema,
    pathParams: [],
    ok: "Health",
    errors: [],
    tag: "health",
  },
  {
    path: "/readyz",
    summary: "Readiness: the catalog opens and its migrations are applied",
    query: EmptyQuerySchema,
    pathParams: [],
    ok: "Health",
    errors: [503],
    tag: "health",
  },
  {
    path: "/v1/openapi.json",
    summary: "This document",
    query: EmptyQuerySchema,
    pathParams: [],
    ok: { "application/json": { type: "object" } },
    errors: [400],
    tag: "meta",
  },
  {
    path: "/v1/docs",
    summary: "Browsable reference generated from this document",
    query: EmptyQuerySchema,
    pathParams: [],
    ok: { "text/html": { type: "string" } },
    errors: [400],
    tag: "meta",
  },
];

const schemaOf = (s: z.ZodType): Json => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: "input" }) as Json;
  return rest;
};

/** The components as JSON Schema, each schema named above referred to by `$ref` wherever another one uses it. */
const COMPONENTS: Record<string, Json> = (() => {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(ANSWER_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, Json>;
  };
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _, $id: __, ...rest }]) => [id, rest]));
})();

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const intJson = schemaOf(int);
const strJson = schemaOf(str);

const ERROR_TEXT: Record<number, string> = {
  304: "Not modified (If-None-Match matched the ETag)",
  400: "A parameter is invalid; `error.parameter` names it",
  404: "What was asked for is not in the catalog; the message says what (and suggests similar server names)",
  429: "Rate limited: too many requests from this client; Retry-After says when to try again",
  501: "Not available in this build",
  503: "Not ready, or (query_timeout) a query ran past its time budget; Retry-After says when to try again",
};

/** The OpenAPI 3.1 document, built from the same zod schemas that validate requests. */
export function openApiDocument(version = PACKAGE_VERSION): Json {
  const paths: Record<string, Json> = {};
  for (const r of ROUTES) {
    const parameters: Json[] = [
      ...r.pathParams.map((name) => ({
        name,
        in: "path",
        required: true,
        description: PATH_PARAMS[name].description,
        schema: schemaOf(PATH_PARAMS[name]),
      })),
      ...Object.entries(r.query.shape).map(([name, s]) => {
        const schema = schemaOf(s as z.ZodType);
        return {
          name,
          in: "query",
          required: !(s as z.ZodType).safeParse(undefined).success,
          description: (s as z.ZodType).description ?? (schema.description as string | undefined) ?? name,
          schema,
        };
      }),
    ];
    const content =
      typeof r.ok === "string"
        ? { "application/json": { schema: ref(r.ok) } }
        : Object.fromEntries(Object.entries(r.ok).map(([type, schema]) => [type, { schema }]));
    const responses: Record<string, Json> = { "200": { description: "OK", content } };
    if (r.path.startsWith("/v1/") && r.path !== "/v1/docs") responses["304"] = { description: ERROR_TEXT[304] };
    // Every /v1 route is rate limited; list routes have a query time budget.
    const codes = [...r.errors];
    if (r.path.startsWith("/v1/")) codes.push(429);
    if (r.path === "/v1/tools" || r.path === "/v1/servers") codes.push(503);
    for (const code of codes) {
      responses[String(code)] = {
        description: ERROR_TEXT[code] ?? "Error",
        content:
          code === 503 && r.path === "/readyz"
            ? { "application/json": { schema: ref("Health") } }
            : { "application/problem+json": { schema: ref("Error") } },
        ...(code === 429 || code === 503
          ? { headers: { "Retry-After": { description: "Seconds to wait", schema: intJson } } }
          : {}),
      };
    }
    if (r.path.startsWith("/v1/")) {
      responses["405"] = {
        description: "Method not allowed: the Allow header lists the methods this path answers",
        headers: { Allow: { schema: strJson } },
        content: { "application/problem+json": { schema: ref("Error") } },
      };
    }
    paths[r.path] = {
      get: {
        operationId: operationId(r.path),
        summary: r.summary,
        ...(r.description ? { description: r.description } : {}),
        tags: [r.tag],
        parameters,
        responses,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "mcp-census API",
      version,
      description:
        "Read-only queries over the mcp-census catalog of MCP servers and their tools. Lists are paged with an " +
        "opaque `cursor`; every JSON answer carries an ETag (send If-None-Match for a 304). The same queries are " +
        "offered as an MCP server at /mcp (Streamable HTTP) and over stdio (`mcp-census mcp`).",
      license: { name: "MIT", identifier: "MIT" },
    },
    tags: ["servers", "tools", "policy", "catalog", "health", "meta"].map((name) => ({ name })),
    paths,
    components: { schemas: COMPONENTS },
  };
}

function operationId(path: string): string {
  const words = path
    .replace(/^\/v1/, "")
    .split(/[/{}.]+/)
    .filter(Boolean);
  return ["get", ...words].map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join("");
}
