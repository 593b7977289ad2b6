//! One module per command; each is a clap struct (or subcommand enum) with an `execute`. The
//! orchestration they call lives in the libraries (`verinfer-client`, `verinfer-deploy`,
//! `verinfer-devnet`, `verinfer-keeper`, `verinfer-sim`).

pub mod bench;
pub mod deploy;
pub mod devnet;
pub mod gov;
pub mod keeper;
pub mod model;
pub mod operator;
pub mod report;
pub mod request;
pub mod sim;
