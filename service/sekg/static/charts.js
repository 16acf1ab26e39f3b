// Draw each chart of the page from its live JSON endpoint.
(function () {
  "use strict";
  const language = document.documentElement.lang;
  const charts = document.querySelectorAll("canvas[data-chart]");
  let pending = charts.length;
  charts.forEach(function (canvas) {
    fetch("/api/charts/" + canvas.dataset.chart + "?lang=" + language)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        const datasets = Object.keys(data.series).map(function (name) {
          return { label: name, data: data.series[name] };
        });
        new Chart(canvas, {
          type: canvas.dataset.chart.indexOf("year") >= 0 ? "line" : "bar",
          data: { labels: data.labels, datasets: datasets },
          options: { responsive: true, animation: false, plugins: { legend: { display: datasets.length > 1 } } },
        });
        canvas.dataset.points = String(data.labels.length);
      })
      .finally(function () {
        pending -= 1;
        if (pending === 0) window.chartsReady = true;
      });
  });
  if (!pending) window.chartsReady = true;
})();
