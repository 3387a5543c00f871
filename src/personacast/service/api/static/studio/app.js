// The studio's shell: sign-in, navigation between pages (hash routes), sign-out.
import { api } from "./api.js";
import { announce, errorBox, field, h } from "./ui.js";
import { charactersPage } from "./characters.js";
import { newVideoPage } from "./new_video.js";
import { queuePage } from "./queue.js";
import { libraryPage } from "./library.js";
import { batchesPage } from "./batches.js";
import { usagePage } from "./usage.js";

const PAGES = {
  characters: { title: "Characters", show: charactersPage },
  new: { title: "New video", show: newVideoPage },
  queue: { title: "Queue", show: queuePage },
  library: { title: "Library", show: libraryPage },
  batches: { title: "Batches", show: batchesPage },
  usage: { title: "Usage and cost", show: usagePage },
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let leavePage = null; // the current page's cleanup (closes its event streams, timers)
// Counts pages started: a page whose show() resolves after a newer one started (or
// after signing out) is stale, and its cleanup runs at once instead of leaking.
let routeNumber = 0;

function leaveCurrentPage() {
  routeNumber += 1;
  if (leavePage) leavePage();
  leavePage = null;
}

function signInPage() {
  leaveCurrentPage();
  nav.hidden = true;
  const key = h("input", { type: "password", name: "key", autocomplete: "current-password", required: true, spellcheck: "false" });
  const message = h("div");
  const form = h("form", { class: "card narrow", "aria-labelledby": "sign-in-title" },
    h("h2", { id: "sign-in-title" }, "Sign in"),
    h("p", {}, "Use an API key of your account. Create one on the server with ",
      h("code", {}, "personacast keys create --tenant NAME"), "."),
    field("API key", key),
    message,
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    try {
      const session = await api.signIn(key.value);
      key.value = "";
      signedIn(session);
    } catch (error) {
      message.replaceChildren(errorBox(error));
      key.focus();
    }
  });
  main.replaceChildren(form);
  document.title = "Sign in · personacast studio";
  key.focus();
}

function signedIn(session) {
  document.getElementById("tenant").textContent = `Signed in as ${session.tenant}`;
  nav.hidden = false;
  if (!location.hash || location.hash === "#/sign-in") location.hash = "#/characters";
  else route();
}

async function route() {
  if (nav.hidden) return;
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const page = PAGES[name] || PAGES.characters;
  leaveCurrentPage();
  const mine = routeNumber;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${page.title} · personacast studio`;
  const container = h("section", { class: "page", "aria-labelledby": "page-title" }, h("h2", { id: "page-title" }, page.title));
  main.replaceChildren(container);
  main.focus({ preventScroll: true });
  announce(`${page.title} page`);
  try {
    const cleanup = (await page.show(container, rest)) || null;
    if (mine !== routeNumber) {
      if (cleanup) cleanup();
      return;
    }
    leavePage = cleanup;
  } catch (error) {
    if (mine !== routeNumber) return;
    container.append(errorBox(error));
  }
  container.dataset.ready = "true"; // its first data is drawn (tests wait for this)
}

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await api.signOut();
  } catch (error) {
    // 401: the session was already gone and the sign-in form is showing. Anything else
    // leaves the session (and its cookie) standing, so say so rather than pretend.
    if (error.status !== 401) {
      const box = errorBox(error);
      box.classList.add("sign-out-error");
      main.querySelector(".sign-out-error")?.remove(); // one message, however many tries
      main.prepend(box);
      return;
    }
  }
  if (!nav.hidden) signInPage();
});
window.addEventListener("studio:signed-out", () => { if (!nav.hidden) signInPage(); });
window.addEventListener("hashchange", route);

// Only "not signed in" shows the sign-in form; a busy or unreachable server says so.
function startUp() {
  api.session().then(signedIn, (error) => {
    if (error.status === 401) {
      signInPage();
      return;
    }
    const retry = h("button", { type: "button", class: "primary", onclick: startUp }, "Try again");
    main.replaceChildren(h("div", { class: "card narrow" }, errorBox(error), retry));
  });
}

startUp();
