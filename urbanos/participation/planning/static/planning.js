// The planning project page (participation/planning/project.html): the project's area, its contributions as
// markers, the heat map by district on demand, and the form's coordinates: a click on the map sets them and typing
// them moves the marker (the fields are the form; the map only helps to fill them).
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
  var marker = null;
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, {keyboard: false}).addTo(map); }
  }
  map.on("click", function (e) {
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
  typed();
  el.setAttribute("data-ready", "1");
})();
