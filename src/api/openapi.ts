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

// ---- the answers' shapes: zod schemas over the vocabulary's types, turned into the document's components ----

const int = z.int();
const str = z.string();
const strArr = z.array(str);
const nstr = str.nullable();
const category = CategorySchema.nullable();
const risk = RiskSchema.nullable();
const counts = z.record(str, int);
const serverRef = z.object({ id: int, slug: str, name: str });
const pageOf = (item: z.ZodType) =>
  z.object({ items: z.array(item), nextCursor: nstr.describe("Pass as `cursor` for the next page; null on the last") });

const ChangeSchema = z.object({
  id: int,
  server: serverRef,
  at: str,
  tool: str,
  kind: ChangeKindSchema,
  severity: SeveritySchema,
  reason: str,
  fromHash: nstr,
  toHash: nstr,
  details: z.unknown(),
});
const ServerSummarySchema = z.object({
  id: int,
  slug: str,
  name: str,
  title: nstr,
  description: nstr,
  version: nstr,
  status: str,
  repositoryUrl: nstr,
  transports: strArr,
  runtimes: strArr,
  probe: z.object({ outcome: str, at: str }).nullable(),
  toolCount: int,
  updatedAt: nstr.describe("When anything this server's answers show last changed"),
});
const ToolSummarySchema = z.object({
  server: serverRef,
  name: str,
  slug: str,
  title: nstr,
  description: nstr,
  annotations: z.record(str, z.unknown()).nullable(),
  category,
  risk,
  access: AccessSchema.nullable(),
  flags: strArr,
});

/** The component schemas, by name; every object is closed (the answers carry exactly these fields). */
const COMPONENT_SCHEMAS: Record<string, z.ZodType> = {
  Error: z
    .object({
      type: str.describe("RFC 9457 problem type (about:blank: the status says it all)"),
      title: str,
      status: int,
      detail: str.describe("What went wrong, in one line"),
      instance: str.optional(),
      code: str.describe("Stable error code (bad_input, not_found, rate_limited, query_timeout, …)"),
      parameter: str.optional().describe("The query or path parameter at fault"),
      suggestions: z.array(serverRef).optional().describe("On a server not found: catalog servers with a similar name"),
      candidates: z.array(serverRef).optional().describe("On an ambiguous server name: the servers it fits"),
      error: z.object({ status: int, code: str, message: str, parameter: str.optional() }),
    })
    .describe("RFC 9457 problem details (application/problem+json), with the earlier `error` object kept"),
  Classification: ClassificationSchema,
  ServerSummary: ServerSummarySchema,
  ServerPage: pageOf(ServerSummarySchema),
  ServerDetail: z.object({
    id: int,
    slug: str,
    name: str,
    title: nstr.optional(),
    description: nstr.optional(),
    version: nstr.optional(),
    repositoryUrl: nstr.optional(),
    websiteUrl: nstr.optional(),
    packages: z.array(z.unknown()).optional(),
    remotes: z.array(z.unknown()).optional(),
    status: str,
    firstSeen: str.optional(),
    lastSeen: str.optional(),
    lastProbeId: int.nullable().optional().describe("The latest probe's id"),
    lastOkProbeAt: nstr.optional().describe("When a probe last listed its tools"),
    updatedAt: nstr.optional(),
    transports: strArr.optional(),
    runtimes: strArr.optional(),
    probe: z
      .object({
        outcome: str,
        startedAt: str,
        durationMs: int.optional(),
        transport: str.optional(),
        error: nstr.optional(),
        protocolVersion: nstr.optional(),
        serverInfo: z.record(str, z.unknown()).nullable().optional().describe("What the server said it is (untrusted)"),
        toolCount: int.optional(),
        warnings: strArr.optional(),
      })
      .nullable(),
    toolCount: int,
    byCategory: counts,
    byRisk: counts,
    tokenCost: int.describe("Approximate tokens of the tool definitions (JSON characters / 4)"),
    sources: z.array(z.object({ sourceId: str, sourceKey: str, status: str, firstSeen: str, lastSeen: str })),
    tools: z.array(z.object({ name: str, slug: str, title: nstr, category, risk, flags: strArr, tokenCost: int })),
  }),
  ToolSummary: ToolSummarySchema,
  ToolPage: pageOf(ToolSummarySchema),
  ToolDetail: z.object({
    server: z.object({ id: int, slug: str, name: str, status: str }),
    name: str,
    slug: str,
    title: nstr.optional(),
    description: nstr.optional(),
    annotations: z.record(str, z.unknown()).nullable().optional(),
    inputSchema: z.unknown().optional(),
    outputSchema: z.unknown().optional(),
    definition: z.record(str, z.unknown()).describe("The tool object exactly as the server sent it"),
    hash: str,
    firstSeen: str.optional(),
    lastSeen: str.optional(),
    removedAt: nstr.optional(),
    tokenCost: int,
    classification: ClassificationSchema.nullable(),
    history: z.array(
      z.object({
        hash: str,
        firstSeen: str,
        lastSeen: str,
        current: z.boolean(),
        definition: z.record(str, z.unknown()),
        diff: strArr.describe("Readable diff from the previous version (empty for the first)"),
      }),
    ),
    changes: z.array(ChangeSchema).describe("Change events recorded for this tool, oldest first"),
  }),
  Change: ChangeSchema,
  ChangePage: pageOf(ChangeSchema),
  Stats: z.object({
    servers: int,
    serversBySource: counts,
    tools: int,
    toolVersions: int,
    unclassified: int,
    byCategory: counts,
    byRisk: counts,
    probeOutcomes: counts,
  }),
  Health: z.object({ status: str, detail: str.optional() }),
};

/** The components as JSON Schema, each schema named above referred to by `$ref` wherever another one uses it. */
const COMPONENTS: Record<string, Json> = (() => {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) registry.add(schema, { id });
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
