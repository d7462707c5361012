import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { AppError } from "./errors.js";
import { parseUntrustedJson } from "./json.js";
import { LOG_FORMATS, LOG_LEVELS } from "./log.js";
import { PACKAGE_ROOT } from "./package-info.js";
import { SEVERITIES } from "./vocabulary.js";

/**
 * The one config schema. Defaults < config file < environment < flags.
 * Each field's `env` and description feed the README table (scripts/gen-config-docs.ts).
 */
const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

/**
 * A strict boolean for every layer: JSON true/false, or (from the environment or a file) one of
 * true/false/1/0/yes/no/on/off. Anything else is a config error — never `Boolean("false") === true`
 * (z.coerce.boolean turned `"false"` into on for the safety switches).
 */
function strictBoolean() {
  return z.unknown().transform((v, ctx): boolean => {
    if (typeof v === "boolean") return v;
    if (typeof v === "number" && (v === 0 || v === 1)) return v === 1;
    if (typeof v === "string") {
      const w = v.trim().toLowerCase();
      if (TRUE_WORDS.has(w)) return true;
      if (FALSE_WORDS.has(w)) return false;
    }
    ctx.addIssue({ code: "custom", message: "expected a boolean (true/false, 1/0, yes/no, on/off)" });
    return z.NEVER;
  });
}

/** A list: a JSON array, or (from the environment or a flag) one comma-separated string; blanks are dropped. */
function commaList() {
  return z.union([
    z.array(z.string()),
    z.string().transform((s) =>
      s
        .split(",")
        .map((u) => u.trim())
        .filter(Boolean),
    ),
  ]);
}

export const ConfigSchema = z.object({
  dataDir: z.string().default("data").describe("Folder for the catalog, caches and outputs"),
  dbPath: z.string().optional().describe("SQLite catalog file (default: <dataDir>/catalog.db)"),
  seedsDir: z
    .string()
    .optional()
    .describe(
      "Seed registry folder in server.json format (default: <dataDir>/seeds if it exists, else the bundled seeds)",
    ),
  outDir: z.string().optional().describe("Where policies and the site are written (default: <dataDir>/out)"),
  cacheDir: z.string().optional().describe("Per-package, per-version install cache (default: <dataDir>/cache)"),
  siteBaseUrl: z
    .string()
    .default("http://localhost:8080/")
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), {
      message: "expected an absolute http(s) URL",
    })
    .describe("Absolute URL the site is served from (canonical links, sitemap, feed); used by crawl and site"),
  concurrency: z.coerce.number().int().min(1).max(64).default(4).describe("Servers probed at once"),
  probeTimeoutMs: z.coerce.number().int().min(1000).default(60_000).describe("Wall-clock limit for one probe"),
  reprobeAfterHours: z.coerce
    .number()
    .min(0)
    .default(168)
    .describe(
      "A crawl reuses a server's last successful listing instead of relaunching it when its pinned package, launch and our probe are unchanged and the listing is younger than this (0: always probe; crawl --reprobe)",
    ),
  installTimeoutMs: z.coerce.number().int().min(1000).default(300_000).describe("Limit for one package install"),
  allowInstallScripts: strictBoolean().default(false).describe("Run npm install scripts (off: such packages fail)"),
  fetchNodeRuntime: strictBoolean()
    .default(true)
    .describe(
      "When an npm server needs a newer Node.js than ours (engines.node, or what it says when it exits), fetch that Node.js from the npm registry (node-<os>-<arch>, version-pinned, integrity-checked, ~30 MB per major, kept in cacheDir) and run the server with it inside the same sandbox (off: such servers are unsupported_runtime)",
    ),
  allowUnsandboxed: strictBoolean()
    .default(false)
    .describe("Launch stdio servers without bubblewrap when it is missing (unsafe)"),
  allowPrivateNetwork: strictBoolean()
    .default(false)
    .describe("Let remote probes reach loopback/private addresses (tests only)"),
  resolveFrom: commaList()
    .default([])
    .describe("node_modules folders searched for an npm package before installing it (comma-separated)"),
  memoryLimitMb: z.coerce.number().int().min(64).default(2048).describe("Address-space limit for a probed server"),
  python: z
    .string()
    .default("python3")
    .describe("Interpreter the per-package virtual environments of PyPI servers are made from"),
  pypiIndexUrl: z
    .string()
    .optional()
    .describe("PyPI index for installs (default: pip's or uv's own); \"none\" installs only from pypiFindLinks"),
  pypiFindLinks: commaList()
    .default([])
    .describe("Folders or URLs of wheels searched for PyPI installs (comma-separated)"),
  llmBaseUrl: z.string().optional().describe("OpenAI-compatible endpoint for the classifier"),
  llmApiKey: z.string().optional().describe("API key; without it classification uses heuristics only"),
  llmModel: z.string().default("gpt-4o-mini").describe("Model used when the heuristics are unsure"),
  llmThreshold: z.coerce.number().min(0).max(1).default(0.6).describe("Ask the LLM below this heuristic confidence"),
  llmTokenBudget: z.coerce.number().int().min(0).default(200_000).describe("Tokens per run before falling back"),
  llmTimeoutMs: z.coerce.number().int().min(100).default(30_000).describe("Timeout for one LLM request"),
  llmTimeBudgetMs: z.coerce
    .number()
    .int()
    .min(0)
    .default(600_000)
    .describe("Wall-clock time a run may spend on the LLM from its first request (0: no limit); then heuristics"),
  webhookUrls: commaList()
    .default([])
    .describe("URLs that receive signed POSTs for tool-definition changes (comma-separated)"),
  webhookSecret: z.string().optional().describe("HMAC-SHA256 key for webhook signatures (16+ characters)"),
  webhookMinSeverity: z.enum(SEVERITIES).default("high").describe("Lowest change severity sent to webhooks"),
  apiRateLimit: z.coerce
    .number()
    .int()
    .min(0)
    .default(600)
    .describe("serve: requests a minute per client address on /v1 and /mcp (429 past it; 0 turns limiting off)"),
  apiRateLimitLoopback: strictBoolean()
    .default(false)
    .describe("serve: limit loopback clients too (off: local tools and agents are not limited)"),
  apiQueryBudgetMs: z.coerce
    .number()
    .int()
    .min(10)
    .default(2000)
    .describe("serve: time budget of one list or search query (503 past it)"),
  mcpAllowedOrigins: commaList()
    .default([])
    .describe("serve: browser origins allowed to call /mcp besides loopback ones (comma-separated)"),
  redisUrl: z.string().optional().describe("Redis for distributed mode; unset runs embedded"),
  queuePrefix: z.string().default("mcp-census").describe("BullMQ key prefix"),
  logLevel: z.enum(LOG_LEVELS).default("info").describe("Log verbosity"),
  logFormat: z
    .enum(LOG_FORMATS)
    .default("text")
    .describe("Log lines: text for people, json (pino, one object per line) for collectors"),
});
export type ConfigInput = z.input<typeof ConfigSchema>;
export type ResolvedConfig = z.infer<typeof ConfigSchema> & {
  dbPath: string;
  seedsDir: string;
  outDir: string;
  cacheDir: string;
};

/** Environment variable per config key. */
export const ENV_VARS: Record<keyof ConfigInput, string> = {
  dataDir: "MCP_CENSUS_DATA_DIR",
  dbPath: "MCP_CENSUS_DB",
  seedsDir: "MCP_CENSUS_SEEDS_DIR",
  outDir: "MCP_CENSUS_OUT_DIR",
  cacheDir: "MCP_CENSUS_CACHE_DIR",
  siteBaseUrl: "MCP_CENSUS_SITE_BASE_URL",
  concurrency: "MCP_CENSUS_CONCURRENCY",
  probeTimeoutMs: "MCP_CENSUS_PROBE_TIMEOUT_MS",
  reprobeAfterHours: "MCP_CENSUS_REPROBE_AFTER_HOURS",
  installTimeoutMs: "MCP_CENSUS_INSTALL_TIMEOUT_MS",
  allowInstallScripts: "MCP_CENSUS_ALLOW_INSTALL_SCRIPTS",
  fetchNodeRuntime: "MCP_CENSUS_FETCH_NODE_RUNTIME",
  allowUnsandboxed: "MCP_CENSUS_ALLOW_UNSANDBOXED",
  allowPrivateNetwork: "MCP_CENSUS_ALLOW_PRIVATE_NETWORK",
  resolveFrom: "MCP_CENSUS_RESOLVE_FROM",
  memoryLimitMb: "MCP_CENSUS_MEMORY_LIMIT_MB",
  python: "MCP_CENSUS_PYTHON",
  pypiIndexUrl: "MCP_CENSUS_PYPI_INDEX_URL",
  pypiFindLinks: "MCP_CENSUS_PYPI_FIND_LINKS",
  llmBaseUrl: "OPENAI_BASE_URL",
  llmApiKey: "OPENAI_API_KEY",
  llmModel: "MCP_CENSUS_LLM_MODEL",
  llmThreshold: "MCP_CENSUS_LLM_THRESHOLD",
  llmTokenBudget: "MCP_CENSUS_LLM_TOKEN_BUDGET",
  llmTimeoutMs: "MCP_CENSUS_LLM_TIMEOUT_MS",
  llmTimeBudgetMs: "MCP_CENSUS_LLM_TIME_BUDGET_MS",
  webhookUrls: "MCP_CENSUS_WEBHOOK_URLS",
  webhookSecret: "MCP_CENSUS_WEBHOOK_SECRET",
  webhookMinSeverity: "MCP_CENSUS_WEBHOOK_MIN_SEVERITY",
  apiRateLimit: "MCP_CENSUS_API_RATE_LIMIT",
  apiRateLimitLoopback: "MCP_CENSUS_API_RATE_LIMIT_LOOPBACK",
  apiQueryBudgetMs: "MCP_CENSUS_API_QUERY_BUDGET_MS",
  mcpAllowedOrigins: "MCP_CENSUS_MCP_ALLOWED_ORIGINS",
  redisUrl: "REDIS_URL",
  queuePrefix: "MCP_CENSUS_QUEUE_PREFIX",
  logLevel: "MCP_CENSUS_LOG_LEVEL",
  logFormat: "MCP_CENSUS_LOG_FORMAT",
};

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_VARS)) {
    const v = env[name];
    if (v === undefined || v === "") continue;
    out[key] = v;
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new AppError("config_invalid", `cannot read config file ${path}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = parseUntrustedJson(text);
  } catch (err) {
    throw new AppError("config_invalid", `config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new AppError("config_invalid", `config file ${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** <dataDir>/seeds when it exists, else the seeds bundled with the package (so a crawl from an empty folder works). */
function defaultSeedsDir(dataDir: string): string {
  const own = join(dataDir, "seeds");
  return existsSync(own) ? own : join(PACKAGE_ROOT, "data", "seeds");
}

/** Where a setting's value came from. */
export type ConfigSource = "default" | "file" | "env" | "flag";

/** The effective config, with where each setting came from and the config file read (if any). */
export interface ExplainedConfig {
  config: ResolvedConfig;
  sources: Record<keyof ResolvedConfig, ConfigSource>;
  file?: string;
}

/** Builds the config: defaults < config file (explicit or ./mcp-census.config.json) < environment < overrides. */
export function loadConfig(
  overrides: Partial<ConfigInput> = {},
  opts: { configFile?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ResolvedConfig {
  return explainConfig(overrides, opts).config;
}

/** loadConfig, also saying where each setting came from. Every invalid setting is reported, not only the first. */
export function explainConfig(
  overrides: Partial<ConfigInput> = {},
  opts: { configFile?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ExplainedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const fileName = opts.configFile ?? env.MCP_CENSUS_CONFIG;
  const implicit = join(cwd, "mcp-census.config.json");
  const filePath = fileName ? resolve(cwd, fileName) : existsSync(implicit) ? implicit : undefined;
  const file = filePath ? readConfigFile(filePath) : {};
  const fromEnvironment = fromEnv(env);
  const cleanOverrides = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = ConfigSchema.strict().safeParse({ ...file, ...fromEnvironment, ...cleanOverrides });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [issue.path.join(".") || "config"];
      return `${keys.join(", ")}: ${issue.message}`;
    });
    const what = problems.length === 1 ? "invalid setting" : `${problems.length} invalid settings:`;
    throw new AppError("config_invalid", `${what} ${problems.join("; ")}`);
  }
  const c = parsed.data;
  const dataDir = resolve(cwd, c.dataDir);
  const config: ResolvedConfig = {
    ...c,
    dataDir,
    dbPath: resolve(cwd, c.dbPath ?? join(dataDir, "catalog.db")),
    seedsDir: c.seedsDir ? resolve(cwd, c.seedsDir) : defaultSeedsDir(dataDir),
    outDir: resolve(cwd, c.outDir ?? join(dataDir, "out")),
    cacheDir: resolve(cwd, c.cacheDir ?? join(dataDir, "cache")),
  };
  const sourceOf = (key: string): ConfigSource =>
    key in cleanOverrides ? "flag" : key in fromEnvironment ? "env" : key in file ? "file" : "default";
  const keys = new Set([...Object.keys(ConfigSchema.shape), ...Object.keys(config)]);
  const sources = Object.fromEntries([...keys].map((k) => [k, sourceOf(k)])) as ExplainedConfig["sources"];
  return { config, sources, ...(filePath ? { file: filePath } : {}) };
}

/** Settings whose values are secrets: shown masked. */
const SECRET_KEYS = new Set<string>(["llmApiKey", "webhookSecret"]);

/** A setting's value fit to print: secrets masked, passwords and query strings in URLs hidden. */
export function maskedValue(key: string, value: unknown): unknown {
  if (value === undefined) return value;
  if (SECRET_KEYS.has(key)) return "********";
  const maskUrl = (u: string) => {
    try {
      const url = new URL(u);
      if (url.password) url.password = "********";
      if (url.search) url.search = "?********";
      return url.toString();
    } catch {
      return u;
    }
  };
  if (key === "redisUrl" || key === "llmBaseUrl") return typeof value === "string" ? maskUrl(value) : value;
  if (key === "webhookUrls" && Array.isArray(value)) return value.map((v) => (typeof v === "string" ? maskUrl(v) : v));
  return value;
}
