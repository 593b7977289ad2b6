//! The InferenceRegistry as the keeper uses it: the generated bindings
//! ([`verinfer_bindings::InferenceRegistry`]) plus the two Solidity enums, which the ABI erases to
//! `uint8` (a `RequestView::status` or `ModelParams::mode` is a plain `u8` in the bindings).

pub use verinfer_bindings::inference_registry::IInferenceRegistry::{
    Attestation, ModelParams, RequestView, Statement,
};
pub use verinfer_bindings::InferenceRegistry;

use alloy::primitives::B256;

/// The registry's placeholder output of a request nobody has answered yet (`NO_OUTPUT`,
/// `bytes32(uint256(1))`). Neither it nor zero ("no valid result") is an output an operator can attest
/// or a challenger can claim.
pub const NO_OUTPUT: B256 = B256::with_last_byte(1);

/// Whether `output` is a concrete output hash a challenge may claim: `challenge` and
/// `challengeLeaf` revert with `InvalidOutputHash` for zero and for [`NO_OUTPUT`].
///
/// ```
/// use alloy::primitives::{keccak256, B256};
/// use verinfer_keeper::registry::{is_concrete_output, NO_OUTPUT};
///
/// assert!(is_concrete_output(keccak256(b"output")));
/// assert!(!is_concrete_output(B256::ZERO));
/// assert!(!is_concrete_output(NO_OUTPUT));
/// ```
pub fn is_concrete_output(output: B256) -> bool {
    output != B256::ZERO && output != NO_OUTPUT
}

/// `IInferenceRegistry.RequestStatus`, in declaration order (the ABI value is the discriminant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RequestStatus {
    /// No such request.
    None = 0,
    /// Accepting answers, no quorum yet.
    Open = 1,
    /// Quorum reached; challenge window running.
    Quorum = 2,
    /// A dispute is open.
    Disputed = 3,
    /// Result recorded; immutable.
    Finalized = 4,
    /// No result before the deadline; fee refunded.
    Expired = 5,
}

impl RequestStatus {
    /// Every status, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::None,
        Self::Open,
        Self::Quorum,
        Self::Disputed,
        Self::Finalized,
        Self::Expired,
    ];

    /// The status with ABI value `raw`, `None` for a value the contract does not define.
    pub fn of(raw: u8) -> Option<Self> {
        Self::ALL.get(usize::from(raw)).copied()
    }
}

/// `IInferenceRegistry.VerificationMode`, in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum VerificationMode {
    /// k operators run the model; q of them must agree.
    Deterministic = 0,
    /// One executor; its answer stands unless challenged.
    Optimistic = 1,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant names of `enum <name> { ... }` in the Solidity interface, comments stripped.
    fn solidity_enum(name: &str) -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../contracts/interfaces/IInferenceRegistry.sol"
        );
        let src = std::fs::read_to_string(path).unwrap();
        let start = src.find(&format!("enum {name} {{")).unwrap();
        let body = &src[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
        body.lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .flat_map(|l| l.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The ABI erases enums to `uint8`, so the discriminants here must follow the contract's
    /// declaration order; a reordered or extended Solidity enum fails this test.
    #[test]
    fn enum_discriminants_follow_the_solidity_declaration_order() {
        let ours: Vec<String> = RequestStatus::ALL
            .iter()
            .map(|s| format!("{s:?}"))
            .collect();
        assert_eq!(ours, solidity_enum("RequestStatus"));
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::of(s as u8), Some(s));
        }
        assert_eq!(RequestStatus::of(6), None);
        let modes = [
            VerificationMode::Deterministic,
            VerificationMode::Optimistic,
        ];
        let ours: Vec<String> = modes.iter().map(|m| format!("{m:?}")).collect();
        assert_eq!(ours, solidity_enum("VerificationMode"));
        assert_eq!(VerificationMode::Optimistic as u8, 1);
    }
}
