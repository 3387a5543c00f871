// Queue: renders waiting or running. Running renders (and the highlighted one) follow
// their Server-Sent Events live; the rest are refreshed by polling the list.
import { api } from "./api.js";
import { announce, clear, currentStage, h, progressOf, statusBadge, when } from "./ui.js";

// Browsers open 6 HTTP/1.1 connections per origin and an event stream holds one for
// good: more streams would leave every other request of the studio waiting.
const MAX_STREAMS = 4;
const POLL_MS = 3000;

export async function queuePage(container, [highlight]) {
  const list = h("ol", { class: "queue" });
  const empty = h("p", {}, "Nothing is waiting or running. ", h("a", { href: "#/new" }, "Make a video"), ".");
  container.append(list);

  const [active, recent] = await Promise.all([
    api.renders("&status=queued&status=running"),
    api.renders("&status=succeeded&status=failed&status=canceled"),
  ]);
  const shown = [...active.items, ...recent.items.slice(0, 10)];
  if (highlight && !shown.some((render) => render.id === highlight)) shown.unshift(await api.render(highlight));
  clear(list);
  if (!active.items.length && !highlight) container.insertBefore(empty, list);

  const rows = new Map(); // the rows still queued or running, by render id
  for (const render of shown) {
    const row = renderRow(render, render.id === highlight);
    list.append(row.node);
    if (isActive(render)) rows.set(render.id, row);
  }
  const follower = follow(rows, highlight);
  return follower.stop;
}

function isActive(render) {
  return render.status === "queued" || render.status === "running";
}

// Keeps ``rows`` up to date until each finishes or ``stop()``: a stream each for the
// highlighted and running renders (at most MAX_STREAMS), a poll of the list for the rest.
function follow(rows, highlight) {
  const streams = new Map();
  const streamFailed = new Set(); // polled from then on: no new stream to fail again
  let timer = null;
  let left = false;

  function finished(id, latest) {
    rows.get(id).update(latest);
    rows.delete(id);
    announce(`Render ${latest.status}`);
  }

  function closeStream(id) {
    const source = streams.get(id);
    if (source) source.close();
    streams.delete(id);
  }

  function openStream(id) {
    const source = api.renderEvents(id);
    const update = (event) => {
      const latest = JSON.parse(event.data);
      if (event.type === "finished") {
        closeStream(id);
        finished(id, latest);
        openStreams(); // its connection is free for the next running render
      } else {
        rows.get(id).update(latest);
      }
    };
    source.addEventListener("progress", update);
    source.addEventListener("finished", update);
    // A refused (401, 429) or dropped stream: the poll takes the row over.
    source.addEventListener("error", () => {
      closeStream(id);
      streamFailed.add(id);
      schedule();
    });
    streams.set(id, source);
  }

  function openStreams() {
    if (left) return;
    const wanted = [...rows.keys()].filter((id) => !streams.has(id) && !streamFailed.has(id)
      && (id === highlight || rows.get(id).status() === "running"));
    wanted.sort((a, b) => (b === highlight) - (a === highlight));
    for (const id of wanted.slice(0, Math.max(0, MAX_STREAMS - streams.size))) openStream(id);
    schedule();
  }

  // Polls while a row has no stream (queued, over the cap, or its stream failed).
  function schedule() {
    if (left || timer !== null || ![...rows.keys()].some((id) => !streams.has(id))) return;
    timer = window.setTimeout(() => poll().catch(() => {}).finally(() => {
      timer = null;
      openStreams();
    }), POLL_MS);
  }

  async function poll() {
    const page = await api.renders("&status=queued&status=running");
    if (left) return;
    const latest = new Map(page.items.map((render) => [render.id, render]));
    for (const id of [...rows.keys()]) {
      if (streams.has(id)) continue;
      // Gone from the list: finished (or past its first 100); ask for it alone.
      let render = latest.get(id);
      try {
        render = render || await api.render(id);
      } catch (error) {
        if (error.status !== 404) throw error;
        rows.delete(id); // deleted meanwhile: nothing more to follow
        continue;
      }
      if (left) return;
      if (!rows.has(id)) continue;
      if (isActive(render)) rows.get(id).update(render);
      else finished(id, render);
    }
  }

  openStreams();
  return {
    stop() {
      left = true;
      window.clearTimeout(timer);
      for (const id of [...streams.keys()]) closeStream(id);
    },
  };
}

function renderRow(render, highlighted) {
  const badge = h("span");
  const bar = h("progress", { max: 100, value: 0, "aria-label": "progress" });
  const detail = h("span", { class: "muted" });
  const outcome = h("span");
  const cancel = h("button", { type: "button", class: "link" }, "Cancel");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try { update(await api.cancelRender(render.id)); } catch (error) { outcome.textContent = error.message; }
  });
  const node = h("li", { class: highlighted ? "card highlight" : "card", dataset: { renderId: render.id, status: render.status } },
    h("p", {}, badge, " ", h("span", {}, `Queued ${when(render.created_at)}`)),
    h("p", {}, bar, " ", detail), outcome, cancel);

  function update(latest) {
    node.dataset.status = latest.status;
    badge.replaceChildren(statusBadge(latest.status));
    const percent = Math.round(progressOf(latest) * 100);
    bar.value = percent;
    bar.setAttribute("aria-valuetext", `${percent}%`);
    const stage = currentStage(latest);
    detail.textContent = latest.status === "running" ? `${percent}%${stage ? ` · ${stage}` : ""}` : `${percent}%`;
    cancel.hidden = !(latest.status === "queued" || latest.status === "running") || latest.cancel_requested;
    if (latest.status === "succeeded") outcome.replaceChildren(h("a", { href: `#/library/${latest.id}` }, "Watch it in the library"));
    else if (latest.status === "failed") outcome.replaceChildren(h("span", { class: "error", role: "alert" }, latest.error || "failed"));
    else if (latest.cancel_requested) outcome.textContent = "Cancelling…";
  }
  update(render);
  return { node, update, status: () => node.dataset.status };
}
