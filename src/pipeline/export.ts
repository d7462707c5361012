import { createWriteStream } from "node:fs";
import type { Sqlite } from "../store/db.js";
import { lastProbe, listServers, serverSources, serverTools } from "../store/queries.js";

/**
 * The whole catalog as JSONL, one server per line with its sources, latest probe summary, tools and their
 * classifications. Deterministic (stable order, no run-specific ids or timestamps) so two catalogs built from the
 * same inputs export identically.
 */
export function* exportLines(sqlite: Sqlite): Generator<string> {
  for (const s of listServers(sqlite, { includeRemoved: true })) {
    const probe = lastProbe(sqlite, s.id);
    const tools = serverTools(sqlite, s.id).map((t) => ({
      name: t.name,
      hash: t.hash,
      definition: t.raw,
      classification: t.classification && {
        access: t.classification.access,
        category: t.classification.category,
        destructive: t.classification.destructive,
        financial: t.classification.financial,
        risk: t.classification.risk,
        confidence: t.classification.confidence,
        signals: t.classification.signals,
        flags: t.classification.flags,
        source: t.classification.source,
        classifierVersion: t.classification.classifierVersion,
      },
    }));
    const line = {
      name: s.name,
      slug: s.slug,
      title: s.title,
      description: s.description,
      version: s.version,
      repository: s.repositoryUrl,
      status: s.status,
      packages: s.packages,
      remotes: s.remotes,
      sources: serverSources(sqlite, s.id).map((x) => ({ source: x.sourceId, key: x.sourceKey, status: x.status })),
      probe: probe && {
        outcome: probe.outcome,
        transport: probe.transport,
        serverInfo: probe.serverInfo,
        protocolVersion: probe.protocolVersion,
        toolCount: probe.toolCount,
      },
      tools,
    };
    yield JSON.stringify(line);
  }
}

/** Writes the export to a file or stdout; resolves with the number of servers written. */
export async function writeExport(sqlite: Sqlite, out?: string): Promise<number> {
  const stream = out ? createWriteStream(out) : process.stdout;
  let n = 0;
  for (const line of exportLines(sqlite)) {
    if (!stream.write(`${line}\n`)) await new Promise<void>((r) => stream.once("drain", () => r()));
    n++;
  }
  if (out)
    await new Promise<void>((resolve, reject) =>
      (stream as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  return n;
}
