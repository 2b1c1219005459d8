// The dashboards' pages: maps (Leaflet), charts (uPlot) and live values over MQTT on WebSockets (MQTT.js, /mqtt).
// Everything the page shows is already in its HTML tables (the server's first render); this script draws the maps
// and charts from the JSON data block #dashboard-data and keeps maps, charts, tables and KPIs current with each new
// Observation. Names and values are text, never markup.
(function () {
  "use strict";
  var block = document.getElementById("dashboard-data");
  if (!block) { return; }
  var data = JSON.parse(block.textContent);
  var panels = data.panels || {};
  var COLORS = {ok: "#2e7d32", normal: "#2e7d32", warn: "#c77700", alert: "#c62828", high: "#c62828",
                low: "#1565c0", none: "#8a8a8a"};
  var SERIES = ["#0b5cad", "#c77700", "#6a1b9a", "#2e7d32", "#c62828", "#00838f", "#5d4037", "#455a64"];
  var fmt = new Intl.NumberFormat(data.lang === "de" ? "de-DE" : "en-GB", {maximumFractionDigits: 1, useGrouping: true});
  var maps = {}, charts = {};

  function num(v) { return v === null || v === undefined || v === "" || isNaN(Number(v)) ? null : Number(v); }
  function show(v) { return v === null ? "–" : fmt.format(v); }
  function band(p, v) {
    var t = p.thresholds || [];
    if (v === null || !t.length) { return "none"; }
    if (v < t[0]) { return "ok"; }
    return v >= t[t.length - 1] ? "alert" : "warn";
  }
  function ratio(v, ref) {
    if (v === null || ref === null || ref === undefined || ref <= 0) { return "none"; }
    var r = v / ref;
    return r < 0.8 ? "low" : (r > 1.2 ? "high" : "normal");
  }
  function passes(where, v) {
    if (!where) { return true; }
    if (v === null) { return false; }
    return where[0] === "above" ? v > where[1] : v < where[1];
  }
  function aggregate(kind, vals) {
    if (kind === "count") { return vals.length; }
    if (!vals.length) { return null; }
    var s = vals.reduce(function (a, b) { return a + b; }, 0);
    if (kind === "sum") { return s; }
    if (kind === "mean") { return s / vals.length; }
    return kind === "min" ? Math.min.apply(null, vals) : Math.max.apply(null, vals);
  }

  // -- maps ------------------------------------------------------------------------------------------------
  function markerStyle(cls) {
    return {radius: 8, weight: 2, color: "#1b1f24", fillColor: COLORS[cls] || COLORS.none, fillOpacity: 0.85};
  }
  function popup(m) {
    var el = document.createElement("div");
    var b = document.createElement("strong");
    b.textContent = m.name;
    el.appendChild(b);
    el.appendChild(document.createElement("br"));
    el.appendChild(document.createTextNode((m.value === null ? (m.text || "–") : show(m.value)) + " " + (m.unit || "")));
    return el;
  }
  function initMap(id, p) {
    var el = document.getElementById(id + "-map");
    if (!el || !window.L) { return; }
    var map = L.map(el, {keyboard: false});
    var tiles = el.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"}).addTo(map); }
    var layer = L.featureGroup().addTo(map), byId = {};
    (p.markers || []).forEach(function (m) {
      var mk = L.circleMarker([m.lat, m.lon], markerStyle(m.cls)).addTo(layer);
      mk.bindPopup(function () { return popup(m); });
      byId[m.id] = {marker: mk, data: m};
    });
    var b = layer.getBounds();
    if (b.isValid()) { map.fitBounds(b, {maxZoom: 16, padding: [20, 20]}); } else { map.setView([0, 0], 2); }
    maps[id] = byId;
  }

  // -- charts ----------------------------------------------------------------------------------------------
  function toSeconds(t) { return Date.parse(t) / 1000; }
  function chartData(p) {
    if (p.mode === "hours") {
      var xs = []; for (var h = 0; h < 24; h++) { xs.push(h); }
      return [xs].concat(p.series.map(function (s) { return s.points.map(num); }));
    }
    var tables = p.series.map(function (s) {
      return [s.points.map(function (pt) { return toSeconds(pt[0]); }), s.points.map(function (pt) { return num(pt[1]); })];
    });
    if (!tables.length) { return [[]]; }
    if (tables.length === 1) { return tables[0]; }
    return uPlot.join(tables);
  }
  function initChart(id, p) {
    var el = document.getElementById(id + "-chart");
    if (!el || !window.uPlot || !(p.series || []).length) { return; }
    var series = [{label: p.mode === "hours" ? "h" : "t"}].concat(p.series.map(function (s, i) {
      return {label: s.name, stroke: SERIES[i % SERIES.length], width: i === 0 ? 2.5 : 1.5, dash: i === 0 ? [] : [6, 4],
              spanGaps: p.mode !== "hours", value: function (u, v) { return show(v) + (p.unit ? " " + p.unit : ""); }};
    }));
    var opts = {width: Math.max(280, el.clientWidth || 480), height: 240, series: series,
                scales: {x: {time: p.mode !== "hours"}},
                tzDate: function (ts) { return data.tz ? uPlot.tzDate(new Date(ts * 1e3), data.tz) : new Date(ts * 1e3); },
                axes: [{values: p.mode === "hours" ? function (u, vals) { return vals.map(function (v) { return v + ":00"; }); } : undefined},
                       {label: p.unit || ""}]};
    if (!opts.axes[0].values) { delete opts.axes[0].values; }
    charts[id] = new uPlot(opts, chartData(p), el);
    window.addEventListener("resize", function () { charts[id].setSize({width: Math.max(280, el.clientWidth), height: 240}); });
  }

  // -- live values -----------------------------------------------------------------------------------------
  function setCell(id, ds, text, cls, versus) {
    var rows = document.querySelectorAll("#" + id + "-table tr[data-ds='" + ds + "']");
    Array.prototype.forEach.call(rows, function (tr) {
      var td = tr.querySelector("td[data-v]");
      if (td) { td.textContent = text; }
      var last = tr.querySelector("td:last-child");
      if (versus && last) { last.textContent = versus; }
      if (cls) { tr.className = "c-" + cls; }
    });
  }
  function kpiUpdate(id, p) {
    var vals = [], total = Object.keys(p.values).length;
    Object.keys(p.values).forEach(function (k) { var v = p.values[k]; if (v !== null && passes(p.where, v)) { vals.push(v); } });
    var sub = document.getElementById(id + "-sub");
    if (sub && p.sub) { sub.textContent = p.sub.replace("{n}", String(vals.length)).replace("{total}", String(total)); }
    var v = aggregate(p.aggregate, vals);
    var el = document.getElementById(id + "-kpi");
    var text = show(v) + (p.unit && v !== null ? " " + p.unit : "");
    if (el) { el.textContent = text; }
    var cell = document.querySelector("#" + id + "-table tbody tr:first-child td[data-v]");
    if (cell) { cell.textContent = text; }
  }
  function groupUpdate(id, p) {
    var rows = document.querySelectorAll("#" + id + "-table tbody tr");
    Array.prototype.forEach.call(rows, function (tr) {
      var name = tr.querySelector("th").textContent, ids = p.groups[name] || [], vals = [];
      ids.forEach(function (i) { var v = p.values[String(i)]; if (v !== null && v !== undefined && passes(p.where, v)) { vals.push(v); } });
      var td = tr.querySelector("td[data-v]");
      if (td) { td.textContent = show(aggregate(p.aggregate, vals)); }
    });
  }
  function onValue(ds, value, time) {
    var v = num(value);
    Object.keys(panels).forEach(function (id) {
      var p = panels[id];
      if ((p.live || []).indexOf(ds) < 0) { return; }
      if (p.values) { p.values[String(ds)] = v; }
      if (p.type === "kpi") { kpiUpdate(id, p); }
      else if (p.groups) { groupUpdate(id, p); }
      else if (p.markers) {
        var m = null;
        p.markers.forEach(function (x) { if (x.id === ds) { m = x; } });
        var cls = m && p.compare ? ratio(v, m.ref) : band(p, v);
        if (m) {
          m.value = v; m.text = String(value); m.cls = cls;
          var entry = maps[id] && maps[id][ds];
          if (entry) { entry.marker.setStyle(markerStyle(cls)); }
        }
        var word = p.labels && v !== null ? p.labels[String(v)] : null;
        if (m && word) { m.text = word; m.value = null; }
        setCell(id, ds, word || (v === null ? String(value) : show(v)), cls, p.compare ? (p.cmp || {})[cls] : null);
      } else if (p.series) {
        p.series.forEach(function (s) {
          if (s.ds !== ds) { return; }
          if (p.mode === "hours") {
            if (p.hour !== undefined) { s.points[p.hour] = v; }
          } else {
            s.points.push([time, v]);
            if (s.points.length > 2000) { s.points.shift(); }
          }
        });
        if (charts[id]) { charts[id].setData(chartData(p)); }
      }
      var sec = document.getElementById(id);
      if (sec) { sec.setAttribute("data-updated", String(Date.now())); }
    });
    document.dispatchEvent(new CustomEvent("dashboard:update", {detail: {ds: ds, value: v, at: Date.now()}}));
  }

  function connect() {
    var ids = {};
    Object.keys(panels).forEach(function (id) { (panels[id].live || []).forEach(function (ds) { ids[ds] = true; }); });
    var topics = Object.keys(ids).map(function (ds) { return "v1.1/Datastreams(" + ds + ")/Observations"; });
    var status = document.getElementById("live-status");
    if (!topics.length || !window.mqtt) { return; }
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + (data.mqtt || "/mqtt");
    var client = mqtt.connect(url, {protocolVersion: 4, reconnectPeriod: 5000, connectTimeout: 10000, clean: true,
                                     timerVariant: "native"});
    client.on("connect", function () {
      client.subscribe(topics, {qos: 0}, function (err) {
        if (!err && status) { status.textContent = status.getAttribute("data-on"); document.body.setAttribute("data-live", "on"); }
      });
    });
    client.on("close", function () { if (status) { status.textContent = status.getAttribute("data-off"); } document.body.setAttribute("data-live", "off"); });
    client.on("message", function (topic, payload) {
      var m = /Datastreams\((\d+)\)\/Observations$/.exec(topic);
      if (!m) { return; }
      var obs;
      try { obs = JSON.parse(new TextDecoder().decode(payload)); } catch (e) { return; }
      var t = String(obs.phenomenonTime || obs.resultTime || "").split("/")[0];
      onValue(Number(m[1]), obs.result, t || new Date().toISOString());
    });
  }

  Object.keys(panels).forEach(function (id) {
    var p = panels[id];
    try {
      if (p.type === "map") { initMap(id, p); } else if (p.type === "timeseries") { initChart(id, p); }
    } catch (e) { /* the table below stays the view */ }
  });
  connect();
})();
