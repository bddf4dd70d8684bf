/* Small behaviours shared by the staff pages (loaded by templates/staff/_nav.html;
   the CSP allows no inline scripts): a <select data-autosubmit> submits its form
   as soon as it changes. */
(function () {
  "use strict";

  document.addEventListener("change", (event) => {
    const select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
      if (typeof select.form.requestSubmit === "function") select.form.requestSubmit();
      else select.form.submit();
    }
  });
})();
