// The usage cockpit's chart: reads per day and API, drawn with uPlot from the JSON data block #usage-data.
// The same values are in the table below the chart; names are set as text, never markup.
(function () {
  "use strict";
  var block = document.getElementById("usage-data");
  var el = document.getElementById("usage-chart");
  if (!block || !el || !window.uPlot) { return; }
  var data = JSON.parse(block.textContent);
  var trend = data.trend || {days: [], series: {}};
  var names = Object.keys(trend.series || {});
  if (!trend.days.length || !names.length) { return; }
  var COLORS = ["#0b5cad", "#c77700", "#6a1b9a", "#2e7d32", "#c62828", "#00838f", "#5d4037", "#455a64"];
  var xs = trend.days.map(function (d) { return Date.parse(d + "T00:00:00Z") / 1000; });
  var series = [{label: data.lang === "de" ? "Tag" : "Day"}].concat(names.map(function (n, i) {
    return {label: n, stroke: COLORS[i % COLORS.length], width: 2};
  }));
  var opts = {width: Math.max(280, el.clientWidth || 640), height: 260, series: series, padding: [12, 48, 0, 0],
              tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
              axes: [{incrs: [86400, 7 * 86400, 28 * 86400],
                      values: function (u, vals) {
                        return vals.map(function (v) { return new Date(v * 1e3).toISOString().slice(0, 10); });
                      }}, {}]};
  var chart = new uPlot(opts, [xs].concat(names.map(function (n) { return trend.series[n]; })), el);
  el.setAttribute("data-drawn", "1");
  window.addEventListener("resize", function () { chart.setSize({width: Math.max(280, el.clientWidth), height: 260}); });
}());
