import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import type { Risk } from "../core/types.js";
import { RISKS, riskAtLeast } from "../core/vocabulary.js";
import { type ScannedServer, scanConfigs } from "../pipeline/scan.js";
import { probeOptionsFrom } from "../pipeline/stages.js";
import { knownConfigLocations } from "../policy/client-config.js";
import { loadOverrides, POLICY_FORMATS, type PolicyFormat, parseFormat, renderPolicy } from "../policy/index.js";
import { toSarif } from "../policy/sarif.js";
import { action, configFor, wantsJson } from "./common.js";
import { parseProfile } from "./policy.js";

/** Exit code when a tool at or above --fail-on was found. */
export const EXIT_RISK_FOUND = 5;

interface ScanCliOptions {
  profile: string;
  format?: string;
  overrides?: string;
  failOn?: string;
  sarif?: string;
}

const CLIENT_FORMAT: Record<string, PolicyFormat> = {
  "claude-code": "claude-code",
  cursor: "cursor",
  vscode: "vscode",
  "claude-desktop": "policy.json",
  windsurf: "policy.json",
};

function parseRisk(s: string): Risk {
  if ((RISKS as readonly string[]).includes(s)) return s as Risk;
  throw new AppError("bad_input", `unknown risk "${s}" (one of: ${RISKS.join(", ")})`);
}

const clean = (s: string) => s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "?");

function summary(s: ScannedServer): string {
  if (!s.decision) return `${s.name} (${s.client}, ${s.file}): not scanned: ${s.error ?? s.outcome}`;
  const cats = Object.entries(s.byCategory)
    .sort()
    .map(([c, n]) => `${c} ${n}`)
    .join(", ");
  return `${s.name} (${s.client}, ${s.file}): ${s.decision.tools.length} tools${cats ? `: ${cats}` : ""}${
    s.maxRisk ? `; highest risk ${s.maxRisk}` : ""
  }`;
}

/** `mcp-census scan [config-file…]`: the policy for exactly the servers the user runs. */
export function registerScan(program: Command): void {
  program
    .command("scan")
    .description(
      "scan your MCP client configuration (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf): list each " +
        "server's tools in the sandbox, classify them, and print a risk summary and a policy per server",
    )
    .argument("[files...]", "config files (default: every known location that exists)")
    .option("-p, --profile <profile>", "balanced | strict | permissive", "balanced")
    .option("-f, --format <format>", `${POLICY_FORMATS.join(" | ")} (default: the client's own)`)
    .option("--overrides <file>", "your overrides (JSON or YAML)")
    .option("--fail-on <risk>", `exit ${EXIT_RISK_FOUND} when a tool of this risk or higher is found (CI)`)
    .option("--sarif <file>", "also write SARIF 2.1.0 for code scanning")
    .addHelpText(
      "after",
      `\nExit codes: 0 clean, ${EXIT_RISK_FOUND} a tool at or above --fail-on, 1 a config or server could not be scanned,\n` +
        "2 bad options, 3 no config found. Secrets in configs (env values, headers) are never printed or stored:\n" +
        "servers get placeholders for credential variables, and remote servers are reached without your headers.",
    )
    .action(
      action(async (files: string[], opts: ScanCliOptions, cmd: Command) => {
        const profile = parseProfile(opts.profile);
        const format = opts.format ? parseFormat(opts.format) : undefined;
        const failOn = opts.failOn ? parseRisk(opts.failOn) : undefined;
        const overrides = opts.overrides ? loadOverrides(opts.overrides) : undefined;
        const config = configFor(cmd);
        const report = await scanConfigs(files, {
          profile,
          overrides,
          concurrency: Math.min(config.concurrency, 4),
          probe: probeOptionsFrom(config),
        });
        if (report.files.length === 0) {
          throw new AppError(
            "not_found",
            `no MCP client configuration found (looked in ${knownConfigLocations().length} known locations); pass a config file`,
          );
        }
        const r = report.redact;
        const out: string[] = [];
        const policies = report.servers.map((s) => {
          const f = format ?? CLIENT_FORMAT[s.client] ?? "policy.json";
          return { s, format: f, text: s.decision ? renderPolicy(s.decision, f) : undefined };
        });
        if (wantsJson(cmd)) {
          out.push(
            JSON.stringify(
              {
                files: report.files,
                servers: policies.map(({ s, format: f, text }) => ({
                  client: s.client,
                  file: s.file,
                  name: s.name,
                  outcome: s.outcome,
                  ...(s.error ? { error: s.error } : {}),
                  byCategory: s.byCategory,
                  ...(s.maxRisk ? { maxRisk: s.maxRisk } : {}),
                  ...(s.decision ? { decision: s.decision, format: f, policy: text } : {}),
                })),
                problems: report.problems,
              },
              null,
              2,
            ),
          );
        } else {
          const ok = report.servers.filter((s) => s.outcome === "ok").length;
          out.push(
            `Scanned ${report.files.length} config file(s): ${report.servers.length} server(s), ${ok} listed, ${report.problems.length} problem(s).`,
          );
          for (const { s, format: f, text } of policies) {
            out.push("", clean(summary(s)));
            if (!s.decision || !text) continue;
            for (const t of s.decision.tools) out.push(`  ${t.action.padEnd(8)}${clean(t.tool)}: ${t.reason}`);
            out.push(`  --- ${f} policy for ${clean(s.name)} ---`, text.trimEnd());
          }
          if (report.problems.length > 0) {
            out.push("", "Problems:");
            for (const p of report.problems)
              out.push(`  ${p.file}${p.server ? `: ${clean(p.server)}` : ""}: ${clean(p.message)}`);
          }
        }
        process.stdout.write(r(`${out.join("\n")}\n`));
        if (opts.sarif) {
          const sarif = toSarif({
            version: program.version() ?? "0.0.0",
            servers: report.servers
              .filter((s) => s.decision)
              .map((s) => ({ file: s.file, line: s.line, server: s.name, tools: s.decision!.tools })),
            problems: report.problems,
          });
          try {
            writeFileSync(opts.sarif, r(`${JSON.stringify(sarif, null, 2)}\n`));
          } catch (err) {
            throw new AppError("io_error", `cannot write ${opts.sarif}: ${(err as NodeJS.ErrnoException).code}`, {
              cause: err,
            });
          }
        }
        if (failOn && report.servers.some((s) => s.maxRisk && riskAtLeast(s.maxRisk, failOn)))
          process.exitCode = EXIT_RISK_FOUND;
        else if (report.problems.length > 0) process.exitCode = 1;
      }),
    );
}
