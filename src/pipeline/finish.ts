import type { ResolvedConfig } from "../core/config.js";
import { AppError } from "../core/errors.js";
import { deliverWebhooks, WebhookConfigSchema } from "../history/index.js";
import { writeAllPolicies } from "../policy/index.js";
import { buildSite } from "../site/index.js";
import { unclassifiedTools } from "../store/catalog.js";
import type { Sqlite } from "../store/db.js";
import { refreshCatalogStats } from "../store/stats.js";
import { classifyStage, storeClassifications, type ToolClassifier } from "./stages.js";

/** What the end of a crawl did, in either mode. */
export interface FinishResult {
  classified: number;
  webhooks?: { delivered: number; failed: number; pending: number };
  policies?: { servers: number; files: number };
  site?: { pagesWritten: number; pagesUnchanged: number; pagesDeleted: number };
}

/**
 * The end-of-run steps both modes share, run by the catalog's single writer: catch up classifications left
 * undone (e.g. after a classifier upgrade), deliver change webhooks, then write policies and the site.
 */
export async function finishCrawl(
  sqlite: Sqlite,
  config: ResolvedConfig,
  classifier: ToolClassifier & { version: string },
  opts: { outputs?: boolean } = {},
): Promise<FinishResult> {
  const out: FinishResult = { classified: 0 };
  const rest = unclassifiedTools(sqlite, classifier.version);
  if (rest.length) {
    const done = await classifyStage(rest, classifier);
    storeClassifications(sqlite, done);
    out.classified = done.length;
  }
  // The statistics the API serves change only here: compute them once now, not on a reader's request.
  refreshCatalogStats(sqlite);
  if (config.webhookUrls.length) {
    const hooks = WebhookConfigSchema.safeParse({
      urls: config.webhookUrls,
      secret: config.webhookSecret,
      minSeverity: config.webhookMinSeverity,
    });
    if (!hooks.success) {
      throw new AppError("config_invalid", `invalid webhook settings: ${hooks.error.issues[0]?.message}`);
    }
    out.webhooks = await deliverWebhooks(sqlite, hooks.data);
  }
  if (opts.outputs !== false) {
    const p = writeAllPolicies(sqlite, config.outDir);
    out.policies = { servers: p.servers, files: p.files };
    const s = await buildSite(sqlite, `${config.outDir}/site`, { baseUrl: config.siteBaseUrl });
    out.site = { pagesWritten: s.pagesWritten, pagesUnchanged: s.pagesUnchanged, pagesDeleted: s.pagesDeleted };
  }
  return out;
}
