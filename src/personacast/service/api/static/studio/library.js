// Library: finished videos: player, a download per file (each format's MP4, SRT, VTT,
// cover, post text, report), the post text itself, delete.
import { api } from "./api.js";
import { announce, clear, errorBox, h, when } from "./ui.js";

const LABELS = { ".mp4": "video", ".srt": "subtitles (SRT)", ".vtt": "subtitles (VTT)", ".jpg": "cover picture", ".txt": "post text", ".json": "render report" };

export async function libraryPage(container, [openId]) {
  const list = h("div", { class: "library" }, h("p", {}, "Loading…"));
  container.append(list);
  const page = await api.renders("&status=succeeded");
  clear(list);
  if (!page.items.length) list.append(h("p", {}, "No finished videos yet. ", h("a", { href: "#/new" }, "Make one"), "."));
  for (const render of page.items) list.append(videoCard(render, render.id === openId));
  const opened = list.querySelector(".highlight");
  if (opened) opened.scrollIntoView({ block: "center" });
}

function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot).toLowerCase();
}

function videoCard(render, highlighted) {
  const names = Object.keys(render.artefacts).sort();
  const videos = names.filter((name) => extension(name) === ".mp4");
  const cover = names.find((name) => extension(name) === ".jpg");
  const postName = names.find((name) => extension(name) === ".txt");
  const player = h("video", {
    controls: true, preload: "metadata", playsinline: true, src: videos.length ? render.artefacts[videos[0]] : null,
    poster: cover ? render.artefacts[cover] : null, "aria-label": `Video ${videos[0] || ""}`,
  });
  const which = videos.length > 1
    ? h("label", {}, "Format ", h("select", { onchange: (event) => { player.src = render.artefacts[event.target.value]; } },
      videos.map((name) => h("option", { value: name }, name))))
    : null;
  const downloads = h("ul", { class: "downloads" }, names.map((name) => h("li", {},
    h("a", { href: render.artefacts[name], download: name }, `Download ${LABELS[extension(name)] || "file"}: ${name}`))));
  const post = h("pre", { class: "post-text" });
  const postBox = postName ? h("details", {}, h("summary", {}, "Post text"), post) : null;
  if (postBox) {
    postBox.addEventListener("toggle", async () => {
      if (!postBox.open || post.textContent) return;
      try { post.textContent = await api.artefactText(render.artefacts[postName]); } catch (error) { post.replaceWith(errorBox(error)); }
    });
  }
  const remove = h("button", { type: "button", class: "danger" }, "Delete");
  const card = h("article", { class: highlighted ? "card video highlight" : "card video", dataset: { renderId: render.id } },
    player, h("p", { class: "muted" }, `Finished ${when(render.finished_at)}`), which, downloads, postBox, remove);
  remove.addEventListener("click", async () => {
    if (!window.confirm("Delete this video and all its files?")) return;
    try {
      await api.deleteRender(render.id);
      card.remove();
      announce("Video deleted");
    } catch (error) {
      card.append(errorBox(error));
    }
  });
  return card;
}
