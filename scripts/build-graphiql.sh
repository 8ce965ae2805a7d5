#!/usr/bin/env bash
# Builds the GraphiQL explorer (graphiql/dist) from npm packages: no CDN, nothing copied into the
# repository. Fails loudly when Node.js or npm is missing or the registry cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/../graphiql"
command -v npm >/dev/null || { echo "error: npm is not installed (Node.js 18 or later is needed to build the GraphiQL explorer)" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build >/dev/null
test -f dist/index.html || { echo "error: the GraphiQL build wrote no dist/index.html" >&2; exit 1; }
echo "GraphiQL explorer built in graphiql/dist"
