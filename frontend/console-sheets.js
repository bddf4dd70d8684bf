/* Expert console (templates/console.html), part: the resolve and transfer
   sheets. There is one of each for the whole page (cloned from the
   #resolve-template and #transfer-template); opening one moves it into the
   pane it is for, and a half-written summary is kept per chat. Resolving sends
   chat.resolve with the summary (1,000 characters at most); transferring asks
   the server for transfer.targets, lists the colleagues who can take the chat
   and sends chat.transfer with an optional note. The server's answer is the
   chat.removed frame (or an `error`), which frontend/console.js handles.

   A classic script, loaded deferred after frontend/live.js and before
   frontend/console.js, which calls Console.sheets(app) once. From the shared
   `app` it reads S, state, socket, request() and toast(), at call time. It adds
   openResolve, closeResolve, setResolveBusy, resolveError, openTransfer,
   closeTransfer, requestTargets, renderTargets, transferError and
   closeSheet(chat) (Escape in a pane) to `app`. */
(function () {
  "use strict";

  const Console = (window.Console = window.Console || {});
  const { make, byRole, charCount, numberFormat } = window.Live;
  const SUMMARY_MAX = 1000;

  function sheetFrom(id, names) {
    const el = document.getElementById(id).content.firstElementChild.cloneNode(true);
    const refs = { el: el };
    names.forEach((name) => (refs[name] = byRole(el, name)));
    return refs;
  }

  Console.sheets = function (app) {
    const { state, S } = app;
    const R = sheetFrom("resolve-template", [
      "resolve-form", "summary", "summary-count", "resolve-error", "resolve-cancel", "resolve-confirm",
    ]);
    const T = sheetFrom("transfer-template", [
      "transfer-status", "targets", "transfer-error", "transfer-refresh", "transfer-cancel", "transfer-note",
    ]);

    function sheetOpen(sheet, chat) {
      return !sheet.el.hidden && sheet.el.parentNode === chat.el;
    }

    /* Escape in a pane: closes the sheet open in it; false when there is none. */
    function closeSheet(chat) {
      if (sheetOpen(R, chat)) closeResolve(false);
      else if (sheetOpen(T, chat)) closeTransfer();
      else return false;
      return true;
    }

    // -------------------------------------------------------------- resolve

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
        app.toast(text, "error");
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
      if (!app.request({ type: "chat.resolve", conversation: chat.id, summary: summary })) {
        resolveError(chat, S.reconnecting);
        return;
      }
      R["resolve-error"].hidden = true;
      setResolveBusy(chat, true);
    }

    // -------------------------------------------------------------- transfer

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
      if (!app.socket.send({ type: "transfer.targets" })) {
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
          if (!app.request(frame)) {
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

    // -------------------------------------------------------------- wiring

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

    Object.assign(app, {
      openResolve: openResolve,
      closeResolve: closeResolve,
      setResolveBusy: setResolveBusy,
      resolveError: resolveError,
      openTransfer: openTransfer,
      closeTransfer: closeTransfer,
      requestTargets: requestTargets,
      renderTargets: renderTargets,
      transferError: transferError,
      closeSheet: closeSheet,
    });
  };
})();
