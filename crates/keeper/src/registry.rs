//! The slice of the InferenceRegistry ABI the keeper uses (mirrors
//! `contracts/interfaces/IInferenceRegistry.sol`).

#![allow(missing_docs)]

alloy::sol! {
    #[sol(rpc)]
    interface IInferenceRegistry {
        enum VerificationMode { Deterministic, Optimistic }
        enum RequestStatus { None, Open, Quorum, Disputed, Finalized, Expired }

        struct Attestation {
            address operator;
            uint256 requestId;
            bytes32 modelId;
            bytes32 inputHash;
            bytes32 outputHash;
        }

        struct RequestView {
            RequestStatus status;
            VerificationMode mode;
            uint8 k;
            uint8 q;
            uint8 respondedMask;
            uint8 agreeMask;
            uint8 rewardedMask;
            uint8 faultedMask;
            uint40 deadline;
            uint40 windowEnd;
            bytes32 modelId;
            bytes32 inputHash;
            bytes32 output;
            address client;
            uint256 fee;
            address challenger;
            uint256 bond;
            bytes32 claimedOutput;
            uint256 disputeId;
        }

        event RequestCreated(uint256 indexed requestId, bytes32 indexed modelId, address indexed client, bytes32 inputHash, string inputURI, uint256 fee, uint40 deadline);
        event OperatorAssigned(uint256 indexed requestId, address indexed operator, uint256 index);
        event AnswerRecorded(uint256 indexed requestId, address indexed operator, bytes32 outputHash);
        event QuorumReached(uint256 indexed requestId, bytes32 outputHash, uint40 windowEnd);
        event RequestFinalized(uint256 indexed requestId, bytes32 outputHash);
        event RequestExpired(uint256 indexed requestId);
        event Challenged(uint256 indexed requestId, address indexed challenger, bytes32 claimedOutput, uint256 bond);
        event DisputeOpened(uint256 indexed requestId, uint256 indexed disputeId);
        event MissedReported(uint256 indexed requestId, address indexed operator, address indexed reporter, uint256 slashId);
        event EquivocationReported(uint256 indexed requestId, address indexed operator, address indexed reporter, uint256 slashId);
        event BatchCommitted(uint256 indexed batchId, address indexed operator, bytes32 root, uint32 count);

        function submitAttestation(Attestation calldata att, bytes calldata signature) external;
        function submitAttestations(Attestation[] calldata atts, bytes[] calldata signatures) external;
        function commitBatch(bytes32 root, uint32 count) external returns (uint256 batchId);
        function commitBatchFor(address operator, bytes32 root, uint32 count) external returns (uint256 batchId);
        function revealBatchResult(uint256 batchId, uint256 requestId, bytes32 outputHash, bytes32[] calldata proof) external;
        function finalize(uint256 requestId) external;
        function challenge(uint256 requestId, bytes32 claimedOutput) external returns (uint256 disputeId);
        function escalate(uint256 requestId) external returns (uint256 disputeId);
        function reportMissed(uint256 requestId, address operator) external returns (uint256 slashId);
        function reportEquivocation(Attestation calldata att1, bytes calldata sig1, Attestation calldata att2, bytes calldata sig2) external returns (uint256 slashId);
        function requestInference(bytes32 modelId, bytes32 inputHash, string calldata inputURI, uint256 fee, uint40 deadline) external returns (uint256 requestId);
        function attestationDigest(Attestation calldata att) external view returns (bytes32);
        function request(uint256 requestId) external view returns (RequestView memory);
        function assignedOperators(uint256 requestId) external view returns (address[] memory ops);
        function answerOf(uint256 requestId, address operator) external view returns (bool answered, bytes32 outputHash);
        function isServing(bytes32 modelId, address operator) external view returns (bool);
    }
}

impl From<crate::attest::Attestation> for IInferenceRegistry::Attestation {
    fn from(a: crate::attest::Attestation) -> Self {
        Self {
            operator: a.operator,
            requestId: a.requestId,
            modelId: a.modelId,
            inputHash: a.inputHash,
            outputHash: a.outputHash,
        }
    }
}

alloy::sol! {
    /// The staking calls the CLI makes (mirrors `contracts/interfaces/IStaking.sol`).
    #[sol(rpc)]
    interface IStakingLite {
        function registerOperator(address signer, uint256 selfStake) external returns (uint256 shares);
        function rotateSigner(address newSigner) external;
        function delegate(address operator, uint256 assets) external returns (uint256 shares);
        function requestUnstake(address operator, uint256 shares) external returns (uint256 withdrawalId);
        function completeUnstake(uint256 withdrawalId) external returns (uint256 assets);
        function signerOf(address operator) external view returns (address);
        function operatorStake(address operator) external view returns (uint256);
        function sharesOf(address operator, address account) external view returns (uint256);
        function totalActiveStake() external view returns (uint256);
    }

    /// ERC-20 calls the CLI makes.
    #[sol(rpc)]
    interface IERC20Lite {
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
        function balanceOf(address account) external view returns (uint256);
    }

    /// Registry calls beyond the keeper's.
    #[sol(rpc)]
    interface IRegistryAdmin {
        struct ModelParams {
            uint8 mode;
            uint8 k;
            uint8 q;
            uint32 challengeWindow;
            uint256 minStake;
            uint256 challengeBond;
            uint256 minFee;
        }
        function registerModel(bytes32 weightsHash, bytes32 runtimeSpecHash, ModelParams calldata params) external returns (bytes32 modelId);
        function serveModel(bytes32 modelId) external;
        function claim() external returns (uint256 amount);
        function credits(address account) external view returns (uint256);
    }
}

#[cfg(test)]
mod tests {
    //! The hand-written ABI slices above must stay a subset of the generated bindings (which are
    //! checked against the contracts by `script/gen-bindings.sh --check`): every selector and event
    //! topic here must exist in the real contract, so a renamed or re-typed function fails here
    //! instead of reverting on chain.
    use super::*;
    use verinfer_bindings::{InferenceRegistry, Staking, VerinferToken};

    fn missing<const N: usize, const M: usize>(
        ours: &[[u8; N]],
        theirs: &[[u8; M]],
    ) -> Vec<String> {
        ours.iter()
            .filter(|s| !theirs.iter().any(|t| t[..] == s[..]))
            .map(alloy::primitives::hex::encode)
            .collect()
    }

    #[test]
    fn registry_slice_matches_the_generated_bindings() {
        let calls = InferenceRegistry::InferenceRegistryCalls::SELECTORS;
        assert!(
            !missing(&[[0u8; 4]], calls).is_empty(),
            "the check can fail"
        );
        let m = missing(
            IInferenceRegistry::IInferenceRegistryCalls::SELECTORS,
            calls,
        );
        assert!(
            m.is_empty(),
            "IInferenceRegistry functions not in the contract: {m:?}"
        );
        let m = missing(IRegistryAdmin::IRegistryAdminCalls::SELECTORS, calls);
        assert!(
            m.is_empty(),
            "IRegistryAdmin functions not in the contract: {m:?}"
        );
        let m = missing(
            IInferenceRegistry::IInferenceRegistryEvents::SELECTORS,
            InferenceRegistry::InferenceRegistryEvents::SELECTORS,
        );
        assert!(
            m.is_empty(),
            "IInferenceRegistry events not in the contract: {m:?}"
        );
    }

    #[test]
    fn staking_and_token_slices_match_the_generated_bindings() {
        let m = missing(
            IStakingLite::IStakingLiteCalls::SELECTORS,
            Staking::StakingCalls::SELECTORS,
        );
        assert!(m.is_empty(), "IStakingLite functions not in Staking: {m:?}");
        let m = missing(
            IERC20Lite::IERC20LiteCalls::SELECTORS,
            VerinferToken::VerinferTokenCalls::SELECTORS,
        );
        assert!(
            m.is_empty(),
            "IERC20Lite functions not in VerinferToken: {m:?}"
        );
    }
}
