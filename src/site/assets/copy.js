// Copy buttons: <button class="copy" data-copy="ID"> copies the text of #ID; download buttons:
// <button class="download" data-download="ID" data-filename="NAME"> save the text of #ID as NAME. No inline script (CSP).
(() => {
  function announce(btn, msg) {
    let s = btn.parentNode.querySelector(".copied");
    if (!s) {
      s = document.createElement("span");
      s.className = "copied";
      s.setAttribute("role", "status");
      btn.parentNode.appendChild(s);
    }
    s.textContent = msg;
  }
  function fallback(text) {
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (_e) {
      ok = false;
    }
    document.body.removeChild(ta);
    return ok;
  }
  document.addEventListener("click", (ev) => {
    const dl = ev.target?.closest ? ev.target.closest("button.download") : null;
    if (dl) {
      const src = document.getElementById(dl.getAttribute("data-download"));
      if (!src) return;
      const url = URL.createObjectURL(new Blob([src.textContent], { type: "text/plain;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = dl.getAttribute("data-filename") || "policy.txt";
      document.body.appendChild(a);
      a.click();
      document.body.removeChild(a);
      setTimeout(() => {
        URL.revokeObjectURL(url);
      }, 1000);
      return;
    }
    const btn = ev.target?.closest ? ev.target.closest("button.copy") : null;
    if (!btn) return;
    const el = document.getElementById(btn.getAttribute("data-copy"));
    if (!el) return;
    const text = el.textContent;
    const done = (ok) => {
      announce(btn, ok ? "Copied" : "Press Ctrl+C to copy");
      document.dispatchEvent(new CustomEvent("mcp-census:copied", { detail: { id: el.id, text: text, ok: ok } }));
    };
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(text).then(
        () => {
          done(true);
        },
        () => {
          done(fallback(text));
        },
      );
    } else {
      done(fallback(text));
    }
  });
})();
