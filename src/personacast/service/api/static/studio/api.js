// Every call the studio makes to the personacast API. The session cookie carries the
// API key; the custom header proves a state-changing request comes from this page.

export class ApiError extends Error {
  constructor(status, code, message, hint) {
    super(hint ? `${message} (${hint})` : message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

async function call(method, path, { json, body, headers = {}, raw = false } = {}) {
  const options = { method, credentials: "same-origin", headers: { "X-Personacast-Studio": "1", ...headers } };
  if (json !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(json);
  } else if (body !== undefined) {
    options.body = body;
  }
  const response = await send(path, options);
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

// fetch, with a failed request or an error answer turned into an ApiError.
async function send(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new ApiError(0, "network", "the server could not be reached", "check that personacast serve is running");
  }
  if (!response.ok) {
    let detail = { code: "error", message: `${response.status} ${response.statusText}`, hint: null };
    try {
      const payload = await response.json();
      if (payload && payload.error) detail = payload.error;
    } catch (_) { /* a proxy's HTML error page: keep the status line */ }
    if (response.status === 401) window.dispatchEvent(new CustomEvent("studio:signed-out"));
    throw new ApiError(response.status, detail.code, detail.message, detail.hint);
  }
  return response;
}

// The face detector answers 503 "busy" while several pictures wait for it; that clears
// within a second or two, so face calls try again a few times before giving up.
async function retryWhileBusy(attempt, tries = 5) {
  for (let number = 1; ; number += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (error.status !== 503 || number >= tries) throw error;
      await new Promise((resolve) => window.setTimeout(resolve, 1000 * number));
    }
  }
}

export const api = {
  signIn: (key) => call("POST", "/studio/session", { json: { key } }),
  session: () => call("GET", "/studio/session"),
  signOut: () => call("DELETE", "/studio/session"),

  voices: () => call("GET", "/v1/voices"),
  audition: (voice, text) => call("POST", "/v1/voices/audition", { json: { voice, text }, raw: true }).then((r) => r.blob()),
  formats: () => call("GET", "/v1/formats"),
  estimate: (text, voice) => call("POST", "/v1/scripts/estimate", { json: voice ? { text, voice } : { text } }),
  write: (brief) => call("POST", "/v1/scripts/write", { json: brief }),
  inspectFace: (file) => {
    const form = new FormData();
    form.append("image", file);
    return retryWhileBusy(() => call("POST", "/v1/faces", { body: form }));
  },

  characters: () => call("GET", "/v1/characters?limit=200"),
  character: (id) => call("GET", `/v1/characters/${id}`),
  createCharacter: (name, files, profile) => {
    const form = new FormData();
    form.append("name", name);
    for (const file of files) form.append("images", file);
    form.append("profile", JSON.stringify(profile));
    return call("POST", "/v1/characters", { body: form });
  },
  updateCharacter: (id, changes) => call("PATCH", `/v1/characters/${id}`, { json: changes }),
  deleteCharacter: (id) => call("DELETE", `/v1/characters/${id}`),
  portraitUrl: (id, index) => `/v1/characters/${id}/images/${index}`,
  portraitFace: (id, index) => retryWhileBusy(() => call("GET", `/v1/characters/${id}/images/${index}/face`)),

  createRender: (request) => call("POST", "/v1/renders", { json: request }),
  renders: (query = "") => call("GET", `/v1/renders?limit=100${query}`),
  render: (id) => call("GET", `/v1/renders/${id}`),
  cancelRender: (id) => call("DELETE", `/v1/renders/${id}`),
  deleteRender: (id) => call("DELETE", `/v1/renders/${id}?purge=true`),
  renderEvents: (id) => new EventSource(`/v1/renders/${id}/events`, { withCredentials: true }),
  // A plain GET without the studio's header: on S3 storage the artefact route redirects
  // to the bucket's origin, where a custom header would need a CORS preflight it refuses.
  artefactText: (url) => send(url, { credentials: "same-origin" }).then((r) => r.text()),

  batches: () => call("GET", "/v1/batches?limit=100"),
  batch: (id) => call("GET", `/v1/batches/${id}`),
  createBatch: (file) => {
    const type = file.name.toLowerCase().endsWith(".csv") ? "text/csv" : "application/json";
    return call("POST", "/v1/batches", { body: file, headers: { "Content-Type": type } });
  },

  usage: (from, to) => call("GET", `/v1/usage?from=${from}&to=${to}`),
};
