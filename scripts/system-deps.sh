#!/usr/bin/env bash
# Installs the Debian packages personacast needs at run time (with --browser, also
# those its browser tests need), where they are missing.
# Safe to run again: with everything present it only checks. Exits non-zero when
# something is missing and it cannot install (not root, no password-less sudo).
set -euo pipefail

PACKAGES=(
  libespeak-ng1           # the espeak voice engine (stages/voice/espeak.py loads it with ctypes)
  fonts-noto-color-emoji  # colour emoji in captions
)
# --browser: the headless browser the web studio's tests drive (tests/studio).
if [ "${1:-}" = "--browser" ]; then
  PACKAGES+=(chromium chromium-driver)
fi

installed() {
  # A removed package whose config files remain still has a "dpkg -s" entry.
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

missing_packages() {
  local package
  for package in "${PACKAGES[@]}"; do
    installed "$package" || echo "$package"
  done
}

if ! command -v dpkg >/dev/null; then
  echo "system-deps: not a Debian-based system; install the equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -eq 0 ]; then
  echo "system-deps: all present (${PACKAGES[*]})"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=(env)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n env)
else
  echo "system-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

apt_get() {
  "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

echo "system-deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! apt_get install -y --no-install-recommends "${missing[@]}" 2>&1 | tee "$log"; then
  # Fresh images (Docker, CI) ship without package lists; anything else is a real failure.
  if ! grep -qE 'Unable to locate package|has no installation candidate' "$log"; then
    exit 1
  fi
  echo "system-deps: no package lists yet; running apt-get update"
  apt_get update
  apt_get install -y --no-install-recommends "${missing[@]}"
fi

mapfile -t still_missing < <(missing_packages)
if [ ${#still_missing[@]} -ne 0 ]; then
  echo "system-deps: still missing after install: ${still_missing[*]}" >&2
  exit 1
fi
echo "system-deps: all present (${PACKAGES[*]})"
