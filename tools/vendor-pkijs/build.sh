#!/bin/sh
# Rebuild app/static/vendor/pkijs/pkijs.min.js: PKI.js (+ asn1js and their dependencies)
# bundled ONCE into a single same-origin ES module for the booth's PKCS#12 import
# (app/static/js/crypto/pkcs12.js).  The project has no build step: the bundle is committed.
#
#   tools/vendor-pkijs/build.sh        (needs node >= 20 and npm; writes nothing else)
#
# Versions are pinned in package.json / package-lock.json (npm ci).  node_modules is not
# committed.  Then check: no eval / new Function (the CSP is script-src 'self'), and run
#   node --test tests/js/pkcs12.test.mjs
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../app/static/vendor/pkijs"
cd "$here"
npm ci --no-audit --no-fund
mkdir -p "$out"
npx esbuild entry.js --bundle --format=esm --minify --target=es2020 --legal-comments=eof \
  --outfile="$out/pkijs.min.js"
if grep -q -e 'new Function' -e 'eval(' "$out/pkijs.min.js"; then
  echo "the bundle uses eval or new Function: the CSP (script-src 'self') would block it" >&2
  exit 1
fi
{
  for pkg in pkijs asn1js bytestreamjs @noble/hashes @peculiar/utils; do
    version=$(node -p "require('./node_modules/$pkg/package.json').version")
    printf '==== %s %s ====\n\n' "$pkg" "$version"
    cat "node_modules/$pkg/LICENSE"
    printf '\n\n'
  done
} > "$out/LICENSE"
sha256sum "$out/pkijs.min.js"
