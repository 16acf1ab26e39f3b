// Improve the server-rendered directory: filters apply when changed, CPV and place autocomplete,
// and the map of the current selection. Everything works without this script.
(function () {
  "use strict";
  const form = document.getElementById("directory-form");
  if (form) {
    form.querySelectorAll(".facet input[type=checkbox], #sort").forEach(function (input) {
      input.addEventListener("change", function () { form.submit(); });
    });
  }

  function suggest(input, list, kind) {
    if (!input || !list) return;
    let timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      const text = input.value.trim();
      if (text.length < 2) return;
      timer = setTimeout(function () {
        fetch("/api/suggest/" + kind + "?q=" + encodeURIComponent(text) + "&lang=" + document.documentElement.lang)
          .then(function (r) { return r.json(); })
          .then(function (data) {
            list.replaceChildren();
            data.suggestions.forEach(function (s) {
              const option = document.createElement("option");
              option.value = s.key;
              option.textContent = (s.code ? s.code + " " : "") + (s.label || "");
              list.appendChild(option);
            });
          });
      }, 200);
    });
  }
  suggest(document.getElementById("cpv-input"), document.getElementById("cpv-options"), "cpv");
  suggest(document.getElementById("place"), document.getElementById("place-options"), "place");

  const mapElement = document.getElementById("map");
  if (mapElement && window.L) {
    const map = L.map(mapElement, { zoomControl: true }).setView([46.5, 10.5], 4);
    const tiles = mapElement.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
    }
    fetch(mapElement.dataset.markers)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        const bounds = [];
        data.markers.forEach(function (m) {
          const marker = L.marker([m.lat, m.lon], { title: m.name, alt: m.name }).addTo(map);
          const link = document.createElement("a");
          link.href = m.iri.replace(/^https:\/\/w3id\.org\/sekg\/id\//, "/doc/");
          link.textContent = m.name;
          marker.bindPopup(link);
          bounds.push([m.lat, m.lon]);
        });
        if (bounds.length) map.fitBounds(bounds, { maxZoom: 10 });
        mapElement.dataset.count = String(data.markers.length);
        window.mapReady = true;
      });
  }
})();
