// Copy buttons: <button class="copy" data-copy="ID"> copies the text of #ID. No inline script (CSP).
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
