//! Client library of verinfer: what a user, an operator or a tool does against a deployed suite,
//! over alloy's filler stack (no durable journal: that is the keeper's transaction manager).
//!
//! - [`Client`]: connect as a sender (or read-only), send calls with decoded reverts and receipts
//!   polled against a deadline;
//! - [`requests`]: submit an inference request (with or without a consumer contract to call back)
//!   and wait for its result;
//! - [`status`]: a request's status changes as a stream (status, result, callback state);
//! - [`staking`]: register an operator, delegate, unstake, rotate the hot key, serve a model, re-sync
//!   stale stake;
//! - [`governance`]: proposals as actions (the `--action` syntax), propose, vote, queue, execute,
//!   status;
//! - [`outputs`]: the bytes behind an output hash, fetched from keepers and verified, with fallback;
//! - [`logs`]: the suite's event history read in bounded `eth_getLogs` ranges;
//! - [`error`]: [`ClientError`] and the revert decoder.
#![warn(missing_docs)]

pub mod client;
pub mod error;
pub mod governance;
pub mod logs;
pub mod outputs;
pub mod requests;
pub mod staking;
pub mod status;

pub use client::{Client, SendOptions};
pub use error::ClientError;
