/* Live staff pages: the leaderboard (templates/points/staff_leaderboard.html) and
   the redemption queue (templates/rewards/staff_queue.html). Plain JS.

   Connects to /ws/staff/ (docs/protocol.md):
     leaderboard -> #leaderboard via window.Leaderboard.render (frontend/leaderboard.js)
     redemption  -> the row's badge [data-redemption-status="<id>"], its notes and the
                    actions that still apply; a banner for redemptions not on the page.
   Other staff frames are ignored. On the queue it also drives "select all", the
   selected count and auto-submitting filters. User data goes in with textContent. */
(function () {
  "use strict";

  const PING_MS = 20000;
  const STALE_MS = 50000;
  const BACKOFF_START_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const CLOSE_UNAUTHENTICATED = 4401;
  const CLOSE_FORBIDDEN = 4403;
  const FORGET_ADDRESS = ["delivered", "rejected", "cancelled", "expired"];

  const LANG = document.documentElement.lang || "en";
  const numberFormat = new Intl.NumberFormat(LANG);
  const S = (document.getElementById("page-strings") || { dataset: {} }).dataset;

  function fmt(template, params) {
    return String(template || "").replace(/%\((\w+)\)[sd]/g, (match, key) =>
      params && key in params ? String(params[key]) : match
    );
  }

  function cssId(value) {
    return String(value).replace(/["\\]/g, "");
  }

  // ------------------------------------------------------------------ socket

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

  // ------------------------------------------------------------------ leaderboard

  const board = document.getElementById("leaderboard");
  let wantedPeriod = "week";
  let socket = null;

  function choosePeriod(period) {
    wantedPeriod = period;
    if (socket) socket.send({ type: "leaderboard.watch", period });
  }

  function onLeaderboard(frame) {
    if (!board || !window.Leaderboard || frame.period !== wantedPeriod) return;
    window.Leaderboard.render(board, frame, { onPeriod: choosePeriod });
  }

  // ------------------------------------------------------------------ redemption queue

  const queue = document.querySelector("[data-queue]");
  const bulkForm = document.getElementById("bulk-form");
  const unseen = new Set();

  function boxes() {
    return Array.from(document.querySelectorAll('input[data-testid="select-redemption"]'));
  }

  function syncSelection() {
    if (!bulkForm) return;
    const all = boxes().filter((box) => !box.disabled);
    const chosen = all.filter((box) => box.checked);
    const button = bulkForm.querySelector("[data-bulk-approve]");
    if (button) button.disabled = chosen.length === 0;
    const count = bulkForm.querySelector("[data-selected-count]");
    if (count) {
      count.hidden = chosen.length === 0;
      count.textContent = fmt(count.dataset.template, { n: numberFormat.format(chosen.length) });
    }
    const selectAll = document.querySelector("[data-select-all]");
    if (selectAll) {
      selectAll.hidden = all.length === 0;
      selectAll.checked = all.length > 0 && chosen.length === all.length;
      selectAll.indeterminate = chosen.length > 0 && chosen.length < all.length;
    }
    for (const box of boxes()) {
      const row = box.closest("tr");
      if (row) row.classList.toggle("is-selected", box.checked);
    }
  }

  function setupQueue() {
    if (!queue) return;
    document.addEventListener("change", (event) => {
      const target = event.target;
      if (target.matches("[data-select-all]")) {
        for (const box of boxes()) if (!box.disabled) box.checked = target.checked;
        syncSelection();
      } else if (target.matches('input[data-testid="select-redemption"]')) {
        syncSelection();
      } else if (target.matches("[data-filters] select")) {
        target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
      }
    });
    // One click per action: disable the button once the form is on its way.
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (form.matches("[data-filters]")) return;
      const button = event.submitter || form.querySelector('button[type="submit"]');
      if (!button) return;
      if (button.dataset.busy) {
        event.preventDefault();
        return;
      }
      button.dataset.busy = "1";
      setTimeout(() => {
        button.disabled = true;
      }, 0);
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) location.reload();
    });
    syncSelection();
  }

  function setNote(root, selector, text) {
    const note = root.querySelector(selector);
    if (!note) return;
    const value = note.querySelector("[data-value]");
    if (value) value.textContent = text || "";
    note.hidden = !text;
  }

  function replaceActions(row, status) {
    const cell = row.querySelector("[data-actions]");
    if (!cell) return;
    const template =
      document.getElementById("act-" + status) || document.getElementById("act-closed");
    if (!template) return;
    const id = row.dataset.redemptionId;
    const content = template.content.cloneNode(true);
    for (const input of content.querySelectorAll('input[name="redemption"]')) input.value = id;
    cell.replaceChildren(content);
  }

  function onRedemption(frame) {
    const data = frame.redemption;
    if (!data) return;
    const badges = document.querySelectorAll('[data-redemption-status="' + cssId(data.id) + '"]');
    if (!badges.length) {
      // Not on this page (new, or filtered out): offer a refresh for new pending ones.
      if (queue && data.status === "pending") {
        unseen.add(data.id);
        const banner = document.querySelector("[data-new-banner]");
        const text = banner && banner.querySelector("[data-new-text]");
        if (banner && text) {
          text.textContent = fmt(unseen.size === 1 ? text.dataset.one : text.dataset.other, {
            n: numberFormat.format(unseen.size),
          });
          banner.hidden = false;
        }
      }
      return;
    }
    for (const badge of badges) {
      const previous = badge.dataset.status;
      badge.className = badge.className.replace(/\bstatus--\w+/g, "").trim() + " status--" + data.status;
      badge.dataset.status = data.status;
      badge.textContent = data.status_label || data.status;
      const row = badge.closest('[data-testid="redemption-row"]');
      if (!row) continue;
      row.dataset.status = data.status;
      if (FORGET_ADDRESS.includes(data.status)) {
        // The server forgets the address with these statuses.
        const address = row.querySelector('[data-testid="row-address"]');
        if (address) address.remove();
        const removed = row.querySelector("[data-address-removed]");
        if (removed) removed.hidden = false;
      }
      setNote(row, "[data-redemption-tracking]", data.tracking);
      setNote(row, "[data-redemption-reason]", data.reason);
      if (previous !== data.status) {
        if (data.status !== "pending") {
          const box = row.querySelector('input[data-testid="select-redemption"]');
          if (box) box.remove();
        }
        replaceActions(row, data.status);
        row.classList.remove("is-fresh");
        void row.offsetWidth;
        row.classList.add("is-fresh");
      }
    }
    syncSelection();
  }

  // ------------------------------------------------------------------ start

  function onFrame(frame) {
    if (frame.type === "leaderboard") onLeaderboard(frame);
    else if (frame.type === "redemption") onRedemption(frame);
  }

  function onState(state, code) {
    showState(state);
    if (state === "closed" && code === CLOSE_UNAUTHENTICATED && S.sessionEnded) {
      const pill = document.querySelector("[data-live-status] [data-live-text]");
      if (pill) pill.textContent = S.sessionEnded;
    }
  }

  function onOpen() {
    if (wantedPeriod !== "week") socket.send({ type: "leaderboard.watch", period: wantedPeriod });
  }

  if (board && window.Leaderboard) window.Leaderboard.render(board, null, { onPeriod: choosePeriod });
  setupQueue();
  socket = liveSocket("/ws/staff/", { onFrame, onState, onOpen });
})();
