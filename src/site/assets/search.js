// Site search over a sharded index: /search/index.json lists the shards; each query term fetches only the shard(s)
// whose key prefixes it. Terms come from search-words.js, the same code that built the index. Risk and category words
// ("critical", "destructive") filter results, and alone open that listing. Results are built with textContent: names
// and descriptions are untrusted.
(() => {
  const script = document.currentScript;
  const root = new URL("../", script.src).pathname; // site root, with any base path
  const form = document.getElementById("search-form");
  const input = document.getElementById("q");
  const out = document.getElementById("search-results");
  const status = document.getElementById("search-status");
  const words = window.McpCensusWords;
  if (!form || !input || !out || !status || !words) return;
  const cache = {};
  let bytes = 0;
  const MAX_SHARDS = 6;
  const MAX_TERMS = 4;
  const LIMIT = 100;
  const RISKS = ["low", "medium", "high", "critical"];
  const CATEGORIES = ["destructive", "financial"];
  const FACETS = {};
  for (const r of RISKS) FACETS[words.stem(r)] = { kind: "risk", value: r };
  for (const c of CATEGORIES) FACETS[words.stem(c)] = { kind: "category", value: c };
  const FLAG_WORDS = ["flagged", "flag", "flags", "poisoning", "poisoned", "poison"].map(words.stem);

  function getJson(path) {
    if (!cache[path]) {
      cache[path] = fetch(root + path).then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.text().then((t) => {
          bytes += t.length;
          status.setAttribute("data-bytes", String(bytes));
          return JSON.parse(t);
        });
      });
    }
    return cache[path];
  }
  function shardsFor(manifest, q) {
    const keys = [];
    for (const k of manifest.shards) {
      const exactOnly = k.endsWith("-");
      const base = exactOnly ? k.slice(0, -1) : k;
      if (exactOnly ? base.startsWith(q) : q.startsWith(base) || base.startsWith(q)) keys.push(k);
    }
    return keys;
  }
  const idOf = (d) => `${d[0]}|${d[2]}|${d[3]}`;
  const covers = (toks, terms) => terms.every((t) => toks.some((x) => x.startsWith(t)));
  function score(d, terms, folded) {
    const name = d[1].toLowerCase();
    if (name === folded || name === folded.replace(/\s+/g, "_") || name === folded.replace(/\s+/g, "-")) return 1000;
    if (covers(words.terms(`${d[1]} ${d[0] === 1 ? d[2].replace(/-/g, " ") : ""}`), terms))
      return d[0] === 1 ? 500 : 400;
    if (covers(words.terms(d[6]), terms)) return 250;
    return 100;
  }
  function facetOk(d, facets) {
    return facets.every((f) =>
      f.kind === "flag" ? d[8] === 1 : f.kind === "risk" ? d[4] === f.value : d[5].toLowerCase() === f.value,
    );
  }
  // A query of only risk/category words: that listing's first page, filtered by the others.
  function listing(facets) {
    const f = facets.find((x) => x.kind !== "flag");
    const path = `browse/${f.kind}/${f.value}/`;
    return getJson(`${path}index.json`)
      .then((page) => {
        const docs = page.items.map((x) => {
          const parts = x.path.split("/");
          return [0, x.name, parts[2], parts[3], x.risk || "", x.category || "", "", "", x.flags?.length ? 1 : 0];
        });
        return { hits: docs.filter((d) => facetOk(d, facets)), cut: !!page.next, more: root + path };
      })
      .catch(() => ({ hits: [], cut: false, more: root + path }));
  }
  function textSearch(terms, facets) {
    return getJson("search/index.json").then((manifest) => {
      // Fetch the longest (rarest) terms' shards; a result must carry every term (its postings, or its own text when a
      // very common term's list was cut).
      const picked = terms
        .slice()
        .sort((a, b) => b.length - a.length)
        .slice(0, MAX_TERMS);
      let cut = terms.length > picked.length;
      const jobs = [];
      for (const term of picked) {
        const keys = shardsFor(manifest, term);
        if (keys.length > MAX_SHARDS) cut = true;
        for (const k of keys.slice(0, MAX_SHARDS)) {
          jobs.push(getJson(`search/s/${k}.json`).then((sh) => ({ term, sh })));
        }
      }
      return Promise.all(jobs).then((loaded) => {
        const docs = {};
        const found = {};
        for (const { term, sh } of loaded) {
          for (const tok of Object.keys(sh.tokens)) {
            if (!tok.startsWith(term)) continue;
            if (sh.capped.includes(tok)) cut = true;
            for (const i of sh.tokens[tok]) {
              const d = sh.docs[i];
              const id = idOf(d);
              docs[id] = d;
              if (!found[id]) found[id] = {};
              found[id][term] = true;
            }
          }
        }
        const hits = [];
        for (const id of Object.keys(docs)) {
          const d = docs[id];
          const own = words.terms(`${d[1]} ${d[6]} ${d[7]}`);
          const all = terms.every((t) => found[id][t] || own.some((x) => x.startsWith(t)));
          if (all && facetOk(d, facets)) hits.push(d);
        }
        return { hits, cut };
      });
    });
  }
  function run(query) {
    const all = words.terms(query);
    const facets = [];
    const terms = [];
    for (const t of all) {
      if (FACETS[t]) facets.push(FACETS[t]);
      else if (FLAG_WORDS.includes(t)) facets.push({ kind: "flag" });
      else if (t !== "risk" && t !== "tool") terms.push(t);
    }
    out.textContent = "";
    if (!terms.length && !facets.length) {
      status.textContent = query ? "Type at least two letters or digits." : "";
      return Promise.resolve();
    }
    status.textContent = "Searching…";
    const flagOnly = !terms.length && facets.every((f) => f.kind === "flag");
    const job = flagOnly ? textSearch(["flagged"], []) : terms.length ? textSearch(terms, facets) : listing(facets);
    const folded = words.fold(query).trim().toLowerCase();
    return job
      .then((r) => {
        const ranked = r.hits
          .map((d) => ({ d, s: score(d, terms, folded) }))
          .sort(
            (a, b) =>
              b.s - a.s ||
              b.d[0] - a.d[0] ||
              a.d[1].length - b.d[1].length ||
              (a.d[1] < b.d[1] ? -1 : a.d[1] > b.d[1] ? 1 : 0),
          )
          .map((x) => x.d);
        render(ranked.slice(0, LIMIT), ranked.length, r.cut, r.more);
      })
      .catch((e) => {
        status.textContent = `Search failed: ${e.message}`;
      });
  }
  function render(hits, total, cut, more) {
    const ol = document.createElement("ol");
    for (const d of hits) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = d[0] === 1 ? `${root}servers/${d[2]}/` : `${root}tools/${d[2]}/${d[3]}/`;
      a.textContent = d[1];
      li.appendChild(a);
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent =
        d[0] === 1 ? " — server" : ` — tool of ${d[2]}${d[5] ? ` · ${d[5]}` : ""}${d[4] ? ` · ${d[4]} risk` : ""}`;
      li.appendChild(meta);
      if (d[8] === 1) {
        const f = document.createElement("span");
        f.className = "flag";
        f.textContent = "⚑ poisoning flag";
        li.appendChild(document.createTextNode(" "));
        li.appendChild(f);
      }
      const text = [d[6], d[7]].filter(Boolean).join(" — ");
      if (text) {
        const sn = document.createElement("span");
        sn.className = "snippet";
        sn.textContent = text;
        li.appendChild(sn);
      }
      ol.appendChild(li);
    }
    out.appendChild(ol);
    status.textContent =
      (total === 0
        ? "No results."
        : `${total}${total === 1 ? " result" : " results"}${total > hits.length ? `, showing ${hits.length}` : ""}.`) +
      (cut ? " Some words are very common: add more words to narrow it down." : "");
    if (more) {
      const a = document.createElement("a");
      a.href = more;
      a.textContent = " See the whole listing.";
      status.appendChild(a);
    }
  }
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      run(input.value);
    }, 150);
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const u = new URL(location.href);
    u.searchParams.set("q", input.value);
    history.replaceState(null, "", u);
    run(input.value);
  });
  const q0 = new URL(location.href).searchParams.get("q");
  if (q0) {
    input.value = q0;
    run(q0);
  }
})();
