/* The expert's own pages: points statement (templates/points/statement.html) and
   reward shop (templates/rewards/shop.html). Plain JS, no build step.

   Needs frontend/live.js first. Connects to /ws/expert/ (docs/protocol.md) with
   Live.socket and keeps the page live:
     leaderboard  -> #leaderboard via window.Leaderboard.render (frontend/leaderboard.js)
     points       -> every [data-balance]; a new row in the statement; shop affordability
     stock        -> [data-stock-for="<product id>"] and the product card's state
     redemption   -> [data-redemption-status="<id>"] badge, tracking/reason, cancel button
   plus a countdown on [data-opens-at="ISO"] that reloads the page when a drop opens,
   and submit buttons that disable themselves (no double redeem/cancel).
   UI text comes translated from data attributes (#page-strings, #leaderboard).
   User data is always inserted with textContent. */
(function () {
  "use strict";

  const { CLOSE_UNAUTHENTICATED, socket: liveSocket, showState, fmt, cssId } = window.Live;
  const { strings: S, numberFormat, make, lang: LANG } = window.Live;
  const HOLDING = ["pending", "approved", "shipped", "delivered"];

  function plural(n, one, other) {
    return fmt(n === 1 ? one : other, { n: numberFormat.format(n) });
  }

  // ------------------------------------------------------------------ toasts

  let toastBox = null;
  function toast(text, kind) {
    if (!text) return;
    if (!toastBox) {
      toastBox = make("div", "toasts");
      toastBox.setAttribute("aria-live", "polite");
      toastBox.dataset.testid = "toasts";
      document.body.appendChild(toastBox);
    }
    const item = make("div", "toast" + (kind ? " toast--" + kind : ""), text);
    item.dataset.testid = "toast";
    toastBox.appendChild(item);
    while (toastBox.children.length > 3) toastBox.firstChild.remove();
    setTimeout(() => item.remove(), 6000);
  }

  // ------------------------------------------------------------------ leaderboard

  const board = document.getElementById("leaderboard");
  let wantedPeriod = "week";
  let socket = null;

  function onLeaderboard(frame) {
    if (!board || !window.Leaderboard) return;
    if (frame.period !== wantedPeriod) return; // an older period's update
    window.Leaderboard.render(board, frame, { onPeriod: choosePeriod });
  }

  function choosePeriod(period) {
    wantedPeriod = period;
    if (socket) socket.send({ type: "leaderboard.watch", period });
  }

  // ------------------------------------------------------------------ balance and shop cards

  function currentBalance() {
    const node = document.querySelector("[data-balance]");
    return node ? Number(node.dataset.balance) || 0 : 0;
  }

  function setBalance(balance) {
    for (const node of document.querySelectorAll("[data-balance]")) {
      if (node.dataset.balance === String(balance)) continue;
      node.dataset.balance = String(balance);
      node.textContent = numberFormat.format(balance);
      node.classList.remove("is-bumped");
      void node.offsetWidth; // restart the highlight animation
      node.classList.add("is-bumped");
    }
    refreshCards();
  }

  function cardState(card) {
    const cost = Number(card.dataset.cost) || 0;
    const stock = card.dataset.stock === "" ? null : Number(card.dataset.stock);
    const limitLeft = card.dataset.limitLeft === "" ? null : Number(card.dataset.limitLeft);
    const balance = currentBalance();
    return {
      upcoming: card.dataset.upcoming === "1",
      soldOut: stock === 0,
      limitReached: limitLeft === 0,
      need: Math.max(cost - balance, 0),
      cost,
      balance,
    };
  }

  function refreshCard(card) {
    const state = cardState(card);
    const blocked = state.upcoming || state.soldOut || state.limitReached;
    const open = !blocked && state.need === 0;
    card.classList.toggle("is-unavailable", !open);
    card.classList.toggle("is-sold-out", state.soldOut);
    const button = card.querySelector('[data-testid="redeem-submit"]');
    if (button && !button.dataset.busy) button.disabled = !open;
    const field = card.querySelector("[data-address-field]");
    if (field) field.hidden = !open;
    const need = card.querySelector("[data-need]");
    if (need) {
      need.hidden = blocked || state.need === 0;
      const text = need.querySelector("[data-need-text]");
      if (text && !need.hidden) text.textContent = plural(state.need, S.needOne, S.needOther);
      const bar = need.querySelector("[data-progress]");
      if (bar && state.cost) bar.style.width = Math.min(100, Math.round((100 * state.balance) / state.cost)) + "%";
    }
    const reached = card.querySelector("[data-limit-reached]");
    if (reached) reached.hidden = !state.limitReached;
  }

  function refreshCards() {
    for (const card of document.querySelectorAll('[data-testid="product-card"]')) refreshCard(card);
  }

  function productCard(productId) {
    return document.querySelector('[data-testid="product-card"][data-product-id="' + cssId(productId) + '"]');
  }

  function onStock(frame) {
    const stock = frame.stock === null || frame.stock === undefined ? null : Number(frame.stock);
    for (const node of document.querySelectorAll('[data-stock-for="' + cssId(frame.product) + '"]')) {
      node.textContent =
        stock === null ? S.stockUnlimited : stock === 0 ? S.stockSoldOut : fmt(S.stockLeft, { n: numberFormat.format(stock) });
      node.classList.toggle("is-out", stock === 0);
      node.classList.toggle("is-low", stock !== null && stock > 0 && stock <= 5);
    }
    const card = productCard(frame.product);
    if (!card) return;
    const before = card.dataset.stock;
    card.dataset.stock = stock === null ? "" : String(stock);
    const name = card.dataset.productName || "";
    if (stock === 0 && before !== "0") toast(fmt(S.toastSoldOut, { product: name }));
    if (before === "0" && stock !== 0) toast(fmt(S.toastBack, { product: name }), "accent");
    refreshCard(card);
  }

  // ------------------------------------------------------------------ statement rows

  const statement = document.querySelector("[data-statement]");

  // "22 Nov 2026, 20:13", like the server's "j M Y, H:i", in the page's time zone.
  function formatDate(date) {
    const options = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    const zone = statement && statement.dataset.timeZone;
    let parts;
    try {
      parts = new Intl.DateTimeFormat(LANG, zone ? { ...options, timeZone: zone } : options).formatToParts(date);
    } catch (_) {
      parts = new Intl.DateTimeFormat(LANG, options).formatToParts(date);
    }
    const part = (type) => (parts.find((p) => p.type === type) || { value: "" }).value;
    return part("day") + " " + part("month").replace(/\.$/, "") + " " + part("year") + ", " + part("hour") + ":" + part("minute");
  }

  function addStatementRow(balance, entry) {
    if (!statement || !entry) return;
    const rows = statement.querySelector("[data-statement-rows]");
    if (!rows || rows.querySelector('[data-entry-id="' + cssId(entry.id) + '"]')) return;
    const d = statement.dataset;
    const row = make("tr", "is-fresh");
    row.dataset.testid = "ledger-entry";
    row.dataset.entryId = String(entry.id);
    row.dataset.kind = entry.kind || "";

    const when = make("td", "num ledger__date");
    when.dataset.label = d.labelDate || "";
    const time = make("time", null, formatDate(entry.at ? new Date(entry.at) : new Date()));
    if (entry.at) time.dateTime = entry.at;
    when.appendChild(time);

    const what = make("td", "topic ledger__what");
    const line = make("div", "ledger__line");
    line.appendChild(make("span", "ledger__kind", entry.label || entry.kind));
    if (entry.conversation && d.chatUrl) {
      const link = make("a", "ledger__chat", (d.chatLabel || "") + " ");
      link.href = d.chatUrl.replace(/\/0\/$/, "/" + encodeURIComponent(entry.conversation) + "/");
      link.dataset.testid = "ledger-chat-link";
      const arrow = make("span", null, "→");
      arrow.setAttribute("aria-hidden", "true");
      link.appendChild(arrow);
      line.appendChild(link);
    }
    what.appendChild(line);
    if (entry.memo) {
      const memo = make("span", "ledger__memo", entry.memo);
      memo.title = entry.memo;
      what.appendChild(memo);
    }

    const amount = make("td", "num ledger__num");
    amount.dataset.label = d.labelPoints || "";
    const value = Number(entry.amount) || 0;
    const chip = make("span", "amount " + (value >= 0 ? "amount--plus" : "amount--minus"));
    chip.dataset.testid = "ledger-amount";
    chip.textContent = (value >= 0 ? "+" : "−") + numberFormat.format(Math.abs(value));
    amount.appendChild(chip);

    const running = make("td", "num ledger__num ledger__balance", numberFormat.format(balance));
    running.dataset.label = d.labelBalance || "";

    row.append(when, what, amount, running);
    rows.prepend(row);
    statement.hidden = false;
    const empty = document.querySelector("[data-statement-empty]");
    if (empty) empty.remove();
    const count = document.querySelector("[data-statement-count]");
    if (count && S.entriesOne) {  // all entries, not the rows of this page
      count.dataset.total = String(Number(count.dataset.total || 0) + 1);
      count.textContent = plural(Number(count.dataset.total), S.entriesOne, S.entriesOther);
    }
  }

  function onPoints(frame) {
    const balance = Number(frame.balance);
    if (!Number.isFinite(balance)) return;
    setBalance(balance);
    const entry = frame.entry;
    if (!entry) return;
    addStatementRow(balance, entry);
    const amount = Number(entry.amount) || 0;
    const template = amount >= 0 ? S.toastPointsPlus : S.toastPointsMinus;
    toast(fmt(template, { n: numberFormat.format(Math.abs(amount)), label: entry.label || "" }), amount >= 0 ? "accent" : null);
  }

  // ------------------------------------------------------------------ redemptions

  const redemptionList = document.querySelector("[data-redemption-list]");

  function setNote(root, selector, text) {
    const note = root.querySelector(selector);
    if (!note) return;
    const value = note.querySelector("[data-value]");
    if (value) value.textContent = text || "";
    note.hidden = !text;
  }

  function addRedemption(data) {
    const template = document.getElementById("redemption-template");
    if (!redemptionList || !template) return null;
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.redemptionId = String(data.id);
    item.dataset.productId = String(data.product);
    item.querySelector('[data-field="name"]').textContent = data.product_name || "";
    const points = item.querySelector('[data-field="points"]');
    points.textContent = fmt(points.dataset.template, { n: numberFormat.format(data.points || 0) });
    const badge = item.querySelector("[data-redemption-status]");
    badge.dataset.redemptionStatus = String(data.id);
    const form = item.querySelector("[data-cancel-form]");
    if (form) form.action = form.getAttribute("action").replace(/\/0\/cancel\/$/, "/" + data.id + "/cancel/");
    redemptionList.prepend(item);
    const empty = document.querySelector("[data-redemption-empty]");
    if (empty) empty.hidden = true;
    const count = document.querySelector("[data-redemption-count]");
    if (count) count.textContent = numberFormat.format(redemptionList.children.length);
    return item;
  }

  function onRedemption(frame) {
    const data = frame.redemption;
    if (!data) return;
    let badges = document.querySelectorAll('[data-redemption-status="' + cssId(data.id) + '"]');
    const previous = badges.length ? badges[0].dataset.status || null : null;
    if (!badges.length) {
      const item = addRedemption(data);
      if (item) badges = item.querySelectorAll("[data-redemption-status]");
    }
    if (previous === data.status) return;

    for (const badge of badges) {
      badge.className = badge.className.replace(/\bstatus--\w+/g, "").trim() + " status--" + data.status;
      badge.dataset.status = data.status;
      badge.textContent = data.status_label || data.status;
      const item = badge.closest('[data-testid="my-redemption"]');
      if (!item) continue;
      setNote(item, "[data-redemption-tracking]", data.tracking);
      setNote(item, "[data-redemption-reason]", data.status === "rejected" ? data.reason : "");
      const cancel = item.querySelector("[data-cancel-form]");
      if (cancel && data.status !== "pending") cancel.remove();
      item.classList.remove("is-fresh");
      void item.offsetWidth;
      item.classList.add("is-fresh");
    }

    // Per-expert limits count the redemptions that hold a unit.
    const card = productCard(data.product);
    if (card && card.dataset.limitLeft !== "") {
      const isHolding = HOLDING.includes(data.status);
      // Unknown before: a new order (pending) takes a unit; otherwise assume no change.
      const wasHolding =
        previous !== null ? HOLDING.includes(previous) : data.status === "pending" ? false : isHolding;
      if (wasHolding !== isHolding) {
        const left = Math.max((Number(card.dataset.limitLeft) || 0) + (isHolding ? -1 : 1), 0);
        card.dataset.limitLeft = String(left);
        refreshCard(card);
      }
    }

    // A status change (also on pages without the list); not the expert's own new order.
    if (previous !== null || data.status !== "pending") {
      const kind = data.status === "rejected" ? "error" : "accent";
      toast(fmt(S.toastStatus, { product: data.product_name || "", status: data.status_label || data.status }), kind);
    }
  }

  // ------------------------------------------------------------------ countdowns

  const nowNode = document.querySelector("[data-server-now]");
  const serverNow = nowNode ? Date.parse(nowNode.dataset.serverNow) : NaN;
  const clockSkew = Number.isFinite(serverNow) ? serverNow - Date.now() : 0;

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function countdownText(ms) {
    const total = Math.max(Math.ceil(ms / 1000), 0);
    const days = Math.floor(total / 86400);
    const hms = pad(Math.floor((total % 86400) / 3600)) + ":" + pad(Math.floor((total % 3600) / 60)) + ":" + pad(total % 60);
    return days ? fmt(S.days || "%(n)sd", { n: days }) + " " + hms : hms;
  }

  function startCountdowns() {
    const nodes = Array.from(document.querySelectorAll("[data-opens-at]"));
    if (!nodes.length) return;
    let reloading = false;
    function tick() {
      const now = Date.now() + clockSkew;
      for (const node of nodes) {
        const at = Date.parse(node.dataset.opensAt);
        if (!Number.isFinite(at)) continue;
        const left = at - now;
        if (left > 0) {
          node.textContent = fmt(S.opensIn, { time: countdownText(left) });
          continue;
        }
        node.textContent = S.opening || "";
        // Reload once the server is past the opening time too; guard against a loop
        // when the server clock is behind ours.
        const key = "drop-reload:" + node.dataset.opensAt;
        const last = Number(sessionStorage.getItem(key)) || 0;
        if (!reloading && Date.now() - last > 15000) {
          reloading = true;
          sessionStorage.setItem(key, String(Date.now()));
          setTimeout(() => location.reload(), 800);
        }
      }
    }
    tick();
    setInterval(tick, 1000);
  }

  // ------------------------------------------------------------------ forms

  function guardForms() {
    window.Live.oneSubmitPerForm(
      (form) => form.matches("[data-redeem-form], [data-cancel-form]"),
      (form) => (form.matches("[data-redeem-form]") ? S.redeeming : S.cancelling),
    );
  }

  // ------------------------------------------------------------------ start

  function onFrame(frame) {
    switch (frame.type) {
      case "leaderboard":
        onLeaderboard(frame);
        break;
      case "points":
        onPoints(frame);
        break;
      case "stock":
        onStock(frame);
        break;
      case "redemption":
        onRedemption(frame);
        break;
      default:
        break; // pong, error and anything newer
    }
  }

  function onState(state, code) {
    showState(state);
    if (state === "closed") toast(code === CLOSE_UNAUTHENTICATED ? S.sessionEnded : S.forbidden, "error");
  }

  function onOpen() {
    // The server starts every socket on "week"; ask again for the chosen period.
    if (wantedPeriod !== "week") socket.send({ type: "leaderboard.watch", period: wantedPeriod });
  }

  if (board && window.Leaderboard) window.Leaderboard.render(board, null, { onPeriod: choosePeriod });
  guardForms();
  startCountdowns();
  socket = liveSocket("/ws/expert/", { onFrame, onState, onOpen });
})();
