import { z } from "zod";
import {
  AccessSchema,
  CategorySchema,
  ChangeKindSchema,
  ClassificationSchema,
  RiskSchema,
  SeveritySchema,
} from "../core/vocabulary.js";

/*
 * The shapes of the API's answers as zod schemas over the vocabulary's types: the OpenAPI document's components are
 * made from them (api/openapi.ts), and the MCP server's tools declare the same ones as their output schemas
 * (api/mcp-server.ts). test/integration/api-openapi-answers.test.ts checks real answers against the document.
 */

export const int = z.int();
export const str = z.string();
export const strArr = z.array(str);
export const nstr = str.nullable();
export const category = CategorySchema.nullable();
export const risk = RiskSchema.nullable();
export const counts = z.record(str, int);
/** A server named in another answer. */
export const ServerRefSchema = z.object({ id: int, slug: str, name: str });
/** A page of a list: its items and the cursor of the next page. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: nstr.describe("Pass as `cursor` for the next page; null on the last") });

export const ChangeSchema = z.object({
  id: int,
  server: ServerRefSchema,
  at: str,
  tool: str,
  kind: ChangeKindSchema,
  severity: SeveritySchema,
  reason: str,
  fromHash: nstr,
  toHash: nstr,
  details: z.unknown(),
});
export const ServerSummarySchema = z.object({
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
export const ToolSummarySchema = z.object({
  server: ServerRefSchema,
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

/**
 * Every answer's schema by the name the OpenAPI document gives it; every object is closed (the answers carry exactly
 * these fields).
 */
export const ANSWER_SCHEMAS: Record<string, z.ZodType> = {
  Error: z
    .object({
      type: str.describe("RFC 9457 problem type (about:blank: the status says it all)"),
      title: str,
      status: int,
      detail: str.describe("What went wrong, in one line"),
      instance: str.optional(),
      code: str.describe("Stable error code (bad_input, not_found, rate_limited, query_timeout, …)"),
      parameter: str.optional().describe("The query or path parameter at fault"),
      suggestions: z
        .array(ServerRefSchema)
        .optional()
        .describe("On a server not found: catalog servers with a similar name"),
      candidates: z.array(ServerRefSchema).optional().describe("On an ambiguous server name: the servers it fits"),
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
