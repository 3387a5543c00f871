// Characters: portraits with the detected face drawn over them, the voice (auditioned
// in the page), caption style and formats; create, edit, delete.
import { api } from "./api.js";
import { announce, checkbox, clear, errorBox, field, h, showError } from "./ui.js";

export async function charactersPage(container, [characterId]) {
  if (characterId) return characterDetail(container, characterId); // its cleanup, for app.js
  const list = h("div", { class: "grid" }, h("p", {}, "Loading…"));
  container.append(
    h("p", {}, h("a", { href: "#/characters/new", class: "button primary" }, "New character")),
    list,
  );
  const page = await api.characters();
  clear(list);
  if (!page.items.length) list.append(h("p", {}, "No characters yet. Make one: it takes a portrait and a voice."));
  for (const character of page.items) {
    list.append(h("article", { class: "card character" },
      h("img", { src: api.portraitUrl(character.id, 0), alt: `Portrait of ${character.name}`, loading: "lazy" }),
      h("h3", {}, h("a", { href: `#/characters/${character.id}` }, character.name)),
      h("p", { class: "muted" }, `${character.image_count} portrait${character.image_count === 1 ? "" : "s"} · voice ${voiceName(character.profile.voice)}`),
      h("p", {}, h("a", { href: `#/new/${character.id}`, class: "button" }, "New video"))));
  }
}

function voiceName(voice) {
  return typeof voice === "string" ? voice : (voice && voice.name) || "custom";
}

async function characterDetail(container, characterId) {
  const creating = characterId === "new";
  const [voices, formats, character] = await Promise.all([
    api.voices(), api.formats(), creating ? null : api.character(characterId),
  ]);
  const heading = container.querySelector("h2");
  heading.textContent = creating ? "New character" : character.name;

  const name = h("input", { type: "text", required: true, maxlength: 200, value: creating ? "" : character.name, autocomplete: "off" });
  const portraits = h("div", { class: "portraits" });
  const message = h("div");
  const editor = profileEditor(voices.items, formats.items, creating ? {} : character.profile, () => name.value);
  const submit = h("button", { type: "submit", class: "primary" }, creating ? "Create character" : "Save changes");
  let faceProblems = creating ? 1 : 0; // a new character needs at least one good portrait

  const form = h("form", { class: "card" }, field("Name", name), message);
  if (creating) {
    const files = h("input", { type: "file", accept: "image/*", multiple: true, required: true, name: "portraits" });
    let picks = 0; // each change of the files; checks of an earlier pick are ignored
    files.addEventListener("change", async () => {
      picks += 1;
      const pick = picks;
      clear(portraits);
      faceProblems = files.files.length ? 0 : 1;
      submit.disabled = true;
      const checks = [...files.files].map(async (file, index) => {
        const slot = h("figure", { class: "portrait" }, h("figcaption", {}, `${file.name}: looking for a face…`));
        portraits.append(slot);
        let face;
        try {
          face = await api.inspectFace(file);
        } catch (error) {
          if (pick !== picks) return;
          faceProblems += 1;
          slot.replaceChildren(h("figcaption", { class: "error", role: "alert" }, `${file.name}: ${error.message}`));
          return;
        }
        if (pick !== picks) return;
        slot.replaceChildren(...await portraitPreview(URL.createObjectURL(file), face, `Portrait ${index + 1}`, file.name));
      });
      await Promise.all(checks);
      if (pick !== picks) return;
      submit.disabled = faceProblems > 0;
      announce(faceProblems ? "A portrait cannot be used: see the message under it" : "Every portrait has a face");
    });
    form.append(field("Portraits", files, "JPEG, PNG or WEBP with one clearly visible face; the first is the default."), portraits);
  } else {
    form.append(h("h3", {}, "Portraits"), portraits);
    // One portrait at a time: the server has one face detector.
    let previous = Promise.resolve();
    for (let index = 0; index < character.image_count; index += 1) {
      const slot = h("figure", { class: "portrait" }, h("figcaption", {}, `Portrait ${index + 1}`));
      portraits.append(slot);
      // The overlay fails where the browser cannot decode the portrait (TIFF, BMP).
      previous = previous.then(() => api.portraitFace(characterId, index).then(
        (face) => faceOverlay(api.portraitUrl(characterId, index), face, `Portrait ${index + 1}`).then(
          (canvas) => slot.prepend(canvas),
          () => slot.append(h("p", { class: "muted" }, "Face found (no preview in this browser)"))),
        (error) => slot.append(errorBox(error))));
    }
  }
  form.append(editor.node, submit);
  if (creating) submit.disabled = true;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    submit.disabled = true;
    try {
      const profile = editor.profile();
      if (creating) {
        const files = form.querySelector("input[type=file]").files;
        const made = await api.createCharacter(name.value.trim(), files, profile);
        announce(`Character ${made.name} created`);
        location.hash = `#/characters/${made.id}`;
      } else {
        await api.updateCharacter(characterId, { name: name.value.trim(), profile });
        heading.textContent = name.value.trim();
        message.replaceChildren(h("p", { class: "ok", role: "status" }, "Saved."));
      }
    } catch (error) {
      message.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = creating && faceProblems > 0;
    }
  });
  container.append(form);

  if (!creating) {
    const remove = h("button", { type: "button", class: "danger" }, "Delete character");
    remove.addEventListener("click", async () => {
      if (!window.confirm(`Delete ${character.name} and its portraits?`)) return;
      try {
        await api.deleteCharacter(characterId);
        announce("Character deleted");
        location.hash = "#/characters";
      } catch (error) {
        showError(message, error);
      }
    });
    container.append(h("p", {}, h("a", { href: `#/new/${characterId}`, class: "button" }, "New video with this character"), " ", remove));
  }
  return editor.cleanup;
}

// A picked file's face drawn over it, then its object URL freed (the canvas keeps the
// pixels). The server accepts formats (TIFF, BMP) browsers cannot show: the face found
// is what counts, so that is said without a picture rather than refused.
async function portraitPreview(url, face, label, fileName) {
  try {
    return [await faceOverlay(url, face, label), h("figcaption", {}, `${fileName}: face found`)];
  } catch (_) {
    return [h("figcaption", {}, `${fileName}: face found (no preview in this browser)`)];
  } finally {
    URL.revokeObjectURL(url);
  }
}

// The face as the renders will see it: the area around the detected face, enlarged,
// with its box, eyes, mouth and all landmarks drawn over it.
async function faceOverlay(url, face, label) {
  const image = new Image();
  image.src = url;
  await image.decode();
  const [bx0, by0, bx1, by1] = face.face.box;
  const margin = 0.6 * Math.max(bx1 - bx0, by1 - by0);
  const x0 = Math.max(0, bx0 - margin);
  const y0 = Math.max(0, by0 - margin);
  const x1 = Math.min(image.naturalWidth, bx1 + margin);
  const y1 = Math.min(image.naturalHeight, by1 + margin);
  const scale = 320 / Math.max(x1 - x0, y1 - y0);
  const canvas = h("canvas", {
    width: Math.round((x1 - x0) * scale), height: Math.round((y1 - y0) * scale),
    role: "img", "aria-label": `${label}: the detected face with ${face.face.landmarks.length} landmarks`,
    class: "face-overlay", "data-landmarks": face.face.landmarks.length,
  });
  const context = canvas.getContext("2d");
  context.drawImage(image, x0, y0, x1 - x0, y1 - y0, 0, 0, canvas.width, canvas.height);
  const at = ([x, y]) => [(x - x0) * scale, (y - y0) * scale];
  context.fillStyle = "rgba(0, 230, 160, 0.85)";
  for (const point of face.face.landmarks) {
    const [x, y] = at(point);
    context.fillRect(x - 1, y - 1, 2, 2);
  }
  context.strokeStyle = "#ffd21f";
  context.lineWidth = 2;
  const [sx, sy] = at([bx0, by0]);
  context.strokeRect(sx, sy, (bx1 - bx0) * scale, (by1 - by0) * scale);
  context.fillStyle = "#ff4d6d";
  for (const point of [...face.face.eyes, face.face.mouth]) {
    const [x, y] = at(point);
    context.beginPath();
    context.arc(x, y, 4, 0, 2 * Math.PI);
    context.fill();
  }
  return canvas;
}

// Voice (with audition), caption style and formats; ``profile()`` reads them back as a
// CharacterProfile.
export function profileEditor(voices, formats, profile, characterName) {
  // An edited voice is stored as "<base>-custom" with the whole profile; show its base.
  const chosen = (typeof profile.voice === "string" ? profile.voice : (profile.voice && profile.voice.name) || "sofia").replace(/-custom$/, "");
  const baseRate = typeof profile.voice === "object" && profile.voice ? profile.voice.speaking_rate || 1 : 1;
  const voice = h("select", { name: "voice" }, voices.map((item) => h("option", {
    value: item.name, selected: item.name === chosen, disabled: !item.available,
  }, item.available ? `${item.name} (${item.engine})` : `${item.name}: ${item.reason || "not available here"}`)));
  const rate = h("input", { type: "range", min: 0.7, max: 1.5, step: 0.05, value: baseRate, name: "speaking_rate" });
  const rateValue = h("output", {}, `${Number(baseRate).toFixed(2)}×`);
  rate.addEventListener("input", () => { rateValue.textContent = `${Number(rate.value).toFixed(2)}×`; });

  const line = h("input", { type: "text", maxlength: 400, value: "" });
  const player = h("audio", { controls: true, hidden: true, class: "audition" });
  const auditionMessage = h("div");
  const audition = h("button", { type: "button" }, "Audition voice");
  let left = false; // the page was left: an audition still speaking is dropped
  audition.addEventListener("click", async () => {
    auditionMessage.replaceChildren();
    audition.disabled = true;
    audition.textContent = "Speaking…";
    try {
      const text = line.value.trim() || `Hi, I'm ${characterName() || "your new character"}. This is how I sound.`;
      const blob = await api.audition(voiceValue(), text);
      if (left) return;
      if (player.src) URL.revokeObjectURL(player.src);
      player.src = URL.createObjectURL(blob);
      player.hidden = false;
      await player.play().catch(() => { /* autoplay may be refused; the controls are there */ });
      announce("Audition ready");
    } catch (error) {
      auditionMessage.replaceChildren(errorBox(error));
    } finally {
      audition.disabled = false;
      audition.textContent = "Audition voice";
    }
  });

  function voiceValue() {
    const rateNumber = Number(rate.value);
    if (Math.abs(rateNumber - 1) < 1e-6) return voice.value;
    const base = voices.find((item) => item.name === voice.value);
    return { ...(base && base.profile ? base.profile : { engine: "piper" }), name: `${voice.value}-custom`, speaking_rate: rateNumber };
  }

  const style = profile.caption_style || {};
  const position = h("select", { name: "caption_position" }, ["bottom", "center", "top"].map((value) =>
    h("option", { value, selected: (style.position || "bottom") === value }, value)));
  const color = h("input", { type: "color", value: (style.color || "#FFFFFF").slice(0, 7), name: "caption_color" });
  const highlight = h("input", { type: "color", value: (style.highlight_color || "#FFD21F").slice(0, 7), name: "caption_highlight" });
  const words = h("input", { type: "number", min: 1, max: 6, value: style.max_words || 3, name: "caption_words" });
  const boxed = h("input", { type: "checkbox", checked: Boolean(style.box_color), name: "caption_box" });
  const upper = h("input", { type: "checkbox", checked: Boolean(style.uppercase), name: "caption_upper" });
  const wanted = new Set(profile.formats || ["tiktok"]);
  const formatBoxes = formats.map((format) => h("input", { type: "checkbox", value: format.name, checked: wanted.has(format.name), name: "formats" }));

  const node = h("div", { class: "profile" },
    h("fieldset", {}, h("legend", {}, "Voice"),
      field("Voice profile", voice),
      field("Speaking rate", rate, "1.00× is the profile's own pace."),
      field("Audition line", line, "Leave empty for a greeting."),
      h("p", {}, audition), player, auditionMessage),
    h("fieldset", {}, h("legend", {}, "Captions"),
      field("Position", position), field("Text colour", color), field("Highlight colour", highlight),
      field("Words shown together", words),
      checkbox("Dark box behind the words", boxed), checkbox("Capital letters", upper)),
    h("fieldset", {}, h("legend", {}, "Formats"),
      formatBoxes.map((box, index) => checkbox(`${formats[index].name} (${formats[index].width}×${formats[index].height})`, box))));
  rate.after(rateValue);

  return {
    node,
    // Frees the audition's audio when the page is left.
    cleanup() {
      left = true;
      player.pause();
      if (player.src) URL.revokeObjectURL(player.src);
      player.removeAttribute("src");
    },
    profile() {
      const picked = formatBoxes.filter((box) => box.checked).map((box) => box.value);
      if (!picked.length) throw new Error("choose at least one format");
      return {
        voice: voiceValue(),
        caption_style: {
          ...style, position: position.value, color: color.value.toUpperCase(), highlight_color: highlight.value.toUpperCase(),
          max_words: Number(words.value), uppercase: upper.checked, box_color: boxed.checked ? "#000000A0" : null,
        },
        formats: picked,
        ...(profile.seed !== undefined ? { seed: profile.seed } : {}),
        ...(profile.hashtags ? { hashtags: profile.hashtags } : {}),
        ...(profile.music !== undefined ? { music: profile.music } : {}),
        ...(profile.motion_intensity !== undefined ? { motion_intensity: profile.motion_intensity } : {}),
      };
    },
  };
}
