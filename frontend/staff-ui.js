/* Small behaviours shared by the staff pages (loaded by templates/staff/_nav.html;
   the CSP allows no inline scripts):
   - on a narrow screen, scroll the current sub-navigation tab into view;
   - a <select data-autosubmit> submits its form as soon as it changes. */
(function () {
  "use strict";

  document.querySelectorAll(".subnav__track").forEach((track) => {
    const current = track.querySelector(".is-current");
    if (current && track.scrollWidth > track.clientWidth) {
      track.scrollLeft = current.offsetLeft - (track.clientWidth - current.offsetWidth) / 2;
    }
  });

  document.addEventListener("change", (event) => {
    const select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
      if (typeof select.form.requestSubmit === "function") select.form.requestSubmit();
      else select.form.submit();
    }
  });
})();
