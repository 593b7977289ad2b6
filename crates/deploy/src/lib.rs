//! Deploys the verinfer suite.
//!
//! - [`plan`]: the deployment plan, a pure ordered list of create and call steps (step for step
//!   `script/DeploySuite.sol`), with the local and production parameter sets, optional `CREATE2`
//!   addresses and the timing-invariant checks of `DeploySuite.checkTiming` / `Slasher.checkTiming`;
//! - [`manifest`]: `deployments/<chainId>.json`, where a deployed suite lives, read by every crate;
//! - [`journal`]: `deployments/<chainId>.partial.json`, the progress of a deployment, for resume;
//! - [`executor`]: the one executor of a plan over JSON-RPC (resume, confirmations, dry run). The
//!   simulator executes the same plan in process (`verinfer_sim::Sim::deploy`);
//! - [`verification`]: what a block explorer needs (compiler settings, sources, constructor
//!   arguments) and the `forge verify-contract` commands;
//! - [`inspect`]: reads a deployed suite back from the chain (roles, sinks, wiring, parameters) and
//!   checks it against its manifest (`verinfer deploy verify`).
#![warn(missing_docs)]

pub mod executor;
pub mod inspect;
pub mod journal;
pub mod manifest;
pub mod plan;
pub mod verification;

pub use executor::{deploy_over_rpc, DeployError, DeployOptions, Executor, RpcDeployError};
pub use manifest::{Manifest, ManifestError};
pub use plan::{DeployParams, DeployPlan, PlanError, Step, StepKind, TimingError};
