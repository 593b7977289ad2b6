//! In-process simulator of the verinfer protocol on [revm], with legitimacy metrics.
//!
//! - [`Sim`]: the suite in memory, typed calls as any account, time travel, decoded errors/events;
//!   it executes the deployment plan of [`verinfer_deploy`] in process;
//! - [`fork`]: what-ifs against a live chain without sending anything;
//! - [`metrics`], [`scenario`], [`plot`]: agent-based runs and where authority settles, with the
//!   run's authority ledger ([`verinfer_authority`]) in its report;
//! - [`accounting`]: a pure-Rust model of staking/slashing accounting (differential tests);
//! - [`throughput`]: in-process vs JSON-RPC throughput.

pub mod accounting;
pub mod fork;
pub mod metrics;
pub mod plot;
pub mod scenario;
mod sim;
pub mod throughput;

pub use sim::{
    decode_logs, OutOfBounds, RawOutcome, Receipt, Sim, SimError, SimEvm, Snapshot, Suite,
    SIM_CHAIN_ID, TX_GAS_LIMIT,
};
