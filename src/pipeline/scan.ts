import { readFileSync } from "node:fs";
import { classifyHeuristic } from "../classify/index.js";
import { oneLine } from "../core/errors.js";
import type { Category, Risk } from "../core/types.js";
import { maxRisk } from "../core/vocabulary.js";
import { type ProbeOptions, probe } from "../mcp/index.js";
import {
  type ClientId,
  type ConfigProblem,
  type ConfiguredServer,
  configFiles,
  readClientConfig,
} from "../policy/client-config.js";
import { decidePolicy } from "../policy/decide.js";
import type { PolicyOverrides } from "../policy/overrides.js";
import type { LaunchSpec, PolicyDecision, Profile } from "../policy/types.js";

/** One configured server after probing and classifying. */
export interface ScannedServer {
  client: ClientId;
  file: string;
  /** Line of the server's key in its config file, for SARIF. */
  line?: number;
  name: string;
  outcome: string;
  /** Why it could not be listed (secrets redacted). */
  error?: string;
  decision?: PolicyDecision;
  byCategory: Partial<Record<Category, number>>;
  maxRisk?: Risk;
}

export interface ScanReport {
  files: string[];
  servers: ScannedServer[];
  problems: (ConfigProblem & { line?: number })[];
  /** Replaces every secret value from the scanned configs; apply to anything shown or written. */
  redact: (text: string) => string;
}

export interface ScanOptions {
  probe: ProbeOptions;
  profile?: Profile;
  overrides?: PolicyOverrides;
  concurrency?: number;
  /** Where to look for client configs when no file is given. */
  cwd?: string;
  home?: string;
}

/** How the user's config starts the server, for formats that write the whole entry (env values never copied). */
function launchOf(t: ConfiguredServer["target"]): { launch?: LaunchSpec } {
  if (t.kind === "command")
    return { launch: { kind: "command", command: t.command, args: t.args, env: Object.keys(t.env ?? {}).sort() } };
  if (t.kind === "remote" && /^https?:\/\//i.test(t.remote.url))
    return {
      launch: { kind: "remote", url: t.remote.url, transport: t.remote.type === "sse" ? "sse" : "http", headers: [] },
    };
  return {};
}

/** A function that replaces each secret (longest first) with [redacted]. */
export function redactor(secrets: string[]): (text: string) => string {
  const list = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const s of list) out = out.split(s).join("[redacted]");
    return out;
  };
}

function lineOf(file: string, name: string): number | undefined {
  try {
    const text = readFileSync(file, "utf8");
    const i = text.indexOf(JSON.stringify(name));
    return i < 0 ? undefined : text.slice(0, i).split("\n").length;
  } catch {
    return undefined;
  }
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Reads the user's MCP client configs, lists each configured server in the sandbox, classifies its tools and decides
 * a policy per server. Bad files, bad entries and servers that fail are reported; the rest are still scanned.
 */
export async function scanConfigs(given: string[], opts: ScanOptions): Promise<ScanReport> {
  const files = configFiles(given, opts.cwd, opts.home);
  const problems: ScanReport["problems"] = [];
  const configured = [];
  const secrets: string[] = [];
  for (const f of files) {
    const r = readClientConfig(f);
    for (const p of r.problems) problems.push({ ...p, line: p.server ? lineOf(f, p.server) : undefined });
    for (const s of r.servers) {
      secrets.push(...s.secrets);
      configured.push(s);
    }
  }
  const redact = redactor(secrets);
  const servers: ScannedServer[] = configured.map((s) => ({
    client: s.client,
    file: s.file,
    line: lineOf(s.file, s.name),
    name: s.name,
    outcome: "pending",
    byCategory: {},
  }));
  await pool(
    configured.map((s, i) => ({ s, out: servers[i]! })),
    opts.concurrency ?? 2,
    async ({ s, out }) => {
      const result = await probe(s.target, opts.probe);
      out.outcome = result.outcome;
      if (result.outcome !== "ok") {
        const lastErr = result.stderrTail
          ?.split("\n")
          .filter((l) => l.trim())
          .pop()
          ?.slice(0, 200);
        const why = [result.error, lastErr && `stderr: ${lastErr}`].filter(Boolean).join("; ") || "no detail";
        out.error = redact(oneLine(`${result.outcome.replace(/_/g, " ")}: ${why}`));
        problems.push({
          file: s.file,
          server: s.name,
          line: out.line,
          message: `server failed to start: ${out.error}`,
        });
        // A server whose tools could not be listed gets a policy that denies it whole and says why.
        out.decision = decidePolicy({ name: s.name, slug: s.name }, [], {
          profile: opts.profile,
          serverKey: s.name,
          unlisted: `${out.error}; fix it, then run mcp-census scan again`,
          ...launchOf(s.target),
        });
        return;
      }
      const tools = result.tools.map((t) => ({
        name: t.name,
        classification: classifyHeuristic({
          server: s.name,
          name: t.name,
          title: typeof t.title === "string" ? t.title : undefined,
          description: typeof t.description === "string" ? t.description : undefined,
          inputSchema: t.inputSchema,
          outputSchema: t.outputSchema,
          annotations: t.annotations ?? null,
        }),
      }));
      out.decision = decidePolicy({ name: s.name, slug: s.name }, tools, {
        profile: opts.profile,
        overrides: opts.overrides,
        serverKey: s.name,
        ...launchOf(s.target),
      });
      for (const t of out.decision.tools) {
        out.byCategory[t.category] = (out.byCategory[t.category] ?? 0) + 1;
        out.maxRisk = maxRisk(out.maxRisk, t.risk);
      }
    },
  );
  // Probes finish in any order; the report does not.
  const key = (p: ScanReport["problems"][number]) => `${p.file}\u0000${p.server ?? ""}\u0000${p.message}`;
  problems.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { files, servers, problems, redact };
}
