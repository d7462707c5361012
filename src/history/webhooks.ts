import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { AppError, oneLine } from "../core/errors.js";
import { parseUntrustedJson } from "../core/json.js";
import { SEVERITIES, severitiesFrom } from "../core/vocabulary.js";
import type { Sqlite } from "../store/db.js";
import { type DueDelivery, webhookDeliveries } from "../store/webhooks.js";
import type { ChangeEvent } from "./events.js";

/** Webhook settings: where to POST, how to sign, which changes, how hard to retry. */
export const WebhookConfigSchema = z
  .object({
    urls: z.array(z.url({ protocol: /^https?$/ })).default([]),
    /** HMAC-SHA256 key; receivers check X-MCP-Census-Signature with it. */
    secret: z.string().min(16, "webhook secret must be at least 16 characters").optional(),
    minSeverity: z.enum(SEVERITIES).default("high"),
    maxAttempts: z.coerce.number().int().min(1).max(20).default(5),
    /** First retry delay; doubles each attempt. */
    backoffMs: z.coerce.number().int().min(0).max(3_600_000).default(1000),
    timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Changes older than this are never sent, so adding a URL does not replay years of history. */
    maxAgeHours: z.coerce.number().min(0).default(72),
  })
  .strict()
  .refine((c) => c.urls.length === 0 || !!c.secret, { message: "webhook urls need a secret", path: ["secret"] });
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

const ENV = {
  urls: "MCP_CENSUS_WEBHOOK_URLS",
  secret: "MCP_CENSUS_WEBHOOK_SECRET",
  minSeverity: "MCP_CENSUS_WEBHOOK_MIN_SEVERITY",
  maxAttempts: "MCP_CENSUS_WEBHOOK_MAX_ATTEMPTS",
  backoffMs: "MCP_CENSUS_WEBHOOK_BACKOFF_MS",
  timeoutMs: "MCP_CENSUS_WEBHOOK_TIMEOUT_MS",
  maxAgeHours: "MCP_CENSUS_WEBHOOK_MAX_AGE_HOURS",
} as const;

/**
 * Loads webhook settings: a JSON file (when given) overlaid with MCP_CENSUS_WEBHOOK_* environment variables
 * (URLS is comma-separated). No file and no variables means no webhooks.
 */
export function loadWebhookConfig(path?: string, env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  let file: Record<string, unknown> = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new AppError("config_invalid", `cannot read webhook config ${path}`, { cause: err });
    }
    try {
      file = parseUntrustedJson(text) as Record<string, unknown>;
    } catch (err) {
      throw new AppError("config_invalid", `webhook config ${path} is not valid JSON: ${(err as Error).message}`);
    }
    if (!file || typeof file !== "object" || Array.isArray(file)) {
      throw new AppError("config_invalid", `webhook config ${path} must hold a JSON object`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === "") continue;
    fromEnv[key] =
      key === "urls"
        ? v
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : v;
  }
  const parsed = WebhookConfigSchema.safeParse({ ...file, ...fromEnv });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      "config_invalid",
      `invalid webhook setting ${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

/** `sha256=<hex>` HMAC of the raw body. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Checks a signature header against the raw body in constant time (for receivers and tests). */
export function verifySignature(secret: string, body: string, header: string | null | undefined): boolean {
  if (!header) return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The JSON body POSTed for one change. */
export function webhookPayload(c: ChangeEvent): Record<string, unknown> {
  return {
    id: `change-${c.id}`,
    type: "tool.changed",
    at: c.at,
    server: { name: c.server, slug: c.serverSlug },
    tool: c.toolName,
    kind: c.kind,
    severity: c.severity,
    reason: c.reason,
    fromHash: c.fromHash,
    toHash: c.toHash,
    details: c.details,
  };
}

export interface DeliveryReport {
  delivered: number;
  failed: number;
  /** Still pending after this call (will be retried by the next one). */
  pending: number;
}

/** A send that has been claimed longer than this is assumed to have died with its process and is retried. */
const CLAIM_STALE_MS = 5 * 60_000;
const MAX_INLINE_WAIT_MS = 30_000;

/**
 * Sends every change at or above the minimum severity to every URL, once. Each (change, url) pair is a row in
 * webhook_deliveries: claimed before sending, marked delivered on a 2xx, retried with exponential backoff up to
 * maxAttempts (waits over 30 s are left to a later call), then marked failed with the last error. A restart resumes
 * from the rows, so nothing is sent twice unless a process dies between the receiver's 2xx and our write (receivers
 * dedupe on X-MCP-Census-Id).
 */
export async function deliverWebhooks(
  sqlite: Sqlite,
  config: WebhookConfig,
  opts: { now?: () => number; sleep?: (ms: number) => Promise<void>; fetch?: typeof fetch } = {},
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, failed: 0, pending: 0 };
  if (config.urls.length === 0 || !config.secret) return report;
  const secret = config.secret;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const doFetch = opts.fetch ?? fetch;
  const iso = (ms: number) => new Date(ms).toISOString();
  const allowed = severitiesFrom(config.minSeverity);
  const oldest = iso(now() - config.maxAgeHours * 3600e3);

  const store = webhookDeliveries(sqlite, config.urls);
  // Create the delivery rows first: from here on the work to do is on disk, not in memory.
  store.enqueue(iso(now()), allowed, oldest);

  const sendOne = async (row: DueDelivery) => {
    let attempts = row.attempts;
    for (;;) {
      if (!store.claim(row.id, iso(now()), iso(now() - CLAIM_STALE_MS))) return; // another process has it
      const change = store.changeOf<ChangeEvent>(row.id);
      const body = JSON.stringify(webhookPayload(change));
      attempts++;
      let error: string | null = null;
      try {
        const res = await doFetch(row.url, {
          method: "POST",
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(config.timeoutMs),
          headers: {
            "content-type": "application/json",
            "user-agent": "mcp-census-webhook/1",
            "x-mcp-census-signature": signBody(secret, body),
            "x-mcp-census-timestamp": String(Math.floor(now() / 1000)),
            "x-mcp-census-id": `change-${change.id}`,
            "x-mcp-census-event": "tool.changed",
          },
        });
        // Safe to ignore: the body is discarded unread; a failed cancel means the stream already ended or errored, and
        // the status is all a delivery needs.
        await res.body?.cancel().catch(() => {});
        if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
      } catch (err) {
        error = oneLine(err);
      }
      if (!error) {
        store.delivered(row.id, attempts, iso(now()));
        report.delivered++;
        return;
      }
      if (attempts >= config.maxAttempts) {
        store.failedAttempt(row.id, "failed", attempts, error, null);
        report.failed++;
        return;
      }
      const delay = config.backoffMs * 2 ** (attempts - 1);
      store.failedAttempt(row.id, "pending", attempts, error, iso(now() + delay));
      // Short waits happen here; a long backoff is left on disk for a later call rather than holding up this one.
      if (delay > MAX_INLINE_WAIT_MS) return;
      await sleep(delay);
    }
  };

  // A few sends at a time: one slow receiver must not hold up the others for long.
  const queue = store.due(iso(now()), iso(now() - CLAIM_STALE_MS));
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let row = queue.shift(); row; row = queue.shift()) await sendOne(row);
  });
  await Promise.all(workers);
  report.pending = store.pending();
  return report;
}
