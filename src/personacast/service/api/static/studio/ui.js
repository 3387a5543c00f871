// Small DOM helpers. Text always goes in as text nodes, never as HTML, so names and
// scripts typed by users cannot inject markup.

export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let uniqueCounter = 0;
export function uid(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

// A labelled form field: the label is tied to the control for screen readers.
export function field(labelText, control, help) {
  if (!control.id) control.id = uid("field");
  const parts = [h("label", { for: control.id }, labelText), control];
  if (help) {
    const helpId = uid("help");
    control.setAttribute("aria-describedby", helpId);
    parts.push(h("p", { class: "help", id: helpId }, help));
  }
  return h("div", { class: "field" }, parts);
}

export function checkbox(labelText, input) {
  if (!input.id) input.id = uid("check");
  return h("div", { class: "check" }, input, h("label", { for: input.id }, labelText));
}

export function announce(message) {
  const region = document.getElementById("status");
  region.textContent = "";
  // A fresh text node makes screen readers repeat an identical message.
  window.setTimeout(() => { region.textContent = message; }, 30);
}

export function errorBox(error) {
  return h("div", { class: "error", role: "alert" }, error.message || String(error));
}

export function showError(container, error) {
  container.replaceChildren(errorBox(error));
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

// Rounded before splitting, so 59.97 reads "1 min 0 s" (not "60.0 s") and 119.6 reads
// "2 min 0 s" (not "1 min 60 s").
export function seconds(value) {
  if (value === null || value === undefined) return "";
  const tenths = Math.round(value * 10) / 10;
  if (tenths < 60) return `${tenths.toFixed(1)} s`;
  const whole = Math.round(value);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString();
}

export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), wait);
  };
}

// Rough shares of a render's time per pipeline stage; every format's "render ..."
// stage shares the encoding part.
const STAGE_WEIGHTS = { face: 0.05, voice: 0.2, performance: 0.05 };
const ENCODE_WEIGHT = 0.7;

export function progressOf(render) {
  if (render.status === "succeeded") return 1;
  const progress = render.progress || {};
  let done = 0;
  const encodes = [];
  for (const [stage, fraction] of Object.entries(progress)) {
    if (stage in STAGE_WEIGHTS) done += STAGE_WEIGHTS[stage] * fraction;
    else encodes.push(fraction);
  }
  if (encodes.length) done += ENCODE_WEIGHT * (encodes.reduce((a, b) => a + b, 0) / encodes.length);
  return Math.min(done, 1);
}

export function currentStage(render) {
  const running = Object.entries(render.progress || {}).filter(([, fraction]) => fraction < 1);
  return running.length ? running[running.length - 1][0] : "";
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}
