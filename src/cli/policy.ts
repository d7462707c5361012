import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import {
  decidePolicy,
  loadOverrides,
  POLICY_FORMATS,
  PROFILES,
  type Profile,
  parseFormat,
  renderPolicy,
  writeAllPolicies,
} from "../policy/index.js";
import { serverTools } from "../store/queries.js";
import { describeServers, resolveServer } from "../store/resolve.js";
import { action, catalogFor, configFor, wantsJson } from "./common.js";

interface PolicyOptions {
  profile: string;
  format: string;
  overrides?: string;
  out?: string;
  all?: boolean;
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
      "[server]",
      "server: registry name, slug, npm/PyPI package (version optional), repository URL, or a unique part of a name",
    )
    .option("-p, --profile <profile>", `balanced | strict | permissive`, "balanced")
    .option("-f, --format <format>", POLICY_FORMATS.join(" | "), "policy.json")
    .option("--overrides <file>", "your overrides (JSON or YAML): per tool, by category or by risk")
    .option("-o, --out <file>", "write to a file instead of stdout")
    .option("--all", "write every server's policy in every format under <outDir>/policies")
    .action(
      action((ref: string | undefined, opts: PolicyOptions, cmd: Command) => {
        const profile = parseProfile(opts.profile);
        const format = parseFormat(opts.format);
        const overrides = opts.overrides ? loadOverrides(opts.overrides) : undefined;
        const config = configFor(cmd);
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
        if (!ref) throw new AppError("bad_input", "name a server (slug, name or id), or pass --all");
        const catalog = catalogFor(config, { readonly: true });
        try {
          const server = findOne(catalog.sqlite, ref);
          const decision = decidePolicy(server, serverTools(catalog.sqlite, server.id), { profile, overrides });
          const text = wantsJson(cmd) ? `${JSON.stringify(decision, null, 2)}\n` : renderPolicy(decision, format);
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
