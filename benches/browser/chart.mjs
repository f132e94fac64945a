// Renders benches/.results JSON as an SVG: one group of horizontal bars per
// case, each bar the cost relative to coincident on a log scale (for
// throughput, coincident's rate divided by the library's rate), so shorter
// to the left is better everywhere. Bars are labelled with the measured value;
// a thin line across each bar spans the repetitions' minimum to maximum (the
// spread a user sees as stutter), also in the label.
const COLORS = {
  ours: "#d9480f",
  "ours+wasm": "#ff922b",
  "ours-bundled": "#ff922b",
  "ours-dist": "#e8590c",
  coincident: "#1c7ed6",
  "coincident-sw": "#1c7ed6",
  comlink: "#37b24d",
  atomics: "#868e96",
  postmessage: "#adb5bd",
};
const ORDER = ["ours", "ours-dist", "ours-bundled", "ours+wasm", "coincident", "coincident-sw", "comlink", "atomics", "postmessage"];

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (v) => {
  const a = Math.abs(v);
  if (a >= 10000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
};

export function renderChart(out, names) {
  const W = 1020, left = 230, right = 260, plotW = W - left - right;
  const LO = -2, HI = 2; // log10 of the relative cost: 0.01x .. 100x
  const x = (rel) => left + ((Math.min(HI, Math.max(LO, Math.log10(rel))) - LO) / (HI - LO)) * plotW;
  const rowH = 16, gap = 26;
  let y = 76;
  const parts = [];
  for (const c of out.cases) {
    const base = c.results[c.ratioBase ?? "coincident"]?.median;
    parts.push(`<text x="10" y="${y}" class="h">${esc(c.title)} (${esc(c.unit)})</text>`);
    y += 8;
    for (const lib of ORDER) {
      const r = c.results[lib];
      if (!r) continue;
      const label = names[lib] ?? lib;
      parts.push(`<text x="${left - 6}" y="${y + 12}" class="l" text-anchor="end">${esc(label)}</text>`);
      if (r.median == null || !base) {
        const why = r.notMeasured ? "not measured" : r.error ? "failed" : "no anchor";
        parts.push(`<text x="${x(1) + 6}" y="${y + 12}" class="n">${why}</text>`);
      } else {
        const rel = c.better === "higher" ? base / r.median : r.median / base;
        const x0 = x(1), x1 = x(rel);
        const a = Math.min(x0, x1), w = Math.max(2, Math.abs(x1 - x0));
        parts.push(`<rect x="${a.toFixed(1)}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${COLORS[lib] ?? "#555"}"/>`);
        const spread = r.min != null && r.max != null && r.min !== r.max;
        let end = Math.max(x0, x1);
        if (spread) {
          const relOf = (v) => (c.better === "higher" ? base / v : v / base);
          const [lo, hi] = [x(relOf(r.min)), x(relOf(r.max))].sort((p, q) => p - q);
          const mid = y + rowH / 2;
          parts.push(`<line x1="${lo.toFixed(1)}" x2="${hi.toFixed(1)}" y1="${mid}" y2="${mid}" class="w"/>` +
            `<line x1="${lo.toFixed(1)}" x2="${lo.toFixed(1)}" y1="${mid - 4}" y2="${mid + 4}" class="w"/>` +
            `<line x1="${hi.toFixed(1)}" x2="${hi.toFixed(1)}" y1="${mid - 4}" y2="${mid + 4}" class="w"/>`);
          end = Math.max(end, hi);
        }
        const ratioText = c.better === "higher" ? `${(r.median / base).toFixed(2)}x the rate` : `${rel.toFixed(2)}x`;
        const range = spread ? `, ${num(r.min)}-${num(r.max)}` : "";
        parts.push(`<text x="${end + 6}" y="${y + 12}" class="v">${num(r.median)} ${esc(c.unit)} (${ratioText}${range})</text>`);
      }
      y += rowH;
    }
    y += gap;
  }
  const H = y + 10;
  const ticks = [0.01, 0.1, 0.2, 0.5, 1, 2, 10, 100]
    .map((t) => `<line x1="${x(t)}" x2="${x(t)}" y1="56" y2="${H - 20}" class="${t === 1 ? "one" : "t"}"/>` +
      `<text x="${x(t)}" y="52" class="tk" text-anchor="middle">${t}x</text>`).join("");
  const m = out.machine;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<style>
.h{font-size:13px;font-weight:bold;fill:#222}.l{font-size:12px;fill:#333}.v{font-size:11px;fill:#333}
.n{font-size:11px;fill:#c92a2a;font-style:italic}.tk{font-size:11px;fill:#666}
.t{stroke:#ddd;stroke-width:1}.w{stroke:#222;stroke-width:1.2}.one{stroke:#1c7ed6;stroke-width:1.5}
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="14" font-weight="bold">worker-bridge browser benchmark: cost relative to coincident 4.1.1 (log scale; left of 1x is better)</text>
<text x="10" y="34" font-size="11" fill="#666">${esc(`Chromium ${m.chromium}, ${m.nproc} cores${m.busy ? `, busy: ${m.busy} CPU-bound process(es) beside the run` : ", idle"}, ${out.date.slice(0, 16).replace("T", " ")} UTC, ${out.reps} reps, medians; whiskers min-max`)}</text>
${ticks}
${parts.join("\n")}
</svg>
`;
}
