//! The authority ledger: every decision the protocol took in a run, **how** it was decided and
//! **who** decided it, built from the suite's decoded logs. Chain-agnostic: the simulator feeds it
//! the logs of its revm run, the devnet the logs of its anvil chain (`eth_getLogs`).
//!
//! - [`ChainLog`]: one log with its block, transaction and (when known) the transaction's sender;
//! - [`AuthorityLedger::build`]: the decisions ([`Decision`]): finalizations, dispute rulings
//!   (votes and referee games), slashes and vetoes, parameter changes, model registrations, issuer
//!   approvals and revocations; each with its [`Rule`] (grouped into a [`Path`]: arithmetic on chain,
//!   an operator quorum, a vote, a default or timeout, the admin, the timelock) and its
//!   [`Decider`]s;
//! - [`coalition`]: the exact deciding coalition of a vote (the smallest set of the winning side's
//!   voters whose removal flips the outcome), off chain from the vote events;
//! - [`resolve`]: "person" (account → identity from the `IdentityRegistry`'s link history, or the
//!   caller's own map) and "capital" (stake at the decision, from `QuadraticVotes.StakeObserved` and
//!   the registry's operator weights);
//! - [`summary`]: shares by path, concentration of deciders (Nakamoto, Gini; by persons and by
//!   capital), their drift across epochs, and what the defaults decided.

#![warn(missing_docs)]

pub mod build;
pub mod coalition;
pub mod record;
pub mod resolve;
pub mod summary;

pub use build::{AuthorityLedger, LedgerContext};
pub use record::{ChainLog, Decider, Decision, DecisionKind, Path, Person, Role, Rule, Subject};
pub use summary::{Concentration, DefaultTally, EpochLedger, LedgerSummary, PathCount};
