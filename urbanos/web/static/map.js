// The Leaflet map of the OGC API Features HTML pages (features/_map.html). The features come from the JSON data
// block #map-features or from the URL in data-source-url; feature ids, property names and values are text, never
// markup, in the popups.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"};
  function esc(v) {
    var text = v === null || v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v));
    return text.replace(/[&<>"']/g, function (c) { return ENTITIES[c]; });
  }
  var map = L.map(el);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"}).addTo(map);
  }
  var bbox = el.getAttribute("data-bbox");
  bbox = bbox ? JSON.parse(bbox) : null;
  if (bbox && bbox.length >= 4) {
    map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
  } else {
    map.setView([0, 0], 2);
  }
  function show(data) {
    if (!data) { return; }
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 6, weight: 1, fillOpacity: 0.7}); },
      onEachFeature: function (f, l) {
        var props = f.properties || {};
        var rows = Object.keys(props).slice(0, 8).map(function (k) {
          return "<tr><th>" + esc(k) + "</th><td>" + esc(props[k]) + "</td></tr>";
        }).join("");
        l.bindPopup("<strong>" + esc(f.id) + "</strong><table>" + rows + "</table>");
      }
    }).addTo(map);
    var b = layer.getBounds();
    if (b.isValid()) { map.fitBounds(b, {maxZoom: 16}); }
    el.setAttribute("data-features", String((data.features || [data]).length));
  }
  var inline = document.getElementById("map-features");
  var url = el.getAttribute("data-source-url");
  if (inline) {
    show(JSON.parse(inline.textContent));
  } else if (url) {
    fetch(url, {headers: {"Accept": "application/geo+json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () {});
  }
})();
