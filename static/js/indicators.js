// Charts of the usage indicators' dashboard: each canvas[data-chart] is drawn from the JSON script of the
// same id (Chart.js, vendored in static/vendor/chartjs), when the page loads and when htmx brings figures.
(function () {
  "use strict";
  var COLOURS = ["#1d5fa8", "#c0392b", "#7f8c8d", "#27ae60", "#8e44ad", "#d68910"];
  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || canvas.getAttribute("data-drawn") || typeof Chart === "undefined") { return; }
    var chart = JSON.parse(source.textContent);
    chart.datasets.forEach(function (dataset, index) {
      dataset.backgroundColor = COLOURS[index % COLOURS.length];
      dataset.borderColor = COLOURS[index % COLOURS.length];
      dataset.spanGaps = true;
    });
    var percent = chart.type === "line";
    new Chart(canvas, {
      type: chart.type,
      data: { labels: chart.labels, datasets: chart.datasets },
      options: {
        animation: false,
        responsive: true,
        scales: { y: percent ? { min: 0, max: 100, title: { display: true, text: "%" } } : { beginAtZero: true } },
        plugins: { legend: { position: "bottom" } },
        locale: "fr-FR"
      }
    });
    canvas.setAttribute("data-drawn", "1");
  }
  function drawAll() { document.querySelectorAll("canvas[data-chart]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
