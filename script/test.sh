#!/usr/bin/env bash
# Sets up the pinned toolchain and runs every check verinfer has. This is the README's test command
# and what CI (.ci/run) calls. Fails on the first failing check.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
"$ROOT/script/setup.sh" --llm   # the real-LLM tests start their own llama-cpp-python server
# shellcheck disable=SC1091
source "$ROOT/.toolchain/env"
export FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-ci}"
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)

step "forge fmt --check"
forge fmt --check

step "forge build (warnings are errors)"
forge build --deny warnings --sizes >/dev/null
echo "build ok"

step "forge test (unit, fuzz, invariant; profile $FOUNDRY_PROFILE)"
forge test

step "forge snapshot --check (.gas-snapshot)"
# Gas suites live under test/gas/ and are deterministic (no fuzzing), so the snapshot is stable.
FOUNDRY_PROFILE=default forge snapshot --check --match-path 'test/gas/*'

step "solhint"
node_modules/.bin/solhint --max-warnings 0 'contracts/**/*.sol'

step "slither (config: slither.config.json)"
slither . --config-file slither.config.json

step "packaging: Dockerfile lint (dockerfile-utils; any finding fails)"
lint=$(node_modules/.bin/dockerfile-utils lint packaging/keeper/Dockerfile)
if [ -n "$lint" ]; then echo "$lint"; exit 1; fi
echo "lint ok"

step "bindings are up to date with the contracts"
script/gen-bindings.sh --check

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

printf '\nall checks passed in %ss\n' "$(( $(date +%s) - t0 ))"
