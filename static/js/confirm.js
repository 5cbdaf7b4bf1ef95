// Asks before an action that cannot be taken back lightly: a form with data-confirm="question" is sent only
// when the user answers yes. htmx forms use hx-confirm instead (htmx asks itself); no inline script (CSP).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
