// Queue: renders waiting or running, updated live by each render's Server-Sent Events.
import { api } from "./api.js";
import { announce, clear, currentStage, h, progressOf, statusBadge, when } from "./ui.js";

export async function queuePage(container, [highlight]) {
  const list = h("ol", { class: "queue" });
  const empty = h("p", {}, "Nothing is waiting or running. ", h("a", { href: "#/new" }, "Make a video"), ".");
  container.append(list);
  const streams = new Map();

  const [active, recent] = await Promise.all([
    api.renders("&status=queued&status=running"),
    api.renders("&status=succeeded&status=failed&status=canceled"),
  ]);
  const shown = [...active.items, ...recent.items.slice(0, 10)];
  if (highlight && !shown.some((render) => render.id === highlight)) shown.unshift(await api.render(highlight));
  clear(list);
  if (!active.items.length && !highlight) container.insertBefore(empty, list);

  for (const render of shown) {
    const row = renderRow(render, render.id === highlight);
    list.append(row.node);
    if (render.status === "queued" || render.status === "running") {
      const source = api.renderEvents(render.id);
      const update = (event) => {
        const latest = JSON.parse(event.data);
        row.update(latest);
        if (event.type === "finished") {
          source.close();
          streams.delete(render.id);
          announce(`Render ${latest.status}`);
        }
      };
      source.addEventListener("progress", update);
      source.addEventListener("finished", update);
      streams.set(render.id, source);
    }
  }
  return () => { for (const source of streams.values()) source.close(); };
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
  return { node, update };
}
