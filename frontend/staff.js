/* Live staff pages: the leaderboard (templates/points/staff_leaderboard.html) and
   the redemption queue (templates/rewards/staff_queue.html). Plain JS.

   Needs frontend/live.js first. Connects to /ws/staff/ (docs/protocol.md) with
   Live.socket:
     leaderboard -> #leaderboard via window.Leaderboard.render (frontend/leaderboard.js)
     redemption  -> the row as the server renders it now (GET .../<id>/row/), put in
                    place of the old one, or added if the page's filters list it.
   Other staff frames are ignored. On the queue it also drives "select all", the
   selected count and auto-submitting filters. User data goes in with textContent. */
(function () {
  "use strict";

  const { CLOSE_UNAUTHENTICATED, socket: liveSocket, showState, fmt, cssId } = window.Live;
  const { strings: S, numberFormat } = window.Live;

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
    window.Live.oneSubmitPerForm((form) => !form.matches("[data-filters]"));
    syncSelection();
  }

  // The server renders the row, with the actions that still apply; this page only
  // puts it in place. Rows stay in creation order, so a new one goes last.
  const rows = queue && queue.querySelector("[data-rows]");
  const latestRequest = new Map();

  async function fetchRow(id) {
    const ticket = (latestRequest.get(id) || 0) + 1;
    latestRequest.set(id, ticket);
    const url = queue.dataset.rowUrl.replace(/\/0\/row\/$/, "/" + id + "/row/") + "?" + queue.dataset.filter;
    let html;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return null;
      html = await response.text();
    } catch (error) {
      return null;
    }
    if (latestRequest.get(id) !== ticket) return null; // a newer answer is on its way
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content.querySelector('[data-testid="redemption-row"]');
  }

  async function onRedemption(frame) {
    const data = frame.redemption;
    if (!data || !rows) return;
    const fresh = await fetchRow(data.id);
    if (!fresh) return;
    const current = rows.querySelector('[data-redemption-id="' + cssId(data.id) + '"]');
    if (current) {
      const wasChecked = current.querySelector('input[data-testid="select-redemption"]:checked');
      const box = fresh.querySelector('input[data-testid="select-redemption"]');
      if (wasChecked && box) box.checked = true;
      current.replaceWith(fresh);
    } else if (fresh.dataset.listed === "1") {
      rows.append(fresh);
      const count = queue.querySelector("[data-row-count]");
      if (count) count.textContent = numberFormat.format(rows.children.length);
      queue.querySelector(".table-wrap").hidden = false;
      const empty = queue.querySelector('[data-testid="queue-empty"]');
      if (empty) empty.hidden = true;
    } else {
      return;
    }
    fresh.classList.add("is-fresh");
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
