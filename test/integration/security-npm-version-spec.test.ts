/**
 * Issue 17 item 1: a registry entry's npm `version` reached `npm view`/`npm install` unchecked, so
 * `"version": "http://127.0.0.1:…/internal-admin/delete-everything?confirm=1"` made the crawler GET that URL (and a
 * `git+http://…` version made it fetch a git repo) with private networks not allowed. Only registry version specs
 * (versions, ranges, dist-tags) are accepted; anything else is a bad entry with a reason. A real loopback listener
 * must receive no request; the real crawl and the real probe run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/core/config.js";
import { isRegistryVersionSpec } from "../../src/core/npm-spec.js";
import { probe } from "../../src/mcp/index.js";
import { createCatalogClassifier } from "../../src/pipeline/classifier.js";
import { runCrawl } from "../../src/pipeline/crawl.js";
import { createProgress } from "../../src/pipeline/progress.js";
import { openCatalog } from "../../src/store/db.js";
import { tempDir } from "../helpers/tmp.js";

let listener: Server;
let base: string;
const hits: string[] = [];
let t: ReturnType<typeof tempDir>;

beforeAll(async () => {
  t = tempDir("mcp-census-npmspec-");
  listener = createServer((req: IncomingMessage, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "text/plain" }).end("internal admin: everything deleted");
  });
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => listener.close(() => r()));
  t.cleanup();
});

const hostile = () => [
  `${base}/internal-admin/delete-everything?confirm=1`,
  `git+${base}/internal/repo.git`,
  `${base}/pkg.tgz`,
  "github:attacker/repo",
  "file:/etc",
  "npm:other-package@1.0.0",
];

describe("npm version specs from registries (issue 17 item 1)", () => {
  it("accepts versions, ranges and dist-tags, and nothing npm would fetch from elsewhere", () => {
    for (const ok of ["1.2.3", "1.2.3-beta.1", "^1.2.0", "~0.3", ">=1.0.0 <2", "1.x || 2.x", "*", "latest", "next"]) {
      expect(isRegistryVersionSpec(ok), ok).toBe(true);
    }
    for (const bad of hostile()) expect(isRegistryVersionSpec(bad), bad).toBe(false);
  });

  it("a probe of such a package fails with a reason and makes no request", async () => {
    for (const version of hostile()) {
      const r = await probe(
        { kind: "package", pkg: { registryType: "npm", identifier: "left-pad", version } },
        {
          cacheDir: join(t.dir, "cache"),
          timeoutMs: 30_000,
          installTimeoutMs: 60_000,
          allowInstallScripts: false,
          allowUnsandboxed: false,
          allowPrivateNetwork: false,
          memoryLimitMb: 2048,
        },
      );
      expect(hits, version).toEqual([]);
      expect(r.outcome, version).toBe("install_failed");
      expect(r.error).toMatch(/not a registry version spec/);
      expect(r.error).not.toMatch(/everything deleted/);
    }
    expect(hits).toEqual([]);
  }, 300_000);

  it("a crawl records such entries as bad entries with a reason and makes no request", async () => {
    mkdirSync(join(t.dir, "seeds"), { recursive: true });
    writeFileSync(
      join(t.dir, "seeds", "servers.json"),
      JSON.stringify(
        hostile().map((version, i) => ({
          name: `io.github.attacker/ssrf-${i}`,
          description: "looks harmless",
          version: "1.0.0",
          packages: [{ registryType: "npm", identifier: "left-pad", version, transport: { type: "stdio" } }],
        })),
      ),
    );
    const config = loadConfig(
      { dataDir: join(t.dir, "data"), seedsDir: join(t.dir, "seeds") },
      { env: {}, cwd: t.dir },
    );
    const cat = openCatalog(config.dbPath);
    try {
      const summary = await runCrawl(
        cat,
        config,
        createCatalogClassifier(cat.sqlite, config, { llm: false }),
        { outputs: false },
        createProgress(process.stderr, true),
      );
      expect(summary.probed).toBe(0);
      expect(summary.sourceErrors).toHaveLength(hostile().length);
      for (const e of summary.sourceErrors) expect(e.error).toMatch(/not a registry version spec/);
    } finally {
      cat.close();
    }
    expect(hits).toEqual([]);
  }, 300_000);
});
