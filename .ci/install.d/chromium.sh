#!/usr/bin/env bash
# Chromium for test/dashboard.e2e-spec.ts: Debian's package, driven by playwright-core through
# executablePath (no browser download). Installs only when /usr/bin/chromium is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
test -x /usr/bin/chromium
