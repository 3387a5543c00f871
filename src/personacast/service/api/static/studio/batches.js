// Batches: upload a CSV or JSON file of renders (all queued or none), follow each batch.
import { api } from "./api.js";
import { announce, clear, errorBox, field, h, when } from "./ui.js";

const STATUSES = ["queued", "running", "succeeded", "failed", "canceled"];
const REFRESH_MS = 2000;

export async function batchesPage(container) {
  const file = h("input", { type: "file", accept: ".csv,.json,text/csv,application/json", required: true, name: "batch" });
  const message = h("div");
  const form = h("form", { class: "card" },
    field("Batch file", file, "CSV with a header row (character_id and text required; format, voice, quality, title, hashtags… optional) or a JSON body {\"renders\": [...]}. Every row is checked first: one bad row queues nothing."),
    message, h("button", { type: "submit", class: "primary" }, "Queue batch"));
  const list = h("div", { class: "batches" });
  container.append(form, list);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    if (!file.files.length) return;
    try {
      const created = await api.createBatch(file.files[0]);
      message.replaceChildren(h("p", { class: "ok", role: "status" }, `Queued ${created.item_count} renders.`));
      form.reset();
      await load();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });

  let timer = null;
  let left = false; // set when the page is left: a load still under way schedules no more
  async function load() {
    window.clearTimeout(timer);
    const page = await api.batches();
    if (left) return;
    clear(list);
    if (!page.items.length) list.append(h("p", {}, "No batches yet."));
    let unfinished = false;
    for (const batch of page.items) {
      const counts = batch.status_counts;
      // Purged (deleted) renders count in item_count but in no status: they are done,
      // so a batch is unfinished only while some of its renders wait or run.
      const active = (counts.queued || 0) + (counts.running || 0);
      const deleted = Math.max(0, batch.item_count - STATUSES.reduce((sum, status) => sum + (counts[status] || 0), 0));
      const done = batch.item_count - active;
      if (active > 0) unfinished = true;
      list.append(h("article", { class: "card", dataset: { batchId: batch.id, finished: active === 0 } },
        h("h3", {}, `${batch.item_count} renders · ${when(batch.created_at)}`),
        h("progress", { max: batch.item_count, value: done, "aria-label": `${done} of ${batch.item_count} finished` }),
        h("p", {}, STATUSES.filter((status) => counts[status]).map((status) =>
          h("span", { class: `badge badge-${status}` }, `${counts[status]} ${status}`)),
          deleted ? h("span", { class: "badge" }, `${deleted} deleted`) : null),
        h("p", {}, h("a", { href: "#/library" }, "Finished videos are in the library"))));
    }
    if (unfinished) timer = window.setTimeout(() => load().catch(() => {}), REFRESH_MS);
    else if (page.items.length) announce("Every batch is finished");
  }
  await load();
  return () => {
    left = true;
    window.clearTimeout(timer);
  };
}
