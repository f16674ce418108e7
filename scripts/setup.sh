#!/usr/bin/env bash
# Install everything Pingyi needs on Debian 12, as root: system packages, then a venv.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-noto-cjk: Chinese glyphs in PDFs and screenshots (without it every character is a box)
# libpango/libharfbuzz-subset: WeasyPrint's text layout and font subsetting
# chromium + libatomic1: browser tests through Playwright (Debian's build, never a download)
# poppler-utils: pdftotext/pdffonts/pdftoppm used by the tests to read reports back
# zbar-tools: decoding printed QR codes in tests
# postgresql: the production database; the tests run on it as well as on SQLite
# gettext: compiles the English translation (manage.py compilemessages)
PACKAGES=(python3 python3-venv python3-dev fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
  libharfbuzz-subset0 chromium libatomic1 poppler-utils zbar-tools postgresql gettext)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 may come from elsewhere (pyenv): only insist on Debian's when none is usable.
if command -v python3 >/dev/null && python3 -c 'import venv, sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  missing=("${missing[@]/python3}"); missing=("${missing[@]/python3-venv}"); missing=("${missing[@]/python3-dev}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.pingyi-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
