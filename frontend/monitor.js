/* Staff live monitor (templates/staff/monitor.html). Plain JS, no build step.
   About 900 lines and one file: the monitor is one page with one chat view, and
   its parts (stats, chat list, expert list, chat view, dialog) share one state.
   Needs frontend/live.js first: the socket is Live.socket (reconnects, also at
   once when the browser is back online; pings; stops on 4401/4403) and the small
   helpers are Live's. Requests that can be refused go out with socket.request;
   an `error` is shown against the request and chat its id names.

   /ws/staff/ (docs/protocol.md): `monitor.watch` keeps the stats, the live chats
   and the experts on shift current; `chat.open` follows one chat in the chat
   view (conversation, history, message, message.hidden, typing), where staff
   whisper, take over, reply, close and hide messages (hide, take over and close
   ask first in the page's one <dialog>). Leaderboard and other frames are
   ignored. UI text comes translated from the page (#monitor-strings,
   #monitor-text); every piece of user text goes in with textContent. */
(function () {
  "use strict";

  const root = document.getElementById("monitor");
  if (!root) return;

  const S = JSON.parse(document.getElementById("monitor-strings").textContent);
  const ME = JSON.parse(document.getElementById("monitor-me").textContent);
  const T = document.getElementById("monitor-text").dataset;
  const { fmt, make, byRole, avatar, initials, autogrow, randomId, clockTime, productCard, photoThumbnail, uploadPhoto } = window.Live;

  const TYPING_SHOW_MS = 7000;
  // Safety net: re-read the snapshot now and then, in case a change rang no bell.
  const RESYNC_MS = 10000;
  const LONG_WAIT_SECONDS = 120;

  // ------------------------------------------------------------------ helpers

  /* Like fmt, but as nodes, with each filled-in value in <strong>. */
  function fmtStrong(template, params) {
    const fragment = document.createDocumentFragment();
    String(template || "").split(/(%\(\w+\)[sd])/).forEach((part) => {
      const key = /^%\((\w+)\)[sd]$/.exec(part);
      if (key && params && key[1] in params) fragment.appendChild(make("strong", "", params[key[1]]));
      else if (part) fragment.appendChild(document.createTextNode(part));
    });
    return fragment;
  }

  function role(name, scope) {
    return byRole(scope || root, name);
  }

  /* 42 -> "0:42", 754 -> "12:34", 3725 -> "1:02:05" */
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + rest : m + ":" + rest;
  }

  function minutesSince(iso) {
    const at = Date.parse(iso || "");
    if (Number.isNaN(at)) return "";
    const minutes = Math.floor((Date.now() - at) / 60000);
    return fmt(T.minutes, { n: minutes < 1 ? "<1" : minutes });
  }

  const CLOCK_SVG =
    '<svg width="17" height="17" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/></svg>';

  // ------------------------------------------------------------------ state

  const el = {
    conn: role("conn"),
    connText: role("conn-text"),
    reconnect: role("reconnect-banner"),
    fatal: role("fatal-banner"),
    queue: role("stat-queue"),
    queueCard: role("stat-queue-card"),
    wait: role("stat-wait"),
    waitCard: role("stat-wait-card"),
    active: role("stat-active"),
    activeHint: role("stat-active-hint"),
    onShift: role("stat-on-shift"),
    capacity: role("stat-capacity"),
    chats: role("chats"),
    chatCount: role("chat-count"),
    chatsEmpty: role("chats-empty"),
    experts: role("experts"),
    expertCount: role("expert-count"),
    expertsEmpty: role("experts-empty"),
    toasts: role("toasts"),
  };
  const V = {};
  [
    "view", "view-back", "view-close", "view-avatar", "view-customer", "view-status", "view-topic",
    "view-handler", "take-over", "close-chat", "view-error", "view-scroll", "view-loading",
    "view-messages", "view-typing", "view-typing-text", "whisper-form", "whisper-input",
    "whisper-send", "whisper-error", "reply-form", "reply-input", "reply-send", "reply-error",
    "reply-attach", "reply-attach-input", "view-note",
  ].forEach((name) => (V[name] = role(name)));

  const state = {
    connected: false,
    everOpen: false,
    frameAt: 0, // when the last monitor frame arrived: the ticking clocks count from it
    queueLength: 0,
    longestWait: 0,
    chats: new Map(), // id -> monitor entry (snapshot + staff + waiting_seconds)
    rows: new Map(), // id -> <li>
    experts: new Map(), // id -> expert entry
  };
  let view = null; // {id, snap, seqs: Map(seq -> li), loaded, mine, takingOver, typingTimer}

  // What each request sent, by its id, so that an `error` naming the id is shown
  // against that request (and that chat), not against whatever is open now.
  const requests = new Map();
  const socket = Live.socket("/ws/staff/", { onFrame: handleFrame, onState: handleState });

  function request(frame) {
    const id = socket.request(frame);
    if (id) requests.set(id, frame);
    if (requests.size > 100) requests.delete(requests.keys().next().value); // answered long ago
    return id;
  }

  // ------------------------------------------------------------------ connection

  function handleState(name) {
    el.conn.dataset.state = name;
    if (name !== "open") requests.clear(); // their answers went with the socket
    if (name === "open") {
      state.connected = true;
      state.everOpen = true;
      el.connText.textContent = T.connected;
      el.reconnect.hidden = true;
      socket.send({ type: "monitor.watch" });
      if (view) {
        request({ type: "chat.open", conversation: view.id });
      } else if (linkedChat()) {
        openView(linkedChat());
      }
    } else if (name === "closed") {
      state.connected = false;
      el.connText.textContent = T.offline;
      el.reconnect.hidden = true;
      el.fatal.hidden = false;
    } else {
      state.connected = false;
      el.connText.textContent = name === "connecting" ? T.connecting : S.reconnecting;
      el.reconnect.hidden = !state.everOpen;
    }
    renderViewControls();
  }

  // Links from other staff pages (the audit log) open a chat: /staff/monitor/#chat-12
  function linkedChat() {
    const match = /^#chat-(\d+)$/.exec(location.hash);
    return match ? Number(match[1]) : null;
  }
  window.addEventListener("hashchange", () => {
    if (linkedChat() && state.connected) openView(linkedChat());
  });

  function toast(text, kind) {
    Live.toast(el.toasts, text, kind, 4200);
  }

  // ------------------------------------------------------------------ frames

  function handleFrame(frame) {
    const forView = view && frame.conversation !== undefined &&
      (frame.conversation === view.id || (frame.conversation && frame.conversation.id === view.id));
    switch (frame.type) {
      case "monitor":
        onMonitor(frame);
        break;
      case "conversation":
        if (forView) onViewSnapshot(frame.conversation);
        break;
      case "history":
        if (forView) {
          const initial = !view.loaded;
          view.loaded = true;
          V["view-loading"].hidden = true;
          const wasNear = nearBottom();
          (frame.messages || []).forEach(upsertMessage);
          if (initial || wasNear) scrollToBottom();
        }
        break;
      case "message":
        if (forView && frame.message) {
          const wasNear = nearBottom();
          upsertMessage(frame.message);
          if (frame.message.sender === "customer" || frame.message.sender === "expert") showTyping(null);
          if (wasNear || frame.message.sender === "staff") scrollToBottom();
        }
        break;
      case "message.hidden":
        if (forView) {
          const li = view.seqs.get(frame.seq);
          if (li) markHidden(li);
          if (view.hiding === frame.seq) {
            view.hiding = null;
            toast(T.hiddenToast);
          }
        }
        break;
      case "typing":
        if (forView) showTyping(frame.active ? frame.who : null);
        break;
      case "message.ack":
        if (forView) {
          view.sending = null;
          V["reply-error"].textContent = "";
        }
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // pong, leaderboard, redemption, report.new and anything newer
    }
  }

  function onError(frame) {
    const text = frame.message || T.error;
    if (frame.ref === "ping" || frame.ref === "chat.close_view") return;
    const sent = frame.id ? requests.get(frame.id) : null; // the request it refuses
    requests.delete(frame.id);
    if (!sent || !view || sent.conversation !== view.id) {
      toast(text, "error"); // not about the chat on screen (or about no request)
      return;
    }
    switch (sent.type) {
      case "chat.whisper":
        restoreDraft("whisper", sent.body);
        if (view.whispering === sent.body) view.whispering = null;
        V["whisper-error"].textContent = text;
        return;
      case "message.send":
        restoreDraft("reply", sent.body);
        if (view.sending && view.sending.clientId === sent.client_id) view.sending = null;
        V["reply-error"].textContent = text;
        return;
      case "chat.take_over":
        view.takingOver = false;
        break;
      case "chat.close":
        view.closing = false;
        break;
      case "message.hide":
        if (view.hiding === sent.seq) view.hiding = null;
        break;
      case "chat.open":
        V["view-loading"].hidden = true;
        break;
      default:
        toast(text, "error");
        return;
    }
    viewError(text);
    renderViewControls();
  }

  // ------------------------------------------------------------------ monitor

  function onMonitor(frame) {
    state.frameAt = Date.now();
    state.queueLength = frame.queue_length || 0;
    state.longestWait = frame.longest_wait_seconds || 0;
    state.chats = new Map((frame.conversations || []).map((c) => [c.id, c]));
    state.experts = new Map((frame.experts || []).map((e) => [e.id, e]));
    renderStats();
    renderChats();
    renderExperts();
    if (view) {
      const entry = state.chats.get(view.id);
      if (entry) {
        view.staff = entry.staff;
        if (!view.snap) view.snap = entry;
      }
      renderView();
    }
  }

  function elapsed() {
    return state.frameAt ? (Date.now() - state.frameAt) / 1000 : 0;
  }

  function renderStats() {
    const chats = Array.from(state.chats.values());
    const active = chats.filter((c) => c.status === "active");
    const taken = active.filter((c) => c.staff).length;
    const experts = Array.from(state.experts.values()).filter((e) => e.on_shift);
    const open = experts.reduce((sum, e) => sum + (e.open_chats || 0), 0);
    const max = experts.reduce((sum, e) => sum + (e.max_chats || 0), 0);

    el.queue.textContent = String(state.queueLength);
    el.queueCard.classList.toggle("stat--attention", state.queueLength > 0);
    el.active.textContent = String(active.length);
    el.activeHint.textContent = taken ? fmt(T.takenCount, { n: taken }) : "";
    el.onShift.textContent = String(experts.length);
    el.capacity.textContent = experts.length ? fmt(T.capacity, { open: open, max: max }) : S.no_experts;
    tickStats();
  }

  function tickStats() {
    if (!state.frameAt) return;
    const wait = state.queueLength ? state.longestWait + elapsed() : 0;
    el.wait.textContent = state.queueLength ? duration(wait) : "0:00";
    el.waitCard.classList.toggle("stat--attention", state.queueLength > 0 && wait < LONG_WAIT_SECONDS);
    el.waitCard.classList.toggle("stat--danger", state.queueLength > 0 && wait >= LONG_WAIT_SECONDS);
  }

  function customerName(c) {
    return (c.customer && c.customer.name) || T.customer;
  }

  function sortedChats() {
    const chats = Array.from(state.chats.values());
    const waiting = chats
      .filter((c) => c.status === "waiting")
      .sort((a, b) => b.waiting_seconds - a.waiting_seconds);
    const active = chats
      .filter((c) => c.status !== "waiting")
      .sort((a, b) => Date.parse(a.assigned_at || 0) - Date.parse(b.assigned_at || 0));
    return { waiting: waiting, active: active };
  }

  function renderChats() {
    const groups = sortedChats();
    const total = groups.waiting.length + groups.active.length;
    el.chatCount.textContent = String(total);
    el.chats.hidden = total === 0;
    el.chatsEmpty.hidden = total !== 0;
    if (!total) el.chatsEmpty.textContent = S.no_chats;

    const wanted = [];
    [["waiting", groups.waiting], ["active", groups.active]].forEach(([name, list]) => {
      if (!list.length) return;
      const head = make("li", "mchats__group");
      head.appendChild(make("span", "", S[name]));
      head.appendChild(make("span", "count-pill", String(list.length)));
      head.setAttribute("role", "presentation");
      wanted.push(head);
      list.forEach((c) => wanted.push(chatRow(c)));
    });
    for (const id of Array.from(state.rows.keys())) {
      if (!state.chats.has(id)) state.rows.delete(id);
    }
    const current = Array.from(el.chats.children);
    const same =
      current.length === wanted.length &&
      wanted.every((node, i) => node === current[i] || (node.className === "mchats__group" &&
        current[i].className === "mchats__group" && current[i].textContent === node.textContent));
    if (!same) el.chats.replaceChildren(...wanted);
    tickChats();
  }

  function chatRow(c) {
    let li = state.rows.get(c.id);
    if (!li) {
      li = make("li");
      const button = make("button", "mchat");
      button.type = "button";
      button.dataset.testid = "monitor-chat";
      button.dataset.conversationId = String(c.id);
      button.addEventListener("click", () => openView(c.id));
      li.appendChild(button);
      state.rows.set(c.id, li);
    }
    const button = li.firstChild;
    button.dataset.status = c.status;
    button.dataset.takenOver = c.staff ? "true" : "false";
    button.setAttribute("aria-current", view && view.id === c.id ? "true" : "false");

    let icon;
    if (c.status === "waiting") {
      icon = make("span", "mchat__icon");
      icon.innerHTML = CLOCK_SVG; // static markup, no data
    } else if (c.staff) {
      icon = make("span", "mchat__icon mchat__icon--staff", initials(c.staff));
    } else {
      icon = avatar(c.expert ? c.expert.initials : "?");
      icon.className = "avatar";
    }
    icon.setAttribute("aria-hidden", "true");

    const main = make("span", "mchat__main");
    main.appendChild(make("span", "mchat__topic", c.topic));
    const sub = make("span", "mchat__sub");
    sub.appendChild(make("span", "", customerName(c)));
    if (c.customer_left) sub.appendChild(make("span", "badge badge--warn", T.customerLeft));
    main.appendChild(sub);

    const side = make("span", "mchat__side");
    if (c.status === "waiting") {
      side.appendChild(make("span", "badge badge--warn", S.waiting));
    } else if (c.staff) {
      side.appendChild(make("span", "badge badge--dark", fmt(S.taken_over_by, { name: c.staff })));
    } else if (c.expert) {
      const who = make("span", "mchat__who");
      who.appendChild(make("span", "", c.expert.name));
      const expert = state.experts.get(c.expert.id);
      if (expert) {
        const load = make("span", "mchat__load", expert.open_chats + "/" + expert.max_chats);
        load.title = T.activeChats;
        who.appendChild(load);
      }
      side.appendChild(who);
    }
    side.appendChild(make("span", "mchat__time"));
    button.replaceChildren(icon, main, side);
    button.title = c.topic;
    return li;
  }

  function tickChats() {
    const extra = elapsed();
    state.rows.forEach((li, id) => {
      const c = state.chats.get(id);
      const time = li.querySelector(".mchat__time");
      if (!c || !time) return;
      if (c.status === "waiting") {
        const wait = c.waiting_seconds + extra;
        time.textContent = duration(wait);
        time.classList.toggle("wait--long", wait >= LONG_WAIT_SECONDS);
      } else {
        time.textContent = fmt(T.for, { time: minutesSince(c.assigned_at) });
      }
    });
  }

  function renderExperts() {
    const experts = Array.from(state.experts.values()).sort(
      (a, b) => Number(b.on_shift) - Number(a.on_shift) || a.name.localeCompare(b.name, Live.lang)
    );
    el.expertCount.textContent = String(experts.filter((e) => e.on_shift).length);
    el.experts.hidden = experts.length === 0;
    el.expertsEmpty.hidden = experts.length !== 0;
    el.expertsEmpty.textContent = S.no_experts;
    el.experts.replaceChildren(
      ...experts.map((e) => {
        const li = make("li", "mexpert" + (e.on_shift ? "" : " is-off"));
        li.dataset.testid = "monitor-expert";
        li.dataset.expertId = String(e.id);
        li.dataset.onShift = e.on_shift ? "true" : "false";
        li.appendChild(avatar(e.initials, ""));
        li.lastChild.className = "avatar";
        const main = make("span", "");
        main.style.minWidth = "0";
        main.appendChild(make("span", "mexpert__name", e.name));
        const status = make("span", "mexpert__state");
        status.appendChild(make("span", "dot " + (e.on_shift ? "dot--on" : "dot--off")));
        status.appendChild(make("span", "", e.on_shift ? S.on_shift : S.off_shift));
        main.appendChild(status);
        li.appendChild(main);
        const load = make("span", "mexpert__load");
        const meter = make("span", "meter" + (e.open_chats >= e.max_chats ? " is-full" : ""));
        meter.setAttribute("aria-hidden", "true");
        for (let i = 0; i < e.max_chats; i += 1) meter.appendChild(make("i", i < e.open_chats ? "is-on" : ""));
        load.appendChild(meter);
        const count = make("span", "mexpert__count", e.open_chats + "/" + e.max_chats);
        count.title = T.activeChats;
        load.appendChild(count);
        li.appendChild(load);
        return li;
      })
    );
  }

  setInterval(() => {
    if (state.connected && Date.now() - state.frameAt >= RESYNC_MS) socket.send({ type: "monitor.watch" });
  }, 2000);

  setInterval(() => {
    tickStats();
    tickChats();
    if (view) renderHandler();
  }, 1000);

  // ------------------------------------------------------------------ chat view

  function openView(id) {
    if (view && view.id === id) {
      V.view.hidden = false;
      return;
    }
    if (view) socket.send({ type: "chat.close_view", conversation: view.id });
    const entry = state.chats.get(id) || null;
    view = {
      id: id,
      snap: entry,
      staff: entry ? entry.staff : null,
      seqs: new Map(),
      loaded: false,
      mine: false,
      takingOver: false,
      closing: false,
      hiding: null,
      sending: null,
      whispering: null,
      typingTimer: null,
    };
    V["view-messages"].replaceChildren();
    V["view-loading"].hidden = false;
    V["whisper-input"].value = "";
    V["reply-input"].value = "";
    V["whisper-error"].textContent = "";
    V["reply-error"].textContent = "";
    viewError("");
    showTyping(null);
    V.view.hidden = false;
    root.classList.add("has-view");
    document.documentElement.classList.add("has-mview-open");
    state.rows.forEach((li, rowId) => li.firstChild.setAttribute("aria-current", rowId === id ? "true" : "false"));
    renderView();
    request({ type: "chat.open", conversation: id });
    // Full screen on a phone: move focus into the view.
    if (window.matchMedia("(max-width: 900px)").matches) V["view-back"].focus({ preventScroll: true });
  }

  function closeView() {
    if (!view) return;
    const id = view.id;
    socket.send({ type: "chat.close_view", conversation: id });
    clearTimeout(view.typingTimer);
    view = null;
    V.view.hidden = true;
    root.classList.remove("has-view");
    document.documentElement.classList.remove("has-mview-open");
    state.rows.forEach((li) => li.firstChild.setAttribute("aria-current", "false"));
    const row = state.rows.get(id);
    if (row) row.firstChild.focus({ preventScroll: true });
  }

  function onViewSnapshot(snap) {
    const before = view.snap;
    view.snap = Object.assign({}, view.snap || {}, snap);
    if (view.takingOver && snap.status === "active" && !snap.expert) {
      view.takingOver = false;
      view.mine = true;
      view.staff = ME;
      toast(T.takenToast, "accent");
    }
    if (view.closing && snap.status !== "active") {
      view.closing = false;
      toast(T.closedToast, "accent");
    }
    const expertId = (s) => (s && s.expert ? s.expert.id : null);
    if (before && (before.status !== snap.status || expertId(before) !== expertId(snap))) viewError("");
    renderView();
  }

  function viewState() {
    const snap = view.snap || {};
    const status = snap.status || "";
    const takenOver = status === "active" && !snap.expert;
    const staffName = view.staff || (view.mine ? ME : null);
    const mine = takenOver && (view.mine || (!!staffName && staffName === ME));
    return { snap: snap, status: status, takenOver: takenOver, staffName: staffName, mine: mine };
  }

  function renderView() {
    if (!view) return;
    const s = viewState();
    const snap = s.snap;
    V["view-avatar"].textContent = initials(customerName(snap));
    V["view-customer"].textContent = customerName(snap);
    V["view-topic"].textContent = snap.topic || "";
    V.view.dataset.conversationId = String(view.id);
    V.view.dataset.status = s.status;

    const badge = V["view-status"];
    badge.className = "badge";
    if (s.status === "waiting") {
      badge.classList.add("badge--warn");
      badge.textContent = S.waiting;
    } else if (s.takenOver) {
      badge.classList.add("badge--dark");
      badge.textContent = T.staff;
    } else if (s.status === "active") {
      badge.classList.add("badge--accent");
      badge.textContent = S.active;
    } else {
      badge.textContent = s.status === "abandoned" ? T.abandoned : s.status ? T.resolved : "";
    }
    badge.hidden = !badge.textContent;

    let note = "";
    if (s.status === "waiting") note = T.waitingNote;
    else if (s.status && s.status !== "active") note = T.ended;
    else if (s.takenOver && !s.mine) note = T.takenOther;
    V["view-note"].textContent = note;
    V["view-note"].hidden = !note;

    V["whisper-form"].hidden = !(s.status === "active" && !s.takenOver);
    V["reply-form"].hidden = !s.mine;
    V["take-over"].hidden = !(s.status === "active" && !s.takenOver);
    V["close-chat"].hidden = !s.mine;
    V["view-messages"].querySelectorAll('[data-testid="hide-message"]').forEach((button) => {
      button.hidden = button.closest(".msg").classList.contains("is-hidden");
    });
    renderHandler();
    renderViewControls();
  }

  function renderHandler() {
    if (!view) return;
    const s = viewState();
    const handler = V["view-handler"];
    const nodes = [];
    if (s.takenOver) {
      const name = s.mine ? ME : s.staffName || T.staff;
      nodes.push(avatar(initials(name), "mchat__icon--staff"));
      const text = make("span", "");
      text.appendChild(fmtStrong(S.taken_over_by, { name: name }));
      nodes.push(text);
      if (s.mine) nodes.push(make("span", "badge badge--accent", T.you));
    } else if (s.snap.expert) {
      const expert = state.experts.get(s.snap.expert.id);
      nodes.push(avatar(s.snap.expert.initials));
      const text = make("span", "");
      text.appendChild(fmtStrong(T.handledBy, { name: s.snap.expert.name }));
      nodes.push(text);
      if (expert && s.status === "active") {
        const load = make("span", "mchat__load", expert.open_chats + "/" + expert.max_chats);
        load.title = T.activeChats;
        nodes.push(load);
      }
    } else if (s.status === "waiting") {
      const entry = state.chats.get(view.id);
      nodes.push(make("span", "dot dot--warn"));
      nodes.push(make("span", "", T.noExpert));
      if (entry) nodes.push(make("strong", "", duration(entry.waiting_seconds + elapsed())));
    }
    if (s.status === "active" && s.snap.assigned_at) {
      nodes.push(make("span", "mchat__time", "· " + fmt(T.for, { time: minutesSince(s.snap.assigned_at) })));
    }
    // Replace only when the text changed: this runs every second.
    const signature = nodes.map((n) => n.className + ":" + n.textContent).join("|");
    if (handler.dataset.signature !== signature) {
      handler.dataset.signature = signature;
      handler.replaceChildren(...nodes);
    }
    handler.parentNode.hidden = !nodes.length && V["take-over"].hidden && V["close-chat"].hidden;
  }

  function renderViewControls() {
    if (!view) return;
    const offline = !state.connected;
    V["take-over"].disabled = offline || view.takingOver;
    V["take-over"].setAttribute("aria-busy", view.takingOver ? "true" : "false");
    V["close-chat"].disabled = offline || view.closing;
    V["whisper-send"].disabled = offline;
    V["reply-send"].disabled = offline;
  }

  let viewErrorTimer = null;
  function viewError(text) {
    clearTimeout(viewErrorTimer);
    V["view-error"].textContent = text;
    V["view-error"].hidden = !text;
    if (text) viewErrorTimer = setTimeout(() => viewError(""), 10000);
  }

  // ------------------------------------------------------------------ messages

  function renderMessage(m) {
    const sender = ["customer", "expert", "staff", "system"].includes(m.sender) ? m.sender : "system";
    const whisper = !!m.whisper;
    const side = sender === "customer" || sender === "system" ? sender : "expert";
    const li = make("li", "msg msg--" + side);
    if (sender === "staff") li.classList.add(whisper ? "msg--whisper" : "msg--staff");
    li.dataset.testid = "message";
    li.dataset.seq = String(m.seq);
    li.dataset.sender = sender;
    li.dataset.whisper = whisper ? "true" : "false";
    li.dataset.hidden = "false";

    if (whisper) li.appendChild(make("span", "msg__label", S.whispered));
    else if (sender === "staff") li.appendChild(make("span", "msg__label", T.staff));

    const bubble = m.card ? productCard(m.card) : m.photo ? photoThumbnail(m.photo, T.photo) : make("div", "msg__bubble", m.body);
    bubble.dataset.testid = "message-body";
    li.appendChild(bubble);

    if (sender !== "system") {
      const meta = make("div", "msg__meta");
      let author = m.author;
      if (!author && sender === "customer") author = customerName(view.snap || {});
      // Staff authors are not named in message objects: whispers may come from any staff member.
      if (!author && sender === "staff") author = whisper ? T.staff : view.staff || T.staff;
      if (author) meta.appendChild(make("span", "msg__author", author));
      const time = make("time", "", clockTime(m.at));
      time.dateTime = m.at || "";
      meta.appendChild(time);
      meta.appendChild(make("span", "msg__hidden", ""));
      if ((sender === "customer" || sender === "expert") && !whisper) {
        const hide = make("button", "msg__hide", S.hide);
        hide.type = "button";
        hide.dataset.testid = "hide-message";
        hide.addEventListener("click", () => hideMessage(m.seq, m.body));
        meta.appendChild(hide);
      }
      li.appendChild(meta);
    }
    if (m.hidden) markHidden(li);
    return li;
  }

  function markHidden(li) {
    li.classList.add("is-hidden");
    li.dataset.hidden = "true";
    const label = li.querySelector(".msg__hidden");
    if (label) label.textContent = "· " + S.hidden;
    const hide = li.querySelector(".msg__hide");
    if (hide) hide.hidden = true;
  }

  function upsertMessage(m) {
    if (!view || typeof m.seq !== "number") return;
    const existing = view.seqs.get(m.seq);
    if (existing) {
      if (m.hidden) markHidden(existing);
      return;
    }
    const li = renderMessage(m);
    view.seqs.set(m.seq, li);
    if (m.whisper && view.whispering && m.body === view.whispering) {
      view.whispering = null; // our whisper came back: it is stored
      toast(T.whisperedToast);
    }
    const list = V["view-messages"];
    for (const child of list.children) {
      if (Number(child.dataset.seq) > m.seq) {
        list.insertBefore(li, child);
        return;
      }
    }
    list.appendChild(li);
  }

  function nearBottom() {
    return Live.nearBottom(V["view-scroll"]);
  }

  function scrollToBottom() {
    Live.scrollToBottom(V["view-scroll"], true);
  }

  function showTyping(who) {
    if (!view) return;
    clearTimeout(view.typingTimer);
    const snap = view.snap || {};
    const name = who === "customer" ? customerName(snap) : who === "expert" && snap.expert ? snap.expert.name : "";
    V["view-typing"].hidden = !name;
    V["view-typing-text"].textContent = name ? fmt(T.typing, { name: name }) : "";
    if (name) view.typingTimer = setTimeout(() => showTyping(null), TYPING_SHOW_MS);
  }

  // ------------------------------------------------------------------ actions

  /* The page's one <dialog> asks before hide, take over and close: filled from
     #monitor-text (data-<kind>-title, -text, -label, -confirm, -required); hide
     and close need a text. act(text) sends the frame and says whether it went
     out: if not, the dialog stays open with what was typed. */
  const D = {};
  ["dialog", "dialog-form", "dialog-title", "dialog-text", "dialog-quote", "dialog-field",
    "dialog-label", "dialog-input", "dialog-error", "dialog-cancel", "dialog-confirm",
  ].forEach((name) => (D[name] = role(name)));
  const TEXT_MAX = { hide: 300, close: 1000 }; // docs/protocol.md
  let asking = null; // {kind, id, act}

  function ask(kind, act, quote) {
    if (!view || D.dialog.open) return;
    asking = { kind: kind, id: view.id, act: act };
    const input = D["dialog-input"];
    D["dialog-title"].textContent = T[kind + "Title"];
    D["dialog-text"].textContent = T[kind + "Text"];
    D["dialog-quote"].textContent = quote || "";
    D["dialog-quote"].hidden = !quote;
    D["dialog-field"].hidden = !TEXT_MAX[kind];
    D["dialog-label"].textContent = T[kind + "Label"] || "";
    D["dialog-confirm"].textContent = T[kind + "Confirm"];
    input.value = "";
    input.maxLength = TEXT_MAX[kind] || 1000;
    dialogError("");
    D.dialog.showModal();
    (TEXT_MAX[kind] ? input : D["dialog-confirm"]).focus();
  }

  function dialogError(text) {
    D["dialog-error"].textContent = text;
    D["dialog-error"].hidden = !text;
    D["dialog-input"].setAttribute("aria-invalid", text ? "true" : "false");
  }

  D["dialog-form"].addEventListener("submit", (event) => {
    event.preventDefault();
    if (!asking) return;
    const text = D["dialog-input"].value.trim();
    if (TEXT_MAX[asking.kind] && !text) {
      dialogError(T[asking.kind + "Required"]);
      D["dialog-input"].focus();
    } else if (!view || view.id !== asking.id || asking.act(text)) {
      D.dialog.close();
    } else {
      dialogError(S.reconnecting);
    }
  });
  D["dialog-cancel"].addEventListener("click", () => D.dialog.close());
  D["dialog-input"].addEventListener("input", () => dialogError(""));
  D.dialog.addEventListener("close", () => (asking = null));

  function hideMessage(seq, body) {
    if (!view || view.hiding === seq) return;
    ask("hide", (reason) => {
      if (view.hiding === seq) return true;
      if (!request({ type: "message.hide", conversation: view.id, seq: seq, reason: reason })) return false;
      viewError("");
      view.hiding = seq;
      return true;
    }, body);
  }

  function takeOver() {
    if (!view || view.takingOver) return;
    ask("take", () => {
      if (view.takingOver) return true;
      if (!request({ type: "chat.take_over", conversation: view.id })) return false;
      viewError("");
      view.takingOver = true;
      renderViewControls();
      return true;
    });
  }

  function closeChat() {
    if (!view || view.closing) return;
    ask("close", (summary) => {
      if (view.closing) return true;
      if (!request({ type: "chat.close", conversation: view.id, summary: summary })) return false;
      viewError("");
      view.closing = true;
      renderViewControls();
      return true;
    });
  }

  function restoreDraft(kind, body) {
    const input = V[kind + "-input"];
    if (!input.value.trim()) {
      input.value = body;
      autogrow(input);
    }
  }

  function submitWhisper() {
    const input = V["whisper-input"];
    const body = input.value.trim();
    V["whisper-error"].textContent = "";
    if (!view || !body) return;
    if (!request({ type: "chat.whisper", conversation: view.id, body: body })) {
      V["whisper-error"].textContent = S.reconnecting;
      return;
    }
    view.whispering = body;
    input.value = "";
    autogrow(input);
  }

  function submitReply() {
    const input = V["reply-input"];
    const body = input.value.trim();
    V["reply-error"].textContent = "";
    if (!view || !body) return;
    const clientId = randomId();
    if (!request({ type: "message.send", conversation: view.id, body: body, client_id: clientId })) {
      V["reply-error"].textContent = S.reconnecting;
      return;
    }
    view.sending = { clientId: clientId, body: body };
    input.value = "";
    autogrow(input);
  }

  /* A photo in a chat taken over goes over HTTP (POST /staff/photos/), as from the
     console: its message frame takes the place of the "sending" bubble. */
  async function sendPhoto(file) {
    if (!view) return;
    const li = make("li", "msg msg--expert msg--staff");
    li.dataset.testid = "photo-sending";
    li.appendChild(make("div", "msg__bubble", T.photoSending));
    V["view-messages"].appendChild(li);
    scrollToBottom();
    V["reply-error"].textContent = "";
    const problem = await uploadPhoto("/staff/photos/", view.id, file, T.photoFailed);
    li.remove();
    V["reply-error"].textContent = problem;
  }

  function wireComposer(kind, submit) {
    const form = V[kind + "-form"];
    const input = V[kind + "-input"];
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    input.addEventListener("input", () => {
      autogrow(input);
      V[kind + "-error"].textContent = "";
    });
  }

  wireComposer("whisper", submitWhisper);
  wireComposer("reply", submitReply);
  V["reply-attach"].addEventListener("click", () => V["reply-attach-input"].click());
  V["reply-attach-input"].addEventListener("change", () => {
    const file = V["reply-attach-input"].files[0];
    V["reply-attach-input"].value = ""; // picking the same photo again is a new upload
    if (file) sendPhoto(file);
  });
  V["take-over"].addEventListener("click", takeOver);
  V["close-chat"].addEventListener("click", closeChat);
  V["view-close"].addEventListener("click", closeView);
  V["view-back"].addEventListener("click", closeView);
  document.addEventListener("keydown", (event) => {
    // Esc in the dialog cancels the dialog only.
    if (event.key === "Escape" && view && !event.defaultPrevented && !D.dialog.open) closeView();
  });
})();
