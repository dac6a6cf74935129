#!/usr/bin/env bash
# Fetches OpenFeature's web SDK and OFREP web provider from the npm registry into
# tests/browser_assets/openfeature, as the ES modules a test page imports through an import
# map (tests/test_browser_flag_streams.py). Run it to move to other versions.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser_assets/openfeature"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=(
    "@openfeature/core@1.12.0 dist/esm/index.js core.js"
    "@openfeature/web-sdk@1.10.0 dist/esm/index.js web-sdk.js"
    "@openfeature/ofrep-core@2.3.0 index.esm.js ofrep-core.js"
    "@openfeature/ofrep-web-provider@0.4.3 index.esm.js ofrep-web-provider.js"
)
: > VERSIONS
for line in "${packages[@]}"; do
    read -r spec file target <<<"$line"
    tarball=$(cd "$work" && npm pack --silent "$spec")
    mkdir -p "$work/${tarball%.tgz}"
    tar xzf "$work/$tarball" -C "$work/${tarball%.tgz}"
    # The source maps are left out: nothing reads them.
    sed '/^\/\/# sourceMappingURL=/d' "$work/${tarball%.tgz}/package/$file" > "$target"
    echo "$spec $(sha256sum "$work/$tarball" | cut -d' ' -f1)" >> VERSIONS
done
cp "$work/${tarball%.tgz}/package/LICENSE" LICENSE
echo "vendored: $(tr '\n' ' ' < VERSIONS)"
