//! The InferenceRegistry as the keeper uses it: the generated bindings
//! ([`verinfer_bindings::InferenceRegistry`]), its structs, and the shared enum and output types of
//! [`verinfer_bindings::types`] (the one home of every Solidity enum in Rust).

pub use verinfer_bindings::inference_registry::IInferenceRegistry::{
    Attestation, ModelParams, RequestView, Statement,
};
pub use verinfer_bindings::types::{RequestStatus, VerificationMode};
pub use verinfer_bindings::{is_concrete_output, InferenceRegistry, NO_OUTPUT};
