#!/usr/bin/env bash
# Regenerates the committed contract artifacts and alloy bindings (crates/bindings/artifacts) with
# foundry-compilers, using the same solc choice as forge. `--check` fails when the committed copies
# are stale instead of writing them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ -f .toolchain/env ] || script/setup.sh
# shellcheck disable=SC1091
source .toolchain/env
exec cargo run --quiet --locked -p verinfer-bindings --features codegen --bin gen-bindings -- --root "$ROOT" "$@"
