//! The Rust plan and `script/DeploySuite.sol` deploy the same suite: `forge script
//! script/Deploy.s.sol --broadcast` on one fresh anvil, the Rust plan (CREATE, and CREATE2 with a
//! salt) on others, then both are read back from the chain and compared key by key: every role
//! holder and role admin, the token owner, the timelock's proposer/canceller/executor roles, the
//! sinks, the wiring and every parameter. Needs the pinned forge/anvil (`.toolchain`) and the built
//! `out/` (a `forge build`); their absence fails the test.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::{
    primitives::{keccak256, Address, B256},
    providers::Provider,
};
use common::*;
use verinfer_deploy::{
    executor::{DeployOptions, Executor},
    inspect::{diff, expected_state, read_state, State},
    plan::{DeployParams, DeployPlan, PlanError, CONTRACTS},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn forge() -> PathBuf {
    let p = root().join(".toolchain/forge");
    assert!(
        p.is_file(),
        "no forge at {}: run script/setup.sh",
        p.display()
    );
    p
}

/// The solc forge must use (`FOUNDRY_SOLC`), as `script/setup.sh` wrote it into `.toolchain/env`
/// (foundry.toml is offline and never downloads a compiler).
fn foundry_solc() -> String {
    if let Ok(s) = std::env::var("FOUNDRY_SOLC") {
        return s;
    }
    let env = std::fs::read_to_string(root().join(".toolchain/env")).expect(".toolchain/env");
    env.lines()
        .find_map(|l| l.strip_prefix("export FOUNDRY_SOLC="))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("FOUNDRY_SOLC in .toolchain/env")
}

/// How long `forge script` may take (compiling with the solc-js shim included) before the test
/// kills it and fails with its output. A wait on a child process without a deadline turns a stuck
/// broadcast into a CI run that never ends.
const FORGE_DEADLINE: Duration = Duration::from_secs(600);

/// A running `forge script`, its output going to a file (no pipe can fill up while the test does
/// something else).
struct ForgeRun {
    child: Child,
    out: tempfile::NamedTempFile,
}

/// Runs `forge script script/Deploy.s.sol` against `rpc` with `params`' environment (as dev key 0),
/// broadcasting into `broadcast_dir` when `broadcast`.
///
/// `--slow` sends each transaction only once the previous one is mined, as a real deployment
/// should. Without it forge sends them all at once; anvil's automine packs as many as fit under the
/// 30M block gas limit into one block and leaves the rest pending until some *other* transaction
/// arrives, so forge waited for a receipt forever (the CI run of stop 23 hung here until its
/// 90 minutes ran out, and 1 local run in 7 hung here once `VerinferGovernor` grew).
fn forge_deploy(
    rpc: &str,
    key: &str,
    params: &DeployParams,
    broadcast_dir: &Path,
    broadcast: bool,
) -> ForgeRun {
    let out = tempfile::NamedTempFile::new().expect("a temp file for forge's output");
    let mut c = Command::new(forge());
    c.current_dir(root())
        .args([
            "script",
            "script/Deploy.s.sol",
            "--rpc-url",
            rpc,
            "--private-key",
            key,
            "--slow",
        ])
        .env("WRITE_MANIFEST", "false")
        .env("FOUNDRY_SOLC", foundry_solc())
        .env("FOUNDRY_BROADCAST", broadcast_dir)
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("forge's stdout"))
        .stderr(out.reopen().expect("forge's stderr"));
    if broadcast {
        c.arg("--broadcast");
    }
    for (k, v) in params.forge_env() {
        c.env(k, v);
    }
    ForgeRun {
        child: c.spawn().expect("forge starts"),
        out,
    }
}

/// Waits for `run` at most [`FORGE_DEADLINE`]: returns (success, its output), or kills it and
/// panics with its output so far.
fn finish(mut run: ForgeRun) -> (bool, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = run.child.try_wait().expect("forge's status") {
            break Some(status);
        }
        if started.elapsed() > FORGE_DEADLINE {
            let _ = run.child.kill();
            let _ = run.child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::fs::read_to_string(run.out.path()).unwrap_or_default();
    match status {
        Some(s) => (s.success(), out),
        None => panic!(
            "forge script did not finish within {FORGE_DEADLINE:?}; killed. Its output:\n{out}"
        ),
    }
}

/// The contracts `forge script` created, from its broadcast record (`transactionType == CREATE`).
fn forge_addresses(
    broadcast_dir: &Path,
    chain_id: u64,
) -> std::collections::BTreeMap<String, Address> {
    let path = broadcast_dir.join(format!("Deploy.s.sol/{chain_id}/run-latest.json"));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("broadcast record")).unwrap();
    run["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["transactionType"] == "CREATE")
        .map(|t| {
            (
                t["contractName"].as_str().unwrap().to_owned(),
                t["contractAddress"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn assert_same(what: &str, a: &State, b: &State) {
    let d = diff(a, b, false);
    assert!(
        d.is_empty(),
        "{what} differ in {} keys:\n{}",
        d.len(),
        d.iter()
            .map(|(k, x, y)| format!("  {k}: {x} vs {y}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_plan_create_and_create2_deploy_the_same_suite_as_deploy_suite() {
    let forge_chain = anvil(&[]);
    let key0 = format!("0x{}", alloy::hex::encode(forge_chain.keys()[0].to_bytes()));
    let deployer = forge_chain.addresses()[0];
    let params = DeployParams::production(deployer);
    let bdir = tempfile::tempdir().unwrap();
    let child = forge_deploy(
        forge_chain.endpoint_url().as_str(),
        &key0,
        &params,
        bdir.path(),
        true,
    );

    // Meanwhile: the Rust plan with CREATE, and with CREATE2, each on its own fresh anvil.
    let create_chain = anvil(&[]);
    let p = wallet_provider(&create_chain, key(&create_chain, 0));
    let plan = DeployPlan::new(&params, 0);
    let rust = Executor::new(&p, DeployOptions::default())
        .deploy(&plan)
        .await
        .expect("the Rust plan deploys");
    let create2_chain = anvil(&[]);
    let p2 = wallet_provider(&create2_chain, key(&create2_chain, 0));
    let salted = DeployPlan::new(&params.clone().with_salt(B256::repeat_byte(0x42)), 0);
    Executor::new(&p2, DeployOptions::default())
        .deploy(&salted)
        .await
        .expect("the CREATE2 plan deploys");
    // A negative control: the local plan (the deployer keeps admin) must differ.
    let local_chain = anvil(&[]);
    let p3 = wallet_provider(&local_chain, key(&local_chain, 0));
    let local = DeployPlan::new(&DeployParams::local(deployer), 0);
    Executor::new(&p3, DeployOptions::default())
        .deploy(&local)
        .await
        .expect("the local plan deploys");

    let (ok, out) = finish(child);
    assert!(ok, "forge script failed:\n{out}");
    let fp = plain_provider(&forge_chain);
    let forge_at = forge_addresses(bdir.path(), 31337);
    assert_eq!(
        forge_at.keys().collect::<std::collections::BTreeSet<_>>(),
        CONTRACTS
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .iter()
            .collect(),
        "DeploySuite creates exactly the suite"
    );

    let forge_state = read_state(&fp, &forge_at, Some(deployer)).await.unwrap();
    let rust_state = read_state(&p, &plan.addresses, Some(deployer))
        .await
        .unwrap();
    let create2_state = read_state(&p2, &salted.addresses, Some(deployer))
        .await
        .unwrap();
    let local_state = read_state(&p3, &local.addresses, Some(deployer))
        .await
        .unwrap();

    assert_same(
        "DeploySuite and the Rust plan (CREATE)",
        &forge_state,
        &rust_state,
    );
    assert_same(
        "DeploySuite and the Rust plan (CREATE2)",
        &forge_state,
        &create2_state,
    );
    // Both equal what the parameters say (the expected map has no live `state.` keys).
    let expected = expected_state(&plan);
    let missing: Vec<_> = diff(&expected, &rust_state, true)
        .into_iter()
        .filter(|(k, _, _)| expected.contains_key(k))
        .collect();
    assert!(
        missing.is_empty(),
        "the suite differs from its parameters: {missing:#?}"
    );
    assert_eq!(forge_state.len(), rust_state.len());
    assert!(forge_state.len() > 80, "{} keys read", forge_state.len());

    // Same deployer, same nonces, same order: CREATE gives DeploySuite's very addresses, and the
    // runtime code at each (immutables included) is byte for byte the same.
    assert_eq!(forge_at, plan.addresses);
    for (name, at) in &forge_at {
        let a = fp.get_code_at(*at).await.unwrap();
        let b = p.get_code_at(*at).await.unwrap();
        assert!(!a.is_empty(), "{name}");
        assert_eq!(keccak256(&a), keccak256(&b), "{name}: runtime code differs");
    }
    assert_ne!(salted.addresses, plan.addresses);

    // The comparison does catch a divergence: the deployer keeping admin shows in the roles.
    let d = diff(&forge_state, &local_state, false);
    let keys: Vec<&str> = d.iter().map(|(k, _, _)| k.as_str()).collect();
    for k in [
        "Staking.roles.DEFAULT_ADMIN_ROLE",
        "TimelockController.roles.DEFAULT_ADMIN_ROLE",
        "VerinferToken.owner",
        "VerinferGovernor.proposalThreshold",
    ] {
        assert!(keys.contains(&k), "{k} not flagged; diff: {keys:?}");
    }
    assert!(rust.manifest.deployment.is_some());
}

/// `DeploySuite.checkTiming` and the plan's check refuse the same parameters with the same rule,
/// and the executor refuses before sending anything.
#[tokio::test(flavor = "multi_thread")]
async fn plan_and_deploy_suite_refuse_the_same_timing_violation_before_sending() {
    let chain = anvil(&[]);
    let key0 = format!("0x{}", alloy::hex::encode(chain.keys()[0].to_bytes()));
    let deployer = chain.addresses()[0];
    // A keeper margin of 3 days breaks rule 1 with 7 days of unbonding.
    let params = DeployParams {
        execution_margin: 3 * 86_400,
        ..DeployParams::production(deployer)
    };
    let bdir = tempfile::tempdir().unwrap();
    let child = forge_deploy(
        chain.endpoint_url().as_str(),
        &key0,
        &params,
        bdir.path(),
        false,
    );

    let plan = DeployPlan::new(&params, 0);
    let p = wallet_provider(&chain, key(&chain, 0));
    let err = Executor::new(&p, DeployOptions::default())
        .deploy(&plan)
        .await
        .unwrap_err();
    let timing = match err {
        verinfer_deploy::DeployError::Plan(PlanError::Timing(t)) => t,
        other => panic!("expected a timing refusal, got {other}"),
    };
    assert_eq!(timing.rule, "fault+ruling+veto+margin<unbond");
    assert_eq!(nonce(&p, deployer).await, 0, "nothing was sent");

    let (ok, out) = finish(child);
    assert!(
        !ok,
        "DeploySuite accepted parameters the plan refuses:\n{out}"
    );
    // DeploySuite names its rule as a bytes32: the same rule, with the same sides.
    let mut rule = [0u8; 32];
    rule[..timing.rule.len()].copy_from_slice(timing.rule.as_bytes());
    let expected = format!(
        "TimingInvariantViolated(0x{}, {} ",
        alloy::hex::encode(rule),
        timing.lhs
    );
    assert!(
        out.contains(&expected) && out.contains(&format!(", {} ", timing.rhs)),
        "DeploySuite refused for another reason (expected `{expected}`):\n{out}"
    );
}
