// The planning project page (participation/planning/project.html): the project's area, its contributions as
// markers, the heat map by district on demand, and the form's coordinates: a click on the map sets them and typing
// them moves the marker (the fields are the form; the map only helps to fill them). With "A line" chosen, each click
// adds a point to the line's text field (one "latitude, longitude" a line, which keyboard users type) and the line
// is drawn as it grows; a button removes the last point.
(function () {
  "use strict";
  var el = document.getElementById("planning-map");
  if (!el || !window.L) { return; }
  var base = "/participation/projects/" + encodeURIComponent(el.getAttribute("data-name"));
  var map = L.map(el).setView([parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-lon"))], 15);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"}).addTo(map);
  }
  var area = L.geoJSON(JSON.parse(el.getAttribute("data-area")), {style: {color: "#1f4e9c", weight: 2, fillOpacity: 0.05}});
  area.addTo(map);
  map.fitBounds(area.getBounds());
  function text(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  fetch(base + "/contributions.geojson").then(function (r) { return r.json(); }).then(function (fc) {
    L.geoJSON(fc, {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 6, color: "#b03000", keyboard: false}); },
      style: {color: "#b03000", weight: 4},
      onEachFeature: function (f, layer) {
        var rubric = f.properties.rubric ? " › " + text(f.properties.rubric) : "";
        layer.bindPopup("<strong>" + text(f.properties.title) + "</strong><br>" + text(f.properties.category) +
          rubric + " · " + text(f.properties.author) + " · " + f.properties.score);
      }
    }).addTo(map);
    el.setAttribute("data-loaded", String(fc.features.length));
  });
  var heat = null, toggle = document.getElementById("heatmap-toggle");
  if (toggle) {
    toggle.addEventListener("change", function () {
      if (!toggle.checked) { if (heat) { map.removeLayer(heat); } return; }
      if (heat) { heat.addTo(map); return; }
      fetch(base + "/heatmap.json").then(function (r) { return r.json(); }).then(function (fc) {
        var top = 1;
        fc.features.forEach(function (f) { top = Math.max(top, f.properties.weight); });
        heat = L.geoJSON(fc, {
          style: function (f) {
            return {color: "#7a0019", weight: 1, fillColor: "#d7301f",
                    fillOpacity: 0.15 + 0.6 * Math.max(0, f.properties.weight) / top};
          },
          onEachFeature: function (f, layer) {
            layer.bindTooltip(text(String(f.properties.district)) + ": " + f.properties.contributions +
              " / " + f.properties.rating);
          }
        }).addTo(map);
        el.setAttribute("data-heat", String(fc.features.length));
      });
    });
  }
  var lat = document.getElementById("lat"), lon = document.getElementById("lon");
  if (!lat || !lon) { el.setAttribute("data-ready", "1"); return; }
  var marker = null, line = document.getElementById("line"), undo = document.getElementById("line-undo");
  var lineRadio = document.getElementById("shape-line"), drawn = null;
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, {keyboard: false}).addTo(map); }
  }
  function drawing() { return !!(lineRadio && lineRadio.checked && line); }
  function vertices() {
    var out = [];
    line.value.split(/[\n;]/).forEach(function (p) {
      var parts = p.replace(/,/g, " ").trim().split(/\s+/);
      var a = parseFloat(parts[0]), b = parseFloat(parts[1]);
      if (parts.length === 2 && isFinite(a) && isFinite(b)) { out.push([a, b]); }
    });
    return out;
  }
  function redraw() {
    if (!line) { return; }
    var pts = vertices();
    if (drawn) { map.removeLayer(drawn); drawn = null; }
    if (pts.length) { drawn = L.polyline(pts, {color: "#1f4e9c", weight: 4, dashArray: "6 4"}).addTo(map); }
    el.setAttribute("data-vertices", String(pts.length));
  }
  function mode() {
    var isLine = drawing();
    document.getElementById("point-fields").hidden = isLine;
    document.getElementById("line-fields").hidden = !isLine;
    if (undo) { undo.hidden = !isLine; }
    if (marker && isLine) { map.removeLayer(marker); marker = null; }
    if (!isLine) { typed(); }
  }
  map.on("click", function (e) {
    if (drawing()) {
      var v = line.value.replace(/\s+$/, "");
      line.value = (v ? v + "\n" : "") + e.latlng.lat.toFixed(6) + ", " + e.latlng.lng.toFixed(6);
      redraw();
      return;
    }
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    place(e.latlng);
  });
  function typed() {
    var a = parseFloat(lat.value), b = parseFloat(lon.value);
    if (isFinite(a) && isFinite(b)) { place([a, b]); map.panTo([a, b]); }
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
  if (line) {
    line.addEventListener("input", redraw);
    document.getElementById("shape-point").addEventListener("change", mode);
    lineRadio.addEventListener("change", mode);
    undo.addEventListener("click", function () {
      var rows = line.value.replace(/\s+$/, "").split("\n");
      rows.pop();
      line.value = rows.join("\n");
      redraw();
      line.focus();
    });
    redraw();
    mode();
  } else {
    typed();
  }
  el.setAttribute("data-ready", "1");
})();
