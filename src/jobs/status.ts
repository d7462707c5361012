import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { queueCounts } from "./progress.js";
import type { QueueName } from "./queues.js";
import { activeRuns, runState } from "./run-state.js";

/** What the status page shows: job counts and connected workers per queue, runs in progress. */
export async function statusSnapshot(redis: Redis, prefix: string, queues: Record<QueueName, Queue>) {
  const names = Object.keys(queues) as QueueName[];
  const [counts, workers, runs] = await Promise.all([
    queueCounts(queues),
    Promise.all(names.map(async (n) => [n, await queues[n].getWorkersCount()] as const)),
    activeRuns(redis, prefix),
  ]);
  const infos = await Promise.all(runs.map((k) => runState(redis, prefix, k).get()));
  return {
    queues: Object.fromEntries(names.map((n) => [n, { ...counts[n], workers: Object.fromEntries(workers)[n] ?? 0 }])),
    runs: infos.filter((i) => i).map((i) => ({ runKey: i?.runKey, status: i?.status, done: i?.done, total: i?.total })),
  };
}

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

/**
 * A tiny read-only queue dashboard: `/` (HTML, refreshes every 2 s) and `/status.json`. Bind it to loopback or
 * put it behind your proxy: it shows queue names and run keys, nothing else.
 */
export async function startStatusServer(
  redis: Redis,
  prefix: string,
  queues: Record<QueueName, Queue>,
  port: number,
  host = "127.0.0.1",
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET" }).end();
      return;
    }
    statusSnapshot(redis, prefix, queues).then(
      (s) => {
        if (req.url === "/status.json") {
          res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
          res.end(JSON.stringify(s));
          return;
        }
        if (req.url !== "/") {
          res.writeHead(404, { "content-type": "text/plain" }).end("not found");
          return;
        }
        const rows = Object.entries(s.queues)
          .map(
            ([n, c]) =>
              `<tr><td>${esc(n)}</td><td>${c.workers}</td><td>${c.waiting}</td><td>${c.active}</td><td>${c.delayed}</td><td>${c.completed}</td><td>${c.failed}</td></tr>`,
          )
          .join("");
        const runs = s.runs
          .map((r) => `<li>${esc(r.runKey)}: ${esc(r.status)} ${esc(r.done)}/${esc(r.total)}</li>`)
          .join("");
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        res.end(
          `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>mcp-census queues</title>` +
            `<h1>mcp-census queues (${esc(prefix)})</h1><table border="1" cellpadding="4"><tr><th>queue</th><th>workers</th>` +
            `<th>waiting</th><th>active</th><th>delayed</th><th>completed</th><th>failed</th></tr>${rows}</table>` +
            `<h2>runs in progress</h2><ul>${runs || "<li>none</li>"}</ul>`,
        );
      },
      (err: Error) => {
        res.writeHead(503, { "content-type": "text/plain" }).end(`redis unavailable: ${err.message.slice(0, 200)}`);
      },
    );
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  const addr = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
