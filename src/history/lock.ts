import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { AppError } from "../core/errors.js";
import { canonicalJson } from "../core/hash.js";
import { parseUntrustedJson } from "../core/json.js";
import type { ProbeResult, RawTool, ServerEntry } from "../core/types.js";
import { toolHash } from "../store/catalog.js";
import type { Sqlite } from "../store/db.js";
import { findServer, serverTools } from "../store/queries.js";
import { diffTool, renderToolDiff, type Severity, summarize } from "./diff.js";

export const DEFAULT_LOCK_FILE = "mcp-census.lock.json";

const LockServerSchema = z.object({
  /** The registry entry the server was pinned from: how `verify` launches it. */
  entry: z
    .object({
      name: z.string(),
      version: z.string().optional(),
      packages: z.array(z.record(z.string(), z.unknown())).default([]),
      remotes: z.array(z.record(z.string(), z.unknown())).default([]),
    })
    .passthrough(),
  /** Optional launch override (probe targets, e.g. a local command), tried instead of the entry's packages. */
  targets: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Tool name → definition hash and the definition itself, so a diff needs no catalog. */
  tools: z.record(z.string(), z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), definition: z.unknown() })),
});
export const LockSchema = z.object({
  lockfileVersion: z.literal(1),
  servers: z.record(z.string(), LockServerSchema),
});
export type Lock = z.infer<typeof LockSchema>;
export type LockServer = z.infer<typeof LockServerSchema>;

/** Reads and validates a lock file; a missing or malformed file is one clear error. */
export function readLock(path: string): Lock {
  if (!existsSync(path))
    throw new AppError("not_found", `no lock file at ${path}: run \`mcp-census pin <server…>\` first`);
  let parsed: unknown;
  try {
    parsed = parseUntrustedJson(readFileSync(path, "utf8"));
  } catch (err) {
    throw new AppError("bad_input", `lock file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const r = LockSchema.safeParse(parsed);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new AppError(
      "bad_input",
      `lock file ${path} is invalid at ${issue?.path.join(".") || "top"}: ${issue?.message}`,
    );
  }
  return r.data;
}

/** Writes a lock deterministically (keys sorted at every level, two-space indent), atomically. */
export function writeLock(path: string, lock: Lock): void {
  const text = `${JSON.stringify(JSON.parse(canonicalJson(lock)), null, 2)}\n`;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    throw new AppError("io_error", `cannot write lock file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Lock entries for catalog servers: their current tool definitions. Servers never listed successfully are refused. */
export function pinServers(sqlite: Sqlite, refs: string[], base?: Lock): Lock {
  const lock: Lock = { lockfileVersion: 1, servers: { ...(base?.servers ?? {}) } };
  for (const ref of refs) {
    const s = findServer(sqlite, ref);
    if (!s) throw new AppError("not_found", `no server "${ref.slice(0, 100)}" in the catalog`);
    if (!s.lastOkProbeAt) {
      throw new AppError(
        "bad_input",
        `server ${s.name} has never been listed successfully: run \`mcp-census probe\` first`,
      );
    }
    const tools: LockServer["tools"] = {};
    for (const t of serverTools(sqlite, s.id)) tools[t.name] = { hash: t.hash, definition: t.raw };
    const entry: LockServer["entry"] = {
      name: s.name,
      packages: s.packages as Record<string, unknown>[],
      remotes: s.remotes as Record<string, unknown>[],
    };
    if (s.version) entry.version = s.version;
    const prevTargets = base?.servers[s.name]?.targets;
    lock.servers[s.name] = { entry, ...(prevTargets ? { targets: prevTargets } : {}), tools };
  }
  return lock;
}

/** The entry `verify` launches: by default the newest package versions, as `npx -y <pkg>` users run. */
export function entryForVerify(server: LockServer, exactVersion: boolean): ServerEntry {
  const packages = (server.entry.packages as ServerEntry["packages"]).map((p) => {
    if (exactVersion) return p;
    const { version: _version, ...rest } = p;
    return rest as ServerEntry["packages"][number];
  });
  return {
    name: server.entry.name,
    packages,
    remotes: server.entry.remotes as ServerEntry["remotes"],
  } as ServerEntry;
}

export interface ToolDrift {
  tool: string;
  change: "added" | "removed" | "changed";
  severity: Severity;
  reason: string;
  fromHash: string | null;
  toHash: string | null;
  diff: string[];
}

export interface ServerVerification {
  server: string;
  status: "ok" | "drift" | "probe_failed";
  error?: string;
  tools: number;
  drift: ToolDrift[];
}

/** Compares a fresh listing with the pinned one: added, removed and changed tools with severity and diff. */
export function compareListing(pinned: LockServer, tools: RawTool[]): ToolDrift[] {
  const now = new Map<string, RawTool>();
  for (const t of tools) if (typeof t?.name === "string" && !now.has(t.name)) now.set(t.name, t);
  const out: ToolDrift[] = [];
  for (const name of [...new Set([...Object.keys(pinned.tools), ...now.keys()])].sort()) {
    const old = pinned.tools[name];
    const cur = now.get(name);
    const curHash = cur ? toolHash(cur) : null;
    if (old && curHash === old.hash) continue;
    const from = old ? (old.definition as RawTool) : null;
    const to = cur ?? null;
    const head = summarize(diffTool(from, to));
    out.push({
      tool: name,
      change: !old ? "added" : !cur ? "removed" : "changed",
      severity: head?.severity ?? "low",
      reason: head?.reason ?? "definition changed",
      fromHash: old?.hash ?? null,
      toHash: curHash,
      diff: renderToolDiff(from, to),
    });
  }
  return out;
}

/**
 * Re-lists every pinned server (or the named ones) with `list` and compares with the lock. A server that cannot be
 * listed is reported as probe_failed, never as "all tools removed".
 */
export async function verifyLock(
  lock: Lock,
  list: (name: string, server: LockServer) => Promise<ProbeResult>,
  opts: { only?: string[]; concurrency?: number } = {},
): Promise<{ ok: boolean; servers: ServerVerification[] }> {
  const names = Object.keys(lock.servers).sort();
  for (const n of opts.only ?? []) {
    if (!lock.servers[n]) throw new AppError("not_found", `server "${n.slice(0, 100)}" is not in the lock file`);
  }
  const todo = opts.only?.length ? names.filter((n) => opts.only!.includes(n)) : names;
  const results = new Map<string, ServerVerification>();
  const queue = [...todo];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const server = lock.servers[name]!;
      let r: ProbeResult;
      try {
        r = await list(name, server);
      } catch (err) {
        results.set(name, { server: name, status: "probe_failed", error: (err as Error).message, tools: 0, drift: [] });
        continue;
      }
      if (r.outcome !== "ok") {
        results.set(name, {
          server: name,
          status: "probe_failed",
          error: `${r.outcome}${r.error ? `: ${r.error}` : ""}`,
          tools: 0,
          drift: [],
        });
        continue;
      }
      const drift = compareListing(server, r.tools);
      results.set(name, { server: name, status: drift.length ? "drift" : "ok", tools: r.tools.length, drift });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, todo.length)) }, worker));
  const servers = todo.map((n) => results.get(n)!);
  return { ok: servers.every((s) => s.status === "ok"), servers };
}
