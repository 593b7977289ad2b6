#!/usr/bin/env python3
"""The table of docs/sim.md "Proposal quorum from measurements", from the reports of
script/quorum-sweep.sh, and the governor's rule recomputed off chain from each recorded trial.

The recomputation takes each trial's tallies (for, against, residual for, total voice) and applies
VerinferGovernor's rule for a governance target: for >= m x quorum, residual >= quorum, residual >
against, for >= 2/3 of for + against (quorum = quorum_bps x total voice). It is checked against the
chain's outcome of every trial at m = 2 (the deployed contract) before anything is printed from it.
Usage: quorum-whatif.py OUTDIR QUORUM_BPS...
"""
import json
import statistics
import sys

out, quorums = sys.argv[1], [int(q) for q in sys.argv[2:]]
SEEDS = range(1, 6)


def load(q, s):
    return json.load(open(f"{out}/q{q}-s{s}/report.json"))["runs"][0]


def mmm(xs):
    xs = sorted(xs)
    return f"{xs[0]:.2f} / {statistics.median(xs):.2f} / {xs[-1]:.2f}" if xs else "-"


def fails(p, q, m):
    """The parts of the rule trial `p` fails under quorum `q` bps and multiplier `m` (empty: passes)."""
    quorum = q / 1e4 * p["total_voice"]
    f, a, r = p["for_votes"], p["against_votes"], p["residual_for"]
    why = []
    if f < m * quorum:
        why.append("quorum of the whole for side")
    if r < quorum:
        why.append("residual below the base quorum")
    if r <= a:
        why.append("residual not above against")
    if 3 * f < 2 * (f + a):
        why.append("2/3")
    return why


runs = {q: [load(q, s) for s in SEEDS] for q in quorums}
# the scenario's `attack.turnouts`, as its honest draws were voted
TURNOUTS = sorted({p["turnout"] for p in runs[quorums[0]][0]["capture"]["honest"]})
checked = disagree = 0
for q in quorums:
    for r in runs[q]:
        for p in r["capture"]["honest"] + r["capture"]["proposals"]:
            checked += 1
            disagree += (not fails(p, q, 2.0)) != p["passed"]
print(f"off-chain rule vs chain: {checked} trials, {disagree} disagree")
tallies = {q: [(p["for_votes"], p["against_votes"], p["residual_for"]) for r in runs[q]
               for p in r["capture"]["honest"]] for q in quorums}
same = all(tallies[q] == tallies[quorums[0]] for q in quorums)
print(f"honest draws' tallies identical at every quorum (the run does not depend on it): {same}")
if disagree:
    sys.exit("the recomputation does not reproduce the chain: nothing printed from it")

for q in quorums:
    rs = runs[q]
    print(f"\n== quorum_bps {q}, seeds {len(rs)}")
    for name in [g["goal"] for g in rs[0]["goals"]]:
        ok = sum(g["pass"] for r in rs for g in r["goals"] if g["goal"] == name)
        print(f"  {ok}/{len(rs)} {name}")
    for act, key in (("setTreasury", "sink_proceeds_per_epoch"), ("vetoSlash", "veto_owed")):
        for t in TURNOUTS:
            share, ratio = [], []
            for r in rs:
                c = r["capture"]
                for x in c["corruption"]:
                    if act in x["action"] and abs(x["turnout"] - t) < 1e-9 and x["tokens"] is not None:
                        share.append(100 * x["share_of_stake"])
                        if c[key]:  # nothing slashed or no veto tried: no ratio
                            ratio.append(x["tokens"] / c[key])
            print(f"  bribe {act} at {t:.0%}: {mmm(share)} % of stake; cost / what it buys {mmm(ratio)}")
    for t in TURNOUTS:
        h = [p for r in rs for p in r["capture"]["honest"] if abs(p["turnout"] - t) < 1e-9]
        print(f"  honest at {t:.0%}: {sum(p['passed'] for p in h)}/{len(h)} passed")
    c0 = [r["capture"] for r in rs]
    print("  what it buys: veto", [round(c["veto_owed"] or 0) for c in c0],
          "tokens; treasury, per epoch", [round(c["sink_proceeds_per_epoch"]) for c in c0])

print("\nhonest pass rate recomputed under multiplier m (and why draws fail), from the first quorum's tallies")
base = runs[quorums[0]]
for m in (2.0, 1.5, 1.0):
    for q in quorums + [1]:
        cells = []
        for t in TURNOUTS:
            h = [p for r in base for p in r["capture"]["honest"] if abs(p["turnout"] - t) < 1e-9]
            why = [fails(p, q, m) for p in h]
            counts = {}
            for w in why:
                for x in w:
                    counts[x] = counts.get(x, 0) + 1
            cells.append(f"{sum(not w for w in why)}/{len(h)} {counts}")
        print(f"  m={m} q={q}: " + " | ".join(cells))
