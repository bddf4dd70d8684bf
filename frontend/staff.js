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

  const { CLOSE_UNAUTHENTICATED, socket: liveSocket, showState, fmt, cssId } = window.Live;
  const { strings: S, numberFormat } = window.Live;
  const FORGET_ADDRESS = ["delivered", "rejected", "cancelled", "expired"];

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
