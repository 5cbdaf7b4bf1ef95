// Remaining time before a feeding order is sent: every element with data-due (ISO 8601) shows it.
(function () {
  "use strict";
  function format(ms) {
    if (ms <= 0) { return "imminent"; }
    var seconds = Math.round(ms / 1000);
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    if (hours > 0) { return "dans " + hours + " h " + minutes + " min"; }
    if (minutes > 0) { return "dans " + minutes + " min " + rest + " s"; }
    return "dans " + rest + " s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (element) {
      element.textContent = format(Date.parse(element.getAttribute("data-due")) - now);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 1000);
})();
