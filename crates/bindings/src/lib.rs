//! Typed [alloy] bindings for the verinfer contracts.
//!
//! Every contract and interface has a module (snake case of its name) holding the `sol!` expansion
//! of its committed artifact (`artifacts/<Name>.json`: ABI, creation and runtime bytecode), and the
//! contract type is re-exported at the crate root. The artifacts are produced by
//! `script/gen-bindings.sh` (foundry-compilers, same compiler and settings as forge), so building
//! this crate needs neither node nor solc; `script/gen-bindings.sh --check` fails when they are stale.
//!
//! Each binding offers call types (`Staking::delegateCall`), events (`Staking::Delegated`), the
//! error enum (`Staking::StakingErrors`) and, with `#[sol(rpc)]`, an instance type for JSON-RPC use
//! (`Staking::new(address, provider)`).
//!
//! ```
//! use alloy::sol_types::SolCall;
//! use verinfer_bindings::IStaking;
//!
//! let call = IStaking::delegateCall { operator: alloy::primitives::Address::ZERO, assets: alloy::primitives::U256::from(1) };
//! assert_eq!(call.abi_encode().len(), 4 + 64);
//! ```

include!("generated.rs");

impl inference_registry::IInferenceRegistry::Statement {
    /// A signed statement (`batchId == 0`, no proof): `att` with its operator's EIP-712 signature, the
    /// form `InferenceRegistry.reportEquivocation` takes for a gossiped or submitted attestation.
    ///
    /// ```
    /// use alloy::primitives::{Address, Bytes, B256, U256};
    /// use verinfer_bindings::inference_registry::IInferenceRegistry::{Attestation, Statement};
    ///
    /// let att = Attestation {
    ///     operator: Address::ZERO,
    ///     requestId: U256::from(7),
    ///     modelId: B256::ZERO,
    ///     inputHash: B256::ZERO,
    ///     outputHash: B256::repeat_byte(1),
    /// };
    /// let st = Statement::signed(att, Bytes::from(vec![0u8; 65]));
    /// assert_eq!(st.batchId, U256::ZERO);
    /// assert!(st.proof.is_empty());
    /// ```
    pub fn signed(
        att: inference_registry::IInferenceRegistry::Attestation,
        signature: alloy::primitives::Bytes,
    ) -> Self {
        Self {
            att,
            signature,
            batchId: alloy::primitives::U256::ZERO,
            proof: Vec::new(),
        }
    }
}

pub mod concentration;
pub mod decode;
pub mod types;
pub mod units;

/// The registry's placeholder output of a request nobody has answered yet (`NO_OUTPUT`,
/// `bytes32(uint256(1))`). Neither it nor zero ("no valid result") is an output an operator can attest
/// or a challenger can claim.
pub const NO_OUTPUT: alloy::primitives::B256 = alloy::primitives::B256::with_last_byte(1);

/// Whether `output` is a concrete output hash a challenge may claim: `challenge` and
/// `challengeLeaf` revert with `InvalidOutputHash` for zero and for [`NO_OUTPUT`].
///
/// ```
/// use alloy::primitives::{keccak256, B256};
/// use verinfer_bindings::{is_concrete_output, NO_OUTPUT};
///
/// assert!(is_concrete_output(keccak256(b"output")));
/// assert!(!is_concrete_output(B256::ZERO));
/// assert!(!is_concrete_output(NO_OUTPUT));
/// ```
pub fn is_concrete_output(output: alloy::primitives::B256) -> bool {
    output != alloy::primitives::B256::ZERO && output != NO_OUTPUT
}
