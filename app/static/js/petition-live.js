// petition-live.js — refresh the petition page's signature count and threshold bars.
// Polls the public JSON every 30 s while the tab is visible; updates the numbers quietly
// (no live region: a count that changes every few seconds must not interrupt a reader).
const el = document.getElementById("live-count");
const fmt = new Intl.NumberFormat(document.documentElement.lang || "en");
const INTERVAL_MS = 30000;

async function refresh() {
  if (!el || document.hidden) return;
  try {
    const res = await fetch(el.dataset.api, { headers: { Accept: "application/json" } });
    if (!res.ok) return;
    const data = await res.json();
    const n = Number(data.signatures);
    if (!Number.isFinite(n)) return;
    el.textContent = el.textContent.replace(/[\d\s\u00a0\u202f,.]+/, (m) => {
      const lead = m.match(/^\s*/)[0];
      const trail = m.match(/\s*$/)[0];
      return lead + fmt.format(n) + trail;
    });
    for (const bar of document.querySelectorAll("progress[data-threshold]")) {
      const max = Number(bar.max);
      bar.value = Math.min(n, max);
    }
  } catch (_err) {
    // offline or server busy: keep the last count
  }
}

if (el) setInterval(refresh, INTERVAL_MS);
