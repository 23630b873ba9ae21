// The served models and the operations of each, read from the API: the models' list and the
// OpenAPI document (its paths named by the server's route table, see util.js path()).

import { BASE, getJSON, path } from "./util.js";
import { HEADER as RESOURCES } from "./resources.js";

let catalogPromise = null;

/** Models' metadata and the operations of each, from the models' list and the OpenAPI spec. */
export function loadCatalog(refresh = false) {
  if (!catalogPromise || refresh) {
    catalogPromise = Promise.all([getJSON(path("models")), getJSON(path("openapi"))])
      .then(([meta, spec]) => {
        const models = new Map();
        for (const m of meta.models || []) {
          const paths = spec.paths || {};
          const op = (name) => {
            const listed = path(name, { model: m.name }, true);
            const p = paths[BASE + listed] || paths[listed];
            return p && p.post ? resolveOperation(p.post, spec) : null;
          };
          models.set(m.name, { meta: m, predict: op("predict"), train: op("trainings") });
        }
        return models;
      })
      .catch((err) => { catalogPromise = null; throw err; });
  }
  return catalogPromise;
}

function deref(schema, spec) {
  let s = schema || {};
  for (let i = 0; s.$ref && i < 10; i++) {
    s = s.$ref.replace(/^#\//, "").split("/").reduce((o, k) => (o || {})[k], spec) || {};
  }
  return s;
}

/** The fields of an operation: query and header parameters, then the properties of the
 * multipart body (files too) and of the JSON body; each knows where the server reads it.
 * `resources`: whether it takes the DEEPaaS-Resources header (offered as inputs of its own). */
function resolveOperation(op, spec) {
  const fields = [];
  let resources = false;
  for (const p of op.parameters || []) {
    const par = deref(p, spec);
    if (par.in !== "query" && par.in !== "header") continue;  // a page cannot set cookies
    if (par.in === "header" && par.name === RESOURCES) { resources = true; continue; }
    fields.push({ name: par.name, required: !!par.required, description: par.description || "",
                  schema: deref(par.schema, spec), location: par["x-deepaas-location"] || null });
  }
  const content = deref(op.requestBody, spec).content || {};
  for (const [media, where] of [["multipart/form-data", null], ["application/json", "json"]]) {
    const body = deref((content[media] || {}).schema, spec);
    const required = new Set(body.required || []);
    for (const [name, prop] of Object.entries(body.properties || {})) {
      if (fields.some((f) => f.name === name)) continue;
      const schema = deref(prop, spec);
      fields.push({ name, required: required.has(name), description: schema.description || "",
                    schema, location: schema["x-deepaas-location"] || where });
    }
  }
  return { fields, resources };
}
