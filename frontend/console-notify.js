/* Expert console (templates/console.html), part: browser notifications. Also
   loaded by the notifications page (templates/community/notifications.html).

   The browser is asked for its permission only from a click on an offer that
   says what it is for: the console's banner ([data-notify-offer="banner"],
   hidden once the browser was asked or after "Not now", which is remembered in
   localStorage as "console.notify") or the notifications page's card, which
   shows the state in the [data-notify-when] line matching the permission
   ("default", "granted", "denied" or "unsupported").

   A classic script, loaded deferred after frontend/live.js and before
   frontend/console.js, which calls Console.notify(app) once. From the shared
   `app` it reads S and state, and renderSlots at call time; it adds
   app.notifyNewChat(chat): while the tab is hidden, one notification per chat,
   tagged with its id so a reconnect or a second console tab replaces it rather
   than adding another. It names only what the pane shows: topic and first
   name. A click brings the tab forward with that chat open; coming back to the
   tab closes the ones still on screen. */
(function () {
  "use strict";

  const Console = (window.Console = window.Console || {});
  const STORE = "console.notify";

  function permission() {
    return "Notification" in window ? Notification.permission : "unsupported";
  }

  function saidNotNow() {
    try {
      return localStorage.getItem(STORE) === "not-now";
    } catch (_) {
      return false; // storage blocked: ask again next time rather than never
    }
  }

  function renderOffers() {
    const now = permission();
    document.querySelectorAll("[data-notify-offer]").forEach((offer) => {
      if (offer.dataset.notifyOffer === "banner") offer.hidden = now !== "default" || saidNotNow();
      offer.querySelectorAll("[data-notify-when]").forEach((line) => {
        line.hidden = line.dataset.notifyWhen !== now;
      });
    });
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-notify-allow]") && permission() === "default") {
      // Older Safari answers through the callback only, newer browsers through the promise.
      const asked = Notification.requestPermission(renderOffers);
      if (asked && asked.then) asked.then(renderOffers, renderOffers);
    } else if (event.target.closest("[data-notify-not-now]")) {
      try {
        localStorage.setItem(STORE, "not-now");
      } catch (_) {
        /* storage blocked */
      }
      renderOffers();
    }
  });

  // The expert may change it in the browser's site settings while the page is open.
  if (navigator.permissions && navigator.permissions.query) {
    navigator.permissions.query({ name: "notifications" }).then(
      (status) => status.addEventListener("change", renderOffers),
      () => {},
    );
  }

  function start() {
    renderOffers();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  Console.notify = function (app) {
    const { S, state } = app;
    const { fmt } = window.Live;
    const shown = new Set(); // closed when the expert comes back to the tab

    document.addEventListener("visibilitychange", () => {
      if (document.hidden) return;
      shown.forEach((notification) => notification.close());
      shown.clear();
    });

    function notifyNewChat(chat) {
      if (!document.hidden || permission() !== "granted") return;
      const name = ((chat.snap.customer && chat.snap.customer.name) || "").trim().split(/\s+/)[0];
      let notification;
      try {
        notification = new Notification(fmt(S.new_chat, { topic: chat.snap.topic || "" }), {
          body: name || S.customer,
          tag: "chat-" + chat.id,
          lang: document.documentElement.lang,
        });
      } catch (_) {
        return; // Chrome on Android only notifies through a service worker; the chime and title still do
      }
      shown.add(notification);
      notification.addEventListener("close", () => shown.delete(notification));
      notification.addEventListener("click", () => {
        window.focus();
        notification.close();
        if (!state.chats.has(chat.id)) return; // handed over or resolved meanwhile
        state.active = chat.id;
        app.renderSlots();
        chat.r.input.focus(); // marks it seen, as a click in the pane does
      });
    }

    Object.assign(app, { notifyNewChat: notifyNewChat });
  };
})();
