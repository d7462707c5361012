import { z } from "zod";
import { CATEGORIES, FLAG_KINDS, PROBE_OUTCOMES, RISKS, SEVERITIES } from "../core/vocabulary.js";
import { PROFILES, SERVER_NAME } from "../policy/index.js";
import { MAX_QUERY_LENGTH } from "./fts.js";
import { API_POLICY_FORMATS } from "./policy.js";

/** Largest page a list endpoint returns. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export { CATEGORIES, RISKS };
export const FLAGS = FLAG_KINDS;
export const ANNOTATIONS = [
  "any",
  "none",
  "readOnlyHint",
  "destructiveHint",
  "idempotentHint",
  "openWorldHint",
  "title",
] as const;
export const TOOL_SORTS = ["relevance", "server", "name", "risk"] as const;
export const SERVER_SORTS = ["relevance", "name"] as const;

/**
 * A strict parameter object: an unknown parameter is refused with the same words over REST (a 400) and MCP (a tool
 * error), rather than ignored.
 */
export function strictParams<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? `${iss.keys.join(", ")}: unknown parameter` : undefined),
  });
}

const text = (max: number, what: string) => z.string().min(1).max(max).describe(what);
const q = z
  .string()
  .max(MAX_QUERY_LENGTH)
  .describe(
    `Full-text search: whole words, all required; \`word*\` matches a prefix; any other syntax is plain text (at most ${MAX_QUERY_LENGTH} characters)`,
  );
/**
 * A page size from a query string: decimal digits only. `z.coerce.number()` took `0x10`, `1e2`, ` 20 ` and `20.0`
 * as numbers; a query parameter that is not written as an integer is refused instead.
 */
const limit = z
  .string()
  .regex(/^[0-9]{1,6}$/, "must be an integer written in decimal digits")
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_PAGE_SIZE))
  .default(String(DEFAULT_PAGE_SIZE) as never)
  .describe(`Page size (1–${MAX_PAGE_SIZE})`)
  // Documented as what it is on the wire: an integer (the string schema above is how it is checked).
  .meta({ type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, pattern: undefined });
const cursor = z.string().min(1).max(1000).describe("Opaque cursor from the previous page's `nextCursor`");

export const ServerListQuerySchema = strictParams({
  q: q.optional(),
  source: text(100, "Only servers listed by this source (e.g. official, seed, smithery)").optional(),
  transport: z.enum(["stdio", "streamable-http", "sse"]).describe("Only servers offering this transport").optional(),
  runtime: text(
    50,
    "Only servers with a package of this registry type or runtime hint (npm, pypi, oci, npx, uvx, docker), or `remote`",
  )
    .transform((s) => s.toLowerCase())
    .optional(),
  outcome: z
    .enum([...PROBE_OUTCOMES, "unprobed"])
    .describe("Outcome of the server's latest probe (`unprobed`: never probed)")
    .optional(),
  category: z.enum(CATEGORIES).describe("Only servers with at least one tool of this category").optional(),
  risk: z.enum(RISKS).describe("Only servers with at least one tool of this risk").optional(),
  updated_since: z
    .string()
    .max(40)
    .datetime({ offset: true })
    .transform((s) => new Date(s).toISOString())
    .describe("Only servers whose `updatedAt` is at or after this RFC 3339 time (for mirrors that sync)")
    .optional(),
  sort: z
    .enum(SERVER_SORTS)
    .describe(
      "Order: `relevance` (default with q: name or title matches first, then other matches) or `name` (default otherwise)",
    )
    .optional(),
  limit,
  cursor: cursor.optional(),
});
export type ServerListQuery = z.infer<typeof ServerListQuerySchema>;

export const ToolListQuerySchema = strictParams({
  q: q.optional(),
  category: z.enum(CATEGORIES).describe("Tool category").optional(),
  risk: z.enum(RISKS).describe("Tool risk").optional(),
  server: text(300, "Only tools of this server (id, slug or name)").optional(),
  annotation: z
    .enum(ANNOTATIONS)
    .describe("Only tools whose annotations carry this hint (`any`: some annotation, `none`: no annotations)")
    .optional(),
  flag: z.enum(FLAGS).describe("Only tools flagged so by the classifier").optional(),
  sort: z
    .enum(TOOL_SORTS)
    .describe(
      "Order: `relevance` (default with q: name or title matches first, then other matches), `server` (default otherwise), `name`, or `risk` (highest first)",
    )
    .optional(),
  limit,
  cursor: cursor.optional(),
});
export type ToolListQuery = z.infer<typeof ToolListQuerySchema>;

export const ChangesQuerySchema = strictParams({
  server: text(300, "Only changes of this server (id, slug or name)").optional(),
  severity: z.enum(SEVERITIES).describe("Only changes of this severity").optional(),
  limit,
  cursor: cursor.optional(),
});
export const EmptyQuerySchema = strictParams({});

/** The name the server has in the user's client (`as`, as `mcp-census policy --as`). */
export const policyServerName = z
  .string()
  .regex(SERVER_NAME, { error: 'must be 1-64 letters, digits, "_" or "-"' })
  .describe(
    "The name the server has in your client's config (default: its short name, e.g. filesystem); clients apply a policy only under that name, so every format uses it (Claude Code mcp__<as>__<tool>, Codex and Gemini keyed <as>, Cursor <as>:<tool>)",
  );

export const PolicyQuerySchema = strictParams({
  profile: z.enum(PROFILES).describe("Policy profile (default balanced)").optional(),
  as: policyServerName.optional(),
  format: z
    .enum(API_POLICY_FORMATS)
    .describe("Output format (default policy.json; `decision` is the decision every format is a view of)")
    .optional(),
});
export type PolicyQuery = z.infer<typeof PolicyQuerySchema>;

/** Path parameters, documented beside the query ones. */
export const PATH_PARAMS = {
  server: text(300, "Server id, slug or name"),
  tool: text(300, "Tool name or slug"),
};
