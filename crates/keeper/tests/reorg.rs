//! A reorg made by anvil's own `anvil_reorg` RPC: the two blocks the poller already handed out are
//! replaced by a branch holding one different transfer. The poller must notice the changed block
//! hashes, rewind its cursor, hand out the new branch's log, and never again the replaced ones.

mod common;

use alloy::primitives::{Address, Bytes, U256};
use alloy::sol_types::SolCall;
use common::*;
use verinfer_bindings::VerinferToken;
use verinfer_keeper::chain::{LogPoller, PollOutcome};

fn transfer(to: Address, n: u64) -> Bytes {
    VerinferToken::transferCall {
        to,
        value: U256::from(n),
    }
    .abi_encode()
    .into()
}

/// Polls until idle; returns the (block, data) of every log handed out.
async fn drain(p: &LogPoller) -> Vec<(u64, Bytes)> {
    let mut out = Vec::new();
    loop {
        match p.poll().await.expect("poll") {
            PollOutcome::Logs { logs, to, hash, .. } => {
                out.extend(
                    logs.iter()
                        .map(|l| (l.block_number.unwrap_or_default(), l.data().data.clone())),
                );
                p.commit(to, hash).expect("commit");
            }
            PollOutcome::Idle { .. } => return out,
            PollOutcome::Reorg { to } => panic!("unexpected reorg to {to} while draining"),
        }
    }
}

#[tokio::test]
async fn anvil_reorg_rewinds_the_poller_and_replaced_logs_are_not_handed_out_again() {
    let anvil = Anvil::start(&[]);
    let p = anvil.provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let a = txm(p.clone(), KEY0, store_at(&dir, "t.redb"), fast_cfg());
    let deployed = a
        .send("deploy-token", None, token_init_code(a.from()))
        .await
        .expect("deploy");
    let token = a
        .receipt_of(deployed.tx_hash)
        .await
        .expect("receipt")
        .and_then(|r| r.contract_address)
        .expect("token address");
    let poller = LogPoller::new(p.clone(), token, store_at(&dir, "k.redb"));
    drain(&poller).await;

    // Two transfers in two blocks, both handed out.
    for (i, to) in [1u8, 2].into_iter().enumerate() {
        a.send(
            &format!("t{i}"),
            Some(token),
            transfer(Address::repeat_byte(to), 1),
        )
        .await
        .expect("transfer");
    }
    let before = drain(&poller).await;
    assert_eq!(before.len(), 2, "{before:?}");

    // anvil drops those two blocks and mines two new ones; the first holds a different transfer.
    let replacement = serde_json::json!({
        "from": a.from(),
        "to": token,
        "data": transfer(Address::repeat_byte(9), 9),
        "gas": "0x30000",
    });
    raw(
        &p,
        "anvil_reorg",
        serde_json::json!([2, [[replacement, 0]]]),
    )
    .await;

    match poller.poll().await.expect("poll") {
        PollOutcome::Reorg { to } => assert!(to < before[0].0, "rewound to {to}"),
        other => panic!("expected a reorg, got {other:?}"),
    }
    let after = drain(&poller).await;
    assert_eq!(after.len(), 1, "only the new branch's transfer: {after:?}");
    let nine = U256::from(9).to_be_bytes::<32>();
    assert_eq!(after[0].1.as_ref(), nine.as_slice(), "{after:?}");
    assert!(
        before.iter().all(|(_, d)| d != &after[0].1),
        "a replaced log was handed out again"
    );
}
