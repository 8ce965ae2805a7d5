#!/usr/bin/env bash
# Makes sure the browser the end-to-end tests drive is installed: Debian's `chromium` and the
# Noto CJK fonts (for the Chinese labels). Installs them with apt-get when absent (as root or
# through sudo); fails loudly when it cannot. Playwright's own browser download is not used.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
  echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and fonts-noto-cjk are installed"
  exit 0
fi

echo "browser: installing ${missing[*]} with apt-get" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "error: ${missing[*]} missing and neither root nor password-less sudo is available to install them" >&2
  echo "       install them yourself: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }; then
  echo "error: apt-get could not install ${missing[*]}" >&2
  exit 1
fi
[ -x /usr/bin/chromium ] || { echo "error: /usr/bin/chromium is still missing after apt-get" >&2; exit 1; }
echo "browser: $(/usr/bin/chromium --version 2>/dev/null) installed"
