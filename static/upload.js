/*
 * CreatorFlix Admin — upload.js: the upload page's files go from the browser straight to the
 * bucket. Strict CSP: no inline script or style; state shows through classes and <progress>.
 * 1. Files are chosen with the input or dropped on the drop zone; each gets a row with a
 *    <progress> bar (names are user content: textContent only).
 * 2. Submit asks the app for one presigned POST per file (it checks names, types and sizes),
 *    then sends each file to the bucket with XMLHttpRequest (upload progress events), three at
 *    a time, then tells the app, which checks what landed, puts it into the post, queues the
 *    model's sync and answers with its live panel. A policy lives minutes: a file whose policy
 *    is about to run out before its turn comes asks the app for a fresh one first.
 * Without JavaScript the form posts the files to the app, which stores them itself.
 */
(() => {
  "use strict";

  const AT_ONCE = 3;
  const RENEW_MARGIN_MS = 60 * 1000; // ask for a fresh policy when less than this is left
  const form = document.querySelector("[data-upload-form]");
  if (!form) return;
  const zone = form.querySelector("[data-drop-zone]");
  const input = form.querySelector("input[type=file]");
  const list = form.querySelector("[data-file-list]");
  const button = form.querySelector("[data-upload-button]");
  const errorBox = document.querySelector("[data-upload-error]");
  const result = document.getElementById("upload-result");
  const token = form.querySelector("input[name=_csrf_token]").value;
  const rows = new Map(); // file name -> {file, row, bar, state}
  input.required = false; // the chosen files live in `rows`, not in the input

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function human(bytes) {
    const units = ["bytes", "KiB", "MiB", "GiB"];
    let value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  function setState(item, state, text) {
    item.row.classList.remove("is-waiting", "is-sending", "is-done", "is-failed");
    item.row.classList.add(`is-${state}`);
    item.row.dataset.state = state;
    item.status.textContent = text;
  }

  function add(files) {
    showError("");
    for (const file of files) {
      const old = rows.get(file.name);
      if (old) old.row.remove();
      const row = document.createElement("li");
      row.className = "upload-file";
      const name = Object.assign(document.createElement("span"), { className: "name", textContent: file.name });
      const size = Object.assign(document.createElement("span"), { className: "muted", textContent: human(file.size) });
      const bar = Object.assign(document.createElement("progress"), { className: "progress", max: file.size || 1, value: 0 });
      bar.setAttribute("aria-label", `Upload of ${file.name}`);
      const status = Object.assign(document.createElement("span"), { className: "upload-status muted" });
      const remove = Object.assign(document.createElement("button"),
        { type: "button", className: "btn btn-ghost btn-sm", textContent: "Remove" });
      remove.setAttribute("aria-label", `Remove ${file.name}`);
      remove.addEventListener("click", () => { rows.delete(file.name); row.remove(); });
      row.append(name, size, bar, status, remove);
      list.appendChild(row);
      const item = { file, row, bar, status, remove };
      setState(item, "waiting", "ready");
      rows.set(file.name, item);
    }
  }

  input.addEventListener("change", () => { add(input.files); input.value = ""; });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("is-over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("is-over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("is-over");
    if (e.dataTransfer && e.dataTransfer.files.length) add(e.dataTransfer.files);
  });

  async function call(url, body, accept) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "x-csrftoken": token, "HX-Request": "true", Accept: accept },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) {
      let detail = `${response.status} ${response.statusText}`;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    return response;
  }

  // One file to the bucket: the policy's fields first, the file last, as S3 wants.
  function send(item, upload) {
    return new Promise((resolve) => {
      const data = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) data.append(name, value);
      data.append("file", item.file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) { item.bar.max = e.total; item.bar.value = e.loaded; }
        setState(item, "sending", `${Math.floor((100 * e.loaded) / (e.total || 1))} %`);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          item.bar.value = item.bar.max;
          setState(item, "done", "uploaded");
          resolve(true);
          return;
        }
        const code = xhr.responseXML && xhr.responseXML.querySelector("Code");
        const why = xhr.responseXML && xhr.responseXML.querySelector("Message");
        setState(item, "failed", `refused by the bucket: ${code ? code.textContent : xhr.status}` +
          (why ? ` (${why.textContent})` : ""));
        resolve(false);
      });
      xhr.addEventListener("error", () => {
        setState(item, "failed", "could not reach the bucket (network or CORS rule)");
        resolve(false);
      });
      setState(item, "sending", "0 %");
      xhr.send(data);
    });
  }

  // The file's policy, renewed by the app when it would run out before the bytes go.
  async function fresh(upload, ticket, signedAt) {
    if (Date.now() < signedAt + upload.expires_in * 1000 - RENEW_MARGIN_MS) return upload;
    const renewed = await call(form.dataset.renew, { ticket, name: upload.name }, "application/json");
    return renewed.json();
  }

  async function sendAll(items, signed, signedAt) {
    const queue = signed.uploads.map((u) => [rows.get(u.name), u]);
    const sent = [];
    async function lane() {
      while (queue.length) {
        const [item, upload] = queue.shift();
        let current;
        try {
          current = await fresh(upload, signed.ticket, signedAt);
        } catch (err) {
          setState(item, "failed", `no fresh upload policy: ${err.message}`);
          continue;
        }
        if (await send(item, current)) sent.push(item.file.name);
      }
    }
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, queue.length) }, lane));
    return sent;
  }

  // "Use <model>" under the model field: take the existing name, keep the files chosen.
  form.addEventListener("click", (e) => {
    const use = e.target.closest("[data-use-model]");
    if (!use) return;
    e.preventDefault();
    form.elements.model.value = use.dataset.useModel;
    form.elements.model.dispatchEvent(new Event("input", { bubbles: true }));
    form.elements.model.focus();
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError("");
    const items = [...rows.values()].filter((i) => i.row.dataset.state !== "done");
    if (!items.length) { showError("No files were chosen: add at least one image or video."); return; }
    const model = form.elements.model.value, post = form.elements.post.value;
    button.disabled = true;
    items.forEach((i) => { i.remove.disabled = true; });
    try {
      const replace = form.elements.replace.checked;
      const newModel = Boolean(form.elements.new_model && form.elements.new_model.checked);
      const signed = await (await call(form.dataset.presign, {
        model, post, replace, new_model: newModel, files: items.map((i) => ({ name: i.file.name, type: i.file.type, size: i.file.size })),
      }, "application/json")).json();
      const sent = await sendAll(items, signed, Date.now());
      const failed = items.length - sent.length;
      if (failed) showError(`${failed} file(s) did not reach the bucket: see each file's status.`);
      if (!sent.length) return;
      const answer = await call(form.dataset.finish, { ticket: signed.ticket, files: sent }, "application/json, text/html;q=0.9");
      result.innerHTML = await answer.text(); // the app's own template, escaped there
      if (window.htmx) window.htmx.process(result);
      result.scrollIntoView({ block: "nearest" });
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
      items.forEach((i) => { i.remove.disabled = false; });
    }
  });
})();
