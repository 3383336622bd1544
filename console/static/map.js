// A console map: the deployment's tiles, or (none configured, offline) a plain scaled grid.
// Markers come from data-points (JSON [{lat, lon, label}]); a click on a map with
// data-pick fills the inputs named there (lat, lon) and drops a marker.
(function () {
  function gridLayer() {
    var Grid = L.GridLayer.extend({
      createTile: function () {
        var tile = document.createElement("canvas");
        var size = this.getTileSize();
        tile.width = size.x; tile.height = size.y;
        var ctx = tile.getContext("2d");
        ctx.fillStyle = "#f7f7f4"; ctx.fillRect(0, 0, size.x, size.y);
        ctx.strokeStyle = "#d6d6d0"; ctx.lineWidth = 1;
        ctx.strokeRect(0.5, 0.5, size.x - 1, size.y - 1);
        ctx.beginPath(); ctx.moveTo(size.x / 2, 0); ctx.lineTo(size.x / 2, size.y);
        ctx.moveTo(0, size.y / 2); ctx.lineTo(size.x, size.y / 2);
        ctx.strokeStyle = "#ebebe6"; ctx.stroke();
        return tile;
      }
    });
    return new Grid();
  }
  function start(el) {
    var points = JSON.parse(el.dataset.points || "[]");
    var map = L.map(el, {attributionControl: !!el.dataset.tiles});
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, {attribution: el.dataset.attribution || "", maxZoom: 19}).addTo(map);
    } else {
      gridLayer().addTo(map);
    }
    L.control.scale({imperial: false}).addTo(map);
    var latlngs = points.map(function (p) { return [p.lat, p.lon]; });
    points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], {radius: 7, color: "#2f6fb0", fillOpacity: 0.8})
        .addTo(map).bindTooltip(p.label, {permanent: true, direction: "right"});
    });
    if (latlngs.length > 1 && el.dataset.line) { L.polyline(latlngs, {color: "#2f6fb0", dashArray: "4 6"}).addTo(map); }
    if (latlngs.length) { map.fitBounds(L.latLngBounds(latlngs).pad(0.3), {maxZoom: 17}); }
    else { map.setView([parseFloat(el.dataset.lat || "30.274"), parseFloat(el.dataset.lon || "120.155")], 15); }
    if (el.dataset.pick) {
      var picked = null;
      var form = document.getElementById(el.dataset.pick);
      map.on("click", function (e) {
        form.elements.lat.value = e.latlng.lat.toFixed(6);
        form.elements.lon.value = e.latlng.lng.toFixed(6);
        if (picked) { picked.setLatLng(e.latlng); } else { picked = L.marker(e.latlng).addTo(map); }
        var name = form.elements.name; if (name && !name.value) { name.focus(); }
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(start);
  });
})();
