// Forms generated from a model's OpenAPI parameters, and the 422 messages beside fields.

import { fill, h, showBanner } from "./util.js";

// ---------------------------------------------------------------- forms

const isFile = (s) => s.format === "binary" || (s.type === "array" && s.items && s.items.format === "binary");
// A secret argument (format: password, or load_only: writeOnly): typed unseen, never saved.
const isSecret = (s) => s.format === "password" || s.writeOnly === true;

/** A form for `fields`; ids are `${prefix}-${name}`, errors go to `${prefix}-error-${name}`. */
function buildForm(prefix, fields) {
  const form = h("form", { id: `${prefix}-form`, dataset: { testid: `${prefix}-form` }, novalidate: true,
                           class: "gen-form" });
  for (const f of fields) form.append(buildField(prefix, f));
  return form;
}

function buildField(prefix, f) {
  const s = f.schema || {};
  const id = `${prefix}-${f.name}`;
  let input;
  let hint = "";
  const common = { id, name: f.name, dataset: { testid: `${prefix}-field-${f.name}` } };
  const dflt = s.default;
  if (isFile(s)) {
    input = h("input", { ...common, type: "file", multiple: s.type === "array" });
  } else if (s.type === "boolean") {
    input = h("input", { ...common, type: "checkbox", checked: dflt === true });
  } else if (Array.isArray(s.enum)) {
    input = h("select", common,
      !f.required && dflt === undefined ? h("option", { value: "" }, "") : null,
      s.enum.map((v) => h("option", { value: String(v), selected: v === dflt }, String(v))));
  } else if (s.type === "integer" || s.type === "number") {
    input = h("input", { ...common, type: "number", step: s.type === "integer" ? "1" : "any",
                         min: s.minimum ?? undefined, max: s.maximum ?? undefined,
                         value: dflt ?? undefined });
    if (s.minimum !== undefined || s.maximum !== undefined) {
      hint = `${s.exclusiveMinimum ? "(" : "["}${s.minimum ?? "-∞"}, ${s.maximum ?? "∞"}${s.exclusiveMaximum ? ")" : "]"}`;
    }
  } else if (s.type === "array") {
    const items = s.items || {};
    if (Array.isArray(items.enum)) {
      input = h("select", { ...common, multiple: true },
        items.enum.map((v) => h("option", { value: String(v), selected: (dflt || []).includes(v) }, String(v))));
    } else {
      input = h("input", { ...common, type: "text", dataset: { ...common.dataset, list: "1" },
                           value: Array.isArray(dflt) ? dflt.join(", ") : undefined,
                           placeholder: "comma-separated" });
      hint = `list of ${items.type || "values"}, comma-separated`;
    }
  } else if (isSecret(s)) {
    input = h("input", { ...common, type: "password", autocomplete: "off" });
  } else {
    input = h("input", { ...common, type: "text", value: dflt ?? undefined });
  }
  if (f.required) input.setAttribute("aria-required", "true");
  const preview = isFile(s) ? h("div", { class: "preview", id: `${id}-preview`, dataset: { testid: `${prefix}-preview-${f.name}` } }) : null;
  if (preview) input.addEventListener("change", () => showPreview(input, preview));
  // A file the server may fetch itself: its URL instead of an upload.
  const url = isFile(s) && s["x-deepaas-url"]
    ? h("input", { id: `${id}-url`, name: `${f.name}:url`, type: "url", class: "url",
                   placeholder: "or its URL: https://, webdavs://, a Nextcloud share link",
                   dataset: { testid: `${prefix}-url-${f.name}` } })
    : null;
  const isAccept = f.name === "accept";
  if (isAccept) input.dataset.testid = `${prefix}-accept`;
  return h("div", { class: "field" + (isAccept ? " accept" : ""), dataset: { field: f.name } },
    h("label", { for: id }, f.name, f.required ? h("span", { class: "req", title: "required" }, " *") : null,
      isAccept ? " (answer type)" : null),
    input,
    url,
    hint ? h("small", { class: "hint" }, hint) : null,
    f.description ? h("small", { class: "desc" }, f.description) : null,
    preview,
    h("div", { class: "field-error", id: `${prefix}-error-${f.name}`, dataset: { testid: `${prefix}-error-${f.name}` } }));
}

function showPreview(input, preview) {
  for (const img of preview.querySelectorAll("img")) URL.revokeObjectURL(img.src);
  fill(preview);
  for (const file of input.files || []) {
    if (file.type.startsWith("image/")) {
      preview.append(h("img", { src: URL.createObjectURL(file), alt: file.name, class: "thumb" }));
    } else {
      preview.append(h("span", { class: "muted" }, `${file.name} (${file.size} bytes)`));
    }
  }
}

/** The request options for a path: each value goes where its argument is read. Arguments
 * whose module named a location (the spec's x-deepaas-location) leave the form: "query" ones
 * go to the query string, "headers" ones to headers, and "json" ones to a JSON body when
 * nothing needs the form (a request has one body). */
export function placeValues(path, data, fields) {
  const query = new URLSearchParams();
  const headers = {};
  const json = {};
  const noForm = fields.every((f) => ["query", "headers", "json"].includes(f.location));
  for (const f of fields) {
    const values = data.getAll(f.name);
    if (!values.length || !["query", "headers", "json"].includes(f.location)) continue;
    data.delete(f.name);
    if (f.location === "query") values.forEach((v) => query.append(f.name, v));
    else if (f.location === "headers") headers[f.name] = values.join(", ");
    else if (noForm) json[f.name] = (f.schema || {}).type === "array" ? values : values[0];
  }
  const qs = query.toString();
  const options = { method: "POST", headers, body: data };
  if (noForm && Object.keys(json).length) {
    options.body = JSON.stringify(json);
    headers["Content-Type"] = "application/json";
  }
  return [qs ? `${path}?${qs}` : path, options];
}

/** FormData with every filled field: empty ones are left out so the server's defaults apply. */
export function formValues(form, fields) {
  const data = new FormData();
  for (const f of fields) {
    const el = form.elements[f.name];
    if (!el) continue;
    const s = f.schema || {};
    const url = form.elements[`${f.name}:url`];
    if (el.type === "file" && !el.files.length && url && url.value.trim()) {
      data.append(f.name, url.value.trim());  // the server fetches it
    } else if (el.type === "file") {
      for (const file of el.files) data.append(f.name, file, file.name);
    } else if (el.type === "checkbox") {
      data.append(f.name, el.checked ? "true" : "false");
    } else if (el.multiple) {
      for (const o of el.selectedOptions) data.append(f.name, o.value);
    } else if (el.dataset.list) {
      for (const part of el.value.split(",").map((x) => x.trim()).filter(Boolean)) data.append(f.name, part);
    } else if (el.value !== "" || (f.required && s.type === "string")) {
      data.append(f.name, el.value);
    }
  }
  return data;
}

export function clearErrors(form) {
  for (const e of form.querySelectorAll(".field-error")) e.textContent = "";
  for (const e of form.querySelectorAll(".field.invalid")) e.classList.remove("invalid");
  showBanner("");
}

function flatten(messages) {
  if (Array.isArray(messages)) return messages.map(String);
  if (messages && typeof messages === "object") {
    return Object.entries(messages).flatMap(([k, v]) => flatten(v).map((m) => `[${k}] ${m}`));
  }
  return [String(messages)];
}

/** Show a 422's messages beside their fields, anything else in the banner. */
export function showErrors(form, prefix, err) {
  if (err.fields) {
    const unplaced = [];
    for (const [name, messages] of Object.entries(err.fields)) {
      const box = form.querySelector(`#${CSS.escape(`${prefix}-error-${name}`)}`);
      if (box) {
        box.textContent = flatten(messages).join(" ");
        box.closest(".field").classList.add("invalid");
      } else {
        unplaced.push(`${name}: ${flatten(messages).join(" ")}`);
      }
    }
    showBanner(unplaced.length ? `${err.message}: ${unplaced.join("; ")}` : "");
  } else {
    showBanner(err.message || String(err));
  }
}

// The form of one operation with its submit button ("PREFIX-submit").
export function formWithSubmit(prefix, fields, label) {
  const form = buildForm(prefix, fields);
  const id = prefix + "-submit";
  const submit = h("button", { type: "submit", id, dataset: { testid: id } }, label);
  form.append(h("div", { class: "actions" }, submit));
  return { form, submit };
}
