#!/usr/bin/env bash
# Packs libs/mqtt as npm would publish it and installs the tarball into fresh NestJS 11 and
# NestJS 12 apps (packages from the npm registry), then checks, for each:
#  - the tarball holds dist/ (with embedded sources in its maps), README.md, LICENSE, package.json,
#    and nothing else (no src/, no specs);
#  - installing it with only its required peers, then with the optional ones (aedes,
#    @nestjs/testing, @nestjs/terminus), prints no warning that names nestjs-mqtt;
#  - `nestjs-mqtt` loads without the optional peers;
#  - a tiny app importing `nestjs-mqtt`, `nestjs-mqtt/testing` and `nestjs-mqtt/health`
#    type-checks (strict, skipLibCheck off) and runs against an aedes broker;
#  - deep imports of internals fail, for Node and for TypeScript.
# Usage: scripts/pack-check.sh [majors...]   (default: 11 12). Needs network access to npm.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ $# -gt 0 ]; then majors=("$@"); else majors=(11 12); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "pack-check: FAIL: $*" >&2; exit 1; }
npm_q() { npm --no-audit --no-fund --loglevel=warn "$@"; }

echo "== npm pack libs/mqtt (prepack builds it)"
(cd libs/mqtt && npm pack --pack-destination "$work" >"$work/pack.log" 2>&1) || { cat "$work/pack.log"; fail "npm pack failed"; }
tarball=$(ls "$work"/nestjs-mqtt-*.tgz)
tar -tzf "$tarball" | sort >"$work/files.txt"
for f in package/package.json package/README.md package/LICENSE package/dist/index.js \
  package/dist/index.d.ts package/dist/testing/index.js package/dist/health/index.js; do
  grep -qx "$f" "$work/files.txt" || fail "$f is missing from the tarball"
done
unexpected=$(grep -vE '^package/(package\.json|README\.md|LICENSE|dist/.+\.(js|d\.ts|js\.map))$' "$work/files.txt" || true)
[ -z "$unexpected" ] || fail "unexpected files in the tarball: $unexpected"
! grep -qE '\.spec\.' "$work/files.txt" || fail "spec files in the tarball"
echo "   $(wc -l <"$work/files.txt") files, $(du -k "$tarball" | cut -f1) kB"

check_warnings() { # $1: npm output file, $2: what was installed
  if grep -iE '^npm (warn|WARN|ERR)' "$1" | grep -i 'nestjs-mqtt'; then
    fail "npm printed warnings about nestjs-mqtt when installing $2 (above)"
  fi
  local others
  others=$(grep -iE '^npm (warn|WARN)' "$1" | grep -v 'install-scripts' || true)
  [ -z "$others" ] || printf 'warnings from other packages (not ours):\n%s\n' "$others" | sed 's/^/   /'
}

for major in "${majors[@]}"; do
  app="$work/nest$major"
  mkdir -p "$app/src"
  cd "$app"
  echo "== NestJS $major app in $app"
  npm init -y >/dev/null
  config=$([ "$major" = 11 ] && echo '^4' || echo "^$major")
  npm_q install "$tarball" "@nestjs/common@^$major" "@nestjs/core@^$major" \
    "@nestjs/config@$config" class-validator class-transformer reflect-metadata rxjs \
    >"$work/install-$major.log" 2>&1 || { cat "$work/install-$major.log"; fail "install failed"; }
  check_warnings "$work/install-$major.log" "nestjs-mqtt and its required peers"
  node -e "require('reflect-metadata'); const m = require('nestjs-mqtt'); if (typeof m.MqttModule !== 'function') process.exit(1)" \
    || fail "nestjs-mqtt does not load without its optional peers"

  npm_q install "@nestjs/testing@^$major" "@nestjs/terminus@^$major" aedes@^0.51.0 \
    typescript@"$(node -p "require('$root/node_modules/typescript/package.json').version")" \
    @types/node@20 >"$work/install-opt-$major.log" 2>&1 || { cat "$work/install-opt-$major.log"; fail "install of the optional peers failed"; }
  check_warnings "$work/install-opt-$major.log" "the optional peers"
  echo "   installed @nestjs/core $(node -p "require('@nestjs/core/package.json').version"), @nestjs/terminus $(node -p "require('@nestjs/terminus/package.json').version")"

  cp "$root/scripts/pack-check/app.ts" src/
  cp "$root/scripts/pack-check/tsconfig.app.json" tsconfig.json
  # Must NOT compile: internals are not part of the package's exports map.
  printf '%s\n' "import { MqttService } from 'nestjs-mqtt/dist/mqtt.service';" \
    'export const internal = MqttService;' >src/deep-import.ts
  printf '%s\n' '{ "extends": "./tsconfig.json", "compilerOptions": { "noEmit": true },' \
    '  "files": ["src/deep-import.ts"] }' >tsconfig.deep.json
  npx tsc -p tsconfig.json || fail "the app does not compile against the packed package"
  node dist/app.js || fail "the app failed"

  # Deep imports: Node refuses them (exports map); TypeScript too.
  if node -e "require('nestjs-mqtt/dist/mqtt.service')" 2>"$work/deep.log"; then
    fail "deep import nestjs-mqtt/dist/mqtt.service works in Node"
  fi
  grep -q ERR_PACKAGE_PATH_NOT_EXPORTED "$work/deep.log" || { cat "$work/deep.log"; fail "deep import failed for another reason"; }
  if npx tsc -p tsconfig.deep.json >"$work/deep-tsc.log" 2>&1; then
    fail "TypeScript resolves the deep import nestjs-mqtt/dist/mqtt.service"
  fi
  grep -q "TS2307" "$work/deep-tsc.log" || { cat "$work/deep-tsc.log"; fail "the deep import failed to compile for another reason"; }
  node -e "require('nestjs-mqtt/package.json')" || fail "nestjs-mqtt/package.json is not exported"
  echo "   NestJS $major: OK"
  cd "$root"
done
echo "pack-check: OK (NestJS ${majors[*]})"
