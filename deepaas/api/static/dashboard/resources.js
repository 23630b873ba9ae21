// A training's computing resources: the train form's CPUs, GPUs, memory and site inputs (sent
// as the DEEPaaS-Resources header, empty ones left out), filled from the resources route and
// bounded by its largest node; and where a training runs (its placement), for the jobs table
// and the job page.

import { fill, getJSON, h, path } from "./util.js";

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

const KINDS = ["cpus", "gpus", "memory"];
const SHOWN = { cpus: String, gpus: String, memory: size };
const INPUT = { cpus: (n) => n, gpus: (n) => n, memory: (bytes) => +(bytes / GIB).toFixed(2) };

/** The most one training can ask for (it runs on one node): the largest node's, and the most
 * any node has free now. */
function bounds(nodes, kind) {
  return { total: Math.max(0, ...nodes.map((n) => n[kind].total)),
           free: Math.max(0, ...nodes.map((n) => n[kind].free)) };
}

function numberInput(kind, label, step = "1") {
  const id = `${PREFIX}-${kind}`;
  return h("div", { class: "field", dataset: { field: kind } },
    h("label", { for: id }, label),
    h("input", { id, type: "number", step, min: kind === "gpus" ? 0 : step === "1" ? 1 : "any",
                 placeholder: "default", dataset: { testid: id } }),
    h("small", { class: "hint", id: `${id}-hint`, dataset: { testid: `${id}-hint` } }));
}

/** Bound the inputs by what the resources route lists (unbounded when it lists no node: an
 * executor that places trainings itself), and offer its sites, keeping the one chosen. */
function apply(box, found) {
  const nodes = found.nodes || [];
  for (const kind of KINDS) {
    const input = box.querySelector(`#${PREFIX}-${kind}`);
    const most = bounds(nodes, kind);
    if (nodes.length) input.max = INPUT[kind](most.total);
    else input.removeAttribute("max");
    box.querySelector(`#${PREFIX}-${kind}-hint`).textContent = nodes.length
      ? `at most ${SHOWN[kind](most.total)} (${SHOWN[kind](most.free)} free now)` : "";
  }
  const select = box.querySelector(`#${PREFIX}-site`);
  const sites = found.sites || [];
  const chosen = select.value;
  fill(select, h("option", { value: "" }, sites.length ? "any" : "(no named site)"),
    sites.map((s) => h("option", { value: s, selected: s === chosen }, s)));
  select.disabled = !sites.length;
  box.querySelector("legend small").textContent = `(${found.executor} executor; empty: the defaults)`;
}

/** Add the resource inputs to the train form (before its buttons), bounded by what the
 * resources route lists; answers a function that reads it again and updates them. */
export async function offerResources(form) {
  const site = `${PREFIX}-site`;
  const box = h("fieldset", { class: "field resources", id: `${PREFIX}-fields`, dataset: { testid: `${PREFIX}-fields` } },
    h("legend", {}, "Resources ", h("small", { class: "hint" })),
    numberInput("cpus", "CPUs"), numberInput("gpus", "GPUs"), numberInput("memory", "memory (GiB)", "any"),
    h("div", { class: "field", dataset: { field: "site" } },
      h("label", { for: site }, "site"), h("select", { id: site, dataset: { testid: site } })),
    h("div", { class: "field-error", id: `train-error-${HEADER}`, dataset: { testid: `train-error-${HEADER}` } }));
  const update = async () => apply(box, await getJSON(path("resources")));
  await update();
  form.insertBefore(box, form.querySelector(".actions"));
  return update;
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
