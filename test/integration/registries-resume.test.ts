import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { crawlSource, createAdapter, readCheckpoint } from "../../src/registries/index.js";
import { openCatalog } from "../../src/store/db.js";
import {
  count,
  FIXTURES,
  loopback,
  officialHandler,
  officialSeed,
  quickHttp,
  tempCatalog,
  wrapOfficial,
} from "./registries-helpers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it("a crawl killed (SIGKILL) while fetching page 3 resumes from the checkpointed cursor", async () => {
  const items = officialSeed().map((s) => wrapOfficial(s));
  const page3 = Buffer.from("200").toString("base64url");
  let killChild: (() => void) | undefined;
  const serve = officialHandler(items);
  const srv = await loopback((url, req, res) => {
    // Page 3 never answers: the child is killed while it waits, after pages 1 and 2 were committed.
    if (url.searchParams.get("cursor") === page3 && killChild) return killChild();
    return serve(url, req, res);
  });
  const cat = tempCatalog();
  cleanups.push(srv.close, cat.dispose);
  const dbPath = join(cat.dir, "catalog.db");

  const child = spawn(process.execPath, ["--import", "tsx", join(FIXTURES, "crawl-child.ts"), dbPath, srv.base], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  killChild = () => child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");
  expect(out).toContain("page 2");
  expect(out).not.toContain('"complete"');

  // What the killed process left: two whole pages and the cursor of the third.
  const mid = openCatalog(dbPath);
  expect(readCheckpoint(mid.sqlite, "official")?.cursor).toBe(page3);
  expect(count(mid, "SELECT count(*) n FROM sources")).toBe(200);
  const started = readCheckpoint(mid.sqlite, "official")?.state.run?.startedAt;
  mid.close();

  killChild = undefined;
  srv.requests.length = 0;
  const stats = await crawlSource(cat.sqlite, createAdapter("official", { baseUrl: srv.base }), { http: quickHttp() });
  expect(stats).toMatchObject({ complete: true, resumedFrom: page3, pages: 2, entries: 158, markedRemoved: 0 });
  expect(stats.startedAt).toBe(started);
  expect(srv.requests[0]!.url.searchParams.get("cursor")).toBe(page3);
  expect(count(cat, "SELECT count(*) n FROM sources WHERE status = 'active'")).toBe(358);
  expect(readCheckpoint(cat.sqlite, "official")?.cursor).toBeNull();
});
