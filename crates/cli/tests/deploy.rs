//! `verinfer deploy` end to end: a deployment killed midway on a chain with one-second blocks resumes
//! to a complete suite that `verinfer deploy verify` accepts; `--dry-run` sends nothing; `verify`
//! fails when the chain differs from the manifest and prints the `forge verify-contract` commands.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use common::{Chain, TOKEN};
use verinfer_bindings::Staking;

/// Steps the journal records as mined, and whether its last step is sent but not yet mined.
fn journal(c: &Chain) -> (usize, bool) {
    let path = c.dir.path().join("deployments/31337.partial.json");
    let Some(j) = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        return (0, false);
    };
    let steps = j["steps"].as_array().cloned().unwrap_or_default();
    let mined = steps.iter().filter(|e| e.get("block").is_some()).count();
    let pending = steps.last().is_some_and(|e| e.get("block").is_none());
    (mined, pending)
}

fn nonce(c: &Chain, who: Address) -> u64 {
    c.rt.block_on(async { c.provider.get_transaction_count(who).await })
        .unwrap()
}

#[test]
fn a_killed_deploy_resumes_to_a_complete_suite_that_verify_accepts() {
    let c = Chain::start_with(&["--block-time", "1"]);
    let root = c.dir.path().to_str().unwrap().to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_verinfer"))
        .args(["deploy", "--root", &root])
        .env("VERINFER_RPC_URL", &c.url)
        .env("VERINFER_PRIVATE_KEY", c.key(0))
        .env_remove("VERINFER_KEYSTORE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Kill it while a step is sent and journaled but not yet mined (the executor is polling).
    loop {
        let (mined, pending) = journal(&c);
        if mined >= 5 && pending {
            break;
        }
        assert!(Instant::now() < deadline, "the deploy made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the deploy ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (done, _) = journal(&c);
    assert!(done < 31, "killed too late ({done} steps)");
    assert!(!c.manifest().exists());
    let sent = nonce(&c, c.addr(0));
    assert!(sent >= done as u64);

    let out = c.ok(0, &["deploy", "--root", &root]);
    assert!(out.contains("resuming the deployment"), "{out}");
    assert!(out.contains("(resumed)"), "{out}");
    assert_eq!(nonce(&c, c.addr(0)), 31, "every step sent exactly once");
    assert!(c.manifest().exists());
    assert!(!c.dir.path().join("deployments/31337.partial.json").exists());
    let out = c.ok(0, &["deploy", "verify"]);
    assert!(out.contains(", 0 failed"), "{out}");
}

#[test]
fn dry_run_prints_every_step_with_gas_and_cost_and_sends_nothing() {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    let out = c.ok(0, &["deploy", "--root", &root, "--dry-run"]);
    let steps = out.lines().filter(|l| l.contains(" gas ")).count();
    assert_eq!(steps, 31 + 1, "31 steps and the total:\n{out}");
    assert!(out.contains("total") && out.contains("ETH"), "{out}");
    assert_eq!(nonce(&c, c.addr(0)), 0);
    assert!(!c.manifest().exists());
    // The planned addresses (printed last) hold no code.
    let staking: Address = out
        .lines()
        .find_map(|l| l.strip_prefix("Staking "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(staking, c.addr(0).create(1));
    assert!(c
        .rt
        .block_on(async { c.provider.get_code_at(staking).await })
        .unwrap()
        .is_empty());
}

#[test]
fn verify_fails_when_the_chain_differs_from_the_manifest_and_prints_forge_commands() {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    c.ok(0, &["deploy", "--root", &root, "--keep-admin"]);
    let out = c.ok(0, &["deploy", "verify", "--forge-commands"]);
    assert!(out.contains(", 0 failed"), "{out}");
    let forge: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("forge verify-contract "))
        .collect();
    assert_eq!(forge.len(), 10, "{out}");
    assert!(forge
        .iter()
        .all(|l| l.contains("--chain 31337") && l.contains("--compiler-version 0.8.30")));
    assert!(forge.iter().any(|l| l
        .contains("contracts/staking/Staking.sol:Staking --chain 31337")
        && l.contains("--constructor-args 0x")));

    // The admin changes a parameter behind the manifest's back.
    c.send(
        c.addr(0),
        c.contract("Staking"),
        Staking::setMinOperatorStakeCall {
            value: U256::from(7 * TOKEN),
        }
        .abi_encode(),
    );
    let o = c.run(0, &["deploy", "verify"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{out}");
    let fails: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fails.len(), 1, "{out}");
    assert!(
        fails[0].contains("Staking.minOperatorStake"),
        "{}",
        fails[0]
    );
    assert!(fails[0].contains(&(7 * TOKEN).to_string()), "{}", fails[0]);
}
