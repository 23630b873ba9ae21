// Line charts of a training's metrics, drawn as SVG (no library).

import { fill, h } from "./util.js";

// ---------------------------------------------------------------- chart

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

/** One small SVG line chart per numeric metric of `points`, over `step`. */
export function drawChart(box, points) {
  const names = [...new Set(points.flatMap((p) => Object.keys(p)))]
    .filter((k) => k !== "step" && k !== "time" && points.some((p) => typeof p[k] === "number"));
  fill(box);
  if (!names.length) {
    box.append(h("p", { class: "muted" }, "No metric reported (yet)."));
    return;
  }
  names.forEach((name, i) => {
    const pts = points.map((p, j) => [typeof p.step === "number" ? p.step : j + 1, p[name]])
      .filter(([, y]) => typeof y === "number" && isFinite(y));
    box.append(lineChart(name, pts, COLORS[i % COLORS.length]));
  });
}

function lineChart(name, pts, color) {
  const W = 360, H = 200, L = 48, R = 12, T = 24, B = 28;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
  const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "metric", "data-metric": name,
                         "data-testid": `metric-${name}`, role: "img", "aria-label": `${name} over step` });
  svg.append(s("text", { x: L, y: 15, class: "title" }, `${name} (last: ${fmt(ys[ys.length - 1])})`));
  for (let k = 0; k <= 4; k++) {
    const yv = y0 + ((y1 - y0) * k) / 4;
    svg.append(s("line", { x1: L, x2: W - R, y1: Y(yv), y2: Y(yv), class: "grid" }),
      s("text", { x: L - 4, y: Y(yv) + 4, class: "tick", "text-anchor": "end" }, fmt(yv)));
  }
  for (const xv of [x0, (x0 + x1) / 2, x1]) {
    svg.append(s("text", { x: X(xv), y: H - 10, class: "tick", "text-anchor": "middle" }, fmt(xv)));
  }
  svg.append(s("text", { x: W - R, y: H - 1, class: "tick", "text-anchor": "end" }, "step"));
  svg.append(s("polyline", { points: pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(" "),
                             fill: "none", stroke: color, "stroke-width": 2 }));
  if (pts.length <= 60) {
    for (const [x, y] of pts) {
      const dot = s("circle", { cx: X(x), cy: Y(y), r: 2.5, fill: color });
      dot.append(s("title", {}, `step ${x}: ${y}`));
      svg.append(dot);
    }
  }
  return svg;
}

function fmt(v) {
  if (!isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(+v.toFixed(a < 1 ? 4 : 2));
}
