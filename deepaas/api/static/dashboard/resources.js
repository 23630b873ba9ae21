// A training's computing resources: the train form's CPUs, GPUs, memory and site inputs (sent
// as the DEEPaaS-Resources header, empty ones left out), filled from the resources route and
// bounded by its largest node; and where a training runs (its placement), for the jobs table
// and the job page.

import { getJSON, h, path } from "./util.js";

export const HEADER = "DEEPaaS-Resources";
const GIB = 2 ** 30;
const PREFIX = "train-res";

/** "8 GiB", "512 MiB": a size in bytes as people read it. */
export function size(bytes) {
  for (const [unit, n] of [["GiB", GIB], ["MiB", 2 ** 20], ["KiB", 2 ** 10]]) {
    if (bytes >= n) return `${+(bytes / n).toFixed(2)} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** The most one training can ask for: the largest node's CPUs, GPUs and memory (a training
 * runs on one node), and what is free there now. */
function bounds(nodes) {
  const most = (kind) => nodes.reduce((best, n) => (n[kind].total > best.total ? n[kind] : best),
                                      { total: 0, free: 0 });
  return { cpus: most("cpus"), gpus: most("gpus"), memory: most("memory") };
}

function numberInput(kind, label, max, hint, step = "1") {
  const id = `${PREFIX}-${kind}`;
  return h("div", { class: "field", dataset: { field: kind } },
    h("label", { for: id }, label),
    h("input", { id, type: "number", step, min: kind === "gpus" ? 0 : step === "1" ? 1 : "any",
                 max: max ?? undefined, placeholder: "default", dataset: { testid: id } }),
    hint ? h("small", { class: "hint" }, hint) : null);
}

function siteSelect(sites) {
  const id = `${PREFIX}-site`;
  return h("div", { class: "field", dataset: { field: "site" } },
    h("label", { for: id }, "site"),
    h("select", { id, dataset: { testid: id }, disabled: !sites.length },
      h("option", { value: "" }, sites.length ? "any" : "(no named site)"),
      sites.map((s) => h("option", { value: s }, s))));
}

/** Add the resource inputs to the train form (before its buttons), bounded by what the
 * resources route lists; answers what it listed. A server that lists nothing (an executor
 * that places trainings itself) still gets inputs, unbounded. */
export async function offerResources(form) {
  const found = await getJSON(path("resources"));
  const most = bounds(found.nodes || []);
  const known = (found.nodes || []).length > 0;
  const hint = (kind, show = (x) => x) => known
    ? `at most ${show(most[kind].total)} (${show(most[kind].free)} free now)` : "";
  const gib = (bytes) => +(bytes / GIB).toFixed(2);
  const box = h("fieldset", { class: "field resources", id: `${PREFIX}-fields`, dataset: { testid: `${PREFIX}-fields` } },
    h("legend", {}, "Resources ", h("small", { class: "hint" }, `(${found.executor} executor; empty: the defaults)`)),
    numberInput("cpus", "CPUs", known ? most.cpus.total : null, hint("cpus")),
    numberInput("gpus", "GPUs", known ? most.gpus.total : null, hint("gpus")),
    numberInput("memory", "memory (GiB)", known ? gib(most.memory.total) : null, hint("memory", size), "any"),
    siteSelect(found.sites || []),
    h("div", { class: "field-error", id: `train-error-${HEADER}`, dataset: { testid: `train-error-${HEADER}` } }));
  form.insertBefore(box, form.querySelector(".actions"));
  return found;
}

/** The DEEPaaS-Resources header from the form's resource inputs ("" when all are empty). */
export function resourcesHeader(form) {
  const value = (kind) => form.querySelector(`#${PREFIX}-${kind}`)?.value.trim() || "";
  const parts = [];
  for (const kind of ["cpus", "gpus"]) if (value(kind)) parts.push(`${kind}=${value(kind)}`);
  if (value("memory")) parts.push(`memory=${value("memory")}GiB`);
  if (value("site")) parts.push(`site=${value("site")}`);
  return parts.join(", ");
}

/** The header that asks again what a training's record says it asked for (its retry). */
export function askedHeader(resources) {
  return Object.entries(resources || {}).map(([k, v]) => `${k}=${v}`).join(", ");
}

/** Where a training runs, in one line: "host (site) · CPUs 0,1 · GPUs 0 · 8 GiB". */
export function placementText(placement) {
  if (!placement) return "";
  const p = placement;
  const parts = [p.site ? `${p.node || "cluster"} (${p.site})` : p.node || "cluster"];
  if (p.cpus) parts.push(`CPUs ${p.cpus.join(",")}`);
  if (p.gpus) parts.push(p.gpus.length ? `GPUs ${p.gpus.join(",")}` : "no GPU");
  if (p.memory) parts.push(size(p.memory));
  return parts.join(" · ");
}

/** The job page's facts about resources: what was asked, and where it runs. */
export function resourceFacts(job) {
  const asked = Object.entries(job.resources || {})
    .map(([k, v]) => `${k}=${k === "memory" ? size(v) : v}`).join(", ");
  return [
    asked ? [h("dt", {}, "asked"), h("dd", { dataset: { testid: "job-resources" } }, asked)] : null,
    job.placement ? [h("dt", {}, "runs on"),
                     h("dd", { dataset: { testid: "job-placement" } }, placementText(job.placement))] : null,
  ];
}
