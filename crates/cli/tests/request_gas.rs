//! Security finding 6 (docs/security.md), as a client hits it: the operator draw of `requestInference`
//! follows the block's randomness, so its gas depends on the block the request lands in. A client that
//! estimates in one block and is included in a later one must still succeed with the plain estimate.
//! The registry keeps the worst case of the draw payable (`DrawGasReserve`), so an exact
//! `eth_estimateGas` holds whatever the draw.
//!
//! anvil gives every mined block a fresh `prevrandao` (mixHash), and the parent hash changes with every
//! block too, so mining a block between the estimate and the send re-seeds the draw; the test checks
//! that the draws did differ.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use verinfer_bindings::inference_registry::IInferenceRegistry::ModelParams;
use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};

mod common;

use common::{Chain, TOKEN};

/// Sends `data` from the unlocked dev account `from` with exactly `gas` and waits for the receipt.
fn send_with_gas(
    c: &Chain,
    from: Address,
    to: Address,
    data: Vec<u8>,
    gas: u64,
) -> TransactionReceipt {
    c.rt.block_on(async {
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(Bytes::from(data))
            .with_gas_limit(gas);
        let pending = c.provider.send_transaction(tx).await.unwrap();
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

#[test]
fn request_inference_succeeds_with_an_unpadded_estimate_from_an_earlier_block() {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    c.ok(0, &["deploy", "--root", &root, "--keep-admin"]);
    let (token, staking, registry) = (
        c.contract("VerinferToken"),
        c.contract("Staking"),
        c.contract("InferenceRegistry"),
    );

    // A model drawing 3 operators by stake out of 8 with different stakes (1,000 .. 36,000 tokens).
    let register = InferenceRegistry::registerModelCall {
        weightsHash: keccak256(b"estimate test weights"),
        runtimeSpecHash: keccak256(b"estimate test runtime"),
        params: ModelParams {
            mode: 0,
            k: 3,
            q: 2,
            challengeWindow: 600,
            minStake: U256::from(1_000 * TOKEN),
            challengeBond: U256::from(10 * TOKEN),
            minFee: U256::from(TOKEN / 100),
        },
    };
    let model_id = InferenceRegistry::registerModelCall::abi_decode_returns(
        &c.call(c.addr(0), registry, register.abi_encode()).unwrap(),
    )
    .unwrap();
    c.send(c.addr(0), registry, register.abi_encode());
    let operators: Vec<Address> = (1..=8).map(|i| c.addr(i)).collect();
    for (i, op) in operators.iter().enumerate() {
        let stake = U256::from(1_000 * TOKEN * (1 + 5 * i as u128));
        let transfer = VerinferToken::transferCall {
            to: *op,
            value: stake,
        };
        c.send(c.addr(0), token, transfer.abi_encode());
        let approve = VerinferToken::approveCall {
            spender: staking,
            value: stake,
        };
        c.send(*op, token, approve.abi_encode());
        let signer = Address::with_last_byte(0xa0 + i as u8);
        let register = Staking::registerOperatorCall {
            signer,
            selfStake: stake,
        };
        c.send(*op, staking, register.abi_encode());
        let serve = InferenceRegistry::serveModelCall { modelId: model_id };
        c.send(*op, registry, serve.abi_encode());
    }

    // The client (dev account 9) pays the fees.
    let client = c.addr(9);
    let fee = U256::from(TOKEN / 100);
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

    let mut draws = BTreeSet::new();
    let mut gas_used = BTreeSet::new();
    let rounds = 16;
    for n in 0..rounds {
        let now =
            c.rt.block_on(async { c.provider.get_block_by_number(Default::default()).await })
                .unwrap()
                .unwrap()
                .header
                .timestamp;
        let request = InferenceRegistry::requestInferenceCall {
            modelId: model_id,
            inputHash: keccak256(format!("input {n}")),
            inputURI: String::new(),
            fee,
            deadline: alloy::primitives::Uint::from(now + 3_600),
        }
        .abi_encode();
        // The node's own estimate, no margin added.
        let tx = TransactionRequest::default()
            .with_from(client)
            .with_to(registry)
            .with_input(Bytes::from(request.clone()));
        let estimate =
            c.rt.block_on(async { c.provider.estimate_gas(tx).await })
                .unwrap();
        // The request lands in a later block: another prevrandao, another parent hash, another draw.
        c.mine(1);
        let receipt = send_with_gas(&c, client, registry, request, estimate);
        assert!(
            receipt.status(),
            "request {n}: reverted with exactly the estimate of {estimate} gas (tx {})",
            receipt.transaction_hash
        );
        assert!(receipt.gas_used <= estimate, "request {n}");
        let assigned: Vec<Address> = receipt
            .inner
            .logs()
            .iter()
            .filter_map(|l| InferenceRegistry::OperatorAssigned::decode_log_data(l.data()).ok())
            .map(|e| e.operator)
            .collect();
        assert_eq!(assigned.len(), 3, "request {n}: {assigned:?}");
        let mut set = assigned.clone();
        set.sort();
        draws.insert(set);
        gas_used.insert(receipt.gas_used);
    }
    // The draws (and with them the gas of the request) really varied from block to block.
    assert!(draws.len() > 1, "every draw picked the same operators");
    assert!(
        gas_used.len() > 1,
        "every request used the same gas: {gas_used:?}"
    );
}
