#!/usr/bin/env bash
# The desktop app as a user gets it: `tauri build` (the prebuilt Tauri CLI from npm, pinned in
# packaging/package.json) makes the .deb, apt installs it on this machine, and
# tests/desktop/installed.mjs starts the INSTALLED /usr/bin/releve-desktop under Xvfb through
# WebKitWebDriver, logs in and takes screenshots (tests/artifacts/installed-*.png); the
# package is removed afterwards. Needs root (CI runs as root) or sudo.
#
# RELEVE_BUNDLE_PROFILE=debug (default: scripts/test's debug build, `tauri build --debug`) or
#   release (`tauri build`, what .github/workflows/bundles.yml ships; a clean release build
#   takes much longer on 2 cores).
# RELEVE_BUNDLE_APPIMAGE=1: also try the AppImage (its bundler downloads linuxdeploy and
#   its plugins from GitHub: needs internet, off by default; bundles.yml builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
profile=${RELEVE_BUNDLE_PROFILE:-debug}
SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

t0=$SECONDS
if [ ! -x packaging/node_modules/.bin/tauri ]; then
  (cd packaging && npm install --no-audit --no-fund)
fi
cli="$root/packaging/node_modules/.bin/tauri"
bundles=deb
if [ "${RELEVE_BUNDLE_APPIMAGE:-0}" = 1 ]; then bundles=deb,appimage; fi
args=(build --ci --bundles "$bundles")
if [ "$profile" = debug ]; then args+=(--debug); fi
echo "install.sh: tauri ${args[*]}"
(cd src-tauri && "$cli" "${args[@]}")
echo "install.sh: bundles built in $((SECONDS - t0)) s"

deb=$(ls -t "target/$profile/bundle/deb/"*.deb | head -1)
package=$(dpkg-deb -f "$deb" Package)
echo "install.sh: installing $deb (package $package, $(du -h "$deb" | cut -f1))"
t1=$SECONDS
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "./$deb"
trap '"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove -y "$package" > /dev/null || true' EXIT
installed=$(dpkg -L "$package" | grep -E '/bin/releve-desktop$' | head -1)
echo "install.sh: installed in $((SECONDS - t1)) s: $installed"
dpkg -L "$package" | sed 's/^/  /'

cd tests
RELEVE_INSTALLED_BIN="$installed" RELEVE_BIN="$root/target/debug/releve" \
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" node --test desktop/installed.mjs
echo "install.sh: done in $((SECONDS - t0)) s"
