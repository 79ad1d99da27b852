#!/usr/bin/env sh
# Installs code-server (VS Code in the browser) for the end-to-end tests, once per machine.
#
# code-server's own postinstall downloads ripgrep from GitHub, so its steps are done here by hand
# with Debian's `rg`. The install goes to a cache folder; a stamp file written last marks it
# complete, so an install that was interrupted is done again from scratch. Prints the folder.
set -eu

VERSION=4.100.3
CACHE="${SOPLS_CODE_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sopls/code-server-$VERSION}"
STAMP="$CACHE/.installed"
ROOT="$CACHE/node_modules/code-server"

missing() {
  echo "setup-code-server: $1" >&2
  exit 1
}

if [ -f "$STAMP" ] && [ -x "$ROOT/out/node/entry.js" ]; then
  echo "$CACHE"
  exit 0
fi

command -v node >/dev/null || missing "node is not installed (Node 20 is needed)"
command -v npm >/dev/null || missing "npm is not installed (it comes with Node 20)"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" = 20 ] || missing "code-server $VERSION needs Node 20, this is Node $(node --version)"
RG=$(command -v rg) || missing "ripgrep is not installed: run 'make e2e-packages' (apt: ripgrep)"
command -v chromium >/dev/null || missing "chromium is not installed: run 'make e2e-packages' (apt: chromium)"
command -v krb5-config >/dev/null || missing "the Kerberos headers are missing: run 'make e2e-packages' (apt: libkrb5-dev)"
command -v make >/dev/null && command -v c++ >/dev/null || missing "a C++ compiler and make are needed to build code-server's native modules"

# Native modules build against the headers of the Node that runs them, which Debian ships.
NODE_PREFIX=$(node -p 'require("path").resolve(process.execPath, "..", "..")')
[ -f "$NODE_PREFIX/include/node/node.h" ] || missing "the Node headers are missing ($NODE_PREFIX/include/node/node.h; apt: libnode-dev)"
export npm_config_nodedir="$NODE_PREFIX"
# node-pty's install script runs npx, which must not stop to ask.
export npm_config_yes=true
export npm_config_audit=false
export npm_config_fund=false
export npm_config_update_notifier=false

echo "setup-code-server: installing code-server $VERSION into $CACHE (a few minutes, once)" >&2
rm -rf "$CACHE"
mkdir -p "$CACHE"
cd "$CACHE"
echo '{ "name": "sopls-code-server", "private": true }' >package.json
npm install --ignore-scripts --loglevel=error "code-server@$VERSION" >&2
# argon2 (hoisted next to code-server) would fetch a prebuilt binary from GitHub: build it.
npm rebuild argon2 --build-from-source --loglevel=error >&2

cd "$ROOT/lib/vscode"
npm install --omit=dev --ignore-scripts --loglevel=error >&2
# @vscode/ripgrep's install script skips its download when bin/ exists.
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$RG" node_modules/@vscode/ripgrep/bin/rg
npm rebuild --loglevel=error >&2

# The rest of code-server's postinstall.sh.
rm -rf node_modules.asar
ln -s node_modules node_modules.asar
(cd bin/remote-cli && rm -f code-server && ln -s code-linux.sh code-server)
(cd bin/helpers && rm -f browser.sh && ln -s browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --loglevel=error >&2)

"$ROOT/out/node/entry.js" --version >/dev/null || missing "the installed code-server does not start: $ROOT"
touch "$STAMP"
echo "setup-code-server: done" >&2
echo "$CACHE"
