import { parentPort, workerData } from "node:worker_threads";
import type { ChangeEvent } from "../history/events.js";
import { loadServerBundle, openCatalogReader, prepareBundleStatements } from "../store/site.js";
import { siteCtx } from "./layout.js";
import { policyProvider } from "./policy-view.js";
import { type PreparedServer, prepareServer } from "./prepare.js";
import { renderServerPages } from "./server-pages.js";

export interface RenderWorkerData {
  dbPath: string;
  baseUrl: string;
  policy: boolean;
}

// Each worker reads the catalog through its own read-only connection, renders the servers it is sent and encodes
// their pages; the main thread hashes them, makes the search entries and summary rows (indexServer) and writes.
const data = workerData as RenderWorkerData;
const db = openCatalogReader(data.dbPath);
const stmts = prepareBundleStatements(db);
const ctx = siteCtx(data.baseUrl);
const policy = data.policy ? policyProvider() : undefined;

parentPort?.on("message", (ids: number[]) => {
  const out: PreparedServer[] = ids.map((id) => {
    const b = loadServerBundle<ChangeEvent>(db, id, stmts);
    if (!b) return { id, missing: true, paths: [], ends: [], hashes: [], buf: new Uint8Array(0) };
    const r = renderServerPages(ctx, b, policy?.(b.server, b.tools, b.probe));
    return prepareServer(id, r.files, r.meta, r.tools, false);
  });
  // The page bytes move to the main thread without a copy.
  parentPort?.postMessage(
    out,
    out.map((p) => p.buf.buffer as ArrayBuffer),
  );
});
