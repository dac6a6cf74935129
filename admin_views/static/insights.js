// Insight pages: draws each <canvas data-chart="name"> from the page's JSON answers.
(function () {
  "use strict";

  var source = document.getElementById("insights-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#206bc4", "#2fb344", "#f59f00", "#d63939", "#ae3ec9", "#17a2b8", "#667382"];

  Chart.defaults.animation = false; // figures, not a show: draw at once
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  function numbers(series) {
    return series.map(function (value) { return value === null ? null : Number(value); });
  }

  function shortDay(iso) {
    var d = new Date(iso + "T00:00:00Z");
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  }

  function dataset(label, values, colour, extra) {
    var base = { label: label, data: numbers(values), borderColor: colour, backgroundColor: colour };
    return Object.assign(base, extra || {});
  }

  var charts = {
    activity: function () {
      return activityChart(data.overview);
    },
    "user-activity": function () {
      return activityChart(data.users);
    },
    money: function () {
      var r = data.revenue;
      return {
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
      };
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
    "campaign-days": function () {
      var report = data.campaigns;
      return {
        type: "line",
        data: {
          labels: report.days.map(function (d) { return shortDay(d.day); }),
          datasets: [
            dataset("Spend", report.days.map(function (d) { return d.figures.spend; }), palette[3], { tension: 0.25 }),
            dataset("Revenue", report.days.map(function (d) { return d.figures.revenue; }), palette[1], { tension: 0.25 })
          ]
        },
        options: { scales: { y: { beginAtZero: true } } }
      };
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
    "merchants-weekly": function () {
      var weeks = data.merchants.new_per_week;
      var mondays = Object.keys(weeks);
      return {
        type: "bar",
        data: {
          labels: mondays.map(shortDay),
          datasets: [dataset("New merchants", mondays.map(function (m) { return weeks[m]; }), palette[0])]
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      };
    }
  };

  function activityChart(answer) {
    return {
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
    };
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
      canvas.chart = new Chart(canvas, build());
    }
  });
})();
