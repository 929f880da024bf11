/*
 * CreatorFlix Admin — lightbox.js: the originals of a media gallery in a modal viewer.
 * Plain ES2020, no dependencies, loaded with `defer`. Strict CSP: no inline code, no style
 * attributes (state is classes and `hidden`), user content only through textContent/attributes.
 *
 * Markup: any `<a href="ORIGINAL" data-lightbox="GROUP" data-type="image|video"
 * data-caption="Post title">…thumbnail…</a>`. Without JS the link opens the original. With JS a
 * plain click opens a native <dialog> (showModal: the page behind is inert, focus stays inside)
 * showing the link's href — never the thumbnail's src, which may be a preview. The group is every
 * link with the same data-lightbox value in the document at the time of opening, in document
 * order, so galleries swapped in by htmx need no set-up (one delegated click listener).
 *
 * Keys: ArrowLeft/ArrowRight step through the group (wrapping; not while the video's own
 * controls have focus), Escape closes (native cancel). Touch: a horizontal swipe steps.
 * Videos play (with sound when the browser allows it, muted otherwise) and are paused and
 * unloaded when the viewer moves on or closes. Focus returns to the clicked link on close.
 */
(() => {
  "use strict";

  if (typeof HTMLDialogElement !== "function") return; // the links still open the originals

  const ITEM = "a[data-lightbox]";
  const SWIPE_PX = 50;

  let dialog = null; // built on first use
  let parts = null;
  let items = [];
  let index = 0;
  let opener = null;
  let touch = null;

  function el(tag, props = {}, attrs = {}) {
    const node = Object.assign(document.createElement(tag), props);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  function button(cls, label, text) {
    return el("button", { type: "button", className: `lightbox-btn ${cls}`, textContent: text },
      { "aria-label": label });
  }

  function build() {
    // A copy left in the page by htmx's history snapshot is dead weight with a duplicate id.
    for (const stale of document.querySelectorAll("dialog.lightbox")) stale.remove();
    const close = button("lightbox-close", "Close", "×");
    close.autofocus = true;
    const prev = button("lightbox-prev", "Previous", "‹");
    const next = button("lightbox-next", "Next", "›");
    const stage = el("div", { className: "lightbox-stage" });
    const title = el("span", { className: "lightbox-title" });
    const count = el("span", { className: "lightbox-count" });
    const status = el("span", { className: "lightbox-status", hidden: true });
    const caption = el("p", { className: "lightbox-caption", id: "lightbox-caption" },
      { "aria-live": "polite" });
    caption.append(title, count, status);
    const original = el("a", { className: "lightbox-original", textContent: "Open original",
      target: "_blank", rel: "noopener" });
    const bar = el("div", { className: "lightbox-bar" });
    bar.append(caption, original);
    dialog = el("dialog", { className: "lightbox" },
      { "aria-label": "Media viewer", "aria-describedby": "lightbox-caption" });
    dialog.append(close, stage, prev, next, bar);
    document.body.appendChild(dialog);
    parts = { close, prev, next, stage, title, count, status, original };

    close.addEventListener("click", () => dialog.close());
    prev.addEventListener("click", () => step(-1));
    next.addEventListener("click", () => step(1));
    dialog.addEventListener("keydown", onKey);
    dialog.addEventListener("close", onClose);
    // A click on the dark area around the picture closes, as on the backdrop.
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog || e.target === stage) dialog.close();
    });
    stage.addEventListener("touchstart", onTouchStart, { passive: true });
    stage.addEventListener("touchend", onTouchEnd, { passive: true });
    stage.addEventListener("touchcancel", () => { touch = null; }, { passive: true });
  }

  function onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    if (e.target instanceof HTMLMediaElement) return; // its controls seek with the arrows
    e.preventDefault();
    step(e.key === "ArrowRight" ? 1 : -1);
  }

  function onTouchStart(e) {
    touch = e.touches.length === 1 ? { x: e.touches[0].clientX, y: e.touches[0].clientY } : null;
  }

  function onTouchEnd(e) {
    if (!touch || e.changedTouches.length !== 1) return;
    const dx = e.changedTouches[0].clientX - touch.x;
    const dy = e.changedTouches[0].clientY - touch.y;
    touch = null;
    if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > 1.5 * Math.abs(dy)) step(dx < 0 ? 1 : -1);
  }

  // Stop a playing video and its download before it leaves the stage.
  function unload() {
    for (const video of parts.stage.querySelectorAll("video")) {
      video.pause();
      video.removeAttribute("src");
      video.load();
    }
    parts.stage.replaceChildren();
  }

  function failed(media) {
    media.classList.add("lightbox-broken");
    parts.status.textContent = "This file could not be loaded: use Open original.";
    parts.status.hidden = false;
  }

  function play(video) {
    const muted = () => { video.muted = true; return video.play(); };
    // The click, key or swipe that got here lets sound play; if the browser still refuses, mute.
    video.play().catch((err) => (err && err.name === "NotAllowedError" ? muted() : null))
      .catch(() => {}); // the controls stay: the admin can start it
  }

  function mediaFor(link) {
    const label = link.dataset.caption || "";
    if (link.dataset.type === "video") {
      const video = el("video", { className: "lightbox-media", controls: true, playsInline: true,
        preload: "auto" }, { "aria-label": label || "Video" });
      video.addEventListener("error", () => failed(video), { once: true });
      video.src = link.href;
      return video;
    }
    const thumb = link.querySelector("img");
    const img = el("img", { className: "lightbox-media", alt: (thumb && thumb.alt) || label,
      decoding: "async" });
    img.addEventListener("error", () => failed(img), { once: true });
    img.src = link.href;
    return img;
  }

  function show(i) {
    index = (i + items.length) % items.length;
    const link = items[index];
    unload();
    parts.status.hidden = true;
    parts.status.textContent = "";
    const media = mediaFor(link);
    parts.stage.appendChild(media);
    parts.title.textContent = link.dataset.caption || "";
    parts.count.textContent = `${index + 1} of ${items.length}`;
    parts.original.href = link.href;
    const single = items.length < 2;
    parts.prev.hidden = single;
    parts.next.hidden = single;
    dialog.dataset.type = link.dataset.type === "video" ? "video" : "image";
    if (media instanceof HTMLVideoElement) play(media);
  }

  function step(delta) {
    if (items.length > 1) show(index + delta);
  }

  function open(link) {
    const group = link.dataset.lightbox;
    items = [...document.querySelectorAll(ITEM)].filter((a) => a.dataset.lightbox === group);
    if (!dialog || !dialog.isConnected) build();
    opener = link;
    document.documentElement.classList.add("lightbox-open");
    show(Math.max(0, items.indexOf(link)));
    if (!dialog.open) dialog.showModal();
  }

  function onClose() {
    unload();
    document.documentElement.classList.remove("lightbox-open");
    // The clicked link, or (if an htmx swap replaced it) the link to the same original.
    const back = opener && opener.isConnected ? opener
      : [...document.querySelectorAll(ITEM)].find((a) => opener && a.href === opener.href);
    opener = null;
    items = [];
    if (back) back.focus();
  }

  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0) return;
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return; // new tab or window: the link's own
    const link = e.target.closest?.(ITEM);
    if (!link || !link.href) return;
    e.preventDefault();
    open(link);
  });
})();
