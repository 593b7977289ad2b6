//! Deploys the verinfer suite.
//!
//! - [`plan`]: the deployment plan, a pure ordered list of create and call steps, with the local and
//!   production parameter sets and the cross-contract timing-invariant check (`Slasher.checkTiming`);
//! - [`manifest`]: `deployments/<chainId>.json`, where a deployed suite lives, read by every crate;
//! - [`executor`]: the one executor of a plan over JSON-RPC. The simulator executes the same plan in
//!   process (`verinfer_sim::Sim::deploy`).
#![warn(missing_docs)]

pub mod executor;
pub mod manifest;
pub mod plan;

pub use executor::{deploy_over_rpc, RpcDeployError};
pub use manifest::{Manifest, ManifestError};
pub use plan::{DeployParams, DeployPlan, Step, StepKind, TimingError};
