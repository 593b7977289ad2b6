//! Throughput of the same protocol transaction mix in revm (in-process) and over JSON-RPC.
//!
//! The mix per staker: `mint`, `approve`, `delegate` to one of the operators, and for every
//! fourth staker a `requestUnstake` of half its shares. Operators register first.

use std::time::Instant;

use alloy::{
    network::{Ethereum, TransactionBuilder},
    primitives::{keccak256, Address, Bytes, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use serde::Serialize;
use verinfer_bindings::{Staking, VerinferToken};

use verinfer_bindings::units::TOKEN;
use verinfer_deploy::plan::{DeployParams, DeployPlan};

use crate::{Sim, SimError};

/// Operators in the mix.
pub const BENCH_OPERATORS: usize = 10;

/// One measurement.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Where it ran: `revm` or `json-rpc`.
    pub engine: String,
    /// Stakers in the mix.
    pub stakers: usize,
    /// Protocol transactions executed (deployment excluded).
    pub transactions: usize,
    /// Wall-clock seconds for them.
    pub seconds: f64,
    /// Transactions per second.
    pub tx_per_sec: f64,
    /// Average gas per transaction (revm only; 0 over RPC).
    pub gas_per_tx: f64,
}

fn actor(kind: &str, i: usize) -> Address {
    let mut b = kind.as_bytes().to_vec();
    b.extend_from_slice(&(i as u64).to_be_bytes());
    Address::from_word(keccak256(&b))
}

/// The transaction mix as `(from, to, calldata)`, given the suite's token and staking addresses.
/// `requestUnstake` amounts are precomputed from the first-deposit share price (1000 shares/wei).
pub fn mix(
    deployer: Address,
    token: Address,
    staking: Address,
    stakers: usize,
) -> Vec<(Address, Address, Bytes)> {
    let mut txs = Vec::with_capacity(stakers * 4 + BENCH_OPERATORS * 3);
    let amount = U256::from(2_000 * TOKEN);
    for i in 0..BENCH_OPERATORS {
        let op = actor("bench-op", i);
        txs.push((
            deployer,
            token,
            VerinferToken::mintCall { to: op, amount }
                .abi_encode()
                .into(),
        ));
        txs.push((
            op,
            token,
            VerinferToken::approveCall {
                spender: staking,
                value: U256::MAX,
            }
            .abi_encode()
            .into(),
        ));
        txs.push((
            op,
            staking,
            Staking::registerOperatorCall {
                signer: op,
                selfStake: amount,
            }
            .abi_encode()
            .into(),
        ));
    }
    for i in 0..stakers {
        let who = actor("bench-staker", i);
        let stake = U256::from((100 + (i % 97) as u128) * TOKEN);
        let op = actor("bench-op", i % BENCH_OPERATORS);
        txs.push((
            deployer,
            token,
            VerinferToken::mintCall {
                to: who,
                amount: stake,
            }
            .abi_encode()
            .into(),
        ));
        txs.push((
            who,
            token,
            VerinferToken::approveCall {
                spender: staking,
                value: stake,
            }
            .abi_encode()
            .into(),
        ));
        txs.push((
            who,
            staking,
            Staking::delegateCall {
                operator: op,
                assets: stake,
            }
            .abi_encode()
            .into(),
        ));
        if i % 4 == 0 {
            // Unstake a small, always-available number of shares.
            let shares = U256::from(1_000u64);
            txs.push((
                who,
                staking,
                Staking::requestUnstakeCall {
                    operator: op,
                    shares,
                }
                .abi_encode()
                .into(),
            ));
        }
    }
    txs
}

/// Runs the mix for `stakers` in a fresh in-process [`Sim`].
pub fn run_in_process(stakers: usize) -> Result<BenchResult, SimError> {
    let deployer = actor("bench-deployer", 0);
    let mut sim = Sim::new();
    sim.deploy_local(&DeployParams::local(deployer))?;
    let txs = mix(deployer, sim.suite.token()?, sim.suite.staking()?, stakers);
    let gas0 = sim.gas_total;
    let start = Instant::now();
    for (from, to, data) in &txs {
        sim.exec("bench", *from, Some(*to), data.clone(), U256::ZERO, true)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(BenchResult {
        engine: "revm".into(),
        stakers,
        transactions: txs.len(),
        seconds,
        tx_per_sec: txs.len() as f64 / seconds.max(1e-9),
        gas_per_tx: (sim.gas_total - gas0) as f64 / txs.len().max(1) as f64,
    })
}

/// Errors of the JSON-RPC leg.
#[derive(Debug, thiserror::Error)]
pub enum RpcBenchError {
    /// The node has no development account to deploy from.
    #[error("the node has no development account to deploy from")]
    NoAccount,
    /// The in-process leg failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Deployment failed.
    #[error(transparent)]
    Deploy(#[from] verinfer_deploy::RpcDeployError),
    /// A transaction failed.
    #[error("json-rpc transaction {index}: {message}")]
    Tx {
        /// Index in the mix.
        index: usize,
        /// Message.
        message: String,
    },
}

/// Runs the mix over JSON-RPC against a node that impersonates every sender and charges no gas
/// (anvil `--auto-impersonate --base-fee 0 --gas-price 0`); `deployer` must be able to deploy.
pub async fn run_over_rpc<P: Provider<Ethereum>>(
    provider: &P,
    deployer: Address,
    stakers: usize,
) -> Result<BenchResult, RpcBenchError> {
    let nonce = provider
        .get_transaction_count(deployer)
        .await
        .map_err(|e| RpcBenchError::Tx {
            index: 0,
            message: e.to_string(),
        })?;
    let plan = DeployPlan::new(&DeployParams::local(deployer), nonce);
    verinfer_deploy::deploy_over_rpc(provider, &plan).await?;
    let token = plan.address("VerinferToken").unwrap_or_default();
    let staking = plan.address("Staking").unwrap_or_default();
    let txs = mix(deployer, token, staking, stakers);
    let start = Instant::now();
    let n = txs.len();
    for (index, (from, to, data)) in txs.into_iter().enumerate() {
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(data)
            .with_gas_limit(1_000_000)
            .with_gas_price(0);
        let pending = provider
            .send_transaction(tx)
            .await
            .map_err(|e| RpcBenchError::Tx {
                index,
                message: e.to_string(),
            })?;
        if index + 1 == n {
            // Automine executes each transaction as it arrives; wait (with a deadline, never
            // forever) for the last one and check it.
            let hash = *pending.tx_hash();
            let deadline = Instant::now() + std::time::Duration::from_secs(30);
            let receipt = loop {
                let r = provider.get_transaction_receipt(hash).await.map_err(|e| {
                    RpcBenchError::Tx {
                        index,
                        message: e.to_string(),
                    }
                })?;
                if let Some(r) = r {
                    break r;
                }
                if Instant::now() > deadline {
                    return Err(RpcBenchError::Tx {
                        index,
                        message: format!("no receipt for {hash} after 30 s"),
                    });
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            };
            if !receipt.status() {
                return Err(RpcBenchError::Tx {
                    index,
                    message: "reverted".into(),
                });
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(BenchResult {
        engine: "json-rpc".into(),
        stakers,
        transactions: n,
        seconds,
        tx_per_sec: n as f64 / seconds.max(1e-9),
        gas_per_tx: 0.0,
    })
}

/// The same mix both ways in one run, and the ratio.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// In-process revm.
    pub revm: BenchResult,
    /// JSON-RPC against a local anvil.
    pub rpc: BenchResult,
    /// revm tx/s over JSON-RPC tx/s.
    pub ratio: f64,
}

/// The arguments the JSON-RPC leg needs anvil started with: every sender impersonated, no gas charged.
pub const ANVIL_ARGS: [&str; 5] = ["--auto-impersonate", "--base-fee", "0", "--gas-price", "0"];

/// Runs the mix for `stakers` in revm and over JSON-RPC against `node`, a fresh anvil started by the
/// caller with [`ANVIL_ARGS`] (`verinfer_devnet::anvil::spawn` does it), and returns both with the
/// ratio.
pub async fn compare(
    node: &alloy::node_bindings::AnvilInstance,
    stakers: usize,
) -> Result<Comparison, RpcBenchError> {
    let revm = run_in_process(stakers)?;
    let provider = alloy::providers::RootProvider::<Ethereum>::new_http(node.endpoint_url());
    let deployer = node
        .addresses()
        .first()
        .copied()
        .ok_or(RpcBenchError::NoAccount)?;
    let rpc = run_over_rpc(&provider, deployer, stakers).await?;
    let ratio = revm.tx_per_sec / rpc.tx_per_sec.max(1e-9);
    Ok(Comparison { revm, rpc, ratio })
}
