// The deepaas dashboard: catalog, "try it", "train it" and job pages, from the public API only.
// Plain ES module, no library, no build step. The API's base path comes from
// <meta name="deepaas-base">; an API key, if given, is kept in sessionStorage.

import { KEY_STORE, api, apiKey, enc, failure, fill, getJSON, h, path, showBanner } from "./util.js";
import { loadCatalog } from "./catalog.js";
import { isActive, jobDuration, progressBar, statusLabel } from "./jobs.js";
import { clearErrors, formValues, formWithSubmit, placeValues, showErrors } from "./forms.js";
import { drawChart } from "./chart.js";
import { isStream, showStream } from "./stream.js";
import { HEADER, askedHeader, offerResources, placementText, resourceFacts, resourcesHeader } from "./resources.js";

const view = document.getElementById("view");

function tagsOf(model) {
  const tags = [];
  if (model.predict) tags.push("inference");
  if ((model.train && model.train.fields.length) || model.meta.trainable) tags.push("trainable");
  if (model.meta.trained === true || model.meta.pretrained === true) tags.push("pre-trained");
  return tags;
}

// ---------------------------------------------------------------- catalog

async function catalogPage() {
  const models = await loadCatalog(true);
  const cards = [...models.values()].map((m) => {
    const meta = m.meta;
    const tags = tagsOf(m);
    return h("article", { class: "card", id: `model-card-${meta.name}`, dataset: { testid: `model-card-${meta.name}` } },
      h("h2", {}, h("a", { href: `#/models/${enc(meta.name)}`, dataset: { testid: `model-link-${meta.name}` } }, meta.name)),
      h("div", { class: "tags" }, tags.map((t) => h("span", { class: `tag tag-${t}`, dataset: { testid: `tag-${t}` } }, t))),
      h("p", {}, meta.description || meta.summary || ""),
      h("dl", {},
        ["author", "license", "version"].filter((k) => meta[k]).map((k) => [h("dt", {}, k), h("dd", {}, String(meta[k]))]),
        meta.url ? [h("dt", {}, "url"), h("dd", {}, h("a", { href: meta.url, target: "_blank", rel: "noopener" }, meta.url))] : null));
  });
  fill(view, h("h1", {}, "Models"),
    cards.length ? h("div", { class: "cards", id: "catalog", dataset: { testid: "catalog" } }, cards)
      : h("p", { class: "muted" }, "No model is served."));
}

// ---------------------------------------------------------------- model page

async function modelPage(name, tab) {
  const models = await loadCatalog();
  const model = models.get(name);
  if (!model) throw new ApiError(404, `No model named '${name}'`);
  const tabs = [];
  if (model.predict) tabs.push(["try", "Try it"]);
  if (model.train) tabs.push(["train", "Train it"]);
  if (!tabs.some(([t]) => t === tab)) tab = tabs.length ? tabs[0][0] : "";
  const nav = h("nav", { class: "tabs" }, tabs.map(([t, label]) =>
    h("a", { href: `#/models/${enc(name)}/${t}`, class: t === tab ? "active" : "", dataset: { testid: `tab-${t}` } }, label)));
  const body = h("section", { id: `${tab}-section` });
  fill(view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Models"), " / ", name),
    h("h1", {}, name, " ", tagsOf(model).map((t) => h("span", { class: `tag tag-${t}` }, t))),
    h("p", {}, model.meta.description || model.meta.summary || ""),
    nav, body);
  if (tab === "try") tryIt(body, model);
  else if (tab === "train") trainIt(body, model);
}

function tryIt(section, model) {
  const name = model.meta.name;
  const fields = model.predict.fields;
  const { form, submit } = formWithSubmit("predict", fields, "Predict");
  const result = h("div", { id: "predict-result", dataset: { testid: "predict-result" }, class: "result" });
  let urls = [];
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    fill(result, h("p", { class: "muted" }, "Running…"));
    submit.disabled = true;
    const started = performance.now();
    try {
      const resp = await api(...placeValues(path("predict", { model: name }), formValues(form, fields), fields));
      if (!resp.ok) throw await failure(resp);
      const took = ((performance.now() - started) / 1000).toFixed(2);
      const type = (resp.headers.get("Content-Type") || "application/octet-stream").split(";")[0].trim();
      if (isStream(type)) return await showStream(resp, result, type, started);  // item by item
      const blob = await resp.blob();
      const url = URL.createObjectURL(blob);
      urls.push(url);
      const info = h("p", { class: "muted" }, `${resp.status} · ${type} · ${blob.size} bytes · ${took} s`);
      if (type === "application/json" || type.endsWith("+json")) {
        let text = await blob.text();
        try { text = JSON.stringify(JSON.parse(text), null, 2); } catch { /* leave as is */ }
        fill(result, info, h("details", { open: true, dataset: { testid: "result-json" } },
          h("summary", {}, "JSON answer"), h("pre", { id: "result-json" }, text)));
      } else if (type.startsWith("image/")) {
        fill(result, info, h("img", { src: url, alt: "prediction", id: "result-image", dataset: { testid: "result-image" } }),
          h("p", {}, h("a", { href: url, download: filename(resp, type) }, "Download")));
      } else if (type.startsWith("text/")) {
        fill(result, info, h("pre", { id: "result-text", dataset: { testid: "result-text" } }, await blob.text()),
          h("a", { href: url, download: filename(resp, type) }, "Download"));
      } else {
        fill(result, info, h("a", { href: url, download: filename(resp, type), id: "result-download",
                                            dataset: { testid: "result-download" } }, `Download ${filename(resp, type)}`));
      }
    } catch (err) {
      fill(result);
      showErrors(form, "predict", err);
    } finally {
      submit.disabled = false;
    }
  });
  section.append(form, result);
}

function filename(resp, type) {
  const cd = resp.headers.get("Content-Disposition") || "";
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  if (m) return decodeURIComponent(m[1]);
  const ext = (type.split("/")[1] || "bin").replace(/[^a-z0-9]+.*$/i, "") || "bin";
  return `prediction.${ext}`;
}

// ---------------------------------------------------------------- trainings

let timer = null;
let stream = null;
function stopWork() {
  if (timer) clearTimeout(timer);
  timer = null;
  if (stream) stream.abort();
  stream = null;
}
/** Call fn now and every `ms` until the page changes. */
function every(ms, fn) {
  const tick = async () => {
    const mine = timer;
    try { await fn(); } catch (err) { showBanner(err.message || String(err)); }
    if (timer === mine) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, 0);
}

async function cancelJob(name, uuid) {
  const resp = await api(path("training", { model: name, uuid }), { method: "DELETE" });
  if (!resp.ok) throw await failure(resp);
}

async function startTraining(name, data, fields = [], resources = "") {
  const [url, options] = placeValues(path("trainings", { model: name }), data, fields);
  if (resources) options.headers[HEADER] = resources;
  const resp = await api(url, options);
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

function argsFormData(args) {
  const data = new FormData();
  for (const [k, v] of Object.entries(args || {})) {
    if (v === null || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) data.append(k, typeof x === "object" ? JSON.stringify(x) : String(x));
  }
  return data;
}

function jobButtons(name, job, after) {
  const run = (fn) => async () => {
    showBanner("");
    try { await fn(); } catch (err) { showBanner(err.message || String(err)); }
    after();
  };
  return [
    isActive(job) ? h("button", { type: "button", class: "danger", id: `cancel-${job.uuid}`, dataset: { testid: `cancel-${job.uuid}` },
                                  onclick: run(() => cancelJob(name, job.uuid)) }, "Cancel") : null,
    !isActive(job) ? h("button", { type: "button", id: `retry-${job.uuid}`, dataset: { testid: `retry-${job.uuid}` },
                                   onclick: run(async () => {
                                     const rec = await startTraining(name, argsFormData(job.args), [], askedHeader(job.resources));
                                     location.hash = `#/models/${enc(name)}/jobs/${enc(rec.uuid)}`;
                                   }) }, "Retry") : null,
  ];
}

const SHOWN = 50;

function trainIt(section, model) {
  const name = model.meta.name;
  const fields = model.train.fields;
  const { form, submit } = formWithSubmit("train", fields, "Start training");
  const tbody = h("tbody");
  const table = h("table", { id: "jobs-table", dataset: { testid: "jobs-table" } },
    h("thead", {}, h("tr", {}, ["job", "status", "runs on", "submitted", "duration", "progress", ""].map((c) => h("th", {}, c)))), tbody);
  const rowsByUuid = new Map();
  let updateResources = null; // reads the resources route again: what is free changes as trainings run
  let known = 0; // how many trainings the model has (they are never removed), to fetch only the last page
  const refresh = async () => {
    const offset = Math.max(0, known - SHOWN);
    const jobs = await getJSON(`${path("trainings", { model: name })}?offset=${offset}`);
    known = offset + jobs.length;
    // Rows are kept and updated in place: a button is never replaced under the pointer
    // unless the training's state changed.
    const rows = jobs.slice(-SHOWN).reverse().map((job) => {
      let tr = rowsByUuid.get(job.uuid);
      if (!tr) {
        tr = h("tr", { id: `job-row-${job.uuid}`, dataset: { testid: `job-row-${job.uuid}` } },
          h("td", {}, h("a", { href: `#/models/${enc(name)}/jobs/${enc(job.uuid)}`, dataset: { testid: `job-link-${job.uuid}` } },
            job.uuid.slice(0, 8))),
          h("td"), h("td", { dataset: { testid: `job-where-${job.uuid}` } }), h("td"), h("td"), h("td"), h("td"));
        rowsByUuid.set(job.uuid, tr);
      }
      const [, st, where, started, took, prog, acts] = tr.children;
      const state = statusLabel(job);
      tr.dataset.status = job.queued ? "queued" : job.status;
      if (st.textContent !== state) {
        fill(st, h("span", { class: `status status-${tr.dataset.status}`, dataset: { testid: `job-status-${job.uuid}` } }, state));
        fill(acts, jobButtons(name, job, refresh));
      }
      where.textContent = placementText(job.placement);
      started.textContent = (job.start_date || job.date || "").slice(0, 19);
      took.textContent = jobDuration(job);
      fill(prog, progressBar(job));
      return tr;
    });
    if (rows.length) {
      rows.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null); });
      while (tbody.children.length > rows.length) tbody.lastElementChild.remove();
    } else {
      fill(tbody, h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No training yet.")));
    }
    if (updateResources) await updateResources();
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      await startTraining(name, formValues(form, fields), fields, resourcesHeader(form));
      await refresh();
    } catch (err) {
      showErrors(form, "train", err);
    } finally {
      submit.disabled = false;
    }
  });
  section.append(form, h("h2", {}, "Trainings"), table);
  if (model.train.resources) {
    offerResources(form).then((update) => { updateResources = update; }, (err) => showBanner(err.message || String(err)));
  }
  every(1500, refresh);
}

// ---------------------------------------------------------------- job page

/** What the training left in its output dir: downloads here, or where storage keeps them. */
function outputFiles(where, files) {
  const download = async (event, f) => {
    event.preventDefault();  // fetched with the API key, when one is set
    const file = f.name.split("/").map(enc).join("/");
    const resp = await api(path("file", { model: enc(where.model), uuid: enc(where.uuid), path: file }, true));
    if (!resp.ok) return showBanner((await failure(resp)).message);
    const link = h("a", { href: URL.createObjectURL(await resp.blob()), download: f.name.split("/").pop() });
    link.click();
    URL.revokeObjectURL(link.href);
  };
  return h("div", { dataset: { testid: "job-files" } }, h("h3", {}, "Files"),
    h("ul", { class: "files" }, files.map((f) => h("li", {},
      f.url ? h("code", {}, f.url)
            : h("a", { href: "#", dataset: { testid: `job-file-${f.name}` },
                       onclick: (e) => download(e, f) }, f.name),
      h("span", { class: "muted" }, ` ${f.size} bytes`)))));
}

async function jobPage(name, uuid) {
  const where = { model: name, uuid };
  const status = h("span", { id: "job-status", dataset: { testid: "job-status" }, class: "status" });
  const facts = h("dl", { class: "facts" });
  const buttons = h("span", { class: "job-buttons" });
  const args = h("pre", { id: "job-args", dataset: { testid: "job-args" } });
  const outcome = h("div", { id: "job-result", dataset: { testid: "job-result" } });
  const chart = h("div", { id: "metrics-chart", dataset: { testid: "metrics-chart" }, class: "chart" });
  const log = h("pre", { id: "job-log", dataset: { testid: "job-log" }, class: "log" });
  fill(view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Models"), " / ",
      h("a", { href: `#/models/${enc(name)}/train` }, name), " / ", uuid),
    h("h1", {}, "Training ", status, " ", buttons),
    facts, h("h2", {}, "Arguments"), args, h("h2", {}, "Outcome"), outcome,
    h("h2", {}, "Metrics"), chart, h("h2", {}, "Log"), log);
  let lastMetrics = "";
  let done = false;
  const refresh = async () => {
    if (done) return;
    const job = await getJSON(path("training", where));
    status.textContent = statusLabel(job);
    status.className = `status status-${job.queued ? "queued" : job.status}`;
    status.dataset.status = job.status;
    fill(facts,
      h("dt", {}, "submitted"), h("dd", {}, (job.date || "").slice(0, 19)),
      h("dt", {}, "duration"), h("dd", {}, jobDuration(job)),
      h("dt", {}, "progress"), h("dd", {}, progressBar(job) || "–"), resourceFacts(job));
    fill(buttons, ...jobButtons(name, job, refresh).filter(Boolean));
    args.textContent = JSON.stringify(job.args || {}, null, 2);
    if (job.result || job.message) {
      fill(outcome,
        job.message ? h("p", { class: "error-text", dataset: { testid: "job-message" } }, job.message) : null,
        job.result ? h("details", { open: true }, h("summary", {}, "result"),
          h("pre", {}, JSON.stringify(job.result.output !== undefined ? job.result.output : job.result, null, 2))) : null,
        job.files ? outputFiles(where, job.files) : null);
    } else {
      fill(outcome, h("p", { class: "muted" }, isActive(job) ? "Not finished yet." : "Nothing reported."));
    }
    const series = JSON.stringify(job.metrics || []);
    if (series !== lastMetrics) {
      lastMetrics = series;
      drawChart(chart, job.metrics || []);
    }
    if (!isActive(job)) done = true;
  };
  every(1000, refresh);
  followLog(`${path("logs", where)}?follow=true`, log);
}

/** Stream the log into `pre` as it grows (a chunked answer that ends with the training). */
async function followLog(url, pre) {
  const controller = new AbortController();
  stream = controller;
  try {
    const resp = await api(url, { signal: controller.signal });
    if (!resp.ok) throw await failure(resp);
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    pre.textContent = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(decoder.decode(value, { stream: true }));
      if (stick) pre.scrollTop = pre.scrollHeight;
    }
    pre.append(decoder.decode());
    pre.dataset.ended = "true";
  } catch (err) {
    if (err.name !== "AbortError") pre.append(`\n[log unavailable: ${err.message}]`);
  }
}

// ---------------------------------------------------------------- API key, routing

function setupKey() {
  const form = document.getElementById("apikey-form");
  const input = document.getElementById("apikey-input");
  const state = document.getElementById("apikey-state");
  const show = () => { state.textContent = apiKey() ? "key set" : ""; input.value = apiKey(); };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (input.value.trim()) sessionStorage.setItem(KEY_STORE, input.value.trim());
    else sessionStorage.removeItem(KEY_STORE);
    show();
    route();
  });
  document.getElementById("apikey-clear").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    show();
    route();
  });
  show();
}

async function route() {
  stopWork();
  showBanner("");
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === "models" && parts[1] && parts[2] === "jobs" && parts[3]) await jobPage(parts[1], parts[3]);
    else if (parts[0] === "models" && parts[1]) await modelPage(parts[1], parts[2] || "try");
    else await catalogPage();
  } catch (err) {
    fill(view, h("p", { class: "muted" }, "Could not load this page."));
    showBanner(err.message || String(err));
  }
}

setupKey();
window.addEventListener("hashchange", route);
route();
