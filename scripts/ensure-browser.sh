#!/usr/bin/env bash
# Makes sure headless Chromium (/usr/bin/chromium) and a CJK font (fonts-noto-cjk) are installed,
# installing them from Debian's packages when absent. Idempotent and quick when both are there.
# Browser tests (rendering reports, front-end tests) need both; this fails loudly, never skips.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" \
  || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "ensure-browser: installing ${missing[*]} from Debian's packages" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "error: ${missing[*]} not installed and this is not root; run as root:" >&2
  echo "       apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2; then
  echo "error: could not install ${missing[*]} with apt-get (see the messages above)" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "error: /usr/bin/chromium is still missing after installing chromium" >&2
  exit 1
fi
if ! fc-list :lang=zh family | grep -q "CJK"; then
  echo "error: no CJK font known to fontconfig after installing fonts-noto-cjk" >&2
  exit 1
fi
echo "ensure-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and fonts-noto-cjk ready" >&2
