/**
 * Issue 17 item 6: with --allow-private-network, a loopback server answering `302 → http://169.254.169.254/` (or
 * `307 → 10.0.0.1`), or a WWW-Authenticate resource_metadata URL pointing elsewhere, was followed. The flag allows
 * the origin the user named, not every later hop. Real loopback listeners; the probe runs in a child process under
 * strace, which shows that no connection to any other destination was even attempted.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

let named: Server;
let other: Server;
let namedUrl: string;
let otherUrl: string;
let otherPort: number;
const otherHits: string[] = [];
let t: ReturnType<typeof tempDir>;

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  t = tempDir("mcp-census-ssrf-");
  other = createServer((req, res) => {
    otherHits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" }).end('{"secret":"internal"}');
  });
  otherPort = await listen(other);
  otherUrl = `http://127.0.0.1:${otherPort}`;
  named = createServer((req, res) => {
    const path = req.url ?? "";
    if (path.startsWith("/metadata"))
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    else if (path.startsWith("/ten")) res.writeHead(307, { location: "http://10.0.0.1/mcp" }).end();
    else if (path.startsWith("/other")) res.writeHead(302, { location: `${otherUrl}/mcp` }).end();
    else if (path.startsWith("/same")) res.writeHead(307, { location: "/auth" }).end();
    else if (path.startsWith("/auth")) {
      res
        .writeHead(401, {
          "www-authenticate": `Bearer resource_metadata="${otherUrl}/.well-known/oauth-protected-resource"`,
        })
        .end();
    } else res.writeHead(404).end();
  });
  namedUrl = `http://127.0.0.1:${await listen(named)}`;
});
afterAll(async () => {
  await Promise.all([named, other].map((s) => new Promise<void>((r) => s.close(() => r()))));
  t.cleanup();
});

describe("--allow-private-network allows only the named origin (issue 17 item 6)", () => {
  it("refuses redirects and learned URLs to other private destinations, attempting no connection", async () => {
    const trace = join(t.dir, "strace.log");
    const urls = [`${namedUrl}/metadata`, `${namedUrl}/ten`, `${namedUrl}/other`, `${namedUrl}/same`];
    // Asynchronous: the loopback listeners live in this process and must keep answering.
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(
        "strace",
        [
          "-f",
          "-e",
          "trace=connect",
          "-o",
          trace,
          process.execPath,
          join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
          join(ROOT, "test", "fixtures", "security", "probe-urls.ts"),
          ...urls,
        ],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d) => {
        stdout += d;
      });
      p.stderr.on("data", (d) => {
        stderr += d;
      });
      p.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(child.code, child.stderr).toBe(0);
    const results = child.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { url: string; outcome: string; error?: string; auth?: Record<string, unknown> });
    expect(results).toHaveLength(urls.length);
    for (const r of results.slice(0, 3)) {
      expect(r.outcome, r.url).not.toBe("ok");
      expect(r.error ?? "", r.url).toMatch(/refused|blocked/i);
    }
    // A same-origin redirect is followed; the 401 is reported; its resource_metadata URL is not fetched.
    const auth = results[3]!;
    expect(auth.outcome).toBe("auth_required");
    expect(auth.auth?.resourceMetadataUrl).toBe(`${otherUrl}/.well-known/oauth-protected-resource`);
    expect(auth.auth?.resourceMetadata).toBeUndefined();
    expect(otherHits).toEqual([]);

    const connects = readFileSync(trace, "utf8")
      .split("\n")
      .filter((l) => /connect\(/.test(l) && /AF_INET/.test(l));
    expect(connects.length).toBeGreaterThan(0); // the named origin was reached
    for (const l of connects) {
      expect(l).not.toMatch(/169\.254\.169\.254|10\.0\.0\.1/);
      expect(l).not.toMatch(new RegExp(`htons\\(${otherPort}\\)`));
    }
  }, 180_000);
});
