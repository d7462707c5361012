import { z } from "zod";
import { PACKAGE_VERSION } from "../core/package-info.js";
import {
  AccessSchema,
  CategorySchema,
  ChangeKindSchema,
  ClassificationSchema,
  RiskSchema,
  SeveritySchema,
} from "../core/vocabulary.js";
import {
  ChangesQuerySchema,
  EmptyQuerySchema,
  PATH_PARAMS,
  PolicyQuerySchema,
  ServerListQuerySchema,
  ToolListQuerySchema,
} from "./params.js";

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

const nullable = (s: Json): Json => ({ anyOf: [s, { type: "null" }] });
const str = { type: "string" };
const int = { type: "integer" };
const strArr = { type: "array", items: str };
const obj = (properties: Record<string, Json>, required = Object.keys(properties)): Json => ({
  type: "object",
  properties,
  required,
});
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const pageOf = (item: string): Json => obj({ items: { type: "array", items: ref(item) }, nextCursor: nullable(str) });

const CATEGORY = schemaOf(CategorySchema);
const RISK = schemaOf(RiskSchema);

const SERVER_REF = obj({ id: int, slug: str, name: str });

const COMPONENTS: Record<string, Json> = {
  Error: {
    ...obj(
      {
        type: { ...str, description: "RFC 9457 problem type (about:blank: the status says it all)" },
        title: str,
        status: int,
        detail: { ...str, description: "What went wrong, in one line" },
        instance: str,
        code: { ...str, description: "Stable error code (bad_input, not_found, rate_limited, query_timeout, …)" },
        parameter: { ...str, description: "The query or path parameter at fault" },
        suggestions: {
          type: "array",
          items: obj({ id: int, slug: str, name: str }),
          description: "On a server not found: catalog servers with a similar name",
        },
        candidates: {
          type: "array",
          items: obj({ id: int, slug: str, name: str }),
          description: "On an ambiguous server name: the servers it fits",
        },
        error: obj({ status: int, code: str, message: str, parameter: str }, ["status", "code", "message"]),
      },
      ["type", "title", "status", "detail", "code", "error"],
    ),
    description: "RFC 9457 problem details (application/problem+json), with the earlier `error` object kept",
  },
  Classification: schemaOf(ClassificationSchema),
  ServerSummary: obj({
    id: int,
    slug: str,
    name: str,
    title: nullable(str),
    description: nullable(str),
    version: nullable(str),
    status: str,
    repositoryUrl: nullable(str),
    transports: strArr,
    runtimes: strArr,
    probe: nullable(obj({ outcome: str, at: str })),
    toolCount: int,
    updatedAt: { ...nullable(str), description: "When anything this server's answers show last changed" },
  }),
  ServerPage: pageOf("ServerSummary"),
  ServerDetail: obj(
    {
      id: int,
      slug: str,
      name: str,
      title: nullable(str),
      description: nullable(str),
      version: nullable(str),
      repositoryUrl: nullable(str),
      websiteUrl: nullable(str),
      packages: { type: "array" },
      remotes: { type: "array" },
      status: str,
      firstSeen: str,
      lastSeen: str,
      lastProbeId: { ...nullable(int), description: "The latest probe's id" },
      lastOkProbeAt: { ...nullable(str), description: "When a probe last listed its tools" },
      updatedAt: nullable(str),
      transports: strArr,
      runtimes: strArr,
      probe: nullable(
        obj(
          {
            outcome: str,
            startedAt: str,
            durationMs: int,
            transport: str,
            error: nullable(str),
            protocolVersion: nullable(str),
            serverInfo: { ...nullable({ type: "object" }), description: "What the server said it is (untrusted)" },
            toolCount: int,
            warnings: strArr,
          },
          ["outcome", "startedAt"],
        ),
      ),
      toolCount: int,
      byCategory: { type: "object", additionalProperties: int },
      byRisk: { type: "object", additionalProperties: int },
      tokenCost: { ...int, description: "Approximate tokens of the tool definitions (JSON characters / 4)" },
      sources: {
        type: "array",
        items: obj({ sourceId: str, sourceKey: str, status: str, firstSeen: str, lastSeen: str }),
      },
      tools: {
        type: "array",
        items: obj({
          name: str,
          slug: str,
          title: nullable(str),
          category: nullable(CATEGORY),
          risk: nullable(RISK),
          flags: strArr,
          tokenCost: int,
        }),
      },
    },
    ["id", "slug", "name", "status", "probe", "toolCount", "byCategory", "byRisk", "tokenCost", "sources", "tools"],
  ),
  ToolSummary: obj({
    server: SERVER_REF,
    name: str,
    slug: str,
    title: nullable(str),
    description: nullable(str),
    annotations: nullable({ type: "object" }),
    category: nullable(CATEGORY),
    risk: nullable(RISK),
    access: nullable(schemaOf(AccessSchema)),
    flags: strArr,
  }),
  ToolPage: pageOf("ToolSummary"),
  ToolDetail: obj(
    {
      server: obj({ id: int, slug: str, name: str, status: str }),
      name: str,
      slug: str,
      title: nullable(str),
      description: nullable(str),
      annotations: nullable({ type: "object" }),
      inputSchema: {},
      outputSchema: {},
      definition: { type: "object", description: "The tool object exactly as the server sent it" },
      hash: str,
      firstSeen: str,
      lastSeen: str,
      removedAt: nullable(str),
      tokenCost: int,
      classification: nullable(ref("Classification")),
      history: {
        type: "array",
        items: obj({
          hash: str,
          firstSeen: str,
          lastSeen: str,
          current: { type: "boolean" },
          definition: { type: "object" },
          diff: { ...strArr, description: "Readable diff from the previous version (empty for the first)" },
        }),
      },
      changes: {
        type: "array",
        items: ref("Change"),
        description: "Change events recorded for this tool, oldest first",
      },
    },
    ["server", "name", "slug", "definition", "hash", "classification", "history", "changes", "tokenCost"],
  ),
  Change: obj({
    id: int,
    server: SERVER_REF,
    at: str,
    tool: str,
    kind: schemaOf(ChangeKindSchema),
    severity: schemaOf(SeveritySchema),
    reason: str,
    fromHash: nullable(str),
    toHash: nullable(str),
    details: {},
  }),
  ChangePage: pageOf("Change"),
  Stats: obj({
    servers: int,
    serversBySource: { type: "object", additionalProperties: int },
    tools: int,
    toolVersions: int,
    unclassified: int,
    byCategory: { type: "object", additionalProperties: int },
    byRisk: { type: "object", additionalProperties: int },
    probeOutcomes: { type: "object", additionalProperties: int },
  }),
  Health: obj({ status: str, detail: str }, ["status"]),
};

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
          ? { headers: { "Retry-After": { description: "Seconds to wait", schema: int } } }
          : {}),
      };
    }
    if (r.path.startsWith("/v1/")) {
      responses["405"] = {
        description: "Method not allowed: the Allow header lists the methods this path answers",
        headers: { Allow: { schema: str } },
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
