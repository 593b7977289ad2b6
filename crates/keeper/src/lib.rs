//! verinfer keeper: finds assignments, runs inference, signs EIP-712 attestations and submits them;
//! watches peers, challenges wrong results, reports equivocation and missed assignments, finalizes.
//!
//! Building blocks (usable without a chain): [`attest`] (EIP-712
//! signing), [`merkle`] (attestation batches), [`store`] (durable intent journal),
//! [`signing_store`] (replicas' shared slashing protection on PostgreSQL), [`txmgr`]
//! (nonces, fee bumps, receipt deadlines), [`config`], [`backend`], [`metrics`].
#![warn(missing_docs)]

pub mod api;
pub mod attest;
pub mod backend;
pub mod config;
pub mod keeper;
pub mod llm;
pub mod merkle;
pub mod metrics;
pub mod poller;
pub mod registry;
pub mod signing_store;
pub mod store;
pub mod txmgr;
