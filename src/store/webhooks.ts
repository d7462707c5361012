import { CHANGE_COLUMNS, type StoredChange, toStoredChange } from "./changes.js";
import type { Sqlite } from "./db.js";

/** A delivery due to be (re)sent. */
export interface DueDelivery {
  id: number;
  url: string;
  attempts: number;
  next_attempt_at: string | null;
}

/** The webhook_deliveries table's operations, prepared once per delivery run. */
export function webhookDeliveries(sqlite: Sqlite, urls: string[]) {
  const inUrls = `(${urls.map(() => "?").join(", ")})`;
  const claim = sqlite.prepare(
    `UPDATE webhook_deliveries SET status = 'sending', claimed_at = ?
     WHERE id = ? AND (status = 'pending' OR (status = 'sending' AND claimed_at < ?))`,
  );
  const done = sqlite.prepare(
    "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, delivered_at = ?, last_error = NULL WHERE id = ?",
  );
  const retry = sqlite.prepare(
    "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ?, claimed_at = NULL WHERE id = ?",
  );
  const changeFor = sqlite.prepare(
    `SELECT ${CHANGE_COLUMNS}
     FROM webhook_deliveries d JOIN changes c ON c.id = d.change_id JOIN servers s ON s.id = c.server_id WHERE d.id = ?`,
  );
  return {
    /** Creates a pending delivery per URL for each change of these severities at or after `oldest` (once each). */
    enqueue(nowIso: string, severities: readonly string[], oldest: string): void {
      const enqueue = sqlite.prepare(
        `INSERT INTO webhook_deliveries (change_id, url, status, attempts, next_attempt_at)
         SELECT c.id, ?, 'pending', 0, ? FROM changes c
         WHERE c.severity IN (${severities.map(() => "?").join(", ")}) AND c.at >= ?
         ON CONFLICT (change_id, url) DO NOTHING`,
      );
      sqlite.transaction(() => {
        for (const url of urls) enqueue.run(url, nowIso, ...severities, oldest);
      })();
    },
    /** Claims a delivery (pending, or sending but claimed before `staleBefore`); false when another process has it. */
    claim: (id: number, nowIso: string, staleBefore: string): boolean => claim.run(nowIso, id, staleBefore).changes > 0,
    delivered: (id: number, attempts: number, nowIso: string): void => {
      done.run(attempts, nowIso, id);
    },
    /** Records a failed attempt: `pending` again with the next attempt's time, or `failed` for good. */
    failedAttempt: (
      id: number,
      status: "pending" | "failed",
      attempts: number,
      error: string,
      next: string | null,
    ): void => {
      retry.run(status, attempts, error, next, id);
    },
    /** Deliveries due now (pending and due, or claimed before `staleBefore`), in change order. */
    due: (nowIso: string, staleBefore: string): DueDelivery[] =>
      sqlite
        .prepare(
          `SELECT d.id, d.url, d.attempts, d.next_attempt_at FROM webhook_deliveries d
           WHERE ((d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?))
             OR (d.status = 'sending' AND d.claimed_at < ?))
           AND d.url IN ${inUrls}
           ORDER BY d.change_id, d.url`,
        )
        .all(nowIso, staleBefore, ...urls) as DueDelivery[],
    /** The change a delivery sends. */
    changeOf: <C extends StoredChange>(id: number): C =>
      toStoredChange<C>(changeFor.get(id) as Record<string, unknown>),
    /** Deliveries still pending or in flight. */
    pending: (): number =>
      (
        sqlite
          .prepare(
            `SELECT count(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'sending') AND url IN ${inUrls}`,
          )
          .get(...urls) as { n: number }
      ).n,
  };
}
