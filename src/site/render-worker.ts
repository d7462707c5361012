import { parentPort, workerData } from "node:worker_threads";
import type { ChangeEvent } from "../history/events.js";
import { loadServerBundle, openCatalogReader, prepareBundleStatements } from "../store/site.js";
import { siteCtx } from "./layout.js";
import { policyProvider } from "./policy-view.js";
import { renderServerPages, type ServerMeta, type SiteFile, type ToolSummary } from "./server-pages.js";

/** One server rendered in a worker (missing: the server disappeared since the fingerprints were read). */
export interface Rendered {
  id: number;
  missing?: boolean;
  files: SiteFile[];
  meta?: ServerMeta;
  tools: ToolSummary[];
}

export interface RenderWorkerData {
  dbPath: string;
  baseUrl: string;
  policy: boolean;
}

// Each worker reads the catalog through its own read-only connection and renders the servers it is sent.
const data = workerData as RenderWorkerData;
const db = openCatalogReader(data.dbPath);
const stmts = prepareBundleStatements(db);
const ctx = siteCtx(data.baseUrl);
const policy = data.policy ? policyProvider() : undefined;

parentPort?.on("message", (ids: number[]) => {
  const out: Rendered[] = ids.map((id) => {
    const b = loadServerBundle<ChangeEvent>(db, id, stmts);
    if (!b) return { id, missing: true, files: [], tools: [] };
    const r = renderServerPages(ctx, b, policy?.(b.server, b.tools, b.probe));
    return { id, files: r.files, meta: r.meta, tools: r.tools };
  });
  parentPort?.postMessage(out);
});
