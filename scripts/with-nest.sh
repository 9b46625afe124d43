#!/usr/bin/env bash
# Runs a command with another NestJS major installed in place of the locked one, then restores
# the lockfile's versions. Usage: scripts/with-nest.sh 11 npm test
# --legacy-peer-deps: the locked NestJS 12 packages (config, platform peers) would otherwise be
# reported as conflicts while the major is swapped underneath them.
set -euo pipefail
cd "$(dirname "$0")/.."
major="$1"
shift
restore() { npm ci --no-audit --no-fund --silent >/dev/null 2>&1 || echo "warning: npm ci failed to restore node_modules"; }
trap restore EXIT
npm install --no-save --no-audit --no-fund --silent --legacy-peer-deps \
  "@nestjs/common@^${major}" "@nestjs/core@^${major}" "@nestjs/testing@^${major}" \
  "@nestjs/microservices@^${major}" "@nestjs/platform-express@^${major}" "@nestjs/terminus@^${major}"
node -e "const v = (p) => require(p + '/package.json').version; console.log('Running with @nestjs/core ' + v('@nestjs/core') + ', @nestjs/platform-express ' + v('@nestjs/platform-express') + ', @nestjs/terminus ' + v('@nestjs/terminus'))"
"$@"
