/*
 * CreatorFlix Admin — app.js: small progressive enhancements for a server-rendered htmx app.
 * Plain ES2020, no dependencies, loaded with `defer` after htmx. Strict CSP (script-src 'self'):
 * no eval, no inline handlers, no style attributes — only classes.
 * 1. Toasts: window.showToast(level, message, run) adds `.toast.toast-<level>` to #toasts (created
 *    on demand). The server raises them via the `toast` event (HX-Trigger*, detail={level,message,
 *    run}); server-rendered flash toasts are armed too. Success, info and warning toasts fade after
 *    TOAST_MS; error toasts stay until dismissed. A toast about a run (detail.run: "Sync #4
 *    queued") stays while the run goes and is replaced by its outcome when the page shows the run
 *    ended (the run panel's [data-run-outcome], swapped in over SSE). Messages are user content:
 *    textContent only.
 * 2. htmx failures become error toasts, so a failed request never fails silently. A 4xx that
 *    names its target (HX-Retarget) is a form sent back with its errors: it is swapped in, and
 *    its error summary ([data-error-summary]) takes the focus.
 * 3. Selection on every list with ticks (staged, production; templates/_macros.html's
 *    select_all/tick/selection_bar): select-all, #selection-count, [data-needs-selection] buttons
 *    disabled with nothing selected; a form with data-confirm-selected asks it with the count.
 *    Delegated on document and re-run after swaps: survives table swaps.
 *    With the whole page ticked, the table's [data-select-banner] offers every model matching the
 *    filters: that enables its hidden inputs (matching, q, status) and asks for a confirmation.
 * 4. <time datetime> gets a title with the time in the viewer's local time zone.
 * 5. Back/Forward: htmx restores the swapped table, whose [data-controls] element holds the
 *    values of the controls around it (search, status, size); they are put back from it.
 * 6. Narrow screens: the "Menu" link (which opens #menu through :target without JS) becomes a
 *    toggle button with aria-expanded; Escape closes the menu.
 * 7. Tables: cells of `table.data` without data-label get their column's header text, so any
 *    table stacks into labelled lines on narrow screens; sort headers without aria-sort get it.
 * 8. Focus: when a swap removes the focused element (a row replaced with outerHTML), focus goes
 *    to its counterpart in the new content (same id, same name, or same position), not <body>.
 */
(() => {
  "use strict";

  const TOAST_MS = 6000;
  const LEVELS = ["success", "error", "warning", "info"];

  // ---- 1. Toasts ---------------------------------------------------------------------------
  function toastBox() {
    let box = document.getElementById("toasts");
    if (!box) {
      box = Object.assign(document.createElement("div"), { id: "toasts", className: "toasts" });
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    return box;
  }

  const timers = new WeakMap();

  function dismiss(toast) {
    if (toast.classList.contains("leaving")) return;
    toast.classList.add("leaving");
    toast.addEventListener("transitionend", () => toast.remove(), { once: true });
    setTimeout(() => toast.remove(), 500); // fallback when no transition runs
  }

  // An error stays until dismissed; so does a toast waiting for its run to end.
  const stays = (toast) => toast.classList.contains("toast-error") || Boolean(toast.dataset.awaitsRun);

  function fadeLater(toast) {
    clearTimeout(timers.get(toast));
    if (!stays(toast)) timers.set(toast, setTimeout(() => dismiss(toast), TOAST_MS));
  }

  // Give a toast a close button (if it has none) and its auto-dismiss timer, once.
  function arm(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    if (toast.classList.contains("toast-error")) toast.setAttribute("role", "alert");
    if (!toast.querySelector("button.close")) {
      const close = Object.assign(document.createElement("button"),
        { type: "button", className: "close", textContent: "×" });
      close.setAttribute("aria-label", "Dismiss");
      toast.appendChild(close);
    }
    fadeLater(toast);
  }

  // A toast's level and text, set anew (its close button stays).
  function setToast(toast, level, text) {
    toast.className = `toast toast-${LEVELS.includes(level) ? level : "info"}`;
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    let body = toast.querySelector(":scope > div");
    if (!body) body = toast.insertBefore(document.createElement("div"), toast.firstChild);
    body.textContent = text;
  }

  function showToast(level, message, run) {
    const text = message == null ? "" : String(message).trim();
    if (!text) return null;
    const runId = run == null ? "" : String(run);
    // A second toast about the same run takes the place of the first.
    let toast = runId ? toastBox().querySelector(`.toast[data-run="${CSS.escape(runId)}"]`) : null;
    if (!toast) {
      toast = document.createElement("div");
      toastBox().appendChild(toast);
    }
    setToast(toast, level, text);
    if (runId) {
      toast.dataset.run = runId;
      toast.dataset.awaitsRun = "1";
    }
    arm(toast);
    fadeLater(toast);
    if (runId) runsEnded(document); // it may have ended before its toast came
    return toast;
  }
  window.showToast = showToast;

  // The page shows a run ended ([data-run-outcome] on its panel): its toast says how.
  function runsEnded(scope) {
    const ended = [...scope.querySelectorAll("[data-run-outcome]")];
    if (scope.matches?.("[data-run-outcome]")) ended.push(scope);
    for (const el of ended) {
      const id = el.dataset.runId || "";
      const toast = id && toastBox().querySelector(`.toast[data-awaits-run][data-run="${CSS.escape(id)}"]`);
      if (!toast) continue;
      delete toast.dataset.awaitsRun;
      setToast(toast, el.dataset.outcomeLevel, el.dataset.runOutcome);
      fadeLater(toast);
    }
  }

  document.addEventListener("click", (e) => {
    const btn = e.target.closest?.(".toast button.close");
    if (btn) dismiss(btn.closest(".toast"));
  });

  // ---- 3. Selection on the lists with ticks --------------------------------------------
  // Row checkboxes live in the table and join the form through form="selection-form".
  const ROW_BOX = 'input[type=checkbox]:is([name=name], [name=id]):not([data-select-all])';
  const rowBoxes = (form) => [...form.elements].filter((el) => el.matches(ROW_BOX));
  const banner = () => document.querySelector("[data-select-banner]");
  const isMatching = (b) => Boolean(b && b.dataset.mode === "matching");

  // Every model matching the filters (on), or only the ticked rows (off).
  function setMatching(b, on) {
    b.dataset.mode = on ? "matching" : "page";
    b.querySelectorAll("[data-matching-input]").forEach((i) => { i.disabled = !on; });
    b.querySelectorAll("[data-page-note], [data-select-matching]").forEach((e) => { e.hidden = on; });
    b.querySelectorAll("[data-matching-note], [data-clear-selection]").forEach((e) => { e.hidden = !on; });
  }

  function updateSelection() {
    const form = document.getElementById("selection-form");
    if (!form) return;
    const boxes = rowBoxes(form);
    const n = boxes.filter((b) => b.checked).length;
    const wholePage = n > 0 && n === boxes.length;
    const b = banner();
    if (b) {
      if (!wholePage && isMatching(b)) setMatching(b, false);
      b.hidden = !wholePage;
    }
    const matching = isMatching(b);
    // The confirmation says what happens to every matching model, or to the ticked rows when
    // the form asks about them (data-confirm-selected, its {n} the count).
    const perRow = form.dataset.confirmSelected;
    if (matching) form.setAttribute("hx-confirm", b.dataset.confirm);
    else if (perRow && n > 0) form.setAttribute("hx-confirm", perRow.replaceAll("{n}", String(n)));
    else form.removeAttribute("hx-confirm");
    const count = document.getElementById("selection-count");
    if (count) count.textContent = matching ? b.dataset.totalText : String(n);
    document.querySelectorAll("[data-needs-selection]").forEach((el) => {
      if ("disabled" in el) el.disabled = n === 0;
      else el.setAttribute("aria-disabled", String(n === 0));
    });
    document.querySelectorAll("input[data-select-all]").forEach((all) => {
      all.checked = wholePage;
      all.indeterminate = n > 0 && n < boxes.length;
    });
  }

  document.addEventListener("change", (e) => {
    const t = e.target;
    if (t.matches("input[data-select-all]")) {
      const form = document.getElementById("selection-form");
      if (form) rowBoxes(form).forEach((b) => { if (!b.disabled) b.checked = t.checked; });
    }
    // The form's attribute, not `form.id`: production's boxes are named "id", and a form's
    // named controls shadow its properties (form.id is then those boxes).
    const inSelection = t.form?.getAttribute("id") === "selection-form";
    if (t.matches("input[data-select-all]") || (t.matches(ROW_BOX) && inSelection)) {
      updateSelection();
    }
  });

  // "Activate as drafts": on all matching, the question says nothing goes public; on ticked
  // rows nothing goes public, so nothing is asked.
  document.addEventListener("htmx:confirm", (e) => {
    const submitter = e.detail.triggeringEvent?.submitter;
    const b = banner();
    if (!e.detail.question || submitter?.name !== "draft") return;
    if (isMatching(b) && b.dataset.confirmDraft) {
      e.preventDefault();
      if (window.confirm(b.dataset.confirmDraft)) e.detail.issueRequest(true);
    } else if (!isMatching(b) && e.detail.elt?.dataset?.confirmSelected) {
      e.preventDefault();
      e.detail.issueRequest(true);
    }
  });

  document.addEventListener("click", (e) => {
    const pick = e.target.closest?.("[data-select-matching]");
    const clear = e.target.closest?.("[data-clear-selection]");
    const b = banner();
    if (!b || !(pick || clear)) return;
    e.preventDefault(); // the link's page is the way without JavaScript
    setMatching(b, Boolean(pick));
    if (clear) {
      const form = document.getElementById("selection-form");
      if (form) rowBoxes(form).forEach((box) => { box.checked = false; });
    }
    updateSelection();
  });

  // ---- 5. Controls after Back/Forward -------------------------------------------------------
  // htmx restores the page's HTML as it was when left: the table is right for its URL, but the
  // controls outside it show their first values. The table says what they were.
  function restoreControls() {
    document.querySelectorAll("[data-controls]").forEach((state) => {
      const form = document.getElementById(state.dataset.controls);
      if (!form) return;
      let values;
      try { values = JSON.parse(state.dataset.values || "{}"); } catch { return; }
      for (const [name, value] of Object.entries(values)) {
        const field = form.elements.namedItem(name);
        if (field && !(field instanceof RadioNodeList) && field.type !== "hidden") {
          field.value = value;
        }
      }
    });
  }

  // ---- 4. Local time tooltips --------------------------------------------------------------
  const localFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
  function localTimes(scope) {
    const els = [...scope.querySelectorAll("time[datetime]")];
    if (scope.matches?.("time[datetime]")) els.push(scope);
    for (const el of els) {
      const raw = el.getAttribute("datetime").trim();
      if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) continue; // a date alone has no local time
      // Python's isoformat: allow a space separator and trim microseconds to milliseconds.
      const date = new Date(raw.replace(" ", "T").replace(/(\.\d{3})\d+/, "$1"));
      if (!Number.isNaN(date.getTime())) el.title = localFormat.format(date);
    }
  }

  // ---- 5. The folding menu ------------------------------------------------------------------
  function initMenu() {
    const link = document.querySelector("a.menu-toggle");
    const menu = document.getElementById("menu");
    if (!link || !menu) return;
    const toggle = Object.assign(document.createElement("button"),
      { type: "button", className: link.className, textContent: link.textContent });
    toggle.setAttribute("aria-controls", "menu");
    link.replaceWith(toggle);
    const setOpen = (open) => {
      menu.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    };
    // Opened by #menu in the address (the no-JS way): keep it open, drop the fragment.
    setOpen(menu.matches(":target"));
    if (location.hash === "#menu") history.replaceState(history.state, "", location.pathname + location.search);
    toggle.addEventListener("click", () => setOpen(!menu.classList.contains("open")));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && menu.classList.contains("open") && getComputedStyle(toggle).display !== "none") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // ---- 6. Table labels and sort state ------------------------------------------------------
  // A header's visible text: without screen-reader-only text and controls (select-all box).
  function headerText(th) {
    const copy = th.cloneNode(true);
    copy.querySelectorAll(".sr-only, input, select, button").forEach((el) => el.remove());
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function labelTables(scope) {
    const tables = new Set(scope.querySelectorAll("table.data"));
    const own = scope.closest?.("table.data");
    if (own) tables.add(own);
    for (const table of tables) {
      const heads = [...table.querySelectorAll(":scope > thead > tr > th")];
      const labels = heads.map(headerText);
      table.classList.add("labelled");
      for (const tr of table.querySelectorAll(":scope > tbody > tr")) {
        let col = 0;
        for (const td of tr.cells) {
          const label = labels[col];
          col += td.colSpan || 1;
          if (td.colSpan > 1 || td.hasAttribute("data-label") || td.classList.contains("actions")) continue;
          if (label) td.dataset.label = label;
        }
      }
      heads.forEach((th) => {
        const sort = th.querySelector("a.sort");
        if (!sort || th.hasAttribute("aria-sort")) return;
        const dir = sort.classList.contains("asc") ? "ascending" : sort.classList.contains("desc") ? "descending" : "none";
        th.setAttribute("aria-sort", dir);
      });
    }
  }

  // ---- 7. Focus after a swap ---------------------------------------------------------------
  const FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]";
  let pendingFocus = null;
  let focusSummary = false; // a form came back with errors: its summary takes the focus

  function rememberFocus(e) {
    const target = e.detail.target;
    if (!(target instanceof Element)) return;
    // Safari does not focus a clicked button: fall back to the form's submitter.
    const candidates = [document.activeElement, e.detail.requestConfig?.triggeringEvent?.submitter];
    const el = candidates.find((c) => c instanceof Element && c !== document.body && target.contains(c));
    if (!el) return;
    const all = [...target.querySelectorAll(FOCUSABLE)];
    pendingFocus = {
      target, targetId: target.id, id: el.id, name: el.getAttribute("name"), tag: el.tagName,
      index: all.filter((c) => c.tagName === el.tagName).indexOf(el),
    };
  }

  function restoreFocus(e) {
    const memo = pendingFocus;
    if (!memo || e.detail.target !== memo.target) return; // not the swap it was taken for
    pendingFocus = null;
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return; // focus survived
    const scope = memo.target.isConnected ? memo.target
      : (memo.targetId && document.getElementById(memo.targetId)) || (e.target.isConnected ? e.target : null);
    if (!scope) return;
    const same = [...scope.querySelectorAll(FOCUSABLE)].filter((c) => c.tagName === memo.tag);
    const match = (memo.id && same.find((c) => c.id === memo.id))
      || (memo.name && same.find((c) => c.getAttribute("name") === memo.name))
      || same[Math.min(memo.index, same.length - 1)];
    if (match && !match.disabled) {
      match.focus({ preventScroll: true });
    } else {
      if (!scope.hasAttribute("tabindex")) scope.setAttribute("tabindex", "-1");
      scope.focus({ preventScroll: true });
    }
  }

  // ---- Wiring: page load, htmx events --------------------------------------------------------
  function enhance(root) {
    // outerHTML swaps may hand us the detached old element: fall back to the whole page.
    const scope = root instanceof Element && root.isConnected ? root : document;
    localTimes(scope);
    labelTables(scope);
    scope.querySelectorAll(".toast").forEach(arm);
    runsEnded(scope);
    updateSelection();
  }

  function init() {
    const body = document.body;
    body.addEventListener("toast", (e) => {
      const d = e.detail || {};
      showToast(d.level, d.message ?? d.value, d.run);
    });
    // A form refused with its errors (a 4xx retargeted at the form): swap it in, no toast.
    body.addEventListener("htmx:beforeSwap", (e) => {
      const xhr = e.detail.xhr;
      if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
        e.detail.shouldSwap = true;
        e.detail.isError = false;
        focusSummary = true;
      }
    });
    body.addEventListener("htmx:sseMessage", (e) => runsEnded(e.target instanceof Element ? e.target : document));
    // 2. htmx failures. Errors from this app come back as short text/plain messages.
    body.addEventListener("htmx:responseError", (e) => {
      const xhr = e.detail.xhr;
      if (/"toast"/.test(xhr.getResponseHeader("HX-Trigger") || "")) return; // server toasted
      const type = xhr.getResponseHeader("Content-Type") || "";
      const text = (xhr.responseText || "").trim();
      showToast("error", type.startsWith("text/plain") && text && text.length < 300
        ? text : `The request failed (HTTP ${xhr.status}).`);
    });
    body.addEventListener("htmx:sendError",
      () => showToast("error", "Network error: the server could not be reached."));
    // The SSE extension reconnects on its own: a dropped stream is not worth a toast.
    body.addEventListener("htmx:sseError", (e) => console.debug("SSE error", e.detail));
    body.addEventListener("htmx:beforeSwap", rememberFocus);
    body.addEventListener("htmx:afterSwap", (e) => enhance(e.target));
    // After settling: htmx has wired the new content, so a key pressed at once reaches it.
    body.addEventListener("htmx:afterSettle", (e) => {
      enhance(e.target);
      restoreFocus(e);
      if (focusSummary) {
        focusSummary = false;
        document.querySelector("[data-error-summary]")?.focus();
      }
    });
    body.addEventListener("htmx:historyRestore", () => { restoreControls(); updateSelection(); });
    window.addEventListener("pageshow", () => { restoreControls(); updateSelection(); }); // bfcache
    initMenu();
    enhance(document);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
