// How the site's search turns text into index terms. The one definition: the browser loads this file before
// search.js, and the build (src/site/search-index.ts) runs this same file in a VM context, so the index and the
// queries can never tokenise differently.
// Terms: accent- and case-folded words, split on punctuation and camelCase (the joined camelCase word is kept too, so
// "GitHub" and "github" meet), each reduced by a small suffix-stripping stemmer ("deletes", "deleting", "deleted"
// → "delet").
((root) => {
  const STOP = new Set(
    (
      "a an and are as at be by can do for from has have if in into is it its of on or that the their then this to " +
      "use used uses using via when which will with you your all any each one not no may must should also only more " +
      "most other than such these those what where who how"
    ).split(" "),
  );
  function stem(word) {
    let w = word;
    if (w.length <= 3 || /[0-9]/.test(w)) return w;
    if (w.length > 4 && w.endsWith("ies")) return `${w.slice(0, -3)}y`;
    if (w.endsWith("sses")) return w.slice(0, -2);
    if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
    else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
    else if (w.length > 4 && /(sh|ch|x|ss|z)es$/.test(w)) w = w.slice(0, -2);
    else if (w.endsWith("s") && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
    if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
    return w;
  }
  function fold(s) {
    return String(s)
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "");
  }
  // The terms of a text, in order, each once. With `dropStop`, common English words are left out.
  function terms(s, dropStop) {
    const out = [];
    const seen = new Set();
    const add = (w) => {
      if (w.length < 2 || seen.has(w) || (dropStop && STOP.has(w))) return;
      seen.add(w);
      out.push(w);
    };
    for (const word of fold(s).split(/[^A-Za-z0-9]+/)) {
      if (!word) continue;
      const parts = word
        .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
        .toLowerCase()
        .split(" ");
      for (const p of parts) add(stem(p));
      if (parts.length > 1) add(stem(word.toLowerCase()));
    }
    return out;
  }
  root.McpCensusWords = { terms, stem, fold };
})(typeof window !== "undefined" ? window : globalThis);
