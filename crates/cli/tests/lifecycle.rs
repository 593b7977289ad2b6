//! Full lifecycle through the binary: `verinfer devnet` on its own anvil with a small workload —
//! deploy, register, serve, request, answer (single and batched), equivocation and missed-assignment
//! slashes, a keeper killed mid-run and restarted, finalization, one dispute decided by a quadratic
//! vote of delegators and one by the referee game the keepers play, with the losers' WrongResult slashes
//! executed — then checks the JSON report.

use std::process::Command;

#[test]
fn devnet_lifecycle_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_verinfer"))
        .args([
            "devnet",
            "--requests",
            "8",
            "--operators",
            "5",
            "--timeout-secs",
            "120",
        ])
        .arg("--anvil")
        .arg(verinfer_devnet::anvil::find(None).expect("the pinned anvil (run script/setup.sh)"))
        .arg("--root")
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("reports"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "devnet failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("deployments/31337.json").exists());
    let report = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("json report");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(r["requests_sent"], 8);
    assert_eq!(r["requests_with_result"], 8);
    assert_eq!(r["requests_finalized"], 8);
    assert_eq!(r["keeper_restarts"], 1);
    let ops = r["operators"].as_array().unwrap();
    for o in ops {
        if o["behaviour"] != "offline" {
            // nothing lost, nothing duplicated: every assignment answered exactly once on chain
            assert_eq!(o["assigned"], o["answered_on_chain"], "{o}");
        }
    }
    let slashes = r["slashes"].as_array().unwrap();
    assert!(
        slashes
            .iter()
            .any(|s| s["kind"].as_str().unwrap().starts_with("equivocation")),
        "{slashes:?}"
    );
    assert!(r["gas_per_attestation_single"].as_u64().unwrap() > 0);
    // One dispute decided by a quadratic vote of delegators and one by the referee's game: each time
    // the two colluders are slashed.
    let wrong = |how: &str| {
        slashes
            .iter()
            .filter(|s| s["kind"].as_str().unwrap() == format!("wrong result ({how})"))
            .count()
    };
    assert_eq!(
        wrong("lost a dispute decided by quadratic vote"),
        2,
        "{slashes:?}"
    );
    assert_eq!(wrong("lost a referee game"), 2, "{slashes:?}");
    assert!(
        r["dispute_slashed"].as_f64().unwrap() > 0.0,
        "{}",
        r["dispute"]
    );
    // The slashes left recorded stake (governance voice) stale; syncStake re-recorded it, and a
    // second pass finds nothing stale. Voice is then read from QuadraticVotes.
    assert!(r["stake_records_resynced"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["stake_records_stale_after_sync"], 0, "{r}");
    assert!(r["voice_accounts"].as_u64().unwrap() >= 5 + 3, "{r}");
    assert!(r["nakamoto_voice"].as_u64().unwrap() >= 1, "{r}");
}
