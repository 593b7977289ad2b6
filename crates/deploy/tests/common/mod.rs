//! Shared helpers of the deploy tests: anvils started through `verinfer_devnet::anvil::spawn`, and a
//! provider over alloy's filler stack that signs as a given key.

#![allow(dead_code)]

use alloy::{
    network::EthereumWallet,
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use verinfer_devnet::anvil::{spawn, AnvilNode, AnvilOptions};

/// A fresh anvil with extra arguments (e.g. `--chain-id 1111`, `--block-time 1`).
pub fn anvil(args: &[&str]) -> AnvilNode {
    spawn(&AnvilOptions::new().args(args.iter().copied())).expect("the pinned anvil starts")
}

/// A fresh anvil with blocks every `secs` seconds.
pub fn anvil_with_block_time(secs: u64) -> AnvilNode {
    spawn(&AnvilOptions::new().block_time(secs)).expect("the pinned anvil starts")
}

/// Dev key `i` of `anvil` as a local signer.
pub fn key(anvil: &AnvilNode, i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from(anvil.keys()[i].clone())
}

/// A provider that signs as `signer` (recommended fillers + wallet), type-erased.
pub fn wallet_provider(anvil: &AnvilNode, signer: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url())
        .erased()
}

/// A plain provider (reads, and sends from anvil's unlocked dev accounts).
pub fn plain_provider(anvil: &AnvilNode) -> DynProvider {
    ProviderBuilder::new()
        .connect_http(anvil.endpoint_url())
        .erased()
}

/// The deployer's nonce (latest).
pub async fn nonce(p: &DynProvider, who: Address) -> u64 {
    p.get_transaction_count(who).await.expect("nonce")
}
