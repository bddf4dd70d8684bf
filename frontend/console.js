/* Expert console (templates/console.html). Plain JS, no framework, no build step.
   The follow-up form on a past chat is frontend/followup-form.js.

   Needs frontend/live.js first (window.Live): the console's /ws/console/ socket
   is Live.socket (reconnects, pings with the server's heartbeat_seconds from
   `welcome` and the shift version shown, stops on 4401/4403), and the small
   helpers (fmt, make, byRole, autogrow, randomId, clockTime, toast) are Live's.
   resume, message.send, chat.resolve and chat.transfer go out with
   socket.request, and an `error` is matched to its request by that id.

   The WebSocket contract is docs/protocol.md. Every piece of user text is put
   into the page with textContent, never as HTML. UI strings come translated
   from the server: the console reads them from the #console-strings JSON
   (built in community/views.py). */
(function () {
  "use strict";

  const { fmt, make, byRole, autogrow, randomId, clockTime, charCount, numberFormat } = window.Live;
  const HEARTBEAT_MS = 5000; // ping interval until `welcome` gives the server's (it renews the lease)
  const TYPING_IDLE_MS = 3000; // stop "typing" this long after the last keystroke
  const TYPING_REFRESH_MS = 4000; // re-send typing:true at most this often
  const TYPING_SHOW_MS = 7000; // hide the customer's indicator if no update arrives
  const SUMMARY_MAX = 1000;

  // ------------------------------------------------------------------ sound

  let audioContext = null;

  function audio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audioContext) audioContext = new Context();
    if (audioContext.state === "suspended") audioContext.resume().catch(() => {});
    return audioContext;
  }

  /* A short two-note chime, generated on the spot (no audio files). */
  function chime() {
    const ctx = audio();
    if (!ctx) return;
    const start = ctx.currentTime + 0.02;
    [
      [659.25, 0],
      [987.77, 0.13],
    ].forEach(([frequency, offset]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.14, start + offset + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.32);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + offset);
      osc.stop(start + offset + 0.35);
    });
  }

  // ------------------------------------------------------------------ console

  function initConsole(root) {
    const S = JSON.parse(document.getElementById("console-strings").textContent);
    const paneTemplate = document.getElementById("pane-template");
    const emptyTemplate = document.getElementById("empty-template");
    const panesEl = root.querySelector('[data-testid="panes"]');
    const tabsEl = root.querySelector('[data-testid="pane-tabs"]');
    const shiftToggle = root.querySelector('[data-testid="shift-toggle"]');
    const shiftText = byRole(shiftToggle, "shift-text");
    const loadText = byRole(root, "load-text");
    const loadBar = byRole(root, "load-bar");
    const conn = root.querySelector('[data-testid="connection-status"]');
    const connText = byRole(conn, "conn-text");
    const banner = root.querySelector('[data-testid="reconnect-banner"]');
    const retryIn = byRole(banner, "retry-in");
    const fatal = root.querySelector('[data-testid="fatal-banner"]');
    const soundToggle = root.querySelector('[data-testid="sound-toggle"]');
    const toasts = root.querySelector('[data-testid="toasts"]');
    const pastList = byRole(root, "past-list");
    const pastUrl = root.dataset.pastUrl || "";
    const baseTitle = document.title;

    const state = {
      me: null,
      onShift: false,
      shiftBusy: false,
      maxChats: Number(root.dataset.maxChats) || 3,
      maxLength: 4000,
      connected: false, // welcome received on the current socket
      everConnected: false,
      chats: new Map(), // conversation id -> chat
      order: [], // conversation ids in slot order
      active: null, // conversation shown on phone
      resolveFor: null, // conversation whose resolve sheet is open
      transferFor: null, // conversation whose transfer sheet is open
      inflight: new Map(), // request id -> {ref, chat, clientId}: what an `error` with that id refuses
      sound: false,
    };
    try {
      state.sound = localStorage.getItem("console.sound") === "on";
    } catch (_) {
      /* storage blocked */
    }

    // -------------------------------------------------------------- requests

    /* Sends a frame with an id and notes what it was for, so that an `error`
       naming that id is shown against it. Returns the id, or null when offline. */
    function request(frame, extra) {
      const id = socket.request(frame);
      if (id) state.inflight.set(id, { ref: frame.type, chat: frame.conversation, ...extra });
      return id;
    }

    /* Forget the requests that were answered (ack, history, chat.removed). */
    function settle(answered) {
      state.inflight.forEach((sent, id) => {
        if (answered(sent)) state.inflight.delete(id);
      });
    }

    // -------------------------------------------------------------- ui bits

    function toast(text, kind) {
      Live.toast(toasts, text, kind);
    }

    function windowActive() {
      return document.visibilityState === "visible" && document.hasFocus();
    }

    function paneVisible(chat) {
      return chat.el.offsetParent !== null;
    }

    function updateTitle() {
      let count = 0;
      state.chats.forEach((chat) => {
        if (chat.attention) count += 1;
      });
      document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
    }

    function renderShift() {
      shiftToggle.setAttribute("aria-checked", state.onShift ? "true" : "false");
      shiftToggle.setAttribute("aria-busy", state.shiftBusy ? "true" : "false");
      shiftToggle.disabled = !state.connected;
      shiftText.textContent = state.onShift ? S.on_shift : S.off_shift;
    }

    function renderLoad() {
      const open = state.chats.size;
      loadText.textContent = fmt(S.load, { open: open, max: state.maxChats });
      loadBar.replaceChildren();
      for (let i = 0; i < Math.max(state.maxChats, open); i += 1) {
        loadBar.appendChild(make("i", i < open ? "is-on" : ""));
      }
    }

    function renderSound() {
      soundToggle.setAttribute("aria-pressed", state.sound ? "true" : "false");
    }

    function handleSocketState(name, code, info) {
      conn.dataset.state = name === "open" && !state.connected ? "connecting" : name;
      if (name === "reconnecting" || name === "closed" || name === "connecting") {
        if (state.connected) onDisconnected();
      }
      if (name === "connecting") connText.textContent = S.connecting;
      if (name === "reconnecting") {
        connText.textContent = S.reconnecting;
        banner.hidden = false;
        updateRetryCountdown(info && info.retryAt);
      }
      if (name === "closed") {
        banner.hidden = true;
        conn.dataset.state = "closed";
        connText.textContent = "—";
        fatal.hidden = false;
        showClosed(code === Live.CLOSE_FORBIDDEN ? S.forbidden : S.signed_out);
        renderShift();
        renderSlots();
      }
    }

    // A suspension says since when and whom to ask, instead of "log in".
    function showClosed(text) {
      const suspension = state.suspension;
      const contact = byRole(fatal, "fatal-contact");
      byRole(fatal, "fatal-text").textContent = suspension
        ? fmt(S.suspended, { since: suspension.since_text }) + " " +
          (suspension.contact ? S.suspended_contact : S.suspended_ask_staff)
        : text;
      contact.hidden = !(suspension && suspension.contact);
      if (!contact.hidden) {
        contact.href = "mailto:" + suspension.contact;
        contact.textContent = suspension.contact;
      }
      byRole(fatal, "fatal-login").hidden = !!suspension;
    }

    let countdownTimer = null;
    function updateRetryCountdown(retryAt) {
      clearInterval(countdownTimer);
      if (!retryAt) {
        retryIn.textContent = S.retrying;
        return;
      }
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
        retryIn.textContent = seconds > 0 ? fmt(S.retry_in, { seconds: seconds }) : S.retrying;
        if (seconds <= 0) clearInterval(countdownTimer);
      };
      tick();
      countdownTimer = setInterval(tick, 1000);
    }

    function onDisconnected() {
      state.connected = false;
      state.shiftBusy = false;
      state.inflight.clear();
      state.chats.forEach((chat) => {
        chat.followed = false;
        chat.typingOn = false;
        clearTimeout(chat.typingIdle);
        showTyping(chat, false);
        if (chat.resolving) setResolveBusy(chat, false);
      });
      renderShift();
    }

    // -------------------------------------------------------------- slots & tabs

    function renderWaiting(count) {
      const text = document.querySelector('[data-role="waiting-text"]');
      if (text && typeof count === "number") text.textContent = fmt(S.waiting, { count: count });
    }

    function renderSlots() {
      const firstEmpty = () => panesEl.querySelector(".pane--empty");
      state.order.forEach((id) => {
        const chat = state.chats.get(id);
        if (chat.el.parentNode !== panesEl) panesEl.insertBefore(chat.el, firstEmpty());
      });
      const wanted = Math.max(0, state.maxChats - state.chats.size);
      let empties = panesEl.querySelectorAll(".pane--empty");
      for (let i = empties.length; i < wanted; i += 1) {
        panesEl.appendChild(emptyTemplate.content.firstElementChild.cloneNode(true));
      }
      empties = panesEl.querySelectorAll(".pane--empty");
      for (let i = wanted; i < empties.length; i += 1) empties[i].remove();

      let mode = "off";
      let title = S.off_title;
      let hint = S.off_hint;
      if (!state.connected && !state.everConnected) {
        mode = "offline";
        title = S.connecting;
        hint = S.offline_hint;
      } else if (state.onShift) {
        mode = "waiting";
        title = S.waiting_title;
        hint = S.waiting_hint;
      }
      panesEl.querySelectorAll(".pane--empty").forEach((slot, index) => {
        slot.dataset.mode = mode;
        byRole(slot, "empty-title").textContent = title;
        byRole(slot, "empty-hint").textContent = hint;
        slot.classList.toggle("is-active", index === 0 && state.chats.size === 0);
        const cta = byRole(slot, "empty-cta");
        cta.hidden = !(mode === "off" && index === 0 && state.connected);
        cta.disabled = state.shiftBusy;
        if (cta.hidden) cta.removeAttribute("data-testid");
        else cta.dataset.testid = "empty-go-on-shift";
      });
      panesEl.style.setProperty("--slots", String(Math.max(state.maxChats, state.chats.size)));

      if (state.active === null || !state.chats.has(state.active)) {
        state.active = state.order.length ? state.order[0] : null;
      }
      state.chats.forEach((chat, id) => chat.el.classList.toggle("is-active", id === state.active));
      renderTabs();
      renderLoad();
    }

    function renderTabs() {
      const hadFocus = tabsEl.contains(document.activeElement); // keep it across a redraw
      tabsEl.replaceChildren();
      tabsEl.hidden = state.chats.size === 0;
      state.order.forEach((id) => {
        const chat = state.chats.get(id);
        const tab = make("button", "pane-tab");
        tab.type = "button";
        tab.setAttribute("role", "tab");
        tab.dataset.testid = "pane-tab";
        tab.dataset.conversationId = String(id);
        tab.setAttribute("aria-selected", id === state.active ? "true" : "false");
        tab.tabIndex = id === state.active ? 0 : -1; // one tab stop; arrows move between tabs
        tab.id = "pane-tab-" + id;
        chat.el.setAttribute("role", "tabpanel");
        chat.el.setAttribute("aria-labelledby", tab.id);
        tab.classList.toggle("is-new", chat.attention === "new");
        tab.appendChild(make("span", "", customerName(chat)));
        if (chat.attention) tab.appendChild(make("span", "pane-tab__dot"));
        tab.addEventListener("click", () => {
          state.active = id;
          renderSlots();
          if (chat.stickToBottom) scrollToBottom(chat, true);
          acknowledge(chat);
        });
        tabsEl.appendChild(tab);
      });
      if (hadFocus) focusActiveTab();
    }

    tabsEl.addEventListener("keydown", (event) => {
      const keys = { ArrowLeft: -1, ArrowRight: 1, Home: "first", End: "last" };
      if (!(event.key in keys) || !state.order.length) return;
      event.preventDefault();
      const at = state.order.indexOf(state.active);
      const step = keys[event.key];
      const next = step === "first" ? 0 : step === "last" ? state.order.length - 1
        : (at + step + state.order.length) % state.order.length;
      state.active = state.order[next];
      renderSlots(); // draws the tabs afresh, focus on the new one
    });

    function focusActiveTab() {
      tabsEl.querySelector(`[data-conversation-id="${state.active}"]`)?.focus();
    }

    // -------------------------------------------------------------- chats

    function customerName(chat) {
      const name = chat.snap && chat.snap.customer && chat.snap.customer.name;
      return name || S.customer;
    }

    function createChat(snapshot) {
      const el = paneTemplate.content.firstElementChild.cloneNode(true);
      const chat = {
        id: snapshot.id,
        snap: snapshot,
        el: el,
        r: {},
        seqs: new Set(),
        lastSeq: 0, // highest seq received in message/history frames
        pending: new Map(), // client_id -> {body, el, status}
        readSent: snapshot.expert_read_seq || 0,
        deliveredSent: snapshot.expert_read_seq || 0,
        customerRead: snapshot.customer_read_seq || 0,
        customerDelivered: 0,
        attention: null,
        followed: false,
        stickToBottom: true, // follow new messages unless the expert scrolled up
        typingOn: false,
        typingAt: 0,
        typingIdle: null,
        typingHide: null,
        resolving: false,
        summaryDraft: "",
        transferName: null,
      };
      [
        "avatar", "customer", "topic", "new-badge", "transfer", "resolve", "left", "gone", "scroll",
        "messages", "jump", "typing", "typing-text", "composer", "input", "input-label", "send",
        "error", "count",
      ].forEach((name) => {
        chat.r[name] = byRole(el, name);
      });
      el.dataset.conversationId = String(snapshot.id);
      const inputId = "composer-" + snapshot.id;
      chat.r.input.id = inputId;
      chat.r["input-label"].htmlFor = inputId;
      wireChat(chat);
      updateChat(chat, snapshot);
      return chat;
    }

    function updateChat(chat, snapshot) {
      chat.snap = snapshot;
      const name = customerName(chat);
      chat.r.customer.textContent = name;
      chat.r.topic.textContent = snapshot.topic || "";
      chat.r.topic.title = snapshot.topic || "";
      chat.r.avatar.textContent = Live.initials(name, 1);
      chat.el.setAttribute("aria-label", name + ": " + (snapshot.topic || ""));
      chat.r.left.hidden = !snapshot.customer_left;
      chat.r.gone.hidden = snapshot.customer_left || !snapshot.customer_gone;
      chat.el.classList.toggle("has-left", !!(snapshot.customer_left || snapshot.customer_gone));
      if (snapshot.customer_read_seq > chat.customerRead) {
        chat.customerRead = snapshot.customer_read_seq;
        updateStatuses(chat);
      }
    }

    function ensureChat(snapshot) {
      let chat = state.chats.get(snapshot.id);
      if (chat) {
        updateChat(chat, snapshot);
      } else {
        chat = createChat(snapshot);
        state.chats.set(snapshot.id, chat);
        state.order.push(snapshot.id);
      }
      return chat;
    }

    function removeChat(chat) {
      clearTimeout(chat.typingIdle);
      clearTimeout(chat.typingHide);
      if (state.resolveFor === chat.id) closeResolve(true);
      if (state.transferFor === chat.id) closeTransfer();
      chat.el.remove();
      state.chats.delete(chat.id);
      state.order = state.order.filter((id) => id !== chat.id);
      if (state.active === chat.id) state.active = null;
      renderSlots();
      updateTitle();
    }

    function setAttention(chat, kind) {
      if (kind === "unread" && chat.attention === "new") return;
      chat.attention = kind;
      chat.el.classList.toggle("is-new", kind === "new");
      chat.el.classList.toggle("is-unread", kind === "unread");
      chat.r["new-badge"].hidden = kind !== "new";
      renderTabs();
      updateTitle();
    }

    /* The expert looked at or touched the pane. */
    function acknowledge(chat) {
      if (chat.attention) {
        chat.attention = null;
        chat.el.classList.remove("is-new", "is-unread");
        chat.r["new-badge"].hidden = true;
        renderTabs();
        updateTitle();
      }
      sendRead(chat);
    }

    // -------------------------------------------------------------- messages

    function statusInfo(status) {
      switch (status) {
        case "pending":
          return ["…", S.sending];
        case "read":
          return ["✓✓", S.read];
        case "delivered":
          return ["✓", S.delivered];
        case "failed":
          return ["!", S.not_sent];
        default:
          return ["✓", S.sent];
      }
    }

    function setStatus(li, status) {
      if (li.dataset.status === status) return;
      li.dataset.status = status;
      const mark = li.querySelector('[data-testid="message-status"]');
      if (!mark) return;
      const [symbol, label] = statusInfo(status);
      mark.textContent = symbol;
      mark.title = label;
      mark.setAttribute("aria-label", label);
    }

    function renderMessage(message, pending) {
      const original = ["customer", "expert", "staff", "system"].includes(message.sender) ? message.sender : "system";
      // Notes only experts read (staff whispers, a colleague's handover note) look alike.
      const sender = message.whisper ? "staff" : original;
      const li = make("li", "msg msg--" + sender);
      li.dataset.testid = "message";
      li.dataset.sender = sender;
      if (message.seq) li.dataset.seq = String(message.seq);
      const bubble = make("div", "msg__bubble", message.body);
      bubble.dataset.testid = "message-body";
      li.appendChild(bubble);
      if (message.hidden) markRemoved(li);
      if (sender !== "system") {
        const meta = make("div", "msg__meta");
        if (sender === "expert" && message.author && state.me && message.author !== state.me.name) {
          meta.appendChild(make("span", "msg__author", message.author));
        }
        if (sender === "staff") {  // a whisper only you see, or a team member's reply
          const label = original === "expert" ? S.note_from : message.whisper ? S.whisper_from : S.staff_from;
          meta.appendChild(make("span", "msg__author", fmt(label, { name: message.author || "" })));
        }
        const time = make("time", "", clockTime(message.at || Date.now()));
        if (message.at) time.dateTime = message.at;
        meta.appendChild(time);
        if (sender === "expert") {
          const mark = make("span", "msg__status");
          mark.dataset.testid = "message-status";
          meta.appendChild(mark);
        }
        li.appendChild(meta);
      }
      if (sender === "expert") setStatus(li, pending ? "pending" : "sent");
      return li;
    }

    /* Staff hid it: the expert still reads it, marked, and knows the customer does not. */
    function markRemoved(li) {
      if (li.classList.contains("is-hidden")) return;
      li.classList.add("is-hidden");
      const note = make("div", "msg__removed", S.message_removed);
      note.dataset.testid = "message-removed";
      li.insertBefore(note, li.querySelector(".msg__meta"));
    }

    function insertBySeq(chat, li, seq) {
      const list = chat.r.messages;
      for (const child of list.children) {
        const childSeq = Number(child.dataset.seq || 0);
        if (!childSeq || childSeq > seq) {
          list.insertBefore(li, child);
          return;
        }
      }
      list.appendChild(li);
      const count = document.querySelector('[data-role="followup-count"]');
      if (count) count.textContent = String(list.querySelectorAll('[data-testid="followup-item"]').length);
    }

    function expertStatus(chat, seq) {
      if (seq <= chat.customerRead) return "read";
      if (seq <= chat.customerDelivered) return "delivered";
      return "sent";
    }

    function updateStatuses(chat) {
      chat.r.messages.querySelectorAll('.msg--expert[data-seq]').forEach((li) => {
        setStatus(li, expertStatus(chat, Number(li.dataset.seq)));
      });
    }

    /* Returns true when the message is new to this pane. */
    function addMessage(chat, message) {
      if (typeof message.seq !== "number") return false;
      chat.lastSeq = Math.max(chat.lastSeq, message.seq);
      if (chat.seqs.has(message.seq)) return false;
      chat.seqs.add(message.seq);
      const li = renderMessage(message, false);
      insertBySeq(chat, li, message.seq);
      if (message.sender === "expert") setStatus(li, expertStatus(chat, message.seq));
      return true;
    }

    function nearBottom(chat) {
      if (!paneVisible(chat)) return chat.stickToBottom; // hidden tab: nothing to measure
      return Live.nearBottom(chat.r.scroll);
    }

    function scrollToBottom(chat, instant) {
      Live.scrollToBottom(chat.r.scroll, instant);
      chat.r.jump.hidden = true;
      chat.stickToBottom = true;
    }

    function afterIncoming(chat, added, wasNearBottom, initial) {
      if (!added.length) return;
      const customer = added.filter((m) => m.sender === "customer");
      if (customer.length && !initial) announce(fmt(S.new_message, { name: customerName(chat) }) + " " + customer[customer.length - 1].body);
      if (customer.length) {
        showTyping(chat, false);
        const top = customer[customer.length - 1].seq;
        if (top > chat.deliveredSent && chat.followed) {
          chat.deliveredSent = top;
          socket.send({ type: "receipt", conversation: chat.id, seq: top, status: "delivered" });
        }
      }
      if (initial || wasNearBottom) scrollToBottom(chat, initial);
      else chat.r.jump.hidden = false;
      if (paneVisible(chat) && windowActive()) {
        sendRead(chat);
      } else if (customer.some((m) => m.seq > chat.readSent)) {
        setAttention(chat, "unread");
      }
    }

    function announce(text) {
      const region = document.querySelector('[data-role="announcer"]');
      if (region) region.textContent = text;
    }

    function sendRead(chat) {
      if (!chat.followed || !state.connected) return;
      if (!paneVisible(chat) || !windowActive()) return;
      if (chat.attention === "unread") {
        chat.attention = null;
        chat.el.classList.remove("is-unread");
        renderTabs();
        updateTitle();
      }
      if (chat.lastSeq > chat.readSent) {
        chat.readSent = chat.lastSeq;
        socket.send({ type: "receipt", conversation: chat.id, seq: chat.lastSeq, status: "read" });
      }
    }

    function showTyping(chat, active) {
      clearTimeout(chat.typingHide);
      chat.r.typing.hidden = !active;
      if (active) {
        chat.r["typing-text"].textContent = fmt(S.typing, { name: customerName(chat) });
        chat.typingHide = setTimeout(() => {
          chat.r.typing.hidden = true;
        }, TYPING_SHOW_MS);
      }
    }

    // -------------------------------------------------------------- composer

    function validateComposer(chat) {
      const length = charCount(chat.r.input.value.trim());
      const over = length - state.maxLength;
      const count = chat.r.count;
      if (over > 0) {
        chat.r.error.textContent = fmt(S.too_long, {
          over: numberFormat.format(over),
          max: numberFormat.format(state.maxLength),
        });
        chat.r.input.setAttribute("aria-invalid", "true");
      } else if (chat.r.input.getAttribute("aria-invalid") === "true" || chat.r.error.dataset.kind === "server") {
        chat.r.error.textContent = "";
        chat.r.error.dataset.kind = "";
        chat.r.input.removeAttribute("aria-invalid");
      }
      count.classList.toggle("is-over", over > 0);
      count.textContent =
        length > state.maxLength * 0.9
          ? numberFormat.format(length) + " / " + numberFormat.format(state.maxLength)
          : "";
      chat.r.send.disabled = over > 0;
      return over <= 0;
    }

    function typingInput(chat) {
      if (!chat.followed) return;
      if (!chat.r.input.value.trim()) {
        stopTyping(chat);
        return;
      }
      const now = Date.now();
      if (!chat.typingOn || now - chat.typingAt > TYPING_REFRESH_MS) {
        if (socket.send({ type: "typing", conversation: chat.id, active: true })) {
          chat.typingOn = true;
          chat.typingAt = now;
        }
      }
      clearTimeout(chat.typingIdle);
      chat.typingIdle = setTimeout(() => stopTyping(chat), TYPING_IDLE_MS);
    }

    function stopTyping(chat) {
      clearTimeout(chat.typingIdle);
      if (chat.typingOn) {
        chat.typingOn = false;
        if (chat.followed) socket.send({ type: "typing", conversation: chat.id, active: false });
      }
    }

    function transmit(chat, clientId) {
      const item = chat.pending.get(clientId);
      if (!item) return;
      setStatus(item.el, "pending");
      const retry = item.el.querySelector(".msg__retry");
      if (retry) retry.remove();
      request(
        { type: "message.send", conversation: chat.id, body: item.body, client_id: clientId },
        { clientId: clientId }
      );
      // Not connected: it stays pending and goes out again after the reconnect.
    }

    function sendMessage(chat) {
      const body = chat.r.input.value.trim();
      if (!body) {
        chat.r.input.focus();
        return;
      }
      if (!validateComposer(chat)) return;
      const clientId = randomId();
      const li = renderMessage(
        { sender: "expert", body: body, at: new Date().toISOString(), author: null },
        true
      );
      chat.pending.set(clientId, { body: body, el: li });
      chat.r.messages.appendChild(li);
      chat.r.input.value = "";
      autogrow(chat.r.input);
      validateComposer(chat);
      stopTyping(chat);
      scrollToBottom(chat, false);
      acknowledge(chat);
      transmit(chat, clientId);
    }

    function markFailed(chat, clientId, text) {
      const item = chat.pending.get(clientId);
      if (!item) return;
      setStatus(item.el, "failed");
      item.el.title = text;
      const meta = item.el.querySelector(".msg__meta");
      if (meta && !meta.querySelector(".msg__retry")) {
        const retry = make("button", "msg__retry", S.retry);
        retry.type = "button";
        retry.dataset.testid = "message-retry";
        retry.addEventListener("click", () => transmit(chat, clientId));
        meta.appendChild(retry);
      }
    }

    // -------------------------------------------------------------- resolve & transfer

    /* One resolve sheet and one transfer sheet for the whole page. Opening one
       moves it into the pane it is for; a half-written summary is kept per chat. */
    function sheetFrom(id, names) {
      const el = document.getElementById(id).content.firstElementChild.cloneNode(true);
      const refs = { el: el };
      names.forEach((name) => (refs[name] = byRole(el, name)));
      return refs;
    }
    const R = sheetFrom("resolve-template", [
      "resolve-form", "summary", "summary-count", "resolve-error", "resolve-cancel", "resolve-confirm",
    ]);
    const T = sheetFrom("transfer-template", [
      "transfer-status", "targets", "transfer-error", "transfer-refresh", "transfer-cancel", "transfer-note",
    ]);

    function sheetOpen(sheet, chat) {
      return !sheet.el.hidden && sheet.el.parentNode === chat.el;
    }

    function openResolve(chat) {
      closeTransfer();
      if (state.resolveFor !== null && state.resolveFor !== chat.id) closeResolve(true);
      state.resolveFor = chat.id;
      chat.el.appendChild(R.el);
      R.el.dataset.conversationId = String(chat.id);
      R.el.hidden = false;
      R.summary.value = chat.summaryDraft || "";
      R["resolve-error"].hidden = true;
      showResolveBusy(chat);
      updateSummaryCount();
      R.summary.focus();
    }

    /* force: also when a resolve is on its way (the pane is about to go anyway). */
    function closeResolve(force) {
      const chat = state.chats.get(state.resolveFor);
      if (chat && chat.resolving && !force) return;
      if (chat) chat.summaryDraft = R.summary.value;
      R.el.hidden = true;
      R.el.remove();
      state.resolveFor = null;
    }

    function updateSummaryCount() {
      const length = charCount(R.summary.value.trim());
      R["summary-count"].textContent =
        numberFormat.format(length) + " / " + numberFormat.format(SUMMARY_MAX);
    }

    function showResolveBusy(chat) {
      R["resolve-confirm"].disabled = chat.resolving;
      R["resolve-cancel"].disabled = chat.resolving;
      R["resolve-confirm"].textContent = chat.resolving ? S.resolving : S.resolve;
    }

    function setResolveBusy(chat, busy) {
      chat.resolving = busy;
      if (state.resolveFor === chat.id) showResolveBusy(chat);
    }

    function resolveError(chat, text) {
      if (state.resolveFor !== chat.id) {
        toast(text, "error");
        return;
      }
      R["resolve-error"].textContent = text;
      R["resolve-error"].hidden = false;
    }

    function confirmResolve() {
      const chat = state.chats.get(state.resolveFor);
      if (!chat || chat.resolving) return;
      const summary = R.summary.value.trim();
      if (!summary) {
        resolveError(chat, S.summary_required);
        R.summary.focus();
        return;
      }
      if (charCount(summary) > SUMMARY_MAX) {
        resolveError(chat, S.err_too_long);
        return;
      }
      if (!request({ type: "chat.resolve", conversation: chat.id, summary: summary })) {
        resolveError(chat, S.reconnecting);
        return;
      }
      R["resolve-error"].hidden = true;
      setResolveBusy(chat, true);
    }

    function openTransfer(chat) {
      if (state.resolveFor === chat.id) closeResolve(false);
      state.transferFor = chat.id;
      chat.el.appendChild(T.el);
      T.el.dataset.conversationId = String(chat.id);
      T.el.hidden = false;
      requestTargets();
      T["transfer-cancel"].focus();
    }

    function closeTransfer() {
      T.el.hidden = true;
      T.el.remove();
      state.transferFor = null;
    }

    function requestTargets() {
      T.targets.replaceChildren();
      T["transfer-error"].hidden = true;
      T["transfer-status"].hidden = false;
      T["transfer-status"].textContent = S.transfer_loading;
      if (!socket.send({ type: "transfer.targets" })) {
        T["transfer-status"].textContent = S.reconnecting;
      }
    }

    function renderTargets(experts) {
      const chat = state.chats.get(state.transferFor);
      if (!chat) return;
      T.targets.replaceChildren();
      const list = (experts || []).filter((e) => !state.me || e.id !== state.me.id);
      T["transfer-status"].hidden = list.length > 0;
      T["transfer-status"].textContent = list.length ? "" : S.transfer_empty;
      list.forEach((expert) => {
        const li = make("li");
        const button = make("button", "target");
        button.type = "button";
        button.dataset.testid = "transfer-target";
        button.dataset.expertId = String(expert.id);
        button.appendChild(Live.avatar(expert.initials || ""));
        button.appendChild(make("span", "", expert.name));
        button.appendChild(make("span", "target__go", "→"));
        button.addEventListener("click", () => {
          const note = T["transfer-note"].value.trim();
          const frame = { type: "chat.transfer", conversation: chat.id, expert: expert.id };
          if (note) frame.note = note;
          if (!request(frame)) {
            transferError(S.reconnecting);
            return;
          }
          chat.transferName = expert.name;
          T["transfer-status"].hidden = false;
          T["transfer-status"].textContent = S.transferring;
          T.targets.querySelectorAll("button").forEach((b) => (b.disabled = true));
        });
        li.appendChild(button);
        T.targets.appendChild(li);
      });
    }

    function transferError(text) {
      T["transfer-error"].textContent = text;
      T["transfer-error"].hidden = false;
    }

    R["resolve-form"].addEventListener("submit", (event) => {
      event.preventDefault();
      confirmResolve();
    });
    R.summary.addEventListener("input", () => {
      updateSummaryCount();
      R["resolve-error"].hidden = true;
    });
    R.summary.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        confirmResolve();
      }
    });
    R["resolve-cancel"].addEventListener("click", () => {
      const chat = state.chats.get(state.resolveFor);
      closeResolve(false);
      if (chat) chat.r.input.focus();
    });
    T["transfer-cancel"].addEventListener("click", () => {
      const chat = state.chats.get(state.transferFor);
      closeTransfer();
      if (chat) chat.r.input.focus();
    });
    T["transfer-refresh"].addEventListener("click", () => requestTargets());

    // -------------------------------------------------------------- wiring

    function wireChat(chat) {
      const r = chat.r;
      r.composer.addEventListener("submit", (event) => {
        event.preventDefault();
        sendMessage(chat);
      });
      r.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
          event.preventDefault();
          sendMessage(chat);
        }
      });
      r.input.addEventListener("input", () => {
        autogrow(r.input);
        validateComposer(chat);
        typingInput(chat);
      });
      r.input.addEventListener("blur", () => stopTyping(chat));
      r.resolve.addEventListener("click", () => openResolve(chat));
      r.transfer.addEventListener("click", () => openTransfer(chat));
      chat.el.addEventListener("keydown", (event) => {
        if (event.key !== "Escape") return;
        if (sheetOpen(R, chat)) closeResolve(false);
        else if (sheetOpen(T, chat)) closeTransfer();
        else return;
        r.input.focus();
      });
      chat.el.addEventListener("pointerdown", () => acknowledge(chat));
      chat.el.addEventListener("focusin", () => acknowledge(chat));
      r.scroll.addEventListener("scroll", () => {
        if (!paneVisible(chat)) return;
        chat.stickToBottom = nearBottom(chat);
        if (chat.stickToBottom) r.jump.hidden = true;
      });
      r.jump.addEventListener("click", () => scrollToBottom(chat, false));
    }

    // -------------------------------------------------------------- frames

    // The live leaderboard (frontend/leaderboard.js); late frames of another period are dropped.
    let leaderboardPeriod = "week";
    function renderLeaderboard(frame) {
      const host = document.getElementById("leaderboard");
      if (!host || !window.Leaderboard || frame.period !== leaderboardPeriod) return;
      window.Leaderboard.render(host, frame, {
        onPeriod: (period) => {
          leaderboardPeriod = period;
          socket.send({ type: "leaderboard.watch", period: period });
        },
      });
    }

    function handleFrame(frame) {
      const chat = typeof frame.conversation === "number" ? state.chats.get(frame.conversation) : null;
      switch (frame.type) {
        case "welcome":
          onWelcome(frame);
          break;
        case "leaderboard":
          renderLeaderboard(frame);
          break;
        case "suspended": // the 4403 close follows
          state.suspension = frame;
          state.onShift = false;
          renderShift();
          break;
        case "queue.length":
          renderWaiting(frame.waiting);
          break;
        case "shift":
          if (frame.version < state.shiftVersion) break; // overtaken by a newer one
          state.shiftVersion = frame.version;
          state.onShift = !!frame.on_shift;
          state.shiftBusy = false;
          renderShift();
          renderSlots();
          break;
        case "conversation":
          if (frame.conversation && state.chats.has(frame.conversation.id)) {
            updateChat(state.chats.get(frame.conversation.id), frame.conversation);
            renderTabs();
          }
          break;
        case "history":
          if (chat) {
            const initial = chat.seqs.size === 0;
            const wasNear = nearBottom(chat);
            chat.followed = true;
            settle((sent) => sent.ref === "resume" && sent.chat === chat.id);
            const added = (frame.messages || []).filter((m) => addMessage(chat, m));
            afterIncoming(chat, added, wasNear, initial);
            if (initial) scrollToBottom(chat, true);
            sendRead(chat);
          }
          break;
        case "message.hidden": {
          const li = chat && chat.r.messages.querySelector(`[data-seq="${frame.seq}"]`);
          if (li) markRemoved(li);
          break;
        }
        case "message":
          if (chat && frame.message) {
            const wasNear = nearBottom(chat);
            if (addMessage(chat, frame.message)) afterIncoming(chat, [frame.message], wasNear, false);
          }
          break;
        case "message.ack":
          if (chat) onAck(chat, frame);
          break;
        case "typing":
          if (chat && frame.who === "customer") showTyping(chat, !!frame.active);
          break;
        case "receipt":
          if (chat && frame.reader === "customer" && typeof frame.seq === "number") {
            if (frame.status === "read") chat.customerRead = Math.max(chat.customerRead, frame.seq);
            else chat.customerDelivered = Math.max(chat.customerDelivered, frame.seq);
            updateStatuses(chat);
          }
          break;
        case "chat.assigned":
          onAssigned(frame.conversation);
          break;
        case "chat.removed":
          if (chat) onRemoved(chat, frame.reason);
          break;
        case "transfer.targets":
          renderTargets(frame.experts);
          break;
        case "error":
          onError(frame);
          break;
        default:
          break; // pong, followup.sent and anything newer
      }
    }

    function onWelcome(frame) {
      socket.setHeartbeat(frame.heartbeat_seconds * 1000);
      state.me = frame.expert || null;
      state.onShift = !!frame.on_shift;
      state.shiftVersion = frame.shift_version;
      renderWaiting(frame.waiting);
      state.maxChats = frame.max_concurrent_chats || state.maxChats;
      state.maxLength = frame.max_message_length || state.maxLength;
      state.connected = true;
      state.everConnected = true;
      state.shiftBusy = false;
      banner.hidden = true;
      fatal.hidden = true;
      clearInterval(countdownTimer);
      conn.dataset.state = "open";
      connText.textContent = S.connected;

      const open = new Set((frame.conversations || []).map((c) => c.id));
      // Chats that went away while we were offline (requeued after the grace period).
      Array.from(state.chats.values()).forEach((chat) => {
        if (!open.has(chat.id)) {
          toast(fmt(S.requeued, { topic: chat.snap.topic || "" }));
          removeChat(chat);
        }
      });
      (frame.conversations || []).forEach((snapshot) => {
        const chat = ensureChat(snapshot);
        request({ type: "resume", conversation: chat.id, last_seq: chat.lastSeq });
        chat.pending.forEach((item, clientId) => {
          if (item.el.dataset.status === "pending") transmit(chat, clientId);
        });
      });
      renderShift();
      renderSlots();
      state.chats.forEach((chat) => validateComposer(chat));
      if (state.transferFor !== null) requestTargets();
    }

    function onAck(chat, frame) {
      settle((sent) => sent.clientId === frame.client_id);
      const item = chat.pending.get(frame.client_id);
      if (!item) return;
      chat.pending.delete(frame.client_id);
      if (chat.seqs.has(frame.seq)) {
        item.el.remove(); // the message frame won the race
        return;
      }
      chat.seqs.add(frame.seq);
      item.el.dataset.seq = String(frame.seq);
      item.el.removeAttribute("title");
      item.el.remove();
      insertBySeq(chat, item.el, frame.seq);
      setStatus(item.el, expertStatus(chat, frame.seq));
    }

    function onAssigned(snapshot) {
      if (!snapshot || typeof snapshot.id !== "number") return;
      // A chat assigned while the console connected may already be in `welcome`:
      // it is still new to the expert, so announce every chat once.
      const chat = ensureChat(snapshot);
      renderSlots();
      if (chat.announced) return;
      chat.announced = true;
      setAttention(chat, "new");
      if (state.sound) chime();
      if (state.chats.size === 1 || state.active === null) {
        state.active = chat.id;
        renderSlots();
      }
      // The highlighted pane says it all when it is on screen; otherwise say it here too.
      if (!paneVisible(chat) || !windowActive()) {
        toast(fmt(S.new_chat, { topic: snapshot.topic || "" }), "accent");
      }
    }

    function onRemoved(chat, reason) {
      settle((sent) => sent.chat === chat.id && (sent.ref === "chat.resolve" || sent.ref === "chat.transfer"));
      if (reason === "resolved") {
        toast(S.resolved);
        addPastChat(chat);
      } else if (reason === "transferred") {
        toast(chat.transferName ? fmt(S.transferred, { name: chat.transferName }) : S.transferred_anon);
      } else if (reason === "taken_over") {
        toast(fmt(S.taken_over, { topic: chat.snap.topic || "" }));
      } else {
        toast(fmt(S.requeued, { topic: chat.snap.topic || "" }));
      }
      removeChat(chat);
    }

    function onError(frame) {
      const text = S["err_" + frame.code] || frame.message || S.err_generic;
      // The request it refuses, by the id it carried (not by type and order).
      const sent = (frame.id && state.inflight.get(frame.id)) || null;
      if (sent) state.inflight.delete(frame.id);
      const chat = sent ? state.chats.get(sent.chat) : null;
      switch (frame.ref) {
        case "message.send":
          if (chat) {
            markFailed(chat, sent.clientId, text);
            chat.r.error.textContent = frame.message || text;
            chat.r.error.dataset.kind = "server";
          } else {
            toast(text, "error");
          }
          break;
        case "chat.resolve":
          if (chat) {
            setResolveBusy(chat, false);
            resolveError(chat, text);
          } else {
            toast(text, "error");
          }
          break;
        case "chat.transfer":
          if (chat && state.transferFor === chat.id) {
            chat.transferName = null;
            requestTargets();
            transferError(text);
          } else {
            toast(text, "error");
          }
          break;
        case "transfer.targets":
          if (state.transferFor !== null) transferError(text);
          break;
        case "resume":
          if (chat && frame.code === "not_found") {
            toast(fmt(S.requeued, { topic: chat.snap.topic || "" }));
            removeChat(chat);
          }
          if (chat && frame.code === "seq_ahead") { // ahead of the store: read it all again
            chat.lastSeq = 0;
            request({ type: "resume", conversation: chat.id, last_seq: 0 });
          }
          break;
        case "shift.start":
        case "shift.end":
          state.shiftBusy = false;
          renderShift();
          toast(text, "error");
          break;
        case "typing":
        case "receipt":
        case "ping":
          break; // nothing the expert can act on
        default:
          toast(text, "error");
      }
    }

    function addPastChat(chat) {
      if (!pastList) return;
      const empty = byRole(pastList, "past-empty");
      if (empty) empty.remove();
      const li = make("li");
      const link = make("a", "past-link is-fresh");
      link.href = pastUrl.replace(/\/0\/$/, "/" + chat.id + "/");
      link.target = "_blank";
      link.rel = "noopener";
      link.dataset.testid = "past-chat";
      link.dataset.conversationId = String(chat.id);
      link.appendChild(make("span", "past-link__topic", chat.snap.topic || ""));
      const meta = make("span", "past-link__meta");
      meta.appendChild(make("span", "", customerName(chat)));
      const dot = make("span", "", "·");
      dot.setAttribute("aria-hidden", "true");
      meta.appendChild(dot);
      meta.appendChild(make("span", "", S.just_now));
      meta.appendChild(make("span", "stars muted", S.not_rated));
      link.appendChild(meta);
      li.appendChild(link);
      pastList.prepend(li);
    }

    // -------------------------------------------------------------- global events

    function toggleShift() {
      if (!state.connected || state.shiftBusy) return;
      if (socket.send({ type: state.onShift ? "shift.end" : "shift.start" })) {
        state.shiftBusy = true;
        renderShift();
      }
    }
    shiftToggle.addEventListener("click", toggleShift);
    panesEl.addEventListener("click", (event) => {
      if (event.target.closest('[data-role="empty-cta"]') && !state.onShift) toggleShift();
    });

    soundToggle.addEventListener("click", () => {
      state.sound = !state.sound;
      try {
        localStorage.setItem("console.sound", state.sound ? "on" : "off");
      } catch (_) {
        /* storage blocked */
      }
      renderSound();
      if (state.sound) {
        chime();
        toast(S.sound_test);
      }
    });

    // Browsers only start audio after a user gesture: unlock it on the first one.
    const unlockAudio = () => {
      if (state.sound) audio();
      window.removeEventListener("pointerdown", unlockAudio);
      window.removeEventListener("keydown", unlockAudio);
    };
    window.addEventListener("pointerdown", unlockAudio);
    window.addEventListener("keydown", unlockAudio);

    byRole(banner, "retry-now").addEventListener("click", () => socket.retryNow());

    const readVisible = () => state.chats.forEach((chat) => sendRead(chat));
    window.addEventListener("focus", readVisible);
    document.addEventListener("visibilitychange", readVisible);
    window.addEventListener("resize", readVisible);

    renderShift();
    renderSound();
    renderSlots();
    // Reconnects, pings with the shift version shown (the server answers an older
    // one with a `shift` frame) and stops on 4401/4403: frontend/live.js.
    const socket = Live.socket("/ws/console/", {
      onFrame: handleFrame,
      onState: handleSocketState,
      heartbeatMs: HEARTBEAT_MS,
      pingFields: () => ({ shift_version: state.shiftVersion }),
    });

    // A handle for debugging and end-to-end tests; not an API.
    root.consoleState = state;
  }

  function start() {
    const root = document.getElementById("console");
    if (root) initConsole(root);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
