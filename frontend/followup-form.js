/* The past chat page (templates/past_conversation.html): the follow-up form and
   the local times. Plain JS, no framework, no build step; loaded only by that
   page, deferred, after frontend/live.js.

   From window.Live it takes fmt, make, charCount, numberFormat, timeFormat, lang
   and zone; it needs nothing else. The form is a plain POST
   (community/views.py follow_up_send): its request key makes a retry or double
   click send it once, and the server's JSON answer says what went wrong. Its UI
   strings come translated from the server as data attributes of the form, and
   every piece of user text goes into the page with textContent, never as HTML.
   The page's <time data-local="time|datetime">, rendered by the server, are
   shown in the viewer's language, still in the brand's time zone. */
(function () {
  "use strict";

  const { fmt, make, charCount, numberFormat } = window.Live;

  // ------------------------------------------------------------------ follow-up form

  function initFollowUp(form) {
    const d = form.dataset;
    const maxLength = Number(d.maxLength) || 4000;
    const input = form.querySelector('[data-testid="followup-input"]');
    const button = form.querySelector('[data-testid="followup-send"]');
    const status = form.querySelector('[data-testid="followup-status"]');
    const key = form.querySelector('input[name="request_key"]');
    const list = document.querySelector('[data-testid="followup-list"]');
    const emptyNote = document.querySelector('[data-role="followup-empty"]');
    let sending = false;

    function setStatus(text, kind) {
      status.textContent = text;
      status.className = "followup-form__status" + (kind ? " is-" + kind : "");
      status.dataset.testid = kind === "ok" ? "followup-sent" : "followup-status";
    }

    function addItem(body) {
      if (emptyNote) emptyNote.remove();
      const li = make("li", "followup is-fresh");
      li.dataset.testid = "followup-item";
      li.appendChild(make("p", "followup__body", body));
      const meta = make("div", "followup__meta");
      meta.appendChild(make("span", "", d.justNow));
      meta.appendChild(make("span", "badge", d.notSeen));
      li.appendChild(meta);
      list.appendChild(li);
      const count = document.querySelector('[data-role="followup-count"]');
      if (count) count.textContent = String(list.querySelectorAll('[data-testid="followup-item"]').length);
    }

    input.addEventListener("input", () => {
      const over = charCount(input.value.trim()) - maxLength;
      if (over > 0) {
        setStatus(fmt(d.tooLong, { over: numberFormat.format(over), max: numberFormat.format(maxLength) }), "error");
        input.setAttribute("aria-invalid", "true");
      } else if (input.getAttribute("aria-invalid") === "true" || status.classList.contains("is-ok")) {
        input.removeAttribute("aria-invalid");
        setStatus("", "");
      }
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = input.value.trim();
      if (!body) {
        setStatus(d.empty, "error");
        input.focus();
        return;
      }
      if (charCount(body) > maxLength || sending) return;
      sending = true;
      button.disabled = true;
      setStatus(d.sending, "");
      let answer = null;
      let signedOut = false;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        signedOut = response.redirected || response.status === 403;
        answer = await response.json();
      } catch (error) {
        answer = null;
      }
      sending = false;
      button.disabled = false;
      if (answer && answer.follow_up) {
        addItem(body);
        input.value = "";
        if (key) key.value = answer.next_request_key; // the next follow-up is a new one
        setStatus(d.sent, "ok");
      } else {
        setStatus(signedOut ? d.signedOut : (answer && answer.error && answer.error.message) || d.error, "error");
      }
    });
  }

  // ------------------------------------------------------------------ local times

  function localizeTimes() {
    const formats = {
      time: Live.timeFormat,
      datetime: new Intl.DateTimeFormat(Live.lang, { dateStyle: "medium", timeStyle: "short", timeZone: Live.zone }),
    };
    document.querySelectorAll("time[data-local]").forEach((node) => {
      const date = new Date(node.dateTime);
      const format = formats[node.dataset.local];
      if (format && !Number.isNaN(date.getTime())) node.textContent = format.format(date);
    });
  }

  function start() {
    localizeTimes();
    const followUp = document.querySelector('[data-testid="followup-form"]');
    if (followUp) initFollowUp(followUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
