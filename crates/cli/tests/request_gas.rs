//! Security finding 6 (docs/security.md), as a client hits it: the operator draw of `requestInference`
//! follows the block's randomness, so its gas depends on the block the request lands in. A client that
//! estimates in one block and is included in a later one must still succeed with the estimate alone.
//! The registry keeps the worst case of the draw payable (`DrawGasReserve`), so a gas limit that
//! suffices for one draw suffices for every draw.
//!
//! anvil gives every mined block a fresh `prevrandao` (mixHash), and the parent hash changes with every
//! block too, so mining a block between the estimate and the send re-seeds the draw; the tests check
//! that the draws did differ. Two estimates are tried: anvil's own `eth_estimateGas` as a client would
//! use it (no margin), and the exact smallest gas limit found by bisection over `eth_call` (anvil's
//! estimator stops its search within 1.5 %). Against the registry before the fix both failed within a
//! few requests (a later block drew a costlier path and the request ran out of gas).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use verinfer_bindings::inference_registry::IInferenceRegistry::ModelParams;
use verinfer_bindings::types::VerificationMode;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};

mod common;

use common::{Chain, TOKEN};

/// Operators serving the model (dev accounts 1..=OPERATORS): a sum tree six levels deep.
const OPERATORS: usize = 48;
/// Operators drawn per request (the registry's largest k): the draw's path, and so its gas, varies most.
const K: u8 = 8;
/// Requests sent, each estimated one block before it lands.
const ROUNDS: usize = 16;

/// A chain with the suite deployed (deployer admin), a model drawing `K` of `OPERATORS` operators
/// with different stakes (1,000 .. 13,000 tokens), and a funded client; returns the model, the
/// registry and the client.
fn suite_with_operators() -> (Chain, B256, Address, Address) {
    let accounts = (OPERATORS + 2).to_string();
    let c = Chain::start_with(&["--accounts", &accounts]);
    let root = c.dir.path().to_str().unwrap().to_owned();
    c.ok(0, &["deploy", "--root", &root, "--keep-admin"]);
    let (token, staking, registry) = (
        c.contract("VerinferToken"),
        c.contract("Staking"),
        c.contract("InferenceRegistry"),
    );
    let register = InferenceRegistry::registerModelCall {
        weightsHash: keccak256(b"estimate test weights"),
        runtimeSpecHash: keccak256(b"estimate test runtime"),
        params: ModelParams {
            mode: VerificationMode::Deterministic.into(),
            k: K,
            q: K / 2 + 1,
            challengeWindow: 600,
            minStake: U256::from(1_000 * TOKEN),
            challengeBond: U256::from(10 * TOKEN),
            minFee: U256::from(TOKEN / 100),
        },
    };
    let model = InferenceRegistry::registerModelCall::abi_decode_returns(
        &c.call(c.addr(0), registry, register.abi_encode()).unwrap(),
    )
    .unwrap();
    c.send(c.addr(0), registry, register.abi_encode());
    for i in 0..OPERATORS {
        let op = c.addr(1 + i);
        let stake = U256::from(1_000 * TOKEN * (1 + (7 * i as u128) % 13));
        let transfer = VerinferToken::transferCall {
            to: op,
            value: stake,
        };
        c.send(c.addr(0), token, transfer.abi_encode());
        let approve = VerinferToken::approveCall {
            spender: staking,
            value: stake,
        };
        c.send(op, token, approve.abi_encode());
        let register = Staking::registerOperatorCall {
            signer: Address::from_word(keccak256(op)),
            selfStake: stake,
        };
        c.send(op, staking, register.abi_encode());
        let serve = InferenceRegistry::serveModelCall { modelId: model };
        c.send(op, registry, serve.abi_encode());
    }
    // The client (the last dev account) pays the fees.
    let client = c.addr(OPERATORS + 1);
    let transfer = VerinferToken::transferCall {
        to: client,
        value: U256::from(TOKEN),
    };
    c.send(c.addr(0), token, transfer.abi_encode());
    let approve = VerinferToken::approveCall {
        spender: registry,
        value: U256::MAX,
    };
    c.send(client, token, approve.abi_encode());
    (c, model, registry, client)
}

/// Sends `tx` from its unlocked dev account with exactly `gas` and waits for the receipt.
fn send_with_gas(c: &Chain, tx: TransactionRequest, gas: u64) -> TransactionReceipt {
    c.rt.block_on(async {
        let pending = c
            .provider
            .send_transaction(tx.with_gas_limit(gas))
            .await
            .unwrap();
        let hash = *pending.tx_hash();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(r) = c.provider.get_transaction_receipt(hash).await.unwrap() {
                return r;
            }
            assert!(Instant::now() < deadline, "no receipt for {hash}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

/// anvil's `eth_estimateGas` for `tx` on the current head, as the node returns it (no margin).
fn node_estimate(c: &Chain, tx: &TransactionRequest) -> u64 {
    c.rt.block_on(async { c.provider.estimate_gas(tx.clone()).await })
        .unwrap()
}

/// The smallest gas limit with which `tx` succeeds as an `eth_call` on the current head: a bisection
/// below the node's estimate.
fn exact_gas(c: &Chain, tx: &TransactionRequest) -> u64 {
    let (mut lo, mut hi) = (21_000u64, node_estimate(c, tx));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let call = tx.clone().with_gas_limit(mid);
        if c.rt.block_on(async { c.provider.call(call).await }).is_ok() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// `ROUNDS` times: estimate a request with `estimate` on the head, mine a block (new prevrandao and
/// parent hash), send it with exactly the estimated gas, and require success; then require that the
/// draws (and the gas used) varied.
fn requests_succeed_with(estimate: fn(&Chain, &TransactionRequest) -> u64) {
    let (c, model, registry, client) = suite_with_operators();
    let mut draws = BTreeSet::new();
    let mut gas_used = BTreeSet::new();
    for n in 0..ROUNDS {
        let now =
            c.rt.block_on(async { c.provider.get_block_by_number(Default::default()).await })
                .unwrap()
                .unwrap()
                .header
                .timestamp;
        let request = InferenceRegistry::requestInferenceCall {
            modelId: model,
            inputHash: keccak256(format!("input {n}")),
            inputURI: String::new(),
            fee: U256::from(TOKEN / 100),
            deadline: alloy::primitives::Uint::from(now + 3_600),
        };
        let tx = TransactionRequest::default()
            .with_from(client)
            .with_to(registry)
            .with_input(Bytes::from(request.abi_encode()));
        let gas = estimate(&c, &tx);
        // The request lands in a later block: another prevrandao, another parent hash, another draw.
        c.mine(1);
        let receipt = send_with_gas(&c, tx, gas);
        assert!(
            receipt.status(),
            "request {n} failed with exactly the estimated {gas} gas (tx {})",
            receipt.transaction_hash
        );
        let mut assigned: Vec<Address> = receipt
            .inner
            .logs()
            .iter()
            .filter_map(|l| InferenceRegistry::OperatorAssigned::decode_log_data(l.data()).ok())
            .map(|e| e.operator)
            .collect();
        assert_eq!(assigned.len(), usize::from(K), "request {n}: {assigned:?}");
        assigned.sort();
        draws.insert(assigned);
        gas_used.insert(receipt.gas_used);
    }
    // The draws, and with them the gas a request uses, really varied from block to block.
    assert!(draws.len() > 1, "every draw picked the same operators");
    assert!(
        gas_used.len() > 1,
        "every request used the same gas: {gas_used:?}"
    );
}

#[test]
fn request_inference_succeeds_with_an_unpadded_estimate_from_an_earlier_block() {
    requests_succeed_with(node_estimate);
}

#[test]
fn request_inference_succeeds_with_the_exact_minimum_gas_of_an_earlier_block() {
    requests_succeed_with(exact_gas);
}
