// How a training record is shown: its duration, status and progress.

import { h } from "./util.js";

function parseDate(s) {
  if (!s) return null;
  const d = new Date(String(s).replace(" ", "T").replace(/(\.\d{3})\d+/, "$1"));
  return isNaN(d) ? null : d;
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "";
  seconds = Math.max(0, seconds);
  const h_ = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return (h_ ? `${h_}h ` : "") + (h_ || m ? `${m}m ` : "") + `${s.toFixed(h_ || m ? 0 : 1)}s`;
}

export function jobDuration(job) {
  const r = job.result || {};
  if (typeof r.duration === "string") {
    const m = /^(?:(\d+) days?, )?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(r.duration);
    if (m) return fmtDuration((+m[1] || 0) * 86400 + m[2] * 3600 + m[3] * 60 + +m[4]);
  }
  const start = parseDate(job.start_date || job.date);
  const end = parseDate(r.finish_date || job.finish_date);
  if (!start) return "";
  if (end) return fmtDuration((end - start) / 1000);
  if (job.status === "running" && !job.queued) return fmtDuration((Date.now() - start) / 1000);
  return "";
}

export function statusLabel(job) {
  return job.queued ? `queued${job.position ? ` (#${job.position})` : ""}` : job.status;
}

export function progressBar(job) {
  const p = job.progress;
  if (!p) return "";
  const frac = typeof p.fraction === "number" ? p.fraction : null;
  const text = p.total ? `${p.step}/${p.total}` : p.step !== undefined ? `step ${p.step}` : "";
  return h("span", { class: "progress" },
    frac !== null ? h("progress", { max: 1, value: frac }) : null, " ", text);
}

export function isActive(job) { return job.status === "running" || job.status === "queued" || job.queued; }
