/* Expert console (templates/console.html): the entry that wires the parts
   together. Plain JS, no framework, no build step; classic scripts, deferred,
   loaded in this order: frontend/live.js, leaderboard.js, console-sound.js,
   console-notify.js, console-queue.js, console-sheets.js, console-panes.js, then this file.

   This file holds the shared `app` (root, the translated strings S from the
   #console-strings JSON built in community/views.py, the state, the socket,
   request/settle, toast, windowActive), gives it to each part on
   window.Console (sound: the chime and its switch; notify: the browser
   notification of a new chat while the tab is hidden; queue: shift switch,
   waiting count, load meter, slots and tabs; sheets: resolve and transfer;
   panes: one chat pane with its messages and composer), then opens the
   /ws/console/ socket with Live.socket (reconnects, pings with the server's
   heartbeat_seconds from `welcome` and the shift version shown, stops on
   4401/4403) and handles its frames: the connection pill and banners,
   `welcome`, chats assigned and removed, errors matched to their request by
   id (socket.request), the past chats list and the live leaderboard
   (frontend/leaderboard.js). The WebSocket contract is docs/protocol.md.
   Every piece of user text is put into the page with textContent, never as
   HTML. The follow-up form on a past chat is frontend/followup-form.js. */
(function () {
  "use strict";

  const Console = window.Console;
  const { fmt, make, byRole } = window.Live;
  const HEARTBEAT_MS = 5000; // ping interval until `welcome` gives the server's (it renews the lease)

  function initConsole(root) {
    const S = JSON.parse(document.getElementById("console-strings").textContent);
    const conn = root.querySelector('[data-testid="connection-status"]');
    const connText = byRole(conn, "conn-text");
    const banner = root.querySelector('[data-testid="reconnect-banner"]');
    const retryIn = byRole(banner, "retry-in");
    const fatal = root.querySelector('[data-testid="fatal-banner"]');
    const toasts = root.querySelector('[data-testid="toasts"]');
    const pastList = byRole(root, "past-list");
    const pastUrl = root.dataset.pastUrl || "";

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
      sound: false, // console-sound.js reads the stored choice
    };

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

    function toast(text, kind) {
      Live.toast(toasts, text, kind);
    }

    function windowActive() {
      return document.visibilityState === "visible" && document.hasFocus();
    }

    // -------------------------------------------------------------- the parts

    // app.socket is set once the socket is open below; the parts read it at call time.
    const app = { root, S, state, socket: null, request, settle, toast, windowActive };
    Console.sound(app);
    Console.notify(app);
    Console.queue(app);
    Console.sheets(app);
    Console.panes(app);
    const {
      chime, renderSound, notifyNewChat,
      renderShift, renderWaiting, renderSlots, renderTabs, ensureChat, removeChat,
      setResolveBusy, resolveError, requestTargets, renderTargets, transferError,
      updateChat, customerName, paneVisible, setAttention, addMessage, markRemoved, updateStatuses,
      nearBottom, scrollToBottom, afterIncoming, sendRead, showTyping, validateComposer, transmit,
      markFailed, onAck,
    } = app;

    // -------------------------------------------------------------- connection

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
        case "customer.history":
          if (chat) app.showEarlier(chat, frame.chats || []);
          break;
        case "page":
          if (chat && frame.page) app.notePage(chat, frame.page);
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
      state.savedReplies = frame.saved_replies || [];
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
        askEarlierChats(chat); // after the resume: the socket follows the chat by then
        chat.pending.forEach((item, clientId) => {
          if (item.el.dataset.status === "pending") transmit(chat, clientId);
        });
      });
      renderShift();
      renderSlots();
      state.chats.forEach((chat) => validateComposer(chat));
      if (state.transferFor !== null) requestTargets();
    }

    /* Once per chat: the customer's earlier chats (customer.history). */
    function askEarlierChats(chat) {
      if (!chat.earlierAsked) chat.earlierAsked = !!socket.request({ type: "customer.history", conversation: chat.id });
    }

    function onAssigned(snapshot) {
      if (!snapshot || typeof snapshot.id !== "number") return;
      // A chat assigned while the console connected may already be in `welcome`:
      // it is still new to the expert, so announce every chat once.
      const chat = ensureChat(snapshot);
      askEarlierChats(chat);
      renderSlots();
      if (chat.announced) return;
      chat.announced = true;
      setAttention(chat, "new");
      if (state.sound) chime();
      notifyNewChat(chat);
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
        case "customer.history":
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
    app.socket = socket;

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
