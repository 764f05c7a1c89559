// The sales dashboard's charts, drawn with the vendored chart.js from specs the server writes
// into <script type="application/json"> next to each <canvas data-chart="id">. Each spec has
// kind (bar|doughnut), labels, datasets [{label, data, color, texts}], horizontal, stacked.
// "texts" are the server's localised values (money, percentages) shown in tooltips.
(function () {
  "use strict";

  function spec(id) {
    var el = document.getElementById(id);
    try { return el ? JSON.parse(el.textContent) : null; } catch (e) { return null; }
  }

  function config(s) {
    var horizontal = !!s.horizontal;
    var stacked = !!s.stacked;
    var doughnut = s.kind === "doughnut";
    var datasets = s.datasets.map(function (d) {
      return {
        label: d.label,
        data: d.data,
        backgroundColor: d.color,
        borderColor: doughnut ? "#fff" : d.color,
        borderWidth: doughnut ? 2 : 0,
        borderRadius: doughnut ? 0 : 3,
        maxBarThickness: 28,
        texts: d.texts || null,
      };
    });
    var tooltip = {
      callbacks: {
        label: function (ctx) {
          var texts = ctx.dataset.texts;
          var value = texts && texts[ctx.dataIndex] != null ? texts[ctx.dataIndex] : ctx.formattedValue;
          return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + value;
        },
      },
    };
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 },
      plugins: {
        legend: { display: doughnut || datasets.length > 1, position: "bottom", labels: { boxWidth: 12 } },
        tooltip: tooltip,
      },
    };
    if (!doughnut) {
      options.indexAxis = horizontal ? "y" : "x";
      var compact = new Intl.NumberFormat(document.documentElement.lang || undefined, { notation: "compact" });
      var valueAxis = {
        beginAtZero: true,
        stacked: stacked,
        ticks: { precision: 0, callback: function (value) { return compact.format(value); } },
      };
      var labelAxis = { stacked: stacked, grid: { display: false }, ticks: { autoSkip: false } };
      options.scales = horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis };
    } else {
      options.cutout = "60%";
    }
    return { type: doughnut ? "doughnut" : "bar", data: { labels: s.labels, datasets: datasets }, options: options };
  }

  function draw() {
    if (!window.Chart) return;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.font.size = 12;
    window.Chart.defaults.locale = document.documentElement.lang || undefined;
    window.Chart.defaults.color = "#3d4652";
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var s = spec(canvas.getAttribute("data-chart"));
      if (s) new window.Chart(canvas, config(s));
    });
  }

  // The custom dates matter only for a custom period; without JavaScript they stay visible.
  function toggleDates() {
    var period = document.getElementById("df_period");
    if (!period) return;
    document.querySelectorAll(".vk-custom-dates").forEach(function (el) {
      el.hidden = period.value !== "custom";
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "df_period") toggleDates();
  });
  toggleDates();
  draw();
})();
