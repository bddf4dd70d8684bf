/* Expert console (templates/console.html), part: one chat pane. A pane is cloned
   from #pane-template for each open chat and holds the customer's name and
   topic, the message list (in seq order, the expert's own messages marked
   sending / sent / delivered / read, hidden ones marked removed), the
   customer's typing indicator, and the composer (length check, typing frames,
   send with a client_id, retry of a refused message). It sends the read and
   delivered receipts while the pane is on screen and the window active, and
   flags a pane with unread messages or a new chat.

   A classic script, loaded deferred after frontend/live.js and before
   frontend/console.js, which calls Console.panes(app) once. From the shared
   `app` it reads S, state, socket, request(), settle(), windowActive(), the
   queue's renderTabs / updateTitle (console-queue.js) and the sheets'
   openResolve / openTransfer / closeSheet (console-sheets.js), always at call
   time. It adds
   to `app`: createChat, updateChat, customerName, paneVisible, setAttention,
   acknowledge, addMessage, markRemoved, updateStatuses, nearBottom,
   scrollToBottom, afterIncoming, sendRead, showTyping, validateComposer,
   transmit, markFailed and onAck (message.ack). */
(function () {
  "use strict";

  const Console = (window.Console = window.Console || {});
  const { fmt, make, byRole, autogrow, randomId, clockTime, charCount, numberFormat, productCard, photoThumbnail, uploadPhoto } = window.Live;
  const TYPING_IDLE_MS = 3000; // stop "typing" this long after the last keystroke
  const TYPING_REFRESH_MS = 4000; // re-send typing:true at most this often
  const TYPING_SHOW_MS = 7000; // hide the customer's indicator if no update arrives

  Console.panes = function (app) {
    const { state, S } = app;
    const paneTemplate = document.getElementById("pane-template");

    // -------------------------------------------------------------- chats

    function paneVisible(chat) {
      return chat.el.offsetParent !== null;
    }

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
        "error", "count", "page", "page-title", "page-product", "trail", "earlier",
        "earlier-count", "earlier-list", "picks", "product-open", "product-search", "product-query",
        "product-results", "attach", "attach-input",
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
      renderPages(chat);
      if (snapshot.customer_read_seq > chat.customerRead) {
        chat.customerRead = snapshot.customer_read_seq;
        updateStatuses(chat);
      }
    }

    function setAttention(chat, kind) {
      if (kind === "unread" && chat.attention === "new") return;
      chat.attention = kind;
      chat.el.classList.toggle("is-new", kind === "new");
      chat.el.classList.toggle("is-unread", kind === "unread");
      chat.r["new-badge"].hidden = kind !== "new";
      app.renderTabs();
      app.updateTitle();
    }

    /* The expert looked at or touched the pane. */
    function acknowledge(chat) {
      if (chat.attention) {
        chat.attention = null;
        chat.el.classList.remove("is-new", "is-unread");
        chat.r["new-badge"].hidden = true;
        app.renderTabs();
        app.updateTitle();
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
      const bubble = message.card
        ? productCard(message.card, S.out_of_stock)
        : message.photo
          ? photoThumbnail(message.photo, S.photo)
          : make("div", "msg__bubble", message.body);
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

    /* message.ack: the server stored one of ours; it takes its place by seq. */
    function onAck(chat, frame) {
      app.settle((sent) => sent.clientId === frame.client_id);
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
          app.socket.send({ type: "receipt", conversation: chat.id, seq: top, status: "delivered" });
        }
      }
      if (initial || wasNearBottom) scrollToBottom(chat, initial);
      else chat.r.jump.hidden = false;
      if (paneVisible(chat) && app.windowActive()) {
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
      if (!paneVisible(chat) || !app.windowActive()) return;
      if (chat.attention === "unread") {
        chat.attention = null;
        chat.el.classList.remove("is-unread");
        app.renderTabs();
        app.updateTitle();
      }
      if (chat.lastSeq > chat.readSent) {
        chat.readSent = chat.lastSeq;
        app.socket.send({ type: "receipt", conversation: chat.id, seq: chat.lastSeq, status: "read" });
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
        if (app.socket.send({ type: "typing", conversation: chat.id, active: true })) {
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
        if (chat.followed) app.socket.send({ type: "typing", conversation: chat.id, active: false });
      }
    }

    function transmit(chat, clientId) {
      const item = chat.pending.get(clientId);
      if (!item) return;
      setStatus(item.el, "pending");
      const retry = item.el.querySelector(".msg__retry");
      if (retry) retry.remove();
      app.request(
        { type: "message.send", conversation: chat.id, body: item.body, client_id: clientId, product: item.product },
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

    // -------------------------------------------------------------- product cards

    function sendCard(chat, card) {
      const clientId = randomId();
      const li = renderMessage({ sender: "expert", body: card.name, card: card, at: new Date().toISOString() }, true);
      chat.pending.set(clientId, { body: card.name, product: card.sku, el: li });
      chat.r.messages.appendChild(li);
      scrollToBottom(chat, false);
      acknowledge(chat);
      transmit(chat, clientId);
    }

    // -------------------------------------------------------------- photos

    /* A photo goes over HTTP (POST /console/photos/), not the socket: its message
       frame takes the place of the "sending" bubble shown meanwhile. */
    async function sendPhoto(chat, file) {
      const li = renderMessage({ sender: "expert", body: S.photo_sending, at: new Date().toISOString() }, true);
      li.dataset.testid = "photo-sending";
      chat.r.messages.appendChild(li);
      scrollToBottom(chat, false);
      acknowledge(chat);
      const problem = await uploadPhoto("/console/photos/", chat.id, file, S.photo_failed);
      li.remove();
      if (problem) {
        chat.r.error.textContent = problem;
        chat.r.error.dataset.kind = "server";
      }
    }

    /* The catalog type-ahead: what the expert types, at most every 150 ms. */
    function wireProductSearch(chat) {
      const r = chat.r;
      let timer = null;
      let asked = 0;
      const close = () => {
        r["product-search"].hidden = true;
        r.input.focus();
      };
      r["product-open"].addEventListener("click", () => {
        r["product-search"].hidden = !r["product-search"].hidden;
        if (!r["product-search"].hidden) r["product-query"].focus();
      });
      r["product-query"].addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          close();
        }
      });
      r["product-query"].addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const ticket = ++asked;
          const query = r["product-query"].value.trim();
          let results = [];
          let refusal = "";
          if (query) {
            try {
              const answer = await fetch("/console/catalog/search/?q=" + encodeURIComponent(query), { credentials: "same-origin" });
              const body = await answer.json();
              results = body.results || [];
              refusal = (body.error && body.error.message) || ""; // e.g. too many searches
            } catch (error) {
              results = [];
            }
          }
          if (ticket !== asked) return; // a newer search is on its way
          if (refusal) {
            r.error.textContent = refusal;
            r.error.dataset.kind = "server";
          }
          r["product-results"].replaceChildren(
            ...results.map((card) => {
              const item = make("li");
              const button = make("button", "products__item");
              button.type = "button";
              button.dataset.testid = "product-result";
              button.append(make("strong", "", card.name), " ", make("span", "picks__body", card.sku));
              button.addEventListener("click", () => {
                sendCard(chat, card);
                r["product-query"].value = "";
                r["product-results"].replaceChildren();
                close();
              });
              item.append(button);
              return item;
            }),
          );
        }, 150);
      });
    }

    // -------------------------------------------------------------- saved replies

    // A shared reply in the customer's language where staff wrote one, else the console's.
    const replyBody = (chat, reply) => (reply.bodies && reply.bodies[chat.snap.language]) || reply.body;

    /* Typing "/" and a shortcut offers the saved replies (welcome.saved_replies);
       Enter, Tab or a click puts one in the composer with {name} filled in. */
    function updatePicker(chat) {
      const typed = /^\/([\w-]*)$/.exec(chat.r.input.value);
      const wanted = typed ? typed[1].toLowerCase() : null;
      chat.picks =
        wanted === null
          ? []
          : (state.savedReplies || []).filter((reply) => reply.shortcut.startsWith(wanted)).slice(0, 6);
      chat.pick = 0;
      renderPicker(chat);
    }

    function renderPicker(chat) {
      const list = chat.r.picks;
      list.hidden = chat.picks.length === 0;
      list.replaceChildren(
        ...chat.picks.map((reply, index) => {
          const item = make("li", "picks__item");
          item.setAttribute("role", "option");
          item.setAttribute("aria-selected", String(index === chat.pick));
          item.dataset.testid = "reply-pick";
          item.append(make("strong", "", "/" + reply.shortcut), " ", make("span", "picks__body", replyBody(chat, reply)));
          item.addEventListener("mousedown", (event) => {
            event.preventDefault(); // keep the focus in the composer
            usePick(chat, reply);
          });
          return item;
        }),
      );
    }

    function usePick(chat, reply) {
      const name = ((chat.snap.customer && chat.snap.customer.name) || "").trim().split(/\s+/)[0];
      const body = replyBody(chat, reply);
      chat.r.input.value = name ? body.split("{name}").join(name) : body.replace(/\s*\{name\}/g, "");
      chat.picks = [];
      renderPicker(chat);
      autogrow(chat.r.input);
      validateComposer(chat);
      chat.r.input.focus();
    }

    function pickerKey(chat, event) {
      if (!chat.picks || !chat.picks.length) return false;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const step = event.key === "ArrowDown" ? 1 : chat.picks.length - 1;
        chat.pick = (chat.pick + step) % chat.picks.length;
        renderPicker(chat);
      } else if (event.key === "Enter" || event.key === "Tab") {
        usePick(chat, chat.picks[chat.pick]);
      } else if (event.key === "Escape") {
        chat.picks = [];
        renderPicker(chat);
      } else {
        return false;
      }
      event.preventDefault();
      event.stopPropagation();
      return true;
    }

    // -------------------------------------------------------------- wiring

    function wireChat(chat) {
      const r = chat.r;
      r.composer.addEventListener("submit", (event) => {
        event.preventDefault();
        sendMessage(chat);
      });
      r.input.addEventListener("keydown", (event) => {
        if (pickerKey(chat, event)) return;
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
          event.preventDefault();
          sendMessage(chat);
        }
      });
      r.input.addEventListener("input", () => {
        updatePicker(chat);
        autogrow(r.input);
        validateComposer(chat);
        typingInput(chat);
      });
      r.input.addEventListener("blur", () => stopTyping(chat));
      wireProductSearch(chat);
      r.attach.addEventListener("click", () => r["attach-input"].click());
      r["attach-input"].addEventListener("change", () => {
        const file = r["attach-input"].files[0];
        r["attach-input"].value = ""; // picking the same photo again is a new upload
        if (file) sendPhoto(chat, file);
      });
      r.resolve.addEventListener("click", () => app.openResolve(chat));
      r.transfer.addEventListener("click", () => app.openTransfer(chat));
      chat.el.addEventListener("keydown", (event) => {
        if (event.key !== "Escape") return;
        if (!app.closeSheet(chat)) return;
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

    // -------------------------------------------------------------- the customer's page

    /* "Looking at" the page the customer is on now, and the trail of pages this chat
       (the snapshot's `pages`, then `page` frames). Addresses are the server's checked
       http(s) URLs; everything goes in as text. */
    function renderPages(chat) {
      const pages = chat.snap.pages || [];
      const r = chat.r;
      r.page.hidden = pages.length === 0;
      if (!pages.length) return;
      const now = pages[pages.length - 1];
      r["page-title"].textContent = now.title || now.url;
      r["page-title"].title = now.url;
      r["page-product"].textContent = now.product || "";
      r["page-product"].hidden = !now.product;
      r.trail.replaceChildren(
        ...pages
          .slice()
          .reverse()
          .map((page) => {
            const item = make("li");
            const link = make("a", "", page.title || page.url);
            if (/^https?:\/\//.test(page.url)) link.href = page.url;
            link.target = "_blank";
            link.rel = "noopener noreferrer";
            item.append(link);
            if (page.product) item.append(" ", make("span", "pane__sku", page.product));
            item.append(" ", make("time", "pane__trail-at", clockTime(page.at)));
            return item;
          }),
      );
    }

    function notePage(chat, page) {
      const pages = chat.snap.pages || [];
      if (pages.some((seen) => seen.at === page.at && seen.url === page.url)) return;
      chat.snap.pages = [...pages, page].slice(-20);
      renderPages(chat);
    }

    /* The customer's earlier chats (customer.history), so nobody asks again. */
    function showEarlier(chat, chats) {
      const r = chat.r;
      r.earlier.hidden = chats.length === 0;
      r["earlier-count"].textContent = "(" + numberFormat.format(chats.length) + ")";
      r["earlier-list"].replaceChildren(
        ...chats.map((earlier) => {
          const item = make("li", "pane__earlier");
          item.dataset.testid = "earlier-chat";
          const when = new Date(earlier.created_at).toLocaleDateString(Live.lang, { timeZone: Live.zone });
          item.append(make("strong", "", earlier.topic), " ", make("time", "pane__trail-at", when));
          const facts = [earlier.expert, earlier.summary];
          if (earlier.rating) facts.push("★".repeat(earlier.rating));
          if (earlier.follow_ups) facts.push(fmt(app.S.earlier_follow_ups, { n: earlier.follow_ups }));
          const detail = facts.filter(Boolean).join(" · ");
          if (detail) item.append(make("div", "pane__trail-at", detail));
          return item;
        }),
      );
    }

    Object.assign(app, {
      showEarlier: showEarlier,
      notePage: notePage,
      createChat: createChat,
      updateChat: updateChat,
      customerName: customerName,
      paneVisible: paneVisible,
      setAttention: setAttention,
      acknowledge: acknowledge,
      addMessage: addMessage,
      markRemoved: markRemoved,
      updateStatuses: updateStatuses,
      nearBottom: nearBottom,
      scrollToBottom: scrollToBottom,
      afterIncoming: afterIncoming,
      sendRead: sendRead,
      showTyping: showTyping,
      validateComposer: validateComposer,
      transmit: transmit,
      markFailed: markFailed,
      onAck: onAck,
    });
  };
})();
