#!/usr/bin/env bash
# Installs everything postroll needs to build, run and test on Debian 12.
# Idempotent: apt-get skips what is already installed. Run as root.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config git
  # runtime libraries (what the library links)
  libcaf-dev librocksdb-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libtomlplusplus-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
  gstreamer1.0-x fonts-dejavu-core
  # enrichment and notifications: speech, OCR, desktop notifications, HTTP
  libpocketsphinx-dev pocketsphinx-en-us libtesseract-dev tesseract-ocr-eng
  libnotify-dev libcurl4-openssl-dev libssl-dev
  # the node's HTTP API (Boost.Asio + Beast, header-only); HTTP clients in tests
  libboost-dev libcpp-httplib-dev
  # tests and benchmarks: Boost.Test, independent media checker, test media makers
  libboost-test-dev ffmpeg sox espeak-ng time
  # scale-out tests: a CA and node certificates made at run time
  openssl
  # the dashboard's end-to-end tests: a real browser and its WebDriver
  chromium chromium-driver
  # a human-like test voice: recognition quality is asserted on it (docs/testing.md)
  festival festvox-us-slt-hts
  # notification tests: a private D-Bus session bus
  dbus-daemon
  # the Debian packages: CPack's DEB generator (file, dpkg-shlibdeps), their
  # check (lintian) and a fresh Debian 12 to install them in (debootstrap;
  # the node runs in a network namespace: iproute2, its dashboard is fetched
  # with curl); the man page is checked with groff
  file dpkg-dev lintian debootstrap iproute2 curl groff-base
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "postroll dependencies: installed"
