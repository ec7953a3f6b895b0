#!/usr/bin/env bash
# Checks, tests and packages the VS Code extension, from a fresh clone:
#
#   editors/vscode/ci.sh [OUT.vsix]
#
# The tests run against the server in $CIM_NIX_BIN (default: the repository's
# target/debug/cim-nix, which must be built first). The package goes to OUT
# (default editors/vscode/cim-nix-0.1.0.vsix). Relative paths are taken from
# the directory this is started in.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# A path with a slash is made absolute before we change directory; a bare
# name is looked up on PATH.
absolute() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    */*) printf '%s/%s\n' "$PWD" "$1" ;;
    *) command -v "$1" || printf '%s\n' "$1" ;;
  esac
}

vsix="$(absolute "${1:-$here/cim-nix-0.1.0.vsix}")"
CIM_NIX_BIN="$(absolute "${CIM_NIX_BIN:-$repo/target/debug/cim-nix}")"
export CIM_NIX_BIN
if [ ! -x "$CIM_NIX_BIN" ]; then
  echo "ci.sh: no server binary at $CIM_NIX_BIN: build it (cargo build) or set CIM_NIX_BIN" >&2
  exit 1
fi

cd "$here"

echo "== npm ci"
npm ci --no-audit --no-fund

echo "== package.json's settings match \`cim-nix settings-schema\`"
npm run --silent settings -- "$CIM_NIX_BIN" --check

echo "== lint"
npm run --silent lint

echo "== test (server: $CIM_NIX_BIN)"
npm test

echo "== package"
mkdir -p "$(dirname "$vsix")" # vsce does not make it
npm run package -- -o "$vsix"

# The package must run on its own: the manifest, the compiled extension and
# the language client it loads at run time.
listing="$(unzip -l "$vsix")"
missing=0
for file in extension/package.json extension/out/extension.js extension/node_modules/vscode-languageclient/package.json; do
  if ! grep -qE " ${file}\$" <<<"$listing"; then
    echo "ci.sh: $vsix lacks $file" >&2
    missing=1
  fi
done
# ... and hold nothing of the build: sources, tests, configs, dev tools.
if grep -E ' extension/(src/|scripts/|out/test/|tsconfig\.json$|eslint\.config\.mjs$|ci\.sh$|node_modules/(typescript|eslint|@vscode|@types|@eslint|typescript-eslint)/)' <<<"$listing" >&2; then
  echo "ci.sh: $vsix holds the files above, which must not ship (see .vscodeignore)" >&2
  missing=1
fi
[ "$missing" = 0 ] || exit 1
echo "== ok: $vsix ($(grep -cE ' extension/' <<<"$listing") files)"
