#!/usr/bin/env bash
# Copy the browser bundles from node_modules into vendor/, the folder the server serves.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf vendor
mkdir -p vendor/yasgui vendor/leaflet/images vendor/chartjs
cp node_modules/@zazuko/yasgui/build/yasgui.min.js node_modules/@zazuko/yasgui/build/yasgui.min.css vendor/yasgui/
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css vendor/leaflet/
cp node_modules/leaflet/dist/images/*.png vendor/leaflet/images/
cp node_modules/chart.js/dist/chart.umd.js vendor/chartjs/
for package in @zazuko/yasgui leaflet chart.js; do
  version=$(node -p "require('./node_modules/$package/package.json').version")
  echo "$package $version" >> vendor/VERSIONS
done
