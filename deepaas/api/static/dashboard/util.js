// Shared by the dashboard's modules: DOM building, the error banner, API calls with the key.

export const BASE = document.querySelector('meta[name="deepaas-base"]')?.content || "";
export const KEY_STORE = "deepaas-api-key";
// The API's paths, from the server's route table: {name: template with {model}, {uuid}...}.
const PATHS = JSON.parse(document.querySelector('meta[name="deepaas-paths"]')?.content || "{}");
const banner = document.getElementById("banner");

// ---------------------------------------------------------------- helpers

/** Build an element: h("div", {class: "x", dataset: {testid: "y"}, onclick: f}, child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace the children of `el` (nested lists flattened, null/false left out). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function showBanner(message) {
  banner.textContent = message;
  banner.hidden = !message;
}

export function apiKey() { return sessionStorage.getItem(KEY_STORE) || ""; }

/** fetch() a path of the API (relative to the base), with the API key when set. */
export function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = apiKey();
  if (key) headers.set("Authorization", "Bearer " + key);
  return fetch(BASE + path, { ...options, headers });
}

class ApiError extends Error {
  constructor(status, message, fields = null) {
    super(message);
    this.status = status;
    this.fields = fields; // {field: [messages]} for 422
  }
}

/** Turn a non-2xx answer into an ApiError with the server's message. */
export async function failure(resp) {
  let body = null;
  const text = await resp.text();
  try { body = JSON.parse(text); } catch { /* plain text */ }
  if (resp.status === 422 && body && typeof body === "object" && !("message" in body)) {
    return new ApiError(422, "Some arguments are not valid", body);
  }
  let message = (body && body.message) || text || resp.statusText;
  if (resp.status === 401) message += " (enter an API key at the top right)";
  return new ApiError(resp.status, `${resp.status}: ${message}`);
}

/** The path of the route named `name` (relative to the base), its {parameters} (or
 * {parameter:regex}) filled in from `params`, each URL-encoded unless `raw` (as the API's
 * specification lists paths, or values the caller encoded). */
export function path(name, params = {}, raw = false) {
  if (!(name in PATHS)) throw new Error(`the server declares no route named ${name}`);
  return PATHS[name].replace(/\{(\w+)(?::[^}]*)?\}/g,
    (_, k) => (raw ? String(params[k]) : enc(params[k])));
}

export async function getJSON(path) {
  const resp = await api(path);
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

export const enc = encodeURIComponent;
