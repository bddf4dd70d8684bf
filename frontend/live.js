/* Live sockets and small shared helpers for the expert and staff pages
   (frontend/expert.js, staff.js).

   Live.socket(path, {onFrame, onState, onOpen}) opens a WebSocket to the same
   host, reconnects (1 s doubling to 30 s, with jitter), pings every 20 s and
   re-opens a connection that has gone silent; it stops on close codes 4401/4403.
   Live.showState(state) updates every [data-live-status] pill on the page.
   Live.strings: the page's translated text (data-* of #page-strings);
   Live.fmt(template, params) fills %(name)s placeholders; Live.cssId(value) makes
   a value safe inside an attribute selector; Live.numberFormat in the page's language. */
(function () {
  "use strict";

  const PING_MS = 20000;
  const STALE_MS = 50000;
  const BACKOFF_START_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const CLOSE_UNAUTHENTICATED = 4401;
  const CLOSE_FORBIDDEN = 4403;

  /* Reconnects 1 s doubling to 30 s with jitter; pings every 20 s; closes a
     connection that has been silent for too long so it is re-opened. */
  function liveSocket(path, handlers) {
    let ws = null;
    let attempt = 0;
    let pingTimer = null;
    let retryTimer = null;
    let staleTimer = null;
    let stopped = false;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;

    function touch() {
      clearTimeout(staleTimer);
      staleTimer = setTimeout(() => ws && ws.close(), STALE_MS);
    }

    function open() {
      clearTimeout(retryTimer);
      handlers.onState(attempt ? "reconnecting" : "connecting");
      try {
        ws = new WebSocket(url);
      } catch (_) {
        schedule();
        return;
      }
      ws.addEventListener("open", () => {
        const reconnected = attempt > 0;
        attempt = 0;
        handlers.onState("open");
        touch();
        clearInterval(pingTimer);
        pingTimer = setInterval(() => send({ type: "ping" }), PING_MS);
        if (handlers.onOpen) handlers.onOpen(reconnected);
      });
      ws.addEventListener("message", (event) => {
        touch();
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch (_) {
          return;
        }
        if (frame && typeof frame.type === "string") handlers.onFrame(frame);
      });
      ws.addEventListener("close", (event) => {
        clearInterval(pingTimer);
        clearTimeout(staleTimer);
        ws = null;
        if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
          stopped = true;
          handlers.onState("closed", event.code);
          return;
        }
        if (!stopped) schedule();
      });
    }

    function schedule() {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** attempt);
      const delay = Math.min(BACKOFF_MAX_MS, base * (0.75 + Math.random() * 0.5));
      attempt += 1;
      handlers.onState("reconnecting");
      retryTimer = setTimeout(open, delay);
    }

    function send(frame) {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    }

    function retryNow() {
      if (!stopped && !ws) open();
    }
    window.addEventListener("online", retryNow);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") retryNow();
    });

    open();
    return { send };
  }

  function showState(state) {
    for (const pill of document.querySelectorAll("[data-live-status]")) {
      pill.dataset.state = state;
      const text = pill.querySelector("[data-live-text]");
      const label = pill.dataset["text" + state.charAt(0).toUpperCase() + state.slice(1)];
      if (text && label) text.textContent = label;
    }
  }


  function fmt(template, params) {
    return String(template || "").replace(/%\((\w+)\)[sd]/g, (match, key) =>
      params && key in params ? String(params[key]) : match
    );
  }

  function cssId(value) {
    return String(value).replace(/["\\]/g, "");
  }

  window.Live = {
    socket: liveSocket,
    showState: showState,
    fmt: fmt,
    cssId: cssId,
    strings: (document.getElementById("page-strings") || { dataset: {} }).dataset,
    numberFormat: new Intl.NumberFormat(document.documentElement.lang || "en"),
    CLOSE_UNAUTHENTICATED: CLOSE_UNAUTHENTICATED,
    CLOSE_FORBIDDEN: CLOSE_FORBIDDEN,
  };
})();
