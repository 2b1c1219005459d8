// The report form's map (participation/report.html): a click sets the latitude and longitude fields, and typing
// coordinates moves the marker. The fields are the form; the map only helps to fill them.
(function () {
  "use strict";
  var el = document.getElementById("report-map");
  if (!el || !window.L) { return; }
  var lat = document.getElementById("lat"), lon = document.getElementById("long");
  var map = L.map(el).setView([parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-lon"))], 12);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"}).addTo(map);
  }
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
