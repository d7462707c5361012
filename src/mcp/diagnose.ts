/**
 * Reads what a server said before it stopped (stderr, non-protocol stdout lines, JSON-RPC log notifications) and
 * says what it was missing: environment variables, command-line arguments, a stdio flag, a live service. Pure
 * functions over text, so every message kind is tested without launching anything.
 */

/** What a failed launch asked for, read from its own words. */
export interface Diagnosis {
  /** Environment variable names the server asked for. */
  env: string[];
  /** Arguments to add on a retry (already rendered), with the words that suggested them. */
  args?: { add: string[]; because: string };
  /** Where it said it listens when it started an HTTP server instead of speaking stdio. */
  listening?: string;
  /** A service it needs at start (redis, mysql, postgres, mongodb, network…). */
  service?: string;
  /** A prefix the server said its key must start with ("Expected sk_* …"). */
  keyPrefix?: string;
  /** Values the server said a placeholder must be one of ('Invalid provider "x". Must be "openai", …'). */
  valueChoices?: string[];
  /** The Node.js major the server says it needs, when newer than ours. */
  needsNode?: number;
  /** A value it said is missing without naming its variable ("Elasticsearch URL cannot be empty"): URL, KEY… */
  missingValue?: { noun: string; evidence: string };
  /** The line that said so, for the record (one line, capped). */
  evidence?: string;
}

/** Nouns of configuration values a server may say are missing, as they end a variable's name. */
const VALUE_NOUN = /\b(url|uri|endpoint|host|api[ _-]?key|key|token|secret|password)\b/i;

/** A value said to be missing without a variable name: "Elasticsearch URL cannot be empty" → URL. */
export function missingValueAsked(text: string): { noun: string; evidence: string } | undefined {
  for (const line of linesOf(text)) {
    if (ENV_NAME_ONLY.test(line)) continue; // names a variable: envNamesAsked's job
    const m = new RegExp(
      `${VALUE_NOUN.source}[^.\\n]{0,40}?(?:cannot be (?:empty|blank)|is (?:required|missing|empty)|must be (?:set|provided|given)|not (?:set|provided|configured))`,
      "i",
    ).exec(line);
    if (m) return { noun: m[1]!.toUpperCase().replace(/[ -]/g, "_"), evidence: line.slice(0, 300) };
  }
  return undefined;
}

const ENV_NAME_ONLY = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/;

/**
 * The variables a package's own code reads whose names end in the missing value's noun (`process.env.ES_URL` for
 * URL): the source says what the message did not. At most three, and only when the names are unambiguous enough.
 */
export function envNamesInSource(source: string, noun: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/process\.env(?:\.|\[["'])([A-Z][A-Z0-9_]{1,63})/g)) {
    const n = m[1]!;
    if (!NOT_ENV.test(n) && (n === noun || n.endsWith(`_${noun}`))) names.add(n);
  }
  return names.size >= 1 && names.size <= 3 ? [...names] : [];
}

/** Names that look like environment variables but are error codes or runtime internals. */
const NOT_ENV =
  /^(MCP_CENSUS_|ERR_|E[A-Z]+$|NODE_OPTIONS$|NODE_ENV$|UV_|HTTP_\d|MODULE_NOT_FOUND$|JSON_|UTF_?8$|ISO_\d|SIG[A-Z]+$)/;

/** Words that make a line about configuration rather than, say, a stack frame. */
const ENV_CONTEXT =
  /environment|env(?:ironment)?[ _-]?var|\benv\b|\bset\b|missing|required|not (?:set|defined|configured|provided|found)|must|\bprovide[ds]?\b|please|\bpass\b|no .*(?:key|token)|\bundefined\b|invalid|configure|export /i;

const ENV_NAME = /(?:process\.env\.|\$\{?)?\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/g;

/** Lines of text, ANSI colour codes removed, blank lines dropped, each capped. */
export function linesOf(text: string): string[] {
  return text
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, "")
    .split(/\r?\n/)
    .map((l) => l.trim().slice(0, 2000))
    .filter(Boolean);
}

/** Environment variable names a server asked for ("FOO_API_KEY environment variable is not set", "Set X and Y"). */
export function envNamesAsked(text: string): { names: string[]; evidence?: string } {
  const names: string[] = [];
  let evidence: string | undefined;
  for (const line of linesOf(text)) {
    if (/^\s*at\s/.test(line)) continue; // stack frame
    if (!ENV_CONTEXT.test(line)) continue;
    for (const m of line.matchAll(ENV_NAME)) {
      const name = m[1]!;
      if (NOT_ENV.test(name) || name.length > 64) continue;
      if (!names.includes(name)) names.push(name);
      evidence ??= line;
    }
  }
  // "FOO_API_KEY or FOO_API_KEY_FILE": the file variant is an alternative, not a second requirement.
  const wanted = names.filter((n) => !(/_FILE$/.test(n) && names.includes(n.replace(/_FILE$/, ""))));
  return { names: wanted.slice(0, 12), ...(evidence ? { evidence: evidence.slice(0, 300) } : {}) };
}

/** Quoted choices a refused placeholder must be one of, when the line quotes the refused value. */
export function valueChoicesAsked(text: string, refused: string): string[] | undefined {
  for (const line of linesOf(text)) {
    if (!line.includes(refused)) continue;
    const m =
      /(?:must be|one of|expected|valid values?(?: are)?|allowed(?: values)?|choose)\s*:?\s*((?:["'`][\w.-]+["'`](?:\s*,?\s*or\s+|\s*,\s*|\s*\|\s*)?)+)/i.exec(
        line,
      );
    if (!m) continue;
    const choices = [...m[1]!.matchAll(/["'`]([\w.-]+)["'`]/g)].map((x) => x[1]!);
    if (choices.length) return choices;
  }
  return undefined;
}

/** The Node.js major a server says it requires ("requires Node.js 22 or later (you have v20…)"). */
export function nodeMajorAsked(text: string): number | undefined {
  const m = /requires? node(?:\.js)?\s*(?:version\s*)?(?:v|>=\s*)?(\d{2})/i.exec(text);
  const major = m ? Number(m[1]) : undefined;
  return major && major > Number(process.versions.node.split(".")[0]) ? major : undefined;
}

/** The prefix a key must have, when the server says so ("Expected sk_* (secret key)", "must start with 'ghp_'"). */
export function keyPrefixAsked(text: string): string | undefined {
  for (const line of linesOf(text)) {
    const m =
      /(?:expected|must (?:start|begin) with|should (?:start|begin) with|starting with|format)\s*:?\s*['"`]?([A-Za-z]{1,12}[_-])\*?/i.exec(
        line,
      );
    if (m && /key|token|secret|format/i.test(line)) return m[1];
  }
  return undefined;
}

/** A placeholder that parses as what the name says it is: URL, path, port, email, number or an opaque secret. */
export function placeholderForName(name: string, scratchDir: string, secret: string): string {
  const n = name.toUpperCase();
  if (/(DATABASE|DB|POSTGRES|PG|MYSQL|MONGO|REDIS)\w*_(URL|URI|DSN)$|_(DSN|CONNECTION_STRING)$/.test(n)) {
    return placeholderDbUrl(n);
  }
  if (/(_URL|_URI|_ENDPOINT|_BASE|_HOST_URL|_SERVER_URL|_API_BASE)$/.test(n)) return "https://placeholder.invalid";
  if (/(_HOST|HOSTNAME)$/.test(n)) return "placeholder.invalid";
  if (/_PORT$/.test(n)) return "1";
  if (/(_PATH|_DIR|_DIRECTORY|_FOLDER|_ROOT|_HOME|_FILE|_VAULT)$/.test(n)) return scratchDir;
  if (/EMAIL$/.test(n)) return "placeholder@example.invalid";
  if (/(_TIMEOUT|_LIMIT|_MAX|_COUNT|_SIZE)$/.test(n)) return "1";
  if (/(KEY|TOKEN|SECRET|PASSWORD|PASS|PAT|CREDENTIALS?|AUTH)$/.test(n)) return secret;
  return secret;
}

/** A syntactically valid connection URL for the database a name or message talks about, pointing nowhere. */
export function placeholderDbUrl(hint: string): string {
  const h = hint.toLowerCase();
  if (/mysql|maria/.test(h)) return "mysql://placeholder:placeholder@127.0.0.1:9/placeholder";
  if (/mongo/.test(h)) return "mongodb://placeholder:placeholder@127.0.0.1:9/placeholder";
  if (/redis/.test(h)) return "redis://127.0.0.1:9";
  return "postgresql://placeholder:placeholder@127.0.0.1:9/placeholder";
}

const SERVICE_PORTS: Record<string, string> = {
  "6379": "redis",
  "3306": "mysql",
  "5432": "postgres",
  "27017": "mongodb",
  "9200": "elasticsearch",
  "5672": "rabbitmq",
  "9092": "kafka",
  "11211": "memcached",
};

/** Client libraries of the services a probe may need to start, by the service they talk to. */
const SERVICE_CLIENTS: Record<string, string> = {
  mysql: "mysql",
  mysql2: "mysql",
  mariadb: "mysql",
  redis: "redis",
  ioredis: "redis",
  "@redis/client": "redis",
  pg: "postgres",
  postgres: "postgres",
  mongodb: "mongodb",
  mongoose: "mongodb",
};

/**
 * The one service a package's own dependencies say it talks to (mysql2 → mysql), for a server that exits printing
 * nothing: the only thing left that names what it needs. Undefined when it uses none, or clients of several.
 */
export function serviceOfDependencies(deps: Record<string, unknown> | undefined):
  | {
      service: string;
      client: string;
    }
  | undefined {
  const found = new Map<string, string>();
  for (const name of Object.keys(deps ?? {})) {
    const service = SERVICE_CLIENTS[name];
    if (service && !found.has(service)) found.set(service, name);
  }
  if (found.size !== 1) return undefined;
  const [service, client] = [...found][0]!;
  return { service, client };
}

/** A live service the server could not reach at start, named by the error or by its well-known port. */
export function serviceNeeded(text: string): { service: string; evidence: string } | undefined {
  for (const line of linesOf(text)) {
    const refused = /ECONNREFUSED\s+(?:\[?[\d.:a-f]+\]?):(\d+)/i.exec(line);
    if (refused && SERVICE_PORTS[refused[1]!]) return { service: SERVICE_PORTS[refused[1]!]!, evidence: line };
    const named =
      /(redis|mysql|mariadb|postgres(?:ql)?|mongo(?:db)?|elasticsearch|opensearch|rabbitmq|kafka|memcached|sql server|mssql)/i.exec(
        line,
      );
    if (
      named &&
      /ECONNREFUSED|connect|connection|unreachable|not reachable|refused|timed? ?out|could not|unable|failed/i.test(
        line,
      )
    ) {
      const s = named[1]!.toLowerCase();
      const service = s.startsWith("postgres")
        ? "postgres"
        : s.startsWith("mongo")
          ? "mongodb"
          : s === "mariadb"
            ? "mysql"
            : s === "sql server"
              ? "mssql"
              : s;
      return { service, evidence: line };
    }
    if (/ENOTFOUND|EAI_AGAIN|getaddrinfo|ENETUNREACH|\bfetch failed\b/i.test(line)) {
      return { service: "network", evidence: line };
    }
  }
  return undefined;
}

/** Where a server said it is listening over HTTP ("listening on http://…", "running on port 3000"). */
export function listeningOn(text: string): string | undefined {
  for (const line of linesOf(text)) {
    const m =
      /\b(?:listening|running|started|serving|available|ready|live)\b[^\n]{0,60}?\b(https?:\/\/[^\s'"`)]+|(?:on|at)\s+port\s*:?\s*\d{2,5}|port\s*[:=]?\s*\d{2,5})/i.exec(
        line,
      ) ?? /^(?:https?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::\])[^\s]*)$/i.exec(line);
    if (m) return (m[1] ?? m[0]).slice(0, 200);
  }
  return undefined;
}

/** The flag that switches a server to stdio, judged from its usage text; --stdio when it names none. */
export function stdioSwitch(text: string, tried: string[][]): string[] | undefined {
  const t = text.toLowerCase();
  const candidates: string[][] = [];
  if (/--transport\b/.test(t)) candidates.push(["--transport", "stdio"]);
  if (/--stdio\b/.test(t)) candidates.push(["--stdio"]);
  if (/--mode\b[^\n]*stdio/.test(t)) candidates.push(["--mode", "stdio"]);
  if (/\bstdio\b/.test(t) && /^\s*(?:\S+\s+)?\[?(?:command|cmd)/m.test(t)) candidates.push(["stdio"]);
  candidates.push(["--stdio"], ["--transport", "stdio"], ["stdio"]);
  const key = (a: string[]) => a.join(" ");
  const done = new Set(tried.map(key));
  return candidates.find((c) => !done.has(key(c)));
}

/** Words a subcommand that starts a server tends to have, best first; "init"/"setup" style ones last. */
const SERVE_WORDS = ["stdio", "serve", "server", "start", "run", "mcp", "launch"];
const SETUP_WORDS = /^(init|setup|install|config|configure|login|auth|help|version|uninstall|update)$/;

function pickSubcommand(choices: string[]): string | undefined {
  const clean = [...new Set(choices.map((c) => c.trim()).filter((c) => /^[a-z][\w-]{0,30}$/i.test(c)))];
  for (const w of SERVE_WORDS) {
    const hit = clean.find((c) => c.toLowerCase() === w);
    if (hit) return hit;
  }
  return clean.find((c) => !SETUP_WORDS.test(c.toLowerCase()));
}

/** A value for a named or positional argument, judged by its name. */
function valueForArgName(name: string, scratchDir: string, secret: string): string {
  const n = name.toLowerCase().replace(/^-+/, "");
  if (/(dir|directory|folder|path|root|workspace|vault|repo|project)/.test(n)) return scratchDir;
  if (/(database|db|connection|dsn|postgres|mysql|mongo|redis)/.test(n) && /(url|uri|string|dsn)|^db$/.test(n)) {
    return placeholderDbUrl(n);
  }
  if (/(url|uri|endpoint|host)/.test(n)) return "https://placeholder.invalid";
  if (/port/.test(n)) return "1";
  if (/^tools?$/.test(n)) return "all";
  if (/(key|token|secret|password|credential)/.test(n)) return secret;
  return "placeholder";
}

/**
 * Arguments a usage message asks for: a subcommand it names ("Expected 'init' or 'run'"), a required option
 * ("--api-key must be provided", "required option '--org <name>' not specified", "Missing required argument: org"),
 * a database URL or a directory given as a positional argument. Returns undefined when the text names nothing.
 */
export function argumentsAsked(
  text: string,
  scratchDir: string,
  secret: string,
): { add: string[]; because: string } | undefined {
  const lines = linesOf(text).filter((l) => !/^\s*at\s/.test(l));
  const all = lines.join("\n");
  const because = (l: string) => l.slice(0, 300);
  for (const line of lines) {
    // A subcommand: "Expected 'init' or 'run'", "Unknown command. Use one of: start, init", "Commands: serve …"
    const expected =
      /(?:expected|one of|must be|available commands?|valid commands?|choose from|use)\b[^\n]*?((?:['"`]?[a-z][\w-]*['"`]?\s*(?:,|or|\|)\s*)+['"`]?[a-z][\w-]*['"`]?)/i.exec(
        line,
      );
    if (expected && /command|expected|one of|choose/i.test(line)) {
      const choices = [...expected[1]!.matchAll(/['"`]?([a-z][\w-]*)['"`]?/gi)]
        .map((m) => m[1]!)
        .filter((c) => !/^(or|and)$/i.test(c));
      const pick = pickSubcommand(choices);
      if (pick && choices.length >= 2) return { add: [pick], because: because(line) };
    }
    // A required option: commander, yargs and hand-written messages.
    const opt =
      /required option ['"`]?(--?[a-z][\w-]*)(?:\s+<([^>]+)>)?/i.exec(line) ??
      /(--[a-z][\w-]*)(?:[= ]<([^>]+)>)?\s+(?:argument |option |flag )?(?:is |must be )?(?:required|must be (?:provided|specified|set)|not (?:provided|specified))/i.exec(
        line,
      ) ??
      /(?:missing|provide|specify|requires?)\b[^\n]*?(--[a-z][\w-]*)(?:[= ]<([^>]+)>)?/i.exec(line);
    if (opt) {
      const flag = opt[1]!;
      return { add: [`${flag}=${valueForArgName(opt[2] ?? flag, scratchDir, secret)}`], because: because(line) };
    }
    const yargs = /missing required argument[s]?:\s*([a-z][\w-]*)/i.exec(line);
    if (yargs) {
      const name = yargs[1]!;
      // yargs calls positionals and options alike; usage tells which.
      const isOption = new RegExp(`--${name}\\b`).test(all);
      return {
        add: isOption
          ? [`--${name}=${valueForArgName(name, scratchDir, secret)}`]
          : [valueForArgName(name, scratchDir, secret)],
        because: because(line),
      };
    }
    // A database URL or directory given as a positional argument.
    if (
      /(database|db|connection|postgres|mysql|mongo|redis)\w*\s+(url|uri|string)/i.test(line) &&
      /argument|usage|provide/i.test(line)
    ) {
      return { add: [placeholderDbUrl(line)], because: because(line) };
    }
    if (
      /(director(?:y|ies)|folder|path)\b/i.test(line) &&
      /argument|usage|provide|specify|at least one|no allowed/i.test(line)
    ) {
      return { add: [scratchDir], because: because(line) };
    }
    if (/not enough non-option arguments|positional argument|missing argument|too few arguments/i.test(line)) {
      const usage = /usage:\s*\S+\s+(?:\[[^\]]*\]\s+)*<([^>]+)>/i.exec(all);
      return { add: [valueForArgName(usage?.[1] ?? "value", scratchDir, secret)], because: because(line) };
    }
  }
  // A bare usage line with a required positional ("Usage: server <allowed-directory>").
  const usage = /usage:\s*(?:npx\s+)?\S+\s+(?:\[[^\]]*\]\s+)*<([^>]+)>/i.exec(all);
  if (usage) return { add: [valueForArgName(usage[1]!, scratchDir, secret)], because: because(usage[0]) };
  return undefined;
}

/** Everything one failed attempt's output says, in the order a retry should act on it. */
export function diagnose(text: string, scratchDir: string, secret: string): Diagnosis {
  const { names, evidence } = envNamesAsked(text);
  const out: Diagnosis = { env: names, ...(evidence ? { evidence } : {}) };
  const needsNode = nodeMajorAsked(text);
  if (needsNode) out.needsNode = needsNode;
  const choices = valueChoicesAsked(text, secret);
  if (choices) out.valueChoices = choices;
  const listening = listeningOn(text);
  if (listening) out.listening = listening;
  const args = argumentsAsked(text, scratchDir, secret);
  if (args) out.args = args;
  const keyPrefix = keyPrefixAsked(text);
  if (keyPrefix) out.keyPrefix = keyPrefix;
  if (!names.length) {
    const missing = missingValueAsked(text);
    if (missing) out.missingValue = missing;
  }
  const service = serviceNeeded(text);
  if (service) {
    out.service = service.service;
    out.evidence ??= service.evidence.slice(0, 300);
  }
  return out;
}
