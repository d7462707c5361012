// Site search over a sharded index: /search/index.json lists the shards; each query token fetches only the
// shard(s) whose key prefixes it. Results are built with textContent: names are untrusted.
(() => {
  const script = document.currentScript;
  const root = new URL("../", script.src).pathname; // site root, with any base path
  const form = document.getElementById("search-form");
  const input = document.getElementById("q");
  const out = document.getElementById("search-results");
  const status = document.getElementById("search-status");
  if (!form || !input || !out || !status) return;
  let manifest = null;
  const cache = {};
  const MAX_SHARDS = 6;
  const LIMIT = 100;

  function tokenize(s) {
    const words = s
      .normalize("NFKD")
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .toLowerCase()
      .split(/[^a-z0-9]+/);
    const seen = {};
    return words.filter((w) => {
      if (w.length < 2 || seen[w]) return false;
      seen[w] = true;
      return true;
    });
  }
  function getJson(path) {
    if (!cache[path]) {
      cache[path] = fetch(root + path).then((r) => {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
    }
    return cache[path];
  }
  function shardsFor(q) {
    const keys = [];
    for (let i = 0; i < manifest.shards.length; i++) {
      const k = manifest.shards[i];
      const exactOnly = k.charAt(k.length - 1) === "-";
      const base = exactOnly ? k.slice(0, -1) : k;
      if (exactOnly ? base.indexOf(q) === 0 : q.indexOf(base) === 0 || base.indexOf(q) === 0) keys.push(k);
    }
    return keys;
  }
  function docTokens(d) {
    return tokenize(d[1] + " " + d[2].replace(/-/g, " ") + " " + d[3].replace(/-/g, " "));
  }
  function matchesAll(d, terms) {
    const toks = docTokens(d);
    return terms.every((t) => toks.some((x) => x.indexOf(t) === 0));
  }
  function run(query) {
    const terms = tokenize(query);
    out.textContent = "";
    if (!terms.length) {
      status.textContent = query ? "Type at least two letters or digits." : "";
      return Promise.resolve();
    }
    status.textContent = "Searching…";
    return getJson("search/index.json")
      .then((m) => {
        manifest = m;
        // A result must match every term; it is found through the postings of any of them, so a common word
        // whose list was cut does not hide results that a rarer word reaches.
        const picked = terms
          .slice()
          .sort((a, b) => b.length - a.length)
          .slice(0, 4);
        let partial = false;
        const jobs = [];
        picked.forEach((term) => {
          const keys = shardsFor(term);
          if (keys.length > MAX_SHARDS) partial = true;
          keys.slice(0, MAX_SHARDS).forEach((k) => {
            jobs.push(getJson("search/s/" + k + ".json").then((sh) => ({ term: term, sh: sh })));
          });
        });
        return Promise.all(jobs).then((loaded) => {
          const seen = {};
          const hits = [];
          let cut = partial;
          loaded.forEach((l) => {
            const sh = l.sh;
            Object.keys(sh.tokens).forEach((tok) => {
              if (tok.indexOf(l.term) !== 0) return;
              if (sh.capped.indexOf(tok) >= 0) cut = true;
              sh.tokens[tok].forEach((i) => {
                const d = sh.docs[i];
                const id = d[0] + "|" + d[2] + "|" + d[3];
                if (seen[id] || !matchesAll(d, terms)) return;
                seen[id] = true;
                hits.push(d);
              });
            });
          });
          const ql = query.trim().toLowerCase();
          hits.sort((a, b) => {
            const ea = a[1].toLowerCase() === ql ? 0 : 1;
            const eb = b[1].toLowerCase() === ql ? 0 : 1;
            return ea - eb || b[0] - a[0] || a[1].length - b[1].length || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
          });
          render(hits.slice(0, LIMIT), hits.length, cut);
        });
      })
      .catch((e) => {
        status.textContent = "Search failed: " + e.message;
      });
  }
  function render(hits, total, cut) {
    const ul = document.createElement("ul");
    hits.forEach((d) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = d[0] === 1 ? root + "servers/" + d[2] + "/" : root + "tools/" + d[2] + "/" + d[3] + "/";
      a.textContent = d[1];
      li.appendChild(a);
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = d[0] === 1 ? " — server" : " — tool of " + d[2] + (d[4] ? " · " + d[4] + " risk" : "");
      li.appendChild(meta);
      ul.appendChild(li);
    });
    out.appendChild(ul);
    status.textContent =
      (total === 0
        ? "No results."
        : total + (total === 1 ? " result" : " results") + (total > hits.length ? ", showing " + hits.length : "")) +
      (cut ? " Some words are very common: add more words to narrow it down." : "");
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
