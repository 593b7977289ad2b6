//! The local verinfer devnet as a library, in phases. The `verinfer devnet` command, the keeper
//! bench and the tests share it as a fixture: [`Devnet::run`] runs every phase, and a test or a bench
//! drives a [`Devnet`] phase by phase, each returning a typed result.
//!
//! 1. start the chain: [`Devnet::start`] ([`anvil`]: the one way verinfer starts anvil);
//! 2. deploy: [`Devnet::deploy`] ([`deploy`]);
//! 3. register operators: [`Devnet::register_operators`] ([`operators`]);
//! 4. spawn keepers: [`Devnet::spawn_keepers`] ([`keepers`]);
//! 5. traffic: [`Devnet::traffic`] ([`traffic`]); outputs fetched from the keepers and verified:
//!    [`Devnet::fetch_outputs`] ([`outputs`]); requests through consumer contracts (the classifier
//!    example and hostile consumers): [`Devnet::consumer_traffic`] ([`consumers`]);
//! 6. time warp: [`Devnet::warp_past_windows`] ([`warp`]); the keepers' deliveries to the
//!    consumers: [`Devnet::callbacks`];
//! 7. disputes: [`Devnet::quadratic_dispute`] ([`disputes`]);
//! 8. stake records and voice: [`Devnet::resync_stake`] ([`voice`]);
//! 9. report: [`Devnet::report`] ([`report`]), with the run's authority ledger
//!    ([`Devnet::authority_ledger`], [`authority`]).
//!
//! [`bench`](mod@bench) measures the keeper's submission modes on the same fixture. Configuration is one
//! [`DevnetConfig`]; errors are one [`DevnetError`]; progress goes to the caller as [`Progress`].
#![warn(missing_docs)]

pub mod anvil;
pub mod authority;
pub mod bench;
pub mod config;
pub mod consumers;
pub mod deploy;
pub mod disputes;
pub mod error;
pub mod fixture;
pub mod keepers;
pub mod llm;
pub mod operators;
pub mod outputs;
pub mod postgres;
pub mod referee;
pub mod report;
pub mod rpc_fault;
pub mod traffic;
pub mod voice;
pub mod warp;

pub use config::{DevnetConfig, ModelConfig, Progress};
pub use error::DevnetError;
pub use fixture::Devnet;
pub use report::Report;
