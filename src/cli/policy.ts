import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import {
  CURSOR_HOOK,
  loadOverrides,
  nameWarnings,
  POLICY_FORMATS,
  PROFILES,
  type Profile,
  parseFormat,
  parseServerName,
  renderCursorHook,
  renderCursorMany,
  renderPolicy,
  serverDecision,
  writeAllPolicies,
} from "../policy/index.js";
import { describeServers, resolveServer } from "../store/resolve.js";
import { action, catalogFor, configFor, wantsJson } from "./common.js";

interface PolicyOptions {
  profile: string;
  format: string;
  overrides?: string;
  out?: string;
  all?: boolean;
  as?: string;
  unattended?: boolean;
}

/** Checks a user-given profile name. */
export function parseProfile(s: string): Profile {
  if ((PROFILES as string[]).includes(s)) return s as Profile;
  throw new AppError("bad_input", `unknown profile "${s}" (one of: ${PROFILES.join(", ")})`);
}

const printable = (s: string, max = 200) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, "?").slice(0, max);

/** The one server a user means, or a clear error naming the candidates or the closest names. */
export function findOne(sqlite: Parameters<typeof resolveServer>[0], ref: string) {
  const r = resolveServer(sqlite, ref);
  if (r.kind === "found") return r.server;
  if (r.kind === "ambiguous")
    throw new AppError(
      "bad_input",
      `"${printable(ref)}" matches several servers (by ${r.matchedBy}): ${printable(describeServers(r.candidates), 1000)}; name one of them`,
    );
  const hint =
    r.suggestions.length > 0 ? `; did you mean ${printable(describeServers(r.suggestions.slice(0, 5)), 1000)}?` : "";
  throw new AppError("not_found", `no server "${printable(ref)}" in the catalog${hint}`);
}

/** `mcp-census policy <server>`: the recommended policy for one catalog server, in one format. */
export function registerPolicy(program: Command): void {
  program
    .command("policy")
    .description("the recommended policy for a server (by slug or name), or for every server with --all")
    .argument(
      "[servers...]",
      "server: registry name, slug, npm/PyPI package (version optional), repository URL, or a unique part of a name (several only with --format cursor or cursor-hook)",
    )
    .option("-p, --profile <profile>", `balanced | strict | permissive`, "balanced")
    .option(
      "-f, --format <format>",
      `${POLICY_FORMATS.join(" | ")} | ${CURSOR_HOOK} (a Cursor beforeMCPExecution hook script that can refuse calls)`,
      "policy.json",
    )
    .option(
      "--as <name>",
      "the name the server has in your client (its key in the client's config; default: its short name, e.g. filesystem): every format uses it",
    )
    .option(
      "--unattended",
      "for clients run without a person (--dangerously-skip-permissions, --dangerously-bypass-approvals-and-sandbox, --approval-mode yolo): deny tools that need approval or are rate-limited (clients ask for those)",
    )
    .option("--overrides <file>", "your overrides (JSON or YAML): per tool, by category or by risk")
    .option("-o, --out <file>", "write to a file instead of stdout")
    .option("--all", "write every server's policy in every format under <outDir>/policies")
    .action(
      action((refs: string[], opts: PolicyOptions, cmd: Command) => {
        const profile = parseProfile(opts.profile);
        // cursor-hook: a script, not a policy file; CLI only, for one or several servers like cursor.
        const hook = opts.format === CURSOR_HOOK;
        const format = hook ? "cursor" : parseFormat(opts.format);
        const overrides = opts.overrides ? loadOverrides(opts.overrides) : undefined;
        const config = configFor(cmd);
        if (opts.all && hook)
          throw new AppError("bad_input", "--all writes the policy formats; name the servers for --format cursor-hook");
        if (opts.all) {
          const catalog = catalogFor(config, { readonly: true });
          try {
            const r = writeAllPolicies(catalog.sqlite, config.outDir, { profile, overrides });
            if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify(r)}\n`);
            else if (!cmd.optsWithGlobals().quiet)
              process.stdout.write(
                `${r.servers} servers, ${r.files} policy files (${r.written} written, ${r.removed} removed) in ${config.outDir}/policies\n`,
              );
          } finally {
            catalog.close();
          }
          return;
        }
        if (refs.length === 0) throw new AppError("bad_input", "name a server (slug, name or id), or pass --all");
        if (refs.length > 1 && format !== "cursor")
          throw new AppError(
            "bad_input",
            "several servers go into one file only with --format cursor or cursor-hook (one merged allowlist or hook); name one server",
          );
        if (refs.length > 1 && opts.as) throw new AppError("bad_input", "--as names one server: name one server");
        const name = opts.as !== undefined ? parseServerName(opts.as) : undefined;
        const catalog = catalogFor(config, { readonly: true });
        try {
          const decisions = refs.map((ref) =>
            serverDecision(catalog.sqlite, findOne(catalog.sqlite, ref), {
              profile,
              overrides,
              name,
              unattended: opts.unattended,
            }),
          );
          const decision = decisions[0]!;
          if (!cmd.optsWithGlobals().quiet) {
            for (const d of decisions) {
              if (d.unlisted !== undefined)
                process.stderr.write(
                  `warning: ${printable(d.server)}: tools could not be listed (${printable(d.unlisted, 300)}); the policy denies the whole server\n`,
                );
              for (const w of format === "gemini" || format === "gemini-policy" ? nameWarnings(d) : [])
                process.stderr.write(`warning: ${printable(w, 500)}\n`);
            }
          }
          const text = wantsJson(cmd)
            ? `${JSON.stringify(decisions.length > 1 ? decisions : decision, null, 2)}\n`
            : hook
              ? renderCursorHook(decisions)
              : format === "cursor"
                ? renderCursorMany(decisions)
                : renderPolicy(decision, format);
          if (opts.out) {
            try {
              writeFileSync(opts.out, text);
            } catch (err) {
              throw new AppError("io_error", `cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code}`, {
                cause: err,
              });
            }
          } else process.stdout.write(text);
        } finally {
          catalog.close();
        }
      }),
    );
}
