import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PLACEHOLDER_SECRET, type ProbeOptions, probe } from "../../src/mcp/index.js";
import { marker, SERVERS_DIR, straysAfter } from "../fixtures/servers/helpers.js";

const base: ProbeOptions = {
  cacheDir: join(tmpdir(), "mcp-census-test-cache"),
  timeoutMs: 20_000,
  installTimeoutMs: 60_000,
  allowInstallScripts: false,
  allowUnsandboxed: false,
  allowPrivateNetwork: false,
  memoryLimitMb: 1024,
};

/** Probes the asking fixture in one mode, sandboxed, and checks nothing of it survives. */
async function asks(mode: string, opts: Partial<ProbeOptions> = {}, cwd?: string) {
  const mark = marker(mode);
  const result = await probe(
    {
      kind: "command",
      command: process.execPath,
      args: [join(SERVERS_DIR, "asks.mjs"), mark],
      env: { FIXTURE_MODE: mode },
      ...(cwd ? { cwd } : {}),
    },
    { ...base, ...opts },
  );
  expect(await straysAfter(mark), `stray processes of ${mode}`).toEqual([]);
  return result;
}

const description = (r: Awaited<ReturnType<typeof asks>>) => String(r.tools[0]?.description ?? "");

describe("a server that names what it needs is retried with it", () => {
  it("an environment variable named on stderr gets a placeholder, and the second launch lists", async () => {
    const r = await asks("env");
    expect(r.outcome, r.error).toBe("ok");
    expect(r.placeholders).toContain("WIDGET_API_KEY");
    expect(description(r)).toContain(`key=${PLACEHOLDER_SECRET}`);
    expect(r.launch.attempts).toEqual([
      { outcome: "crashed", env: ["WIDGET_API_KEY"], because: "Error: WIDGET_API_KEY environment variable is not set" },
    ]);
    expect(JSON.stringify(r.launch)).not.toContain(PLACEHOLDER_SECRET);
    expect(r.error).toBeUndefined();
  });

  it("two names in one sentence, a JSON-RPC log message, and a plain stdout line all count", async () => {
    const two = await asks("two-env");
    expect(two.outcome, two.error).toBe("ok");
    expect(two.placeholders.sort()).toEqual(["SLACKISH_BOT_TOKEN", "SLACKISH_TEAM_ID"]);
    const log = await asks("log");
    expect(log.outcome, log.error).toBe("ok");
    expect(log.placeholders).toEqual(["PRIVATE_APP_ACCESS_TOKEN"]);
    const stdout = await asks("stdout");
    expect(stdout.outcome, stdout.error).toBe("ok");
    expect(stdout.placeholders).toEqual(["ACME_TOKEN"]);
  });

  it("a key refused for its shape is retried with the prefix the server names", async () => {
    const r = await asks("prefix");
    expect(r.outcome, r.error).toBe("ok");
    expect(description(r)).toContain(`key=sk_${PLACEHOLDER_SECRET}`);
    expect((r.launch.attempts as unknown[]).length).toBe(2);
  });

  it("a subcommand from usage text and a required option from commander's message", async () => {
    const sub = await asks("subcommand");
    expect(sub.outcome, sub.error).toBe("ok");
    expect(description(sub)).toMatch(/^argv=\["run"/);
    const opt = await asks("option");
    expect(opt.outcome, opt.error).toBe("ok");
    expect(description(opt)).toContain('"--workspace=/home/probe"');
  });

  it("stops a server that said it listens over HTTP at once and relaunches it with --stdio", async () => {
    const r = await asks("http");
    expect(r.outcome, r.error).toBe("ok");
    expect(description(r)).toContain('"--stdio"');
    expect(r.launch.attempts).toEqual([
      { outcome: "needs_config", args: ["--stdio"], because: "said it listens on http://localhost:39999/mcp" },
    ]);
    expect(r.durationMs).toBeLessThan(base.timeoutMs / 2);
  });
});

describe("outcomes name the real cause", () => {
  it("needs_config with the variable it keeps asking for when placeholders are not enough", async () => {
    const r = await asks("always-env");
    expect(r.outcome).toBe("needs_config");
    expect(r.error).toContain("GIZMO_SERVER_URL");
    expect(r.launch.needs).toEqual({ env: ["GIZMO_SERVER_URL"] });
  });

  it("a missing value named without its variable is found in the server's own code, and retried with a placeholder", async () => {
    const r = await asks("unnamed");
    expect(r.outcome, r.error).toBe("ok");
    expect(r.placeholders).toContain("WIDGET_SERVICE_URL");
    expect(description(r)).toMatch(/url=https?:\/\//);
    expect(r.launch.attempts).toEqual([
      {
        outcome: "crashed",
        env: ["WIDGET_SERVICE_URL"],
        because: 'Server error: "message": "Widget URL cannot be empty" (the package reads WIDGET_SERVICE_URL)',
      },
    ]);
  });

  it("a server waiting on Redis gets a throwaway one inside its sandbox, and lists", async () => {
    const r = await asks("redis");
    expect(r.outcome, r.error).toBe("ok");
    expect(description(r)).toContain("redis=PONG");
    expect(r.launch.attempts).toEqual([
      {
        outcome: "needs_service",
        service: "redis",
        because: "[Redis Error] Error: connect ECONNREFUSED 127.0.0.1:6379",
      },
    ]);
    expect(r.launch.services).toEqual(["redis (throwaway, empty, inside the sandbox)"]);
    expect(r.durationMs).toBeLessThan(base.timeoutMs / 2);
  });

  it("unsandboxed, no service is started on the host: needs_service, without waiting out the time limit", async () => {
    const hostRedis = await new Promise<boolean>((done) => {
      const s = connect(6379, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        done(true);
      });
      s.on("error", () => done(false));
    });
    const r = await asks("redis", { forceUnsandboxed: true, allowUnsandboxed: true });
    if (hostRedis) return; // this machine runs its own Redis on the default port: the fixture would reach it
    expect(r.outcome).toBe("needs_service");
    expect(r.error).toMatch(/redis/);
    expect(r.launch.services).toBeUndefined();
    expect(r.durationMs).toBeLessThan(base.timeoutMs / 2);
  });

  it("a tools/list answered with 'fetch failed' is needs_service (network), not a protocol error", async () => {
    const r = await asks("list-fetch");
    expect(r.outcome).toBe("needs_service");
    expect(r.error).toMatch(/^needs network access to list: .*fetch failed/);
  });

  it("an exit with no output says so; a newer Node.js requirement is unsupported_runtime", async () => {
    const silent = await asks("silent");
    expect(silent.outcome).toBe("crashed");
    expect(silent.error).toMatch(/no output on stdout or stderr/);
    const node = await asks("node22");
    expect(node.outcome).toBe("unsupported_runtime");
    expect(node.error).toMatch(/Node\.js 22/);
  });

  it("the user's -e values reach the server and win over placeholders, recorded as given", async () => {
    const r = await asks("env", { env: { WIDGET_API_KEY: "from-the-user" } });
    expect(r.outcome, r.error).toBe("ok");
    expect(description(r)).toContain("key=from-the-user");
    expect(r.launch.attempts).toBeUndefined();
  });
});

describe("working folder and limits", () => {
  const home = mkdtempSync(join(tmpdir(), "mcp-census-cwd-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("starts in an empty scratch folder: a .env in the user's folder is not readable", async () => {
    writeFileSync(join(home, ".env"), "SECRET=do-not-publish\n");
    const prev = process.cwd();
    process.chdir(home);
    try {
      const r = await asks("dotenv");
      expect(r.outcome, r.error).toBe("ok");
      expect(description(r)).toContain("dotenv=none");
      expect(description(r)).not.toContain("do-not-publish");
      expect(description(r)).not.toContain(home);
      expect(r.launch.cwd).toBe("scratch");
      // Unsandboxed too: the scratch folder is a fresh temporary one, not the user's.
      const u = await asks("dotenv", { allowUnsandboxed: true, forceUnsandboxed: true });
      expect(description(u)).toContain("dotenv=none");
      expect(description(u)).not.toContain(home);
    } finally {
      process.chdir(prev);
    }
  });

  it("limits memory and processes for the whole probe, not per process, and records how", {
    timeout: 120_000,
  }, async () => {
    const counts = (r: Awaited<ReturnType<typeof asks>>) => {
      const m = /full=(\d+) hogs=(\d+) sleepers=(\d+) refused=(\d+)/.exec(description(r));
      expect(m, `${r.outcome} ${r.error} ${description(r)}`).not.toBeNull();
      const [full, hogs, sleepers, refused] = m!.slice(1).map(Number) as [number, number, number, number];
      return { full, hogs, sleepers, refused };
    };
    // Without a cgroup the fixture fills both 160 MB children and starts all twenty sleepers (so the checks below
    // can fail)...
    const free = await asks("fork", { memoryLimitMb: 256, maxProcesses: 40, useCgroups: false, timeoutMs: 40_000 });
    const freeLimits = free.launch.limits as Record<string, unknown>;
    expect(freeLimits.kind).toBe("prlimit");
    expect(counts(free)).toEqual({ full: 2, hogs: 2, sleepers: 20, refused: 0 });
    // The record does not claim a process cap prlimit cannot give: RLIMIT_NPROC never applies to root.
    const root = process.getuid?.() === 0;
    expect(freeLimits.enforced).toEqual({ memory: "per-process", processes: root ? "none" : "per-user" });
    expect(String(freeLimits.reason)).toMatch(root ? /not at all \(RLIMIT_NPROC does not apply to root\)/ : /per user/);
    const r = await asks("fork", { memoryLimitMb: 256, maxProcesses: 40, timeoutMs: 40_000 });
    const limits = r.launch.limits as Record<string, unknown>;
    expect(limits).toMatchObject({ memoryMb: 256, maxProcesses: 40 });
    if (limits.kind === "prlimit") return; // no writable cgroup on this machine: only per-process caps applied
    expect(["cgroup-v2", "cgroup-v1"]).toContain(limits.kind);
    expect(limits.enforced).toEqual({ memory: "whole-probe", processes: "whole-probe" });
    // Nothing of this process's cgroups is left behind (other sessions' probes may share the v1 parent folder).
    const left = ["/sys/fs/cgroup/memory/mcp-census", "/sys/fs/cgroup/pids/mcp-census", "/sys/fs/cgroup"].flatMap(
      (d) => (existsSync(d) ? readdirSync(d) : []),
    );
    expect(left.filter((d) => d.startsWith(`probe-${process.pid}-`) || d === `mcp-census-${process.pid}`)).toEqual([]);
    // ...with one, 320 MB of children cannot both fill within 256 MB, and a dozen tasks per node leave no room
    // for twenty more processes.
    expect(limits.peakMemoryMb as number).toBeLessThanOrEqual(256);
    expect(limits.memoryLimitHit).toBe(true);
    expect(r.outcome, r.error).toBe("ok");
    const c = counts(r);
    expect(c.full).toBeLessThan(2);
    expect(c.refused).toBeGreaterThan(0);
    expect(c.hogs + c.sleepers).toBeLessThan(24);
  });
});
