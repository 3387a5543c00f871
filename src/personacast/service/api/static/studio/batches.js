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
  async function load() {
    window.clearTimeout(timer);
    const page = await api.batches();
    clear(list);
    if (!page.items.length) list.append(h("p", {}, "No batches yet."));
    let unfinished = false;
    for (const batch of page.items) {
      const done = (batch.status_counts.succeeded || 0) + (batch.status_counts.failed || 0) + (batch.status_counts.canceled || 0);
      if (done < batch.item_count) unfinished = true;
      list.append(h("article", { class: "card", dataset: { batchId: batch.id } },
        h("h3", {}, `${batch.item_count} renders · ${when(batch.created_at)}`),
        h("progress", { max: batch.item_count, value: done, "aria-label": `${done} of ${batch.item_count} finished` }),
        h("p", {}, STATUSES.filter((status) => batch.status_counts[status]).map((status) =>
          h("span", { class: `badge badge-${status}` }, `${batch.status_counts[status]} ${status}`))),
        h("p", {}, h("a", { href: "#/library" }, "Finished videos are in the library"))));
    }
    if (unfinished) timer = window.setTimeout(() => load().catch(() => {}), REFRESH_MS);
    else if (page.items.length) announce("Every batch is finished");
  }
  await load();
  return () => window.clearTimeout(timer);
}
