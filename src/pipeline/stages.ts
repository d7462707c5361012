import type Database from "better-sqlite3";
import type { ResolvedConfig } from "../core/config.js";
import { oneLine } from "../core/errors.js";
import {
  type Classification,
  emptyProbeResult,
  type ProbeResult,
  type RawTool,
  type ServerEntry,
} from "../core/types.js";
import { type ProbeOptions, probe, targetsForEntry } from "../mcp/index.js";
import { type IngestResult, ingestProbe, saveClassification, toolHash } from "../store/catalog.js";

/** Probe options from the config (the one place that maps settings to the probe). */
export function probeOptionsFrom(config: ResolvedConfig, signal?: AbortSignal): ProbeOptions {
  return {
    cacheDir: config.cacheDir,
    timeoutMs: config.probeTimeoutMs,
    installTimeoutMs: config.installTimeoutMs,
    allowInstallScripts: config.allowInstallScripts,
    allowUnsandboxed: config.allowUnsandboxed,
    allowPrivateNetwork: config.allowPrivateNetwork,
    memoryLimitMb: config.memoryLimitMb,
    resolveFrom: config.resolveFrom,
    signal,
  };
}

/**
 * Probe stage: tries the entry's launch choices in preference order and returns the first result that is not
 * `unsupported_runtime` (or the last one). Pure of the catalog: workers on other machines run it.
 */
export async function probeStage(entry: ServerEntry, opts: ProbeOptions): Promise<ProbeResult> {
  const targets = targetsForEntry(entry);
  let last: ProbeResult | undefined;
  for (const target of targets) {
    last = await probe(target, opts);
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

/** Ingest stage: the single writer stores a probe and its listing in one transaction. */
export function ingestStage(
  sqlite: Database.Database,
  serverId: number,
  result: ProbeResult,
  now?: string,
): IngestResult {
  return ingestProbe(sqlite, serverId, result, now);
}

/** Stores classifications (idempotent per hash and classifier version). */
export function storeClassifications(
  sqlite: Database.Database,
  results: { hash: string; classification: Classification }[],
): void {
  sqlite.transaction(() => {
    for (const r of results) saveClassification(sqlite, r.hash, r.classification);
  })();
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
