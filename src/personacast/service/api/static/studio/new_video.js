// New video: pick a character, write or generate the script (with a live duration
// estimate), pick formats and quality, queue it.
import { api } from "./api.js";
import { announce, checkbox, debounce, errorBox, field, h, seconds } from "./ui.js";

export async function newVideoPage(container, [characterId]) {
  const [characters, formats] = await Promise.all([api.characters(), api.formats()]);
  if (!characters.items.length) {
    container.append(h("p", {}, "Make a character first: ", h("a", { href: "#/characters/new" }, "new character"), "."));
    return;
  }
  const character = h("select", { name: "character", required: true }, characters.items.map((item) =>
    h("option", { value: item.id, selected: item.id === characterId }, item.name)));
  const script = h("textarea", { name: "script", rows: 8, required: true, spellcheck: "true",
    placeholder: "What your character says. Blank lines make longer pauses; [pause 1s] adds one." });
  const estimate = h("p", { class: "estimate", "aria-live": "polite", id: "estimate" }, "Type the script to see how long it runs.");
  const topic = h("input", { type: "text", name: "topic", maxlength: 500, placeholder: "e.g. three tips for a better morning" });
  const length = h("input", { type: "number", name: "duration", min: 5, max: 180, value: 30, step: 5 });
  const writeButton = h("button", { type: "button" }, "Write it for me");
  const writeMessage = h("div");
  const formatBoxes = formats.items.map((format) => h("input", { type: "checkbox", value: format.name, name: "formats" }));
  const quality = h("select", { name: "quality" },
    h("option", { value: "final" }, "final (best picture)"), h("option", { value: "preview" }, "preview (faster)"));
  const message = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, "Render video");

  function tickFormats() {
    const chosen = characters.items.find((item) => item.id === character.value);
    const wanted = new Set((chosen && chosen.profile.formats) || ["tiktok"]);
    for (const box of formatBoxes) box.checked = wanted.has(box.value);
  }
  character.addEventListener("change", () => { tickFormats(); refresh(); });
  tickFormats();

  let asked = 0;
  const refresh = debounce(async () => {
    const text = script.value;
    if (!text.trim()) {
      estimate.textContent = "Type the script to see how long it runs.";
      return;
    }
    const number = ++asked;
    try {
      const chosen = characters.items.find((item) => item.id === character.value);
      const result = await api.estimate(text, chosen ? chosen.profile.voice : undefined);
      if (number !== asked) return; // an older answer arriving late
      estimate.textContent = `About ${seconds(result.estimated_s)} · ${result.words} words · ${result.characters} of ${result.max_chars} characters`;
      estimate.classList.toggle("error", result.over_limit);
      if (result.over_limit) estimate.textContent += ": too long, split it into several videos";
    } catch (error) {
      if (number === asked) estimate.textContent = error.message;
    }
  }, 250);
  script.addEventListener("input", refresh);

  writeButton.addEventListener("click", async () => {
    writeMessage.replaceChildren();
    if (!topic.value.trim()) {
      writeMessage.replaceChildren(errorBox(new Error("give a topic to write about")));
      topic.focus();
      return;
    }
    writeButton.disabled = true;
    writeButton.textContent = "Writing…";
    try {
      const written = await api.write({ topic: topic.value.trim(), character_id: character.value || null, duration_s: Number(length.value) });
      script.value = written.text;
      const notes = written.warnings && written.warnings.length ? ` Notes: ${written.warnings.join("; ")}` : "";
      writeMessage.replaceChildren(h("p", { class: "ok" }, `Written by ${written.writer}, about ${seconds(written.estimated_s)}.${notes}`));
      refresh();
      script.focus();
    } catch (error) {
      writeMessage.replaceChildren(errorBox(error));
    } finally {
      writeButton.disabled = false;
      writeButton.textContent = "Write it for me";
    }
  });

  const form = h("form", { class: "card" },
    field("Character", character),
    h("fieldset", {}, h("legend", {}, "Script"),
      field("What the character says", script), estimate,
      h("details", {}, h("summary", {}, "Write it for me"),
        field("Topic", topic), field("Length in seconds", length), h("p", {}, writeButton), writeMessage)),
    h("fieldset", {}, h("legend", {}, "Formats"),
      formatBoxes.map((box, index) => checkbox(`${formats.items[index].name} (${formats.items[index].width}×${formats.items[index].height})`, box))),
    field("Quality", quality),
    message, submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const picked = formatBoxes.filter((box) => box.checked).map((box) => box.value);
    if (!picked.length) {
      message.replaceChildren(errorBox(new Error("choose at least one format")));
      return;
    }
    submit.disabled = true;
    try {
      const created = await api.createRender({
        character_id: character.value, script: { text: script.value }, formats: picked, quality: quality.value,
      });
      announce("Render queued");
      location.hash = `#/queue/${created.id}`;
    } catch (error) {
      message.replaceChildren(errorBox(error));
      submit.disabled = false;
    }
  });
  container.append(form);
}
