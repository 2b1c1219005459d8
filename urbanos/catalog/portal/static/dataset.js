// The dataset page's previews (portal_dataset.html): the map (the dataset's area or its sensors, the first features of
// its collection, a GeoJSON distribution) and the table (the first rows of a CSV distribution, or of the collection).
// Everything the page passes comes in data- attributes and the JSON data block #geometry; values are shown as
// text, never as markup. A static file: the page's Content-Security-Policy refuses inline script.
(function () {
  "use strict";
  var mapEl = document.getElementById("map");
  var itemsBox = document.getElementById("items-table");
  var csvBox = document.getElementById("preview-table");

  function sameOrigin(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; } catch (e) { return false; }
  }
  function none(box) { box.textContent = box.getAttribute("data-none") || ""; }
  function text(v) { return v === null || v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v)); }

  // the features of the dataset's collection: open data from OGC API Features, other data from the portal's
  // preview route, which reads the sign-in cookie
  var itemsUrl = mapEl ? mapEl.getAttribute("data-items-url") : null;
  var items = Promise.resolve(null);
  if (itemsUrl) {
    items = fetch(itemsUrl, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { return data && data.type === "FeatureCollection" ? data : null; })
      .catch(function () { return null; });
  }
  window.urbanosItems = items;

  if (mapEl && window.L) {
    var map = L.map(mapEl, {scrollWheelZoom: false});
    var tiles = mapEl.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"}).addTo(map); }
    var layers = L.featureGroup().addTo(map);
    var geomEl = document.getElementById("geometry");
    var geom = geomEl ? JSON.parse(geomEl.textContent) : null;
    // the dataset's sensors (SensorThings Things with a location), drawn instead of its area
    var sensorsEl = document.getElementById("sensors");
    var sensors = sensorsEl ? JSON.parse(sensorsEl.textContent) : null;
    if (sensors) {
      L.geoJSON(sensors, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 6, color: "#7a2e00", weight: 1, fillColor: "#d95f02", fillOpacity: 0.8});
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () { var s = document.createElement("span"); s.textContent = text((f.properties || {}).name); return s; });
        }
      }).addTo(layers);
    } else if (geom) { L.geoJSON(geom, {style: {color: "#0b5cad", weight: 2, fillOpacity: 0.1}}).addTo(layers); }
    map.setView([0, 0], 1);
    var fit = function () {
      if (layers.getLayers().length) { map.fitBounds(layers.getBounds(), {maxZoom: 15, padding: [10, 10]}); }
    };
    fit();
    if (itemsUrl) {
      items.then(function (data) {
        if (!data) { return; }
        L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, {radius: 5, color: "#0b5cad", weight: 1, fillOpacity: 0.7});
          }
        }).addTo(layers);
        fit();
      });
    }
    var previewUrl = mapEl.getAttribute("data-preview-url");
    if (previewUrl && sameOrigin(previewUrl)) {  // other sites are not fetched (the policy allows this site only)
      fetch(previewUrl, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && (data.type === "FeatureCollection" || data.type === "Feature")) { L.geoJSON(data).addTo(layers); fit(); }
        })
        .catch(function () {});
    }
  }

  if (itemsBox && !csvBox) {
    // the first rows of the collection: one column per property of the first 20 features (at most 12)
    items.then(function (data) {
      var feats = data ? data.features.slice(0, 20) : [];
      if (!feats.length) { none(itemsBox); return; }
      var cols = [];
      feats.forEach(function (f) {
        Object.keys(f.properties || {}).forEach(function (k) { if (cols.indexOf(k) < 0 && cols.length < 12) { cols.push(k); } });
      });
      var table = document.createElement("table"), hr = table.createTHead().insertRow(), tbody = table.createTBody();
      ["id"].concat(cols).forEach(function (k) { var th = document.createElement("th"); th.scope = "col"; th.textContent = k; hr.appendChild(th); });
      feats.forEach(function (f) {
        var tr = tbody.insertRow();
        tr.insertCell().textContent = text(f.id);
        cols.forEach(function (k) { tr.insertCell().textContent = text((f.properties || {})[k]); });
      });
      itemsBox.replaceChildren(table);
    });
  }

  if (csvBox) {
    var cell = function (tag, value) {
      var c = document.createElement(tag);
      c.textContent = value;
      if (tag === "th") { c.scope = "col"; }
      return c;
    };
    var split = function (line) {
      var out = [], cur = "", q = false;
      for (var i = 0; i < line.length; i++) {
        var ch = line[i];
        if (q) {
          if (ch === "\"" && line[i + 1] === "\"") { cur += "\""; i++; } else if (ch === "\"") { q = false; } else { cur += ch; }
        } else if (ch === "\"") { q = true; } else if (ch === "," || ch === ";") { out.push(cur); cur = ""; } else { cur += ch; }
      }
      out.push(cur);
      return out;
    };
    var csvUrl = csvBox.getAttribute("data-url");
    if (!csvUrl || !sameOrigin(csvUrl)) { none(csvBox); return; }
    fetch(csvUrl, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (body) {
        var lines = body.split(/\r?\n/).filter(function (l) { return l.length; }).slice(0, 21);
        if (!lines.length) { throw new Error("empty"); }
        var table = document.createElement("table"), thead = table.createTHead(), tbody = table.createTBody();
        var hr = thead.insertRow();
        split(lines[0]).forEach(function (h) { hr.appendChild(cell("th", h)); });
        lines.slice(1).forEach(function (l) { var tr = tbody.insertRow(); split(l).forEach(function (v) { tr.appendChild(cell("td", v)); }); });
        csvBox.replaceChildren(table);
      })
      .catch(function () { none(csvBox); });
  }
})();
