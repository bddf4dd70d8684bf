/* window.Live: the one WebSocket client and the small helpers of the signed-in
   pages: the expert console (frontend/console.js and its console-*.js parts),
   the past chat page (followup-form.js), the staff live monitor (monitor.js),
   the expert's pages (expert.js) and the live staff pages (staff.js). A
   classic script: every template loads it, deferred, before the page's own
   script. The shop widget (widget.js) keeps its own socket: it is embedded on
   other sites as one small file and does not load this one.

   Live.socket(path, options) opens a WebSocket to `path` on this host (the
   contract is docs/protocol.md) and keeps it open:
     - reconnects 1 s doubling to 30 s with "equal jitter" (half the step fixed,
       half random); the next drop starts at 1 s again once the server talked;
     - reconnects at once when the browser comes back `online` or the tab is
       shown again, or when the page calls retryNow();
     - stops for good on close codes 4401 (signed out) and 4403 (no access);
     - pings every heartbeat (20 s unless options.heartbeatMs or setHeartbeat()
       says otherwise), each ping with options.pingFields() added, and drops and
       reconnects a socket that stayed silent for 50 s (or 2.5 heartbeats) while
       pings went out.
   options: onFrame(frame) for every JSON frame with a `type`;
            onState(state, code, info) with state "connecting" | "open" |
              "reconnecting" | "closed"; code is the close code with "closed";
              info.retryAt (ms since the epoch) is set while a reconnect waits,
              0 while one is under way;
            onOpen(reconnected) right after "open"; heartbeatMs; pingFields().
   It returns {send, request, retryNow, setHeartbeat}:
     send(frame) -> true if it went out (false while not connected);
     request(frame) -> sends frame with a unique string `id` and returns that id
       (null if not connected): the server names it in an `error` about that
       frame, so a page matches refusals to its requests by id.

   Helpers: Live.showState(state) updates every [data-live-status] pill;
   Live.strings (data-* of #page-strings); Live.fmt(template, params) fills
   %(name)s placeholders; Live.cssId(value) for attribute selectors;
   Live.make(tag, className, text) builds an element with textContent (user text
   never goes in as HTML); Live.byRole(scope, name) finds [data-role=name];
   Live.avatar(text, extra); Live.initials(name, max); Live.toast(box, text,
   kind, ms); Live.autogrow(textarea);
   Live.nearBottom(box) / Live.scrollToBottom(box, instant); Live.randomId();
   Live.uploadPhoto(url, conversationId, file, failed) posts a chat photo;
   Live.charCount(text) counts characters as the server does (code points);
   Live.numberFormat, Live.timeFormat and Live.clockTime(value) in the page's
   language and the brand's time zone (data-time-zone on <html>). */
(function () {
  "use strict";

  const PING_MS = 20000;
  const STALE_MS = 50000; // no frame for this long while pings go out: the socket is dead
  const BACKOFF_START_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const CLOSE_UNAUTHENTICATED = 4401;
  const CLOSE_FORBIDDEN = 4403;
  const LANG = document.documentElement.lang || "en";
  const ZONE = document.documentElement.dataset.timeZone || undefined;

  // ------------------------------------------------------------------ socket

  function liveSocket(path, options) {
    const onFrame = options.onFrame;
    const onState = options.onState || function () {};
    const onOpen = options.onOpen || function () {};
    const pingFields = options.pingFields || (() => ({}));
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    let heartbeatMs = options.heartbeatMs || PING_MS;
    let ws = null;
    let attempt = 0;
    let retryTimer = null;
    let pingTimer = null;
    let lastFrameAt = 0;
    let stopped = false;
    let requests = 0;

    function connect() {
      clearTimeout(retryTimer);
      retryTimer = null;
      if (stopped) return;
      onState(attempt ? "reconnecting" : "connecting", undefined, { retryAt: 0 });
      let socket;
      try {
        socket = new WebSocket(url);
      } catch (_) {
        schedule();
        return;
      }
      ws = socket;
      socket.onopen = () => {
        if (socket !== ws) return;
        lastFrameAt = Date.now();
        startHeartbeat();
        onState("open");
        onOpen(attempt > 0);
      };
      socket.onmessage = (event) => {
        if (socket !== ws) return;
        lastFrameAt = Date.now();
        attempt = 0; // the server is talking to us: the next drop starts at 1 s again
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch (_) {
          return;
        }
        if (frame && typeof frame.type === "string") onFrame(frame);
      };
      socket.onclose = (event) => closed(socket, event.code);
      socket.onerror = () => {
        /* onclose follows */
      };
    }

    function closed(socket, code) {
      if (socket !== ws) return;
      ws = null;
      stopHeartbeat();
      if (code === CLOSE_UNAUTHENTICATED || code === CLOSE_FORBIDDEN) {
        stopped = true;
        onState("closed", code);
        return;
      }
      schedule();
    }

    /* A socket that stopped answering: give up on it and reconnect. */
    function drop() {
      const socket = ws;
      if (!socket) return;
      socket.onclose = null;
      socket.onmessage = null;
      try {
        socket.close();
      } catch (_) {
        /* already closing */
      }
      closed(socket, 1006);
    }

    function schedule() {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** attempt);
      const delay = Math.round(base / 2 + Math.random() * (base / 2)); // equal jitter
      attempt += 1;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, delay);
      onState("reconnecting", undefined, { retryAt: Date.now() + delay });
    }

    function startHeartbeat() {
      stopHeartbeat();
      pingTimer = setInterval(() => {
        if (Date.now() - lastFrameAt > Math.max(STALE_MS, heartbeatMs * 2.5)) drop();
        else send({ type: "ping", ...pingFields() });
      }, heartbeatMs);
    }

    function stopHeartbeat() {
      clearInterval(pingTimer);
      pingTimer = null;
    }

    function setHeartbeat(ms) {
      if (!ms || ms === heartbeatMs) return;
      heartbeatMs = ms;
      if (pingTimer) startHeartbeat();
    }

    function send(frame) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    }

    function request(frame) {
      requests += 1;
      const id = "r" + requests;
      return send({ ...frame, id: id }) ? id : null;
    }

    /* Only while a reconnect waits: a socket being opened or open is left alone. */
    function retryNow() {
      if (!stopped && !ws) connect();
    }

    window.addEventListener("online", retryNow);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") retryNow();
    });

    connect();
    return { send: send, request: request, retryNow: retryNow, setHeartbeat: setHeartbeat };
  }

  function showState(state) {
    for (const pill of document.querySelectorAll("[data-live-status]")) {
      pill.dataset.state = state;
      const text = pill.querySelector("[data-live-text]");
      const label = pill.dataset["text" + state.charAt(0).toUpperCase() + state.slice(1)];
      if (text && label) text.textContent = label;
    }
  }

  // ------------------------------------------------------------------ helpers

  function fmt(template, params) {
    return String(template || "").replace(/%\((\w+)\)[sd]/g, (match, key) =>
      params && key in params ? String(params[key]) : match
    );
  }

  function cssId(value) {
    return String(value).replace(/["\\]/g, "");
  }

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function byRole(scope, name) {
    return scope.querySelector('[data-role="' + name + '"]');
  }

  /* "Anna de Vries" -> "AD" (max 2), "A" (max 1); no name -> "?" */
  function initials(name, max) {
    const letters = String(name || "")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, max || 2)
      .map((word) => Array.from(word)[0])
      .join("")
      .toUpperCase();
    return letters || "?";
  }

  function avatar(text, extra) {
    const node = make("span", "avatar avatar--sm" + (extra ? " " + extra : ""), text);
    node.setAttribute("aria-hidden", "true");
    return node;
  }

  /* A short note in the page's toast area (box) for ms (4.5 s); at most four at once. */
  function toast(box, text, kind, ms) {
    const node = make("div", "toast" + (kind ? " toast--" + kind : ""), text);
    node.dataset.testid = "toast";
    box.appendChild(node);
    while (box.children.length > 4) box.firstElementChild.remove();
    setTimeout(() => node.remove(), ms || 4500);
    return node;
  }

  /* A textarea grows with its text, up to about seven lines. */
  function autogrow(input) {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 168) + "px";
  }

  function nearBottom(box) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 90;
  }

  function scrollToBottom(box, instant) {
    if (instant) box.style.scrollBehavior = "auto";
    box.scrollTop = box.scrollHeight;
    if (instant) box.style.scrollBehavior = "";
  }

  function randomId() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      try {
        return crypto.randomUUID();
      } catch (_) {
        /* not a secure context: fall through */
      }
    }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The server counts characters (code points), not UTF-16 units.
  function charCount(text) {
    return Array.from(text).length;
  }

  // Signed-in pages show times in the brand's zone (TIME_ZONE, on <html>).
  const timeFormat = new Intl.DateTimeFormat(LANG, { hour: "numeric", minute: "2-digit", timeZone: ZONE });

  /* An ISO string, a Date or milliseconds -> "14:05"; "" when it is no time. */
  function clockTime(value) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? "" : timeFormat.format(date);
  }

  /* A product card message (its `card`, built by the server from the catalog):
     picture, name linking to the product page, price; only http(s) addresses, and
     all of it as text. Console and monitor show cards alike. */
  function productCard(card, outOfStock) {
    const box = make("div", "msg__bubble msg__card");
    if (/^https?:\/\//.test(card.image || "")) {
      const image = make("img", "msg__card-image");
      image.src = card.image;
      image.alt = "";
      image.loading = "lazy";
      box.append(image);
    }
    const link = make("a", "msg__card-name", card.name);
    link.dataset.testid = "product-card-link";
    if (/^https?:\/\//.test(card.url)) link.href = card.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const price = new Intl.NumberFormat(LANG, { style: "currency", currency: card.currency || "EUR" });
    box.append(link, make("div", "msg__card-price", price.format(Number(card.price))));
    if (card.in_stock === false && outOfStock) box.append(make("div", "msg__card-stock", outOfStock));
    return box;
  }

  /* A photo message: its thumbnail, linking to the full size in a new tab. Both are
     signed links that expire (docs/protocol.md, "Photos"); a replay brings fresh ones.
     Console and monitor show photos alike. */
  function photoThumbnail(photo, alt) {
    const link = make("a", "msg__bubble msg__photo");
    link.href = photo.url;
    link.target = "_blank";
    link.rel = "noopener";
    const image = make("img");
    image.dataset.testid = "photo";
    image.src = photo.thumbnail;
    image.alt = alt || "";
    link.append(image);
    return link;
  }

  /* Send a photo for a chat over HTTP (the console's /console/photos/, the monitor's
     /staff/photos/), with the page's session and CSRF token; the server re-encodes it
     and it comes back as a message frame like any other. Resolves to "" once stored,
     else the reason to show: the server's, or `failed`. */
  async function uploadPhoto(url, conversationId, file, failed) {
    const form = new FormData();
    form.append("conversation", String(conversationId));
    form.append("client_id", randomId());
    form.append("photo", file);
    const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    try {
      const answer = await fetch(url, {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "" },
      });
      if (answer.ok) return "";
      const refusal = await answer.json().catch(() => null);
      return (refusal && refusal.error && refusal.error.message) || failed;
    } catch (error) {
      return failed; // offline, or the connection dropped mid-upload
    }
  }

  /* One click per form: the submit button is disabled once the browser has taken the
     submit (so the form still posts), optionally relabelled; a page restored from the
     back/forward cache reloads so no button stays disabled. */
  function oneSubmitPerForm(accepts, busyLabel) {
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!accepts(form)) return;
      const button = event.submitter || form.querySelector('button[type="submit"]');
      if (!button) return;
      if (button.dataset.busy) {
        event.preventDefault();
        return;
      }
      button.dataset.busy = "1";
      setTimeout(() => {
        button.disabled = true;
        const label = busyLabel && busyLabel(form);
        if (label) button.textContent = label;
      }, 0);
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) location.reload();
    });
  }

  window.Live = {
    oneSubmitPerForm: oneSubmitPerForm,
    productCard: productCard,
    photoThumbnail: photoThumbnail,
    uploadPhoto: uploadPhoto,
    socket: liveSocket,
    showState: showState,
    fmt: fmt,
    cssId: cssId,
    make: make,
    byRole: byRole,
    initials: initials,
    avatar: avatar,
    toast: toast,
    autogrow: autogrow,
    nearBottom: nearBottom,
    scrollToBottom: scrollToBottom,
    randomId: randomId,
    charCount: charCount,
    clockTime: clockTime,
    timeFormat: timeFormat,
    lang: LANG,
    zone: ZONE,
    strings: (document.getElementById("page-strings") || { dataset: {} }).dataset,
    numberFormat: new Intl.NumberFormat(LANG),
    CLOSE_UNAUTHENTICATED: CLOSE_UNAUTHENTICATED,
    CLOSE_FORBIDDEN: CLOSE_FORBIDDEN,
  };
})();
