// Insight pages: draws each <canvas data-chart="name"> from the page's JSON answers.
// A canvas with data-partial="YYYY-MM-DD" names the day (or week) still running: its point is
// hollow on a dashed segment, its bar lighter, its axis label "so far".
(function () {
  "use strict";

  var source = document.getElementById("insights-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#206bc4", "#2fb344", "#f59f00", "#d63939", "#ae3ec9", "#17a2b8", "#667382"];
  // Fixed names, not the browser's locale: dates read "3 Dec" like everywhere else.
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  Chart.defaults.animation = false; // figures, not a show: draw at once
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  function numbers(series) {
    return series.map(function (value) { return value === null ? null : Number(value); });
  }

  function shortDay(iso) {
    var d = new Date(iso + "T00:00:00Z"); // the analytics' days are UTC days
    return d.getUTCDate() + " " + months[d.getUTCMonth()];
  }

  function faded(hex) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", 0.35)";
  }

  // Marks the running day or week of a time series, so nobody reads it as a finished drop.
  function markPartial(config, days, partial) {
    var last = partial ? days.indexOf(partial) : -1;
    if (last < 0) {
      return config;
    }
    config.data.datasets.forEach(function (set) {
      var colour = set.borderColor;
      if (config.type === "line") {
        set.segment = { borderDash: function (ctx) { return ctx.p1DataIndex === last ? [6, 4] : undefined; } };
        set.pointBackgroundColor = days.map(function (_, i) { return i === last ? "#fff" : colour; });
      } else {
        set.backgroundColor = days.map(function (_, i) { return i === last ? faded(colour) : colour; });
        set.borderWidth = days.map(function (_, i) { return i === last ? 1 : 0; });
      }
    });
    config.data.labels[last] = [config.data.labels[last], "so far"];
    return config;
  }

  function dataset(label, values, colour, extra) {
    var base = { label: label, data: numbers(values), borderColor: colour, backgroundColor: colour };
    return Object.assign(base, extra || {});
  }

  var charts = {
    activity: function (partial) {
      return activityChart(data.overview, partial);
    },
    "user-activity": function (partial) {
      return activityChart(data.users, partial);
    },
    money: function (partial) {
      var r = data.revenue;
      return markPartial({
        type: "bar",
        data: {
          labels: r.days.map(shortDay),
          datasets: [
            dataset("Volume (" + r.currency + ")", r.total_volume, palette[0], { yAxisID: "y" }),
            dataset("Revenue (" + r.currency + ")", r.revenue, palette[2], { yAxisID: "y1" })
          ]
        },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: "Volume" } },
          y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "Revenue" } } } }
      }, r.days, partial);
    },
    funnel: function () {
      var steps = data.funnel.steps;
      return {
        type: "bar",
        data: {
          labels: steps.map(function (s) { return s.label; }),
          datasets: [dataset("Users", steps.map(function (s) { return s.users; }), palette[0])]
        },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } }
      };
    },
    roas: function () {
      var report = data.campaigns;
      var shown = report.campaigns.filter(function (c) { return c.figures.roas !== null; }).slice(0, 12);
      return {
        type: "bar",
        data: {
          labels: shown.map(function (c) { return c.name; }),
          datasets: [dataset("Revenue per unit of spend", shown.map(function (c) { return c.figures.roas; }), palette[4])]
        },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } }
      };
    },
    "campaign-days": function (partial) {
      var report = data.campaigns;
      var days = report.days.map(function (d) { return d.day; });
      return markPartial({
        type: "line",
        data: {
          labels: days.map(shortDay),
          datasets: [
            dataset("Spend", report.days.map(function (d) { return d.figures.spend; }), palette[3], { tension: 0.25 }),
            dataset("Revenue", report.days.map(function (d) { return d.figures.revenue; }), palette[1], { tension: 0.25 })
          ]
        },
        options: { scales: { y: { beginAtZero: true } } }
      }, days, partial);
    },
    "user-status": function () {
      var t = data.users.totals;
      return {
        type: "doughnut",
        data: {
          labels: ["Active", "Suspended", "Deactivated"],
          datasets: [{ data: [t.active, t.suspended, t.deactivated], backgroundColor: [palette[1], palette[3], palette[6]] }]
        }
      };
    },
    "support-priority": function () {
      return tallyChart(data.support.open.by_priority, "Open tickets");
    },
    "support-status": function () {
      return tallyChart(data.support.open.by_status, "Open tickets");
    },
    "merchants-weekly": function (partial) {
      var weeks = data.merchants.new_per_week;
      var mondays = Object.keys(weeks);
      return markPartial({
        type: "bar",
        data: {
          labels: mondays.map(shortDay),
          datasets: [dataset("New merchants", mondays.map(function (m) { return weeks[m]; }), palette[0])]
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      }, mondays, partial);
    }
  };

  function activityChart(answer, partial) {
    return markPartial({
      type: "line",
      data: {
        labels: answer.days.map(shortDay),
        datasets: [
          dataset("Daily active users", answer.active_users, palette[0], { yAxisID: "y", tension: 0.25 }),
          dataset("Sign-ups", answer.signups, palette[1], { yAxisID: "y1", tension: 0.25 })
        ]
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "Active users" } },
        y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "Sign-ups" } } } }
    }, answer.days, partial);
  }

  function tallyChart(tallies, label) {
    return {
      type: "bar",
      data: {
        labels: tallies.map(function (t) { return t.value.replace("_", " "); }),
        datasets: [dataset(label, tallies.map(function (t) { return t.count; }), palette[0])]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    };
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var build = charts[canvas.getAttribute("data-chart")];
    if (build) {
      canvas.chart = new Chart(canvas, build(canvas.getAttribute("data-partial")));
    }
  });
})();
