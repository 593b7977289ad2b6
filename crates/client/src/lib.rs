//! Client library of verinfer: what a user, an operator or a tool does against a deployed suite.
//!
//! - [`logs`]: reads of the suite's event history in bounded `eth_getLogs` ranges.
#![warn(missing_docs)]

pub mod logs;
