import { validateToolName } from "@modelcontextprotocol/sdk/shared/toolNameValidation.js";
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { AppError } from "../core/errors.js";
import { MAX_JSON_DEPTH } from "../core/json.js";
import { PACKAGE_VERSION } from "../core/package-info.js";
import type { ProbeResult, RawPrompt, RawResource, RawTool } from "../core/types.js";
import { ConnectionClosedError, RpcError, type RpcSession } from "./rpc-session.js";

/** Limits on what one listing may hold, so a hostile server cannot exhaust memory or loop forever. */
export const LISTING_LIMITS = {
  maxPages: 200,
  maxItems: 20_000,
  /** Longest description/title kept; longer text is cut with a warning. */
  maxTextChars: 64 * 1024,
  /** Largest serialized tool kept whole; beyond it the schemas are replaced by a size note. */
  maxToolBytes: 1024 * 1024,
};

export const CLIENT_INFO = { name: "mcp-census", version: PACKAGE_VERSION };

/** Listing stopped early in a way the caller should report as a protocol error (the partial listing is kept). */
export class ListingError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("protocol", message, options);
    this.name = "ListingError";
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function cutText(v: unknown, where: string, warnings: string[]): unknown {
  if (typeof v !== "string" || v.length <= LISTING_LIMITS.maxTextChars) return v;
  warnings.push(`${where} is ${v.length} characters; kept the first ${LISTING_LIMITS.maxTextChars}`);
  return `${v.slice(0, LISTING_LIMITS.maxTextChars)}…[truncated by mcp-census: ${v.length} characters]`;
}

/**
 * Whether a value nests deeper than `max` objects and arrays, walked without recursion. A server's answer can nest
 * 20,000 levels deep (as a seed file did): JSON.parse takes it, but whatever walks it next (JSON.stringify, hashing,
 * the classifier, the site) overflows the stack.
 */
function nestsDeeper(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Replaces each field of an accepted item that nests deeper than untrusted JSON may by a note, with a warning. */
function capDepth(item: Record<string, unknown>, label: string, warnings: string[]): void {
  for (const key of Object.keys(item)) {
    const v = item[key];
    if (!v || typeof v !== "object" || !nestsDeeper(v)) continue;
    item[key] = { "x-mcp-census-truncated": { nestedDeeperThan: MAX_JSON_DEPTH } };
    warnings.push(`${label} ${key} is nested more than ${MAX_JSON_DEPTH} levels deep; replaced by a note`);
  }
}

/** Checks one tool as received; returns it unchanged except for absurd sizes, and notes schema problems. */
export function acceptTool(raw: unknown, index: number, warnings: string[]): RawTool | undefined {
  if (!isObject(raw) || typeof raw.name !== "string" || raw.name === "") {
    warnings.push(`tool #${index} has no name; skipped`);
    return undefined;
  }
  const label = `tool ${JSON.stringify(raw.name.slice(0, 100))}`;
  const tool: RawTool = { ...raw, name: raw.name };
  capDepth(tool, label, warnings);
  if (raw.name.length > 256) {
    tool.name = cutText(raw.name, `${label} name`, warnings) as string;
  }
  const nameCheck = validateToolName(raw.name.slice(0, 300));
  if (!nameCheck.isValid) warnings.push(`${label} name does not follow the MCP naming rule`);
  for (const key of ["description", "title"] as const) {
    if (key in raw) tool[key] = cutText(raw[key], `${label} ${key}`, warnings) as string;
  }
  if (!("inputSchema" in raw)) warnings.push(`${label} has no inputSchema`);
  else if (!isObject(raw.inputSchema)) warnings.push(`${label} inputSchema is not an object`);
  else if (raw.inputSchema.type !== "object") {
    warnings.push(`${label} inputSchema type is ${JSON.stringify(raw.inputSchema.type ?? null)}, not "object"`);
  }
  if ("outputSchema" in raw && !isObject(raw.outputSchema)) warnings.push(`${label} outputSchema is not an object`);
  if ("annotations" in raw && raw.annotations !== undefined && !isObject(raw.annotations)) {
    warnings.push(`${label} annotations is not an object`);
  }
  let size = 0;
  try {
    size = Buffer.byteLength(JSON.stringify(tool));
  } catch {
    size = Number.POSITIVE_INFINITY;
  }
  if (size > LISTING_LIMITS.maxToolBytes) {
    for (const key of Object.keys(tool)) {
      if (key === "name" || key === "description" || key === "title" || key === "annotations") continue;
      const bytes = Buffer.byteLength(JSON.stringify(tool[key]) ?? "");
      if (bytes > 64 * 1024) tool[key] = { "x-mcp-census-truncated": { bytes } };
    }
    warnings.push(`${label} is ${size} bytes; fields over 64 KiB were replaced by a size note`);
  }
  return tool;
}

/** Keeps a prompt/resource entry as received (strings capped); entries that are not objects are skipped. */
function acceptItem<T>(raw: unknown, kind: string, index: number, warnings: string[]): T | undefined {
  if (!isObject(raw)) {
    warnings.push(`${kind} #${index} is not an object; skipped`);
    return undefined;
  }
  const item: Record<string, unknown> = { ...raw };
  capDepth(item, `${kind} #${index}`, warnings);
  for (const key of ["description", "title", "name", "uri", "uriTemplate"]) {
    if (key in item) item[key] = cutText(item[key], `${kind} #${index} ${key}`, warnings);
  }
  return item as T;
}

/** Walks every page of a list method; stops on the page cap, an item cap or a cursor seen before. */
async function paginate(
  session: RpcSession,
  method: string,
  key: string,
  signal: AbortSignal,
  warnings: string[],
  onItems: (items: unknown[]) => void,
): Promise<{ pages: number }> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  let total = 0;
  for (let page = 1; ; page++) {
    if (page > LISTING_LIMITS.maxPages) {
      throw new ListingError(`${method} still had more pages after ${LISTING_LIMITS.maxPages}; stopped`);
    }
    const result = await session.request(method, cursor === undefined ? undefined : { cursor }, signal);
    if (!isObject(result)) throw new ListingError(`${method} answered with a result that is not an object`);
    const items = result[key];
    if (!Array.isArray(items)) throw new ListingError(`${method} answer has no "${key}" array`);
    total += items.length;
    onItems(items);
    if (total > LISTING_LIMITS.maxItems) {
      throw new ListingError(`${method} returned more than ${LISTING_LIMITS.maxItems} items; stopped`);
    }
    const next = result.nextCursor;
    if (next === undefined || next === null || next === "") return { pages: page };
    if (typeof next !== "string") {
      warnings.push(`${method} nextCursor is not a string; stopped paging`);
      return { pages: page };
    }
    if (seen.has(next)) throw new ListingError(`${method} repeated cursor ${JSON.stringify(next.slice(0, 80))}`);
    seen.add(next);
    cursor = next;
  }
}

/** Fills serverInfo, protocolVersion, capabilities and instructions from an initialize answer. */
export function acceptInitialize(result: unknown, out: ProbeResult): void {
  if (!isObject(result)) throw new ListingError("initialize answered with a result that is not an object");
  if (nestsDeeper(result))
    throw new ListingError(`initialize answer is nested more than ${MAX_JSON_DEPTH} levels deep`);
  const pv = result.protocolVersion;
  if (typeof pv !== "string") throw new ListingError("initialize answer has no protocolVersion");
  out.protocolVersion = pv;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(pv) && pv !== LATEST_PROTOCOL_VERSION) {
    out.warnings.push(`server answered with protocol version ${pv}, which this client does not know`);
  }
  if (isObject(result.serverInfo)) out.serverInfo = result.serverInfo;
  else out.warnings.push("initialize answer has no serverInfo");
  if (isObject(result.capabilities)) out.capabilities = result.capabilities;
  else out.warnings.push("initialize answer has no capabilities object");
  if (typeof result.instructions === "string") {
    out.instructions = cutText(result.instructions, "instructions", out.warnings) as string;
  }
}

/**
 * The whole conversation after the transport is up: initialize, initialized, then every list the server
 * advertises. Never calls a tool. Fills `out` as it goes so a timeout or crash keeps what was received.
 */
export async function runListing(
  session: RpcSession,
  out: ProbeResult,
  signal: AbortSignal,
  hooks: { setProtocolVersion?: (v: string) => void } = {},
): Promise<void> {
  const t0 = performance.now();
  const init = await session.request(
    "initialize",
    { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
    signal,
  );
  acceptInitialize(init, out);
  hooks.setProtocolVersion?.(out.protocolVersion!);
  await session.notify("notifications/initialized");
  out.timings.initializeMs = Math.round(performance.now() - t0);

  const caps = out.capabilities ?? {};
  const t1 = performance.now();
  let index = 0;
  try {
    const { pages } = await paginate(session, "tools/list", "tools", signal, out.warnings, (items) => {
      for (const raw of items) {
        const tool = acceptTool(raw, index++, out.warnings);
        if (tool) out.tools.push(tool);
      }
    });
    out.timings.toolPages = pages;
  } catch (err) {
    // A server that does not offer tools may say so; one that advertises them must list them.
    if (err instanceof RpcError && !("tools" in caps)) {
      out.warnings.push(`server does not advertise tools and tools/list failed: ${err.message}`);
    } else {
      throw err;
    }
  }
  if (!("tools" in caps) && out.tools.length > 0) out.warnings.push("server lists tools without advertising them");
  const names = new Set<string>();
  for (const t of out.tools) {
    if (names.has(t.name)) out.warnings.push(`tool name ${JSON.stringify(t.name.slice(0, 100))} appears twice`);
    names.add(t.name);
  }
  out.timings.toolsListMs = Math.round(performance.now() - t1);

  // Secondary lists are best effort: a failure there is a warning, not a failed probe.
  const t2 = performance.now();
  const secondary: [string, string, string, (RawPrompt | RawResource)[]][] = [];
  if (isObject(caps.prompts)) secondary.push(["prompts/list", "prompts", "prompt", out.prompts]);
  if (isObject(caps.resources)) {
    secondary.push(["resources/list", "resources", "resource", out.resources]);
    secondary.push(["resources/templates/list", "resourceTemplates", "resource template", out.resourceTemplates]);
  }
  for (const [method, key, kind, target] of secondary) {
    let i = 0;
    try {
      await paginate(session, method, key, signal, out.warnings, (items) => {
        for (const raw of items) {
          const item = acceptItem<RawPrompt & RawResource>(raw, kind, i++, out.warnings);
          if (item) target.push(item);
        }
      });
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof RpcError || err instanceof ListingError) {
        out.warnings.push(`${method} failed: ${err.message}`);
      } else if (err instanceof ConnectionClosedError) {
        // Some servers reach for their database only when asked for resources and die without one: the tools
        // they already listed are still exactly what they offer.
        out.warnings.push(`server exited during ${method} (after listing its tools)`);
        break;
      } else {
        throw err;
      }
    }
  }
  out.timings.otherListsMs = Math.round(performance.now() - t2);
}
