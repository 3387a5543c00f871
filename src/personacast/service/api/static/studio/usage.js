// Usage and cost: compute seconds and provider usage per day, with the cost.
import { api } from "./api.js";
import { clear, errorBox, field, h } from "./ui.js";

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export async function usagePage(container) {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 29 * 86400 * 1000);
  const from = h("input", { type: "date", value: isoDay(monthAgo), name: "from" });
  const to = h("input", { type: "date", value: isoDay(today), name: "to" });
  const result = h("div");
  const form = h("form", { class: "card inline" }, field("From", from), field("To", to), h("button", { type: "submit" }, "Show"));
  container.append(form, result);

  async function load() {
    clear(result);
    try {
      const usage = await api.usage(from.value, to.value);
      if (!usage.rows.length) {
        result.append(h("p", {}, "No usage in these days."));
        return;
      }
      let total = 0;
      let unpriced = 0;
      const rows = usage.rows.map((row) => {
        total += Number(row.cost_usd);
        unpriced += row.unpriced_items;
        return h("tr", {},
          h("td", {}, row.day), h("td", {}, row.kind), h("td", {}, row.provider ? `${row.name} (${row.provider})` : row.name),
          h("td", { class: "number" }, `${Number(row.quantity).toFixed(row.unit === "seconds" ? 1 : 0)} ${row.unit}`),
          h("td", { class: "number" }, row.jobs), h("td", { class: "number" }, `$${Number(row.cost_usd).toFixed(4)}`));
      });
      result.append(h("div", { class: "table-scroll" }, h("table", {},
        h("caption", {}, `Usage from ${usage.from} to ${usage.to}`),
        h("thead", {}, h("tr", {}, ["Day", "Kind", "What", "Quantity", "Renders", "Cost"].map((name) => h("th", { scope: "col" }, name)))),
        h("tbody", {}, rows),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 5 }, "Total"), h("td", { class: "number", id: "usage-total" }, `$${total.toFixed(4)}`))))));
      if (unpriced) result.append(h("p", { class: "muted" }, `${unpriced} items have no price configured: the total is a lower bound.`));
    } catch (error) {
      result.append(errorBox(error));
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  await load();
}
