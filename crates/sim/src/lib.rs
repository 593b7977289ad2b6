//! In-process simulator of the verinfer protocol on [revm], with legitimacy metrics.
//!
//! - [`plan`]: the deployment plan (pure, reusable over JSON-RPC);
//! - [`Sim`]: the suite in memory, typed calls as any account, time travel, decoded errors/events;
//! - [`manifest`]: `deployments/<chainId>.json`, shared with the keeper/CLI;
//! - [`fork`]: what-ifs against a live chain without sending anything;
//! - [`metrics`], [`scenario`], [`plot`]: agent-based runs and where authority settles;
//! - [`model`]: a pure-Rust model of staking/slashing accounting (differential tests);
//! - [`rpc`]: the same deployment plan over JSON-RPC, producing the manifest;
//! - [`bench`]: in-process vs JSON-RPC throughput.

pub mod bench;
pub mod fork;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod plot;
pub mod rpc;
pub mod scenario;
mod sim;

pub use sim::{
    decode_logs, RawOutcome, Receipt, Sim, SimError, SimEvm, Snapshot, Suite, SIM_CHAIN_ID,
    TX_GAS_LIMIT,
};
