import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { oneLine } from "../core/errors.js";
import type { Argument, ProbeResult, RemoteSpec } from "../core/types.js";
import { PLACEHOLDER_SECRET } from "./launch.js";
import { ListingError, runListing } from "./listing.js";
import { RpcError, RpcSession } from "./rpc-session.js";
import { BlockedDestinationError, checkUrl, createGuardedFetch } from "./ssrf.js";

export interface RemoteOptions {
  allowPrivateNetwork: boolean;
  signal: AbortSignal;
  maxResponseBytes?: number;
}

interface AuthSeen {
  status: number;
  url: string;
  wwwAuthenticate?: string;
}

/** Pulls `resource_metadata="…"` (RFC 9728) and the scheme out of a WWW-Authenticate header. */
export function parseWwwAuthenticate(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  const scheme = /^\s*([A-Za-z][\w-]*)/.exec(header);
  if (scheme?.[1]) out.scheme = scheme[1];
  for (const m of header.matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    const key = m[1]!;
    out[key] = (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return out;
}

function headersFor(remote: RemoteSpec, placeholders: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of (remote.headers ?? []) as Argument[]) {
    if (!h.name || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h.name)) continue;
    let v = h.value ?? h.default;
    if (v === undefined && h.isRequired) {
      placeholders.push(h.name);
      v = h.isSecret ? PLACEHOLDER_SECRET : "mcp-census-placeholder";
    }
    if (v === undefined) continue;
    // Templates like "Bearer {api_key}" are for the user to fill; a placeholder keeps the header's shape.
    headers[h.name] = v.replace(/\{[^}]*\}/g, () => {
      placeholders.push(h.name!);
      return PLACEHOLDER_SECRET;
    });
  }
  return headers;
}

/** Fetches the protected-resource metadata a 401 points at (small, guarded, best effort). */
async function fetchResourceMetadata(url: string, allowedOrigins: string[]): Promise<unknown> {
  // A URL learned from a response: guarded like any other, private only for the origin the user named.
  const f = createGuardedFetch({ allowPrivateNetwork: false, allowedOrigins, maxResponseBytes: 64 * 1024 });
  try {
    const res = await f(url, { signal: AbortSignal.timeout(5000), headers: { accept: "application/json" } });
    if (!res.ok) return undefined;
    return JSON.parse(await res.text());
  } catch {
    return undefined;
  }
}

/**
 * Lists a remote server: Streamable HTTP first (or SSE first when the registry says sse), falling back to the
 * other when the first does not answer initialize. 401/403 become auth_required with what the server advertised.
 */
export async function probeRemote(remote: RemoteSpec, out: ProbeResult, opts: RemoteOptions): Promise<void> {
  try {
    checkUrl(remote.url, opts.allowPrivateNetwork);
  } catch (err) {
    out.outcome = "unsupported_runtime";
    out.error = `destination refused: ${oneLine(err)}`;
    return;
  }
  // --allow-private-network allows the origin the user named, not every later hop: redirects and URLs learned from
  // responses (SSE endpoint events, WWW-Authenticate resource_metadata) to any other private address are refused.
  const allowedOrigins = opts.allowPrivateNetwork ? [new URL(remote.url).origin] : [];
  const headers = headersFor(remote, out.placeholders);
  out.placeholders = [...new Set(out.placeholders)];
  out.launch = { url: remote.url, headers: Object.keys(headers) };
  const order = remote.type === "sse" ? ["sse", "streamable-http"] : ["streamable-http", "sse"];
  const errors: string[] = [];
  for (const kind of order) {
    let auth: AuthSeen | undefined;
    const fetchFn = createGuardedFetch({
      allowPrivateNetwork: false,
      allowedOrigins,
      maxResponseBytes: opts.maxResponseBytes ?? 32 * 1024 * 1024,
      onResponse: (url, res) => {
        if ((res.status === 401 || res.status === 403) && !auth) {
          auth = { status: res.status, url, wwwAuthenticate: res.headers.get("www-authenticate") ?? undefined };
        }
      },
    });
    const url = new URL(remote.url);
    const transport: Transport =
      kind === "sse"
        ? new SSEClientTransport(url, { fetch: fetchFn, requestInit: { headers }, redirectPolicy: "follow" })
        : new StreamableHTTPClientTransport(url, {
            fetch: fetchFn,
            requestInit: { headers },
            redirectPolicy: "follow",
            reconnectionOptions: {
              maxRetries: 0,
              initialReconnectionDelay: 1000,
              maxReconnectionDelay: 1000,
              reconnectionDelayGrowFactor: 1,
            },
          });
    const session = new RpcSession(transport);
    out.transport = kind;
    // Keep nothing from a failed first attempt.
    out.tools = [];
    out.prompts = [];
    out.resources = [];
    out.resourceTemplates = [];
    let initialized = false;
    try {
      await session.start();
      await runListing(session, out, opts.signal, {
        setProtocolVersion: (v) => {
          initialized = true;
          (transport as { setProtocolVersion?: (v: string) => void }).setProtocolVersion?.(v);
        },
      });
      out.outcome = "ok";
      return;
    } catch (err) {
      if (auth) {
        const params = parseWwwAuthenticate(auth.wwwAuthenticate);
        out.outcome = "auth_required";
        out.error = `server answered HTTP ${auth.status}`;
        out.auth = {
          status: auth.status,
          url: auth.url,
          ...(auth.wwwAuthenticate ? { wwwAuthenticate: auth.wwwAuthenticate } : {}),
        };
        if (params.scheme) out.auth.scheme = params.scheme;
        if (params.resource_metadata) {
          out.auth.resourceMetadataUrl = params.resource_metadata;
          const meta = await fetchResourceMetadata(params.resource_metadata, allowedOrigins);
          if (meta !== undefined) out.auth.resourceMetadata = meta;
        }
        if (params.scope) out.auth.scope = params.scope;
        return;
      }
      if (opts.signal.aborted) {
        out.outcome = "timeout";
        out.error = `no complete answer within the time limit (${kind})`;
        return;
      }
      const blocked =
        err instanceof BlockedDestinationError || (err as { cause?: unknown }).cause instanceof BlockedDestinationError;
      if (blocked || /refused private address|refused local host/.test(String((err as Error).message))) {
        out.outcome = "unsupported_runtime";
        out.error = `destination refused: ${oneLine(err)}`;
        return;
      }
      if (initialized || err instanceof ListingError || (err instanceof RpcError && out.protocolVersion)) {
        out.outcome = "protocol_error";
        out.error = `${kind}: ${oneLine(err)}`;
        return;
      }
      errors.push(`${kind}: ${oneLine(err)}`);
    } finally {
      if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
        await Promise.race([
          // Safe to ignore: a courtesy DELETE so the server can free the session; the listing is already decided.
          transport.terminateSession().catch(() => {}),
          new Promise((r) => setTimeout(r, 1000).unref()),
        ]);
      }
      await session.close();
    }
  }
  out.outcome = errors.some((e) => /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|fetch failed/.test(e))
    ? "crashed"
    : "protocol_error";
  out.error = errors.join("; ").slice(0, 1000);
}
