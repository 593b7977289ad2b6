//! The RPC executor on real anvils: resume after a failure midway, refusal to resume another plan or
//! a journal the chain does not hold, dropped and replaced transactions, the dry run, CREATE2
//! addresses across chains, and confirmations on a chain with one-second blocks.

mod common;

use std::time::{Duration, Instant};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, U256},
    providers::{ext::AnvilApi, Provider},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use common::*;
use verinfer_deploy::{
    executor::{estimate, resume_nonce, DeployError, DeployOptions, Executor},
    inspect::check,
    journal::Journal,
    manifest::Manifest,
    plan::{DeployParams, DeployPlan},
};

fn opts(root: &std::path::Path) -> DeployOptions {
    DeployOptions {
        root: Some(root.to_path_buf()),
        step_timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(50),
        dropped_after: Duration::from_secs(1),
        ..DeployOptions::default()
    }
}

async fn all_checks_pass(p: &alloy::providers::DynProvider, m: &Manifest) {
    let checks = check(p, m).await.unwrap();
    let failed: Vec<_> = checks.iter().filter(|c| !c.passed()).collect();
    assert!(failed.is_empty(), "failed checks: {failed:#?}");
    assert!(checks.len() > 80, "{} checks", checks.len());
}

/// A deployer funded for only part of the plan fails midway, like a testnet deploy that runs out of
/// gas money. Another plan is refused without sending; the same plan, once funded, continues from
/// the journal to a complete, correct suite without re-sending a step.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_that_fails_midway_resumes_from_its_journal() {
    let chain = anvil(&[]);
    let signer = PrivateKeySigner::random();
    let deployer = signer.address();
    let p = wallet_provider(&chain, signer);
    let params = DeployParams::production(deployer);
    let plan = DeployPlan::new(&params, 0);
    // Fund a sixth of what the dry run says the whole plan needs at the suggested max fee (a third
    // sufficed for the whole plan once the base fee fell over its 31 blocks).
    p.anvil_set_balance(deployer, U256::from(10u128.pow(20)))
        .await
        .unwrap();
    let full = estimate(&p, &plan).await.unwrap().max_cost();
    p.anvil_set_balance(deployer, full / U256::from(6))
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let err = Executor::new(&p, opts(dir.path()))
        .deploy(&plan)
        .await
        .unwrap_err();
    assert!(matches!(err, DeployError::Rpc { .. }), "{err}");
    let journal_path = Journal::path(dir.path(), 31337);
    let journal = Journal::load(&journal_path).unwrap().expect("journal kept");
    let done = journal.steps.len();
    assert!(done > 0 && done < plan.steps.len(), "failed at step {done}");
    assert!(journal.steps.iter().all(|e| e.block.is_some()));
    assert_eq!(nonce(&p, deployer).await, done as u64);
    assert!(!Manifest::default_path(dir.path(), 31337).exists());
    assert_eq!(resume_nonce(dir.path(), 31337).unwrap(), Some(0));

    // Another plan (the deployer keeps admin) is refused, and nothing is sent.
    let other = DeployPlan::new(&DeployParams::local(deployer), 0);
    let err = Executor::new(&p, opts(dir.path()))
        .deploy(&other)
        .await
        .unwrap_err();
    assert!(matches!(err, DeployError::PlanMismatch { .. }), "{err}");
    assert_eq!(nonce(&p, deployer).await, done as u64);

    // The journal does not resume on a chain that does not hold its steps (a restarted devnet).
    let fresh = anvil(&[]);
    let fp = wallet_provider(&fresh, PrivateKeySigner::random());
    let copy = tempfile::tempdir().unwrap();
    journal.save(&Journal::path(copy.path(), 31337)).unwrap();
    let err = Executor::new(&fp, opts(copy.path()))
        .deploy(&plan)
        .await
        .unwrap_err();
    assert!(matches!(err, DeployError::NotOnChain { .. }), "{err}");

    // Funded, the same plan continues where it stopped.
    p.anvil_set_balance(deployer, U256::from(10u128.pow(20)))
        .await
        .unwrap();
    let start = resume_nonce(dir.path(), 31337).unwrap().unwrap();
    let deployed = Executor::new(&p, opts(dir.path()))
        .deploy(&DeployPlan::new(&params, start))
        .await
        .expect("resumes");
    assert_eq!(deployed.steps.len(), plan.steps.len());
    assert!(deployed.steps[..done].iter().all(|s| s.resumed));
    assert!(deployed.steps[done..].iter().all(|s| !s.resumed));
    for (s, e) in deployed.steps.iter().zip(&journal.steps) {
        assert_eq!(
            s.tx_hash, e.tx_hash,
            "{}: a journaled step was re-sent",
            s.label
        );
    }
    assert_eq!(nonce(&p, deployer).await, plan.steps.len() as u64);
    assert!(
        !journal_path.exists(),
        "the journal is removed once complete"
    );
    let m = Manifest::load(&Manifest::default_path(dir.path(), 31337)).unwrap();
    assert_eq!(m.contracts, plan.addresses);
    all_checks_pass(&p, &m).await;
}

/// The dry run executes every step in simulation, prices it, and sends nothing; the gas it reports
/// is what the real deployment then uses, step for step.
#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prices_every_step_and_sends_nothing() {
    let chain = anvil(&[]);
    let p = wallet_provider(&chain, key(&chain, 0));
    let deployer = chain.addresses()[0];
    let plan = DeployPlan::new(&DeployParams::production(deployer), 0);
    let e = estimate(&p, &plan).await.unwrap();
    assert_eq!(e.steps.len(), plan.steps.len());
    assert_eq!(e.total_gas, e.steps.iter().map(|s| s.gas).sum::<u64>());
    assert!(e.max_fee_per_gas > 0 && e.max_cost() >= e.expected_cost());
    assert_eq!(nonce(&p, deployer).await, 0, "nothing was sent");
    for at in plan.addresses.values() {
        assert!(p.get_code_at(*at).await.unwrap().is_empty());
    }
    eprintln!(
        "production plan: {} steps, {} gas, {} wei at base fee {} + tip {}",
        e.steps.len(),
        e.total_gas,
        e.expected_cost(),
        e.base_fee,
        e.max_priority_fee_per_gas
    );

    let deployed = Executor::new(&p, DeployOptions::default())
        .deploy(&plan)
        .await
        .unwrap();
    for (est, real) in e.steps.iter().zip(&deployed.steps) {
        assert_eq!(est.gas, real.gas_used, "{}", est.label);
    }

    // A timing violation is refused by the dry run too.
    let bad = DeployPlan::new(
        &DeployParams {
            block_time: 3_600,
            ..DeployParams::production(deployer)
        },
        plan.steps.len() as u64,
    );
    assert!(matches!(
        estimate(&p, &bad).await,
        Err(DeployError::Plan(_))
    ));
}

/// The same salt gives the same addresses on chains with different ids, whatever the deployer's
/// nonce; the salt cannot be used twice on a chain; `check` verifies the CREATE2 suite (its creation
/// replayed through the factory).
#[tokio::test(flavor = "multi_thread")]
async fn create2_suite_has_the_same_addresses_on_every_chain_whatever_the_nonce() {
    let a = anvil(&["--chain-id", "1111"]);
    let b = anvil(&["--chain-id", "2222"]);
    let deployer = a.addresses()[0];
    let params = DeployParams::production(deployer).with_salt(B256::repeat_byte(0x17));
    let pa = wallet_provider(&a, key(&a, 0));
    let pb = wallet_provider(&b, key(&b, 0));
    // Move the deployer's nonce on chain b first.
    for _ in 0..3 {
        let tx = TransactionRequest::default()
            .with_to(Address::repeat_byte(9))
            .with_value(U256::from(1));
        pb.send_transaction(tx)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
    let nb = nonce(&pb, deployer).await;
    assert_eq!(nb, 3);
    let da = tempfile::tempdir().unwrap();
    let db = tempfile::tempdir().unwrap();
    let ma = Executor::new(&pa, opts(da.path()))
        .deploy(&DeployPlan::new(&params, 0))
        .await
        .unwrap()
        .manifest;
    let mb = Executor::new(&pb, opts(db.path()))
        .deploy(&DeployPlan::new(&params, nb))
        .await
        .unwrap()
        .manifest;
    assert_eq!((ma.chain_id, mb.chain_id), (1111, 2222));
    assert_eq!(ma.contracts, mb.contracts);
    assert_ne!(
        ma.contracts["Staking"],
        deployer.create(1),
        "not nonce-derived"
    );
    all_checks_pass(&pa, &ma).await;
    all_checks_pass(&pb, &mb).await;
    let v = &ma.deployment.as_ref().unwrap().verification["Staking"];
    assert_eq!(v.salt, params.salt);

    // The salt is spent on chain a: a second deployment is refused before its first transaction.
    let n = nonce(&pa, deployer).await;
    let err = Executor::new(&pa, DeployOptions::default())
        .deploy(&DeployPlan::new(&params, n))
        .await
        .unwrap_err();
    assert!(matches!(err, DeployError::AlreadyDeployed { .. }), "{err}");
    assert_eq!(nonce(&pa, deployer).await, n);
}

/// With one-second blocks every step waits for its inclusion before the next is sent, and the
/// deployment returns only once its last step has the requested confirmations.
#[tokio::test(flavor = "multi_thread")]
async fn confirmations_are_awaited_on_a_chain_with_one_second_blocks() {
    let chain = anvil_with_block_time(1);
    let p = wallet_provider(&chain, key(&chain, 0));
    let deployer = chain.addresses()[0];
    let plan = DeployPlan::new(&DeployParams::production(deployer), 0);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let deployed = Executor::new(
        &p,
        DeployOptions {
            confirmations: 3,
            confirm_each_step: false,
            ..opts(dir.path())
        },
    )
    .deploy(&plan)
    .await
    .unwrap();
    let took = started.elapsed();
    let head = p.get_block_number().await.unwrap();
    let last = deployed.steps.last().unwrap().block;
    assert!(
        head >= last + 2,
        "returned at head {head}, last step in {last}"
    );
    for w in deployed.steps.windows(2) {
        assert!(
            w[1].block > w[0].block,
            "{} sent before {} was mined",
            w[1].label,
            w[0].label
        );
    }
    assert!(
        took >= Duration::from_secs(plan.steps.len() as u64),
        "{took:?}"
    );
    eprintln!(
        "--block-time 1: {} steps, 3 confirmations at the end: {:.1} s",
        plan.steps.len(),
        took.as_secs_f64()
    );
}

/// A transaction the node drops is reported as dropped (its nonce still free) and re-sent by the
/// next run; one whose nonce another transaction took is reported as replaced.
#[tokio::test(flavor = "multi_thread")]
async fn dropped_and_replaced_transactions_are_told_apart() {
    let chain = anvil(&["--no-mining"]);
    let p = wallet_provider(&chain, key(&chain, 0));
    let plain = plain_provider(&chain);
    let deployer = chain.addresses()[0];
    let plan = DeployPlan::new(&DeployParams::local(deployer), 0);
    let dir = tempfile::tempdir().unwrap();
    let jpath = Journal::path(dir.path(), 31337);

    // Dropped: the first step is sent, then evicted from the mempool.
    let run = {
        let (p, plan, o) = (p.clone(), plan.clone(), opts(dir.path()));
        tokio::spawn(async move { Executor::new(&p, o).deploy(&plan).await })
    };
    let hash = wait_for_journaled_step(&jpath, &plain).await;
    plain.anvil_drop_transaction(hash).await.unwrap();
    let err = run.await.unwrap().unwrap_err();
    assert!(
        matches!(err, DeployError::Dropped { nonce: 0, .. }),
        "{err}"
    );

    // Replaced: the re-sent first step is outbid in the mempool by another transaction of the
    // deployer with the same nonce, which is then mined.
    let run = {
        let (p, plan, o) = (p.clone(), plan.clone(), opts(dir.path()));
        tokio::spawn(async move { Executor::new(&p, o).deploy(&plan).await })
    };
    wait_for_journaled_step(&jpath, &plain).await;
    let other = TransactionRequest::default()
        .with_from(deployer)
        .with_to(Address::repeat_byte(9))
        .with_nonce(0)
        .with_gas_limit(21_000)
        .with_max_fee_per_gas(100_000_000_000)
        .with_max_priority_fee_per_gas(50_000_000_000);
    let _replacement = plain.send_transaction(other).await.unwrap();
    plain.evm_mine(None).await.unwrap();
    let err = run.await.unwrap().unwrap_err();
    assert!(
        matches!(err, DeployError::Replaced { nonce: 0, .. }),
        "{err}"
    );
    assert_eq!(nonce(&plain, deployer).await, 1);
}

/// Polls the journal until it records a sent, unmined step the node knows; returns its transaction.
async fn wait_for_journaled_step(
    path: &std::path::Path,
    node: &alloy::providers::DynProvider,
) -> B256 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(j)) = Journal::load(path) {
            if let Some(e) = j.steps.iter().find(|e| e.block.is_none()) {
                if node
                    .get_transaction_by_hash(e.tx_hash)
                    .await
                    .unwrap()
                    .is_some()
                {
                    return e.tx_hash;
                }
            }
        }
        assert!(Instant::now() < deadline, "no step journaled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
