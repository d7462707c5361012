import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { AppError } from "../core/errors.js";
import type { RawTool } from "../core/types.js";
import { fetchConditional } from "./conditional.js";
import { describeIssues, errorRaw, finaliseEntry, parseJsonText } from "./sanitise.js";
import { readTarGz } from "./tar.js";
import type { EntryError, FetchContext, NormalisedEntry, SourceAdapter, SourcePage } from "./types.js";

export const DOCKER_ARCHIVE_URL = "https://codeload.github.com/docker/mcp-registry/tar.gz/refs/heads/main";

const DockerServerSchema = z
  .object({
    name: z.string().min(1),
    type: z.string().nullish(),
    image: z.string().nullish(),
    about: z.object({ title: z.string().nullish(), description: z.string().nullish() }).passthrough().nullish(),
    source: z
      .object({ project: z.string().nullish(), directory: z.string().nullish(), commit: z.string().nullish() })
      .passthrough()
      .nullish(),
    config: z
      .object({
        secrets: z.array(z.object({ name: z.string(), env: z.string().nullish() }).passthrough()).nullish(),
        env: z
          .array(
            z
              .object({ name: z.string(), example: z.unknown().optional(), value: z.unknown().optional() })
              .passthrough(),
          )
          .nullish(),
      })
      .passthrough()
      .nullish(),
    remote: z
      .object({
        transport_type: z.string().nullish(),
        url: z.string(),
        headers: z.record(z.string(), z.unknown()).nullish(),
      })
      .passthrough()
      .nullish(),
    dynamic: z.object({ tools: z.boolean().nullish() }).passthrough().nullish(),
    tools: z.array(z.object({ name: z.string() }).passthrough()).nullish(),
  })
  .passthrough();

/** One server folder's files: server.yaml text and, when present, tools.json text. */
interface ServerFiles {
  dir: string;
  yaml?: string;
  tools?: string;
}

const LAYOUT = /(?:^|\/)servers\/([^/]+)\/(server\.yaml|tools\.json)$/;

function fromFolder(root: string): Map<string, ServerFiles> {
  const dir = statSafe(join(root, "servers"))?.isDirectory() ? join(root, "servers") : root;
  const out = new Map<string, ServerFiles>();
  for (const name of readdirSync(dir).sort()) {
    const d = join(dir, name);
    if (!statSafe(d)?.isDirectory()) continue;
    const files: ServerFiles = { dir: d };
    const y = join(d, "server.yaml");
    const t = join(d, "tools.json");
    if (statSafe(y)) files.yaml = readFileSync(y, "utf8");
    if (statSafe(t)) files.tools = readFileSync(t, "utf8");
    out.set(name, files);
  }
  return out;
}

function fromArchive(data: Buffer, label: string): Map<string, ServerFiles> {
  const out = new Map<string, ServerFiles>();
  const files = readTarGz(data, (p) => LAYOUT.test(p), label);
  for (const [path, body] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const m = LAYOUT.exec(path);
    if (!m?.[1]) continue;
    const f = out.get(m[1]) ?? { dir: `${label}:${path.replace(/\/[^/]+$/, "")}` };
    if (m[2] === "server.yaml") f.yaml = body.toString("utf8");
    else f.tools = body.toString("utf8");
    out.set(m[1], f);
  }
  return out;
}

function statSafe(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** Docker's tools.json uses arguments[] ({name,type,desc,required}); turn them into a JSON Schema, keeping the rest. */
function dockerTool(t: Record<string, unknown>): RawTool {
  if (t.inputSchema !== undefined || !Array.isArray(t.arguments)) return t as RawTool;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const a of t.arguments as Record<string, unknown>[]) {
    if (typeof a?.name !== "string") continue;
    properties[a.name] = {
      type: typeof a.type === "string" ? a.type : "string",
      ...(typeof a.desc === "string" ? { description: a.desc } : {}),
      ...(a.items !== undefined ? { items: a.items } : {}),
    };
    if (a.required === true) required.push(a.name);
  }
  return { ...(t as RawTool), inputSchema: { type: "object", properties, ...(required.length ? { required } : {}) } };
}

/** Normalises one catalog folder (server.yaml + tools.json). */
export function normaliseDockerServer(key: string, f: ServerFiles): { entry?: NormalisedEntry; errors: EntryError[] } {
  const label = `${f.dir}/server.yaml`;
  if (f.yaml === undefined) return { errors: [{ error: `${f.dir}: no server.yaml`, skipped: true }] };
  let doc: unknown;
  try {
    doc = YAML.parse(f.yaml, { maxAliasCount: 100 });
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0];
    return { errors: [{ error: `${label}: invalid YAML: ${msg}`, raw: errorRaw(f.yaml), skipped: true }] };
  }
  const p = DockerServerSchema.safeParse(doc);
  if (!p.success) {
    return { errors: [{ error: `${label}: ${describeIssues(p.error.issues)}`, raw: errorRaw(doc), skipped: true }] };
  }
  const s = p.data;
  const errors: EntryError[] = [];
  let tools: RawTool[] | undefined;
  if (f.tools !== undefined) {
    try {
      const t = parseJsonText(f.tools, `${f.dir}/tools.json`);
      if (!Array.isArray(t)) throw new Error(`${f.dir}/tools.json: not an array`);
      tools = t.filter((x): x is Record<string, unknown> => !!x && typeof x === "object").map(dockerTool);
    } catch (err) {
      errors.push({ error: `${(err as Error).message}; listed without tools` });
    }
  }
  if (s.tools?.length) tools = s.tools.map((t) => ({ ...t, inputSchema: t.inputSchema ?? t.parameters }) as RawTool);
  // An empty list from a server whose tools are dynamic means "unknown", not "none".
  if (tools?.length === 0 && s.dynamic?.tools) tools = undefined;
  const env = [
    ...(s.config?.secrets ?? []).flatMap((x) =>
      x.env ? [{ name: x.env, description: x.name, isSecret: true, isRequired: true }] : [],
    ),
    ...(s.config?.env ?? []).map((x) => ({
      name: x.name,
      ...(typeof x.example === "string" ? { default: x.example } : {}),
      ...(typeof x.value === "string" ? { value: x.value } : {}),
    })),
  ];
  const packages = s.image
    ? [{ registryType: "oci", identifier: s.image, transport: { type: "stdio" }, environmentVariables: env }]
    : [];
  const remotes = s.remote
    ? [
        {
          type: s.remote.transport_type ?? "streamable-http",
          url: s.remote.url,
          headers: Object.entries(s.remote.headers ?? {}).map(([name, value]) => ({ name, value: String(value) })),
        },
      ]
    : [];
  const r = finaliseEntry(
    {
      name: `docker:${s.name}`,
      title: s.about?.title ?? undefined,
      description: s.about?.description ?? undefined,
      repository: s.source?.project
        ? { url: s.source.project, source: "github", subfolder: s.source.directory ?? undefined }
        : undefined,
      packages,
      remotes,
    },
    { sourceKey: key, raw: s, reportedTools: tools },
    label,
  );
  return { entry: r.entry, errors: [...errors, ...r.errors] };
}

/**
 * Docker's MCP catalog (github.com/docker/mcp-registry): a local checkout folder, a local .tar.gz of it, or the
 * archive's URL. servers/<name>/server.yaml gives the server; tools.json the tools Docker reports. One page.
 */
export function dockerAdapter(opts: { path?: string; baseUrl?: string }): SourceAdapter {
  return {
    id: "docker",
    async fetchPage(_cursor: string | undefined, ctx: FetchContext): Promise<SourcePage> {
      let servers: Map<string, ServerFiles>;
      let conditional: SourcePage["conditional"];
      if (opts.path) {
        const st = statSafe(opts.path);
        if (!st) throw new AppError("not_found", `docker catalog ${opts.path} does not exist`);
        servers = st.isDirectory() ? fromFolder(opts.path) : fromArchive(readFileSync(opts.path), opts.path);
      } else {
        const url = opts.baseUrl ?? DOCKER_ARCHIVE_URL;
        const got = await fetchConditional(ctx, url, "bytes");
        if ("page" in got) return got.page;
        servers = fromArchive(got.body, url);
        conditional = got.conditional;
      }
      if (servers.size === 0) {
        throw new AppError(
          "bad_input",
          `docker catalog ${opts.path ?? opts.baseUrl}: no servers/<name>/server.yaml found`,
        );
      }
      const entries: NormalisedEntry[] = [];
      const errors: EntryError[] = [];
      for (const [key, f] of servers) {
        const r = normaliseDockerServer(key, f);
        if (r.entry) entries.push(r.entry);
        errors.push(...r.errors);
      }
      return { entries, errors, conditional };
    },
  };
}
