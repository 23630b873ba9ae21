// Streamed predictions: each item is shown as the server sends it, NDJSON lines (the default)
// or server-sent events, and an error the module raised midway after the items before it.
// Binary streams need nothing of this: they are downloaded whole, as any binary answer.

import { fill, h } from "./util.js";

const NDJSON = "application/x-ndjson";
const SSE = "text/event-stream";

/** Whether an answer of this media type (without parameters) streams items. */
export const isStream = (type) => type === NDJSON || type === SSE;

/** The body's text as it arrives, decoded across chunk boundaries. */
async function* texts(reader) {
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    yield decoder.decode(value, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** The records of a text stream cut at `separator`; a last one without it counts too. */
async function* records(chunks, separator) {
  let buffer = "";
  for await (const text of chunks) {
    buffer += text;
    let cut;
    while ((cut = buffer.indexOf(separator)) >= 0) {
      yield buffer.slice(0, cut);
      buffer = buffer.slice(cut + separator.length);
    }
  }
  if (buffer.trim()) yield buffer;
}

function parsed(text) {
  try { return JSON.parse(text); } catch { return text; }  // shown as it came
}

// The wire's error record: {"error": message} and nothing else.
const errorOf = (value) => (value && typeof value === "object" && !Array.isArray(value)
  && Object.keys(value).length === 1 && "error" in value ? String(value.error) : null);

/** NDJSON: one JSON value per line; a last line {"error": ...} says the module raised. */
async function* ndjsonItems(chunks) {
  for await (const line of records(chunks, "\n")) {
    if (!line.trim()) continue;
    const value = parsed(line);
    yield { value, error: errorOf(value) };
  }
}

/** Server-sent events: `data:` lines hold the item; `event: error` carries the error. */
async function* sseItems(chunks) {
  for await (const block of records(chunks, "\n\n")) {
    let event = "message";
    const data = [];
    for (const line of block.replace(/\r/g, "").split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) continue;
    const value = parsed(data.join("\n"));
    yield { value, error: event === "error" ? (errorOf(value) ?? String(value)) : null };
  }
}

function itemView(index, { value, error }) {
  if (error !== null) {
    return h("li", { class: "error-text", dataset: { testid: "stream-error" } }, error);
  }
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return h("li", { dataset: { testid: "stream-item", index: String(index) } }, h("code", {}, text));
}

/** Show the items of the streamed answer `resp` in `result` as they come. Reading stops when
 * the answer ends, or when `result` left the page (the request is then cancelled). */
export async function showStream(resp, result, type, started) {
  const info = h("p", { class: "muted", dataset: { testid: "stream-info" } });
  const list = h("ol", { id: "result-stream", class: "stream", start: 0, dataset: { testid: "result-stream" } });
  fill(result, info, list);
  let count = 0;
  const say = (state) => {
    const took = ((performance.now() - started) / 1000).toFixed(2);
    info.textContent = `${resp.status} · ${type} · ${count} item${count === 1 ? "" : "s"} · ${took} s · ${state}`;
  };
  say("streaming…");
  const reader = resp.body.getReader();
  const items = (type === SSE ? sseItems : ndjsonItems)(texts(reader));
  let failed = false;
  for await (const item of items) {
    if (!result.isConnected) {
      await reader.cancel();  // the user went elsewhere: the server stops the generator
      return;
    }
    failed = failed || item.error !== null;
    if (item.error === null) count += 1;
    const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    list.append(itemView(count - 1, item));
    if (stick) list.scrollTop = list.scrollHeight;
    say("streaming…");
  }
  list.dataset.ended = "true";
  say(failed ? "ended with an error" : "done");
}
