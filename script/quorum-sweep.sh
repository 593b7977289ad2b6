#!/usr/bin/env bash
# The proposal-quorum sweep of docs/sim.md ("Proposal quorum from measurements"): runs SCENARIO
# (default scenarios/realistic-jury.toml) once per seed 1-5 and per quorum (default 400 300 200 150
# 100), each from a copy of the file with `seed = N`, `seeds = [N]` and `[governance] quorum_bps` set, one process
# at a time (release binary), then prints the table with script/quorum-whatif.py.
# Usage: script/quorum-sweep.sh [SCENARIO] [OUTDIR] [QUORUM_BPS...]
# Env: VERINFER_BIN (default $CARGO_TARGET_DIR/release/verinfer, else target/release/verinfer).
set -euo pipefail
sc=${1:-scenarios/realistic-jury.toml}
out=${2:-reports/quorum-sweep}
shift $(($# > 2 ? 2 : $#))
quorums=("$@")
[ ${#quorums[@]} -eq 0 ] && quorums=(400 300 200 150 100)
bin=${VERINFER_BIN:-${CARGO_TARGET_DIR:-target}/release/verinfer}
mkdir -p "$out"
for q in "${quorums[@]}"; do
  for s in 1 2 3 4 5; do
    f="$out/q$q-s$s.toml"
    # top-level keys first: the seed and a one-seed list replace the file's own
    { printf 'seed = %s\nseeds = [%s]\n' "$s" "$s"; sed -e '/^seeds\? = /d' -e '/^quorum_bps/d' "$sc"; } > "$f"
    if grep -q '^\[governance\]' "$f"; then
      sed -i "s/^\[governance\]/[governance]\nquorum_bps = $q/" "$f"
    else
      printf '\n[governance]\nquorum_bps = %s\n' "$q" >> "$f"
    fi
    # a failed goal exits 1 (the honest-proposal goal fails at every quorum); anything else is an error
    rc=0
    timeout 900 "$bin" sim run "$f" --quiet --out "$out/q$q-s$s" > "$out/q$q-s$s.txt" 2>&1 || rc=$?
    [ "$rc" -le 1 ] || { echo "q$q seed $s: exit $rc (see $out/q$q-s$s.txt)" >&2; exit 1; }
    echo "q$q seed $s done"
  done
done
python3 "$(dirname "$0")/quorum-whatif.py" "$out" "${quorums[@]}"
