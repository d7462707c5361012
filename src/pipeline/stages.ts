import type { ResolvedConfig } from "../core/config.js";
import { oneLine } from "../core/errors.js";
import { contentHash } from "../core/hash.js";
import { PACKAGE_VERSION } from "../core/package-info.js";
import {
  type Classification,
  emptyProbeResult,
  type ProbeResult,
  type RawTool,
  type ServerEntry,
} from "../core/types.js";
import { type ChangeEvent, recordChanges } from "../history/index.js";
import { isPinnedPackage, PROBE_REVISION, type ProbeOptions, probe, targetsForEntry } from "../mcp/index.js";
import { type IngestResult, ingestProbe, saveClassification, toolHash } from "../store/catalog.js";
import { type Sqlite, transaction } from "../store/db.js";

/** Probe options from the config (the one place that maps settings to the probe). */
export function probeOptionsFrom(config: ResolvedConfig, signal?: AbortSignal): ProbeOptions {
  return {
    cacheDir: config.cacheDir,
    timeoutMs: config.probeTimeoutMs,
    installTimeoutMs: config.installTimeoutMs,
    allowInstallScripts: config.allowInstallScripts,
    fetchNodeRuntime: config.fetchNodeRuntime,
    allowUnsandboxed: config.allowUnsandboxed,
    allowPrivateNetwork: config.allowPrivateNetwork,
    memoryLimitMb: config.memoryLimitMb,
    resolveFrom: config.resolveFrom,
    python: config.python,
    ...(config.pypiIndexUrl ? { pypiIndexUrl: config.pypiIndexUrl } : {}),
    pypiFindLinks: config.pypiFindLinks,
    signal,
  };
}

/**
 * What a listing depends on besides the server's own code: the entry's launch choices as the registry gives them,
 * the settings that change how we launch, and which probe made it. Two probes with the same key launch the same
 * pinned package the same way.
 */
export function probeKey(entry: ServerEntry, opts: ProbeOptions): string {
  return contentHash({
    probe: `${PACKAGE_VERSION}/${PROBE_REVISION}`,
    packages: entry.packages,
    remotes: entry.remotes,
    allowInstallScripts: opts.allowInstallScripts,
    fetchNodeRuntime: opts.fetchNodeRuntime !== false,
    python: opts.python,
    pypiIndexUrl: opts.pypiIndexUrl,
    pypiFindLinks: opts.pypiFindLinks,
  });
}

/** The last probe as the reuse decision needs it (a catalog row). */
export interface LastProbe {
  outcome: string;
  startedAt: string;
  transport: string;
  launch: Record<string, unknown>;
}

/**
 * Why the last listing may stand in for a new probe, or undefined when the server must be probed again. Only a
 * successful stdio listing of pinned packages, made with the same key (same launch, same settings, same probe) within
 * maxAgeMs: relaunching it would run the same code the same way. Remotes and unpinned packages can change at any
 * time, and a failure may have been ours or the moment's, so those are always probed.
 */
export function reusableListing(
  last: LastProbe | undefined,
  entry: ServerEntry,
  key: string,
  maxAgeMs: number,
  now = Date.now(),
): string | undefined {
  if (!last || maxAgeMs <= 0 || last.outcome !== "ok" || last.transport !== "stdio") return undefined;
  if (last.launch.probeKey !== key) return undefined;
  if (!entry.packages.length || !entry.packages.every(isPinnedPackage)) return undefined;
  const age = now - Date.parse(last.startedAt);
  if (!(age >= 0 && age < maxAgeMs)) return undefined;
  return `unchanged since its listing ${Math.round(age / 60_000)} min ago (same pinned package, same launch, same probe)`;
}

/**
 * Probe stage: tries the entry's launch choices in preference order and returns the first result that is not
 * `unsupported_runtime` (or the last one). Pure of the catalog: workers on other machines run it.
 */
export async function probeStage(entry: ServerEntry, opts: ProbeOptions): Promise<ProbeResult> {
  const targets = targetsForEntry(entry);
  let last: ProbeResult | undefined;
  const key = probeKey(entry, opts);
  for (const target of targets) {
    last = await probe(target, opts);
    last.launch.probeKey = key;
    if (last.outcome !== "unsupported_runtime") return last;
  }
  return (
    last ?? emptyProbeResult("unsupported_runtime", "none", "the entry lists no package or remote that can be launched")
  );
}

/** The result stored when probing itself threw (our bug, not the server's), kept per server. */
export function internalErrorResult(err: unknown): ProbeResult {
  return emptyProbeResult("protocol_error", "unknown", `internal error while probing: ${oneLine(err)}`);
}

/** What the classify stage needs from a classifier (src/classify's createClassifier provides it). */
export interface ToolClassifier {
  classify(tool: RawTool & { server?: string }): Promise<Classification>;
}

/** A tool definition to classify, identified by its content hash. */
export interface ClassifyItem {
  hash: string;
  server: string;
  raw: RawTool;
}

/** Classify stage: one classification per definition hash. Pure of the catalog. */
export async function classifyStage(
  items: ClassifyItem[],
  classifier: ToolClassifier,
): Promise<{ hash: string; classification: Classification }[]> {
  const out: { hash: string; classification: Classification }[] = [];
  for (const it of items) {
    const { name, title, description, inputSchema, outputSchema, annotations } = it.raw;
    const classification = await classifier.classify({
      server: it.server,
      name,
      title,
      description,
      inputSchema,
      outputSchema,
      annotations,
    });
    out.push({ hash: it.hash, classification });
  }
  return out;
}

/** SQLite error codes that mean the catalog itself is in trouble (not this server's data): they stop the run. */
const STORAGE_FAILURES = /^SQLITE_(FULL|CORRUPT|IOERR|READONLY|CANTOPEN|NOTADB|BUSY|LOCKED|NOMEM|PERM)/;

/** What storing one server's probe did: the listing's deltas, the probe as stored, the change events recorded. */
export interface IngestedServer {
  ingest: IngestResult;
  /** The probe as stored: the one given, or a failure when its listing could not be stored. */
  result: ProbeResult;
  /** Change events recorded by this ingest (the first listing of a server is its baseline and records none). */
  changes: ChangeEvent[];
}

/** Stores a probe and records its change events in one transaction: a crash after it cannot lose the drift. */
function ingestAndRecord(sqlite: Sqlite, serverId: number, result: ProbeResult, now?: string) {
  return transaction(sqlite, () => {
    const ingest = ingestProbe(sqlite, serverId, result, now);
    // Changes are decided from the stored definitions and the classifications known now (the heuristics for a
    // definition not classified yet), before classification runs: it can take minutes and the process may die.
    return { ingest, changes: recordChanges(sqlite, serverId, ingest) };
  });
}

/**
 * Ingest stage for one server whose failure stays that server's outcome: the probe, its listing and the change
 * events it causes are stored in one transaction. When storing throws for a reason of the server's data (a
 * constraint, a value SQLite refuses), the listing is dropped, the failure is stored as the server's probe outcome
 * with one line, and the crawl goes on. Catalog-level failures (disk full, corruption) throw.
 */
export function ingestServer(sqlite: Sqlite, serverId: number, result: ProbeResult, now?: string): IngestedServer {
  try {
    return { ...ingestAndRecord(sqlite, serverId, result, now), result };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && STORAGE_FAILURES.test(code)) throw err;
    const failed = emptyProbeResult("protocol_error", result.transport, `could not store the listing: ${oneLine(err)}`);
    failed.startedAt = result.startedAt;
    failed.durationMs = result.durationMs;
    return { ingest: ingestProbe(sqlite, serverId, failed, now), result: failed, changes: [] };
  }
}

/** Stores classifications (idempotent per hash and classifier version). */
export function storeClassifications(
  sqlite: Sqlite,
  results: { hash: string; classification: Classification }[],
): void {
  transaction(sqlite, () => {
    for (const r of results) saveClassification(sqlite, r.hash, r.classification);
  });
}

/** Definition items of the tools a probe listed (for classification right after ingest). */
export function itemsOf(server: string, result: ProbeResult): ClassifyItem[] {
  const seen = new Set<string>();
  const out: ClassifyItem[] = [];
  for (const t of result.tools) {
    const hash = toolHash(t);
    if (seen.has(hash)) continue;
    seen.add(hash);
    out.push({ hash, server, raw: t });
  }
  return out;
}
