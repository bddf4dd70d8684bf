/* Expert console (templates/console.html), part: the expert's place in the
   queue. The shift switch (shift.start / shift.end), the waiting count, the
   load meter ("2 of 3 chats"), the slots (one pane per open chat, then empty
   places that say off shift / waiting / connecting, the first with the "Go on
   shift" button), the pane tabs on a phone (arrow keys move between them), the
   "(2)" in the page title, and adding a chat to or removing it from the slots.

   A classic script, loaded deferred after frontend/live.js and before
   frontend/console.js, which calls Console.queue(app) once. From the shared
   `app` it reads root, S, state, socket and the pane functions of
   console-panes.js (createChat, updateChat, customerName, scrollToBottom,
   acknowledge) and the sheets' closeResolve / closeTransfer
   (console-sheets.js), always at call time. It adds renderShift, renderLoad,
   renderWaiting, renderSlots, renderTabs, updateTitle, ensureChat and
   removeChat to `app`. */
(function () {
  "use strict";

  const Console = (window.Console = window.Console || {});
  const { fmt, make, byRole } = window.Live;

  Console.queue = function (app) {
    const { root, state, S } = app;
    const emptyTemplate = document.getElementById("empty-template");
    const panesEl = root.querySelector('[data-testid="panes"]');
    const tabsEl = root.querySelector('[data-testid="pane-tabs"]');
    const shiftToggle = root.querySelector('[data-testid="shift-toggle"]');
    const shiftText = byRole(shiftToggle, "shift-text");
    const loadText = byRole(root, "load-text");
    const loadBar = byRole(root, "load-bar");
    const baseTitle = document.title;

    // -------------------------------------------------------------- shift, waiting, load

    function renderShift() {
      shiftToggle.setAttribute("aria-checked", state.onShift ? "true" : "false");
      shiftToggle.setAttribute("aria-busy", state.shiftBusy ? "true" : "false");
      shiftToggle.disabled = !state.connected;
      shiftText.textContent = state.onShift ? S.on_shift : S.off_shift;
    }

    function toggleShift() {
      if (!state.connected || state.shiftBusy) return;
      if (app.socket.send({ type: state.onShift ? "shift.end" : "shift.start" })) {
        state.shiftBusy = true;
        renderShift();
      }
    }
    shiftToggle.addEventListener("click", toggleShift);
    panesEl.addEventListener("click", (event) => {
      if (event.target.closest('[data-role="empty-cta"]') && !state.onShift) toggleShift();
    });

    function renderWaiting(count) {
      const text = document.querySelector('[data-role="waiting-text"]');
      if (text && typeof count === "number") text.textContent = fmt(S.waiting, { count: count });
    }

    function renderLoad() {
      const open = state.chats.size;
      loadText.textContent = fmt(S.load, { open: open, max: state.maxChats });
      loadBar.replaceChildren();
      for (let i = 0; i < Math.max(state.maxChats, open); i += 1) {
        loadBar.appendChild(make("i", i < open ? "is-on" : ""));
      }
    }

    function updateTitle() {
      let count = 0;
      state.chats.forEach((chat) => {
        if (chat.attention) count += 1;
      });
      document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
    }

    // -------------------------------------------------------------- slots & tabs

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
        tab.appendChild(make("span", "", app.customerName(chat)));
        if (chat.attention) tab.appendChild(make("span", "pane-tab__dot"));
        tab.addEventListener("click", () => {
          state.active = id;
          renderSlots();
          if (chat.stickToBottom) app.scrollToBottom(chat, true);
          app.acknowledge(chat);
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

    // -------------------------------------------------------------- chats in the slots

    function ensureChat(snapshot) {
      let chat = state.chats.get(snapshot.id);
      if (chat) {
        app.updateChat(chat, snapshot);
      } else {
        chat = app.createChat(snapshot);
        state.chats.set(snapshot.id, chat);
        state.order.push(snapshot.id);
      }
      return chat;
    }

    function removeChat(chat) {
      clearTimeout(chat.typingIdle);
      clearTimeout(chat.typingHide);
      if (state.resolveFor === chat.id) app.closeResolve(true);
      if (state.transferFor === chat.id) app.closeTransfer();
      chat.el.remove();
      state.chats.delete(chat.id);
      state.order = state.order.filter((id) => id !== chat.id);
      if (state.active === chat.id) state.active = null;
      renderSlots();
      updateTitle();
    }

    Object.assign(app, {
      renderShift: renderShift,
      renderWaiting: renderWaiting,
      renderLoad: renderLoad,
      renderSlots: renderSlots,
      renderTabs: renderTabs,
      updateTitle: updateTitle,
      ensureChat: ensureChat,
      removeChat: removeChat,
    });
  };
})();
