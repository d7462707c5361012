import type { Command } from "commander";
import { classifyHeuristic } from "../classify/index.js";
import { AppError } from "../core/errors.js";
import { forTerminal } from "../core/terminal.js";
import { plural } from "../core/text.js";
import type { ProbeResult, ServerEntry } from "../core/types.js";
import { type ProbeTarget, parseTarget, probe } from "../mcp/index.js";
import { createCatalogClassifier } from "../pipeline/classifier.js";
import { entryOf } from "../pipeline/crawl.js";
import {
  classifyStage,
  ingestServer,
  itemsOf,
  probeOptionsFrom,
  probeStage,
  storeClassifications,
} from "../pipeline/stages.js";
import { upsertSourceEntry } from "../store/catalog.js";
import { findServer, serverTools } from "../store/queries.js";
import { refreshCatalogStats } from "../store/stats.js";
import { action, catalogFor, configFor, wantsJson } from "./common.js";

interface ProbeFlags {
  command?: string;
  env?: string[];
  store: boolean;
  allowUnsandboxed?: boolean;
  allowPrivateNetwork?: boolean;
  timeout?: string;
}

/** Splits a command line the way a shell would for simple quoting ("a b" 'c d' e\ f). */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|((?:\\.|[^\s"'\\])+)|(\s+)/g;
  let cur = "";
  let has = false;
  for (const m of line.matchAll(re)) {
    if (m[4] !== undefined) {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur +=
        m[1] !== undefined
          ? m[1].replace(/\\(.)/g, "$1")
          : m[2] !== undefined
            ? m[2]
            : (m[3] ?? "").replace(/\\(.)/g, "$1");
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

function entryForTarget(target: ProbeTarget, label: string): ServerEntry {
  if (target.kind === "package") return { name: label, packages: [target.pkg], remotes: [] };
  if (target.kind === "remote") return { name: label, packages: [], remotes: [target.remote] };
  return { name: label, packages: [], remotes: [] };
}

/** `mcp-census probe <target>`: list one server's tools and store the listing. */
export function registerProbe(program: Command): void {
  program
    .command("probe [target] [args...]")
    .description(
      "connect to one server and print its tools. TARGET is a catalog server (name or slug), npm:<package>[@version],\n" +
        "pypi:<package>[@version], github:<owner>/<repo>[@ref], git:<https or file URL>[#ref],\n" +
        "or an http(s) URL of a remote server; or use --command for a local command as in a client's config.\n" +
        "Arguments after `--` are passed to the server instead of the registry's package arguments",
    )
    .option("--command <line>", 'a local stdio command, e.g. "node server.js" (sandboxed like any package)')
    .option("-e, --env <KEY=VALUE...>", "environment for the launched server (npm, PyPI, --command; not remotes)")
    .option("--no-store", "do not store the listing in the catalog")
    .option("--timeout <ms>", "wall-clock limit for the probe")
    .option("--allow-unsandboxed", "launch without bubblewrap when it is missing (unsafe)")
    .option("--allow-private-network", "let a remote probe reach loopback and private addresses")
    .action(
      action(async (targetArg: string | undefined, extraArgs: string[], flags: ProbeFlags, cmd: Command) => {
        const config = configFor(cmd, {
          allowUnsandboxed: flags.allowUnsandboxed || undefined,
          allowPrivateNetwork: flags.allowPrivateNetwork || undefined,
          probeTimeoutMs: flags.timeout ? Number(flags.timeout) : undefined,
        });
        if (!targetArg && !flags.command) throw new AppError("bad_input", "give a target or --command (see --help)");
        const env = Object.fromEntries(
          (flags.env ?? []).map((kv) => {
            const i = kv.indexOf("=");
            if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(kv.slice(0, i))) {
              throw new AppError("bad_input", `--env ${kv.slice(0, 100)}: expected KEY=VALUE`);
            }
            return [kv.slice(0, i), kv.slice(i + 1)];
          }),
        );
        const isRemote = !flags.command && /^https?:\/\//i.test(targetArg ?? "");
        if (isRemote && (Object.keys(env).length || extraArgs.length)) {
          throw new AppError("bad_input", "-e and arguments apply to servers we launch, not to a remote URL");
        }
        if (flags.command && extraArgs.length) {
          throw new AppError("bad_input", "put the arguments inside --command, or give a target before `--`");
        }
        const opts = {
          ...probeOptionsFrom(config),
          ...(Object.keys(env).length ? { env } : {}),
          ...(extraArgs.length ? { args: extraArgs } : {}),
        };
        const cat =
          flags.store || (targetArg && !/^(npm:|pypi:|oci:|git:|github:|https?:\/\/)/.test(targetArg))
            ? catalogFor(config)
            : undefined;
        try {
          let label: string;
          let result: ProbeResult;
          let entry: ServerEntry | undefined;
          let serverId: number | undefined;
          if (flags.command) {
            const parts = splitCommandLine(flags.command);
            const [command, ...args] = parts;
            if (!command) throw new AppError("bad_input", "--command is empty");
            label = `local:${flags.command}`;
            // No cwd: relative paths are read from here, but the server starts in an empty scratch folder.
            result = await probe({ kind: "command", command, args }, opts);
          } else if (/^(npm:|pypi:|oci:|git:|github:|https?:\/\/)/.test(targetArg as string)) {
            const target = parseTarget(targetArg as string);
            label = targetArg as string;
            entry = entryForTarget(target, label);
            result = await probe(target, opts);
          } else {
            const server = cat ? findServer(cat.sqlite, targetArg as string) : undefined;
            if (!server) {
              throw new AppError(
                "not_found",
                `no server named "${targetArg}" in the catalog (try npm:<package>, a URL, or run \`mcp-census crawl\`)`,
              );
            }
            label = server.name;
            serverId = server.id;
            result = await probeStage(entryOf(server), opts);
          }
          if (flags.store && cat) {
            if (serverId === undefined) {
              serverId = upsertSourceEntry(cat.sqlite, {
                sourceId: "manual",
                sourceKey: label,
                entry: entry ?? { name: label, packages: [], remotes: [] },
                raw: { target: label },
              }).serverId;
            }
            // As in a crawl: the listing and its change events are stored together, and a listing the catalog
            // refuses becomes this server's stored outcome (reported below) instead of a crash.
            result = ingestServer(cat.sqlite, serverId, result).result;
            if (result.outcome === "ok") {
              const classifier = createCatalogClassifier(cat.sqlite, config, { llm: false });
              storeClassifications(cat.sqlite, await classifyStage(itemsOf(label, result), classifier));
            }
            // The stored listing and classifications marked the catalog's statistics dirty: store them again now,
            // as a crawl's end does, so the API and `stats` serve them without counting the catalog on a request.
            refreshCatalogStats(cat.sqlite);
          }
          if (wantsJson(cmd)) {
            process.stdout.write(`${JSON.stringify({ server: label, ...result }, null, 2)}\n`);
          } else {
            const cls =
              cat && serverId !== undefined
                ? new Map(serverTools(cat.sqlite, serverId).map((t) => [t.name, t]))
                : undefined;
            // Everything below may carry server-supplied text: each line is made inert for the terminal.
            const say = (text: string) => process.stdout.write(forTerminal(text));
            say(
              `${label}: ${result.outcome}${result.error ? ` — ${result.error}` : ""} (${result.transport}, ${Math.round(result.durationMs)} ms)\n`,
            );
            if (result.serverInfo) {
              say(
                `server: ${String(result.serverInfo.name ?? "?")} ${String(result.serverInfo.version ?? "")}, protocol ${result.protocolVersion ?? "?"}\n`,
              );
            }
            if (result.placeholders.length) say(`placeholders used: ${result.placeholders.join(", ")}\n`);
            for (const w of result.warnings) say(`warning: ${w}\n`);
            say(`${plural(result.tools.length, "tool")}\n`);
            let flagged = 0;
            for (const t of result.tools) {
              // The stored verdict when there is one, else the heuristics' (no LLM): a tool is never shown without one.
              const c = cls?.get(t.name)?.classification ?? classifyHeuristic(t);
              const desc = (t.description ?? "").replace(/\s+/g, " ").slice(0, 100);
              const flags = c.flags.length ? `  ⚑ ${c.flags.join(", ")}` : "";
              if (c.flags.some((f) => f !== "unsure")) flagged++;
              say(`  ${t.name}  [${c.category}/${c.risk}]${flags}  ${desc}\n`);
            }
            if (flagged) {
              const one = flagged === 1;
              say(
                `${flagged} ${one ? "tool is" : "tools are"} flagged (⚑): read ${one ? "its definition" : "their definitions"} before allowing ${one ? "it" : "them"}\n`,
              );
            }
            if (result.prompts.length) say(`${result.prompts.length} prompts\n`);
            if (result.resources.length || result.resourceTemplates.length) {
              say(`${result.resources.length} resources, ${result.resourceTemplates.length} resource templates\n`);
            }
          }
          if (result.outcome !== "ok") process.exitCode = 1;
        } finally {
          cat?.close();
        }
      }),
    );
}
