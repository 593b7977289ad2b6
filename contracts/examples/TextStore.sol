// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InferenceConsumer} from "../consumer/InferenceConsumer.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";

/// @title TextStore
/// @notice Example consumer of an optimistic text model (one executor, challenge window). It opts in to the early
///         callback: the text arrives at quorum, marked provisional, and is replaced by the final callback, which
///         may carry another text (or none) if a dispute overturned the answer. A text longer than the registry's
///         `maxOutputBytes` arrives as its hash only; anyone can then supply the bytes with `fill`.
contract TextStore is InferenceConsumer {
    /// @notice What the store knows about a request.
    struct Entry {
        IInferenceRegistry.RequestStatus status; // Quorum: provisional; Finalized / Expired: final
        bytes32 outputHash; // zero: no valid result
        string text; // empty until known (hash-only deliveries wait for `fill`)
    }

    /// @notice The text model's id.
    bytes32 public immutable modelId;
    /// @notice Receives the refunds of requests without a result.
    address public immutable beneficiary;
    mapping(uint256 requestId => Entry) private _entries;

    /// @notice The stored text of `requestId` changed (`provisional` while only quorum was reached).
    event TextStored(uint256 indexed requestId, bytes32 outputHash, bool provisional);
    /// @notice A provisional text was replaced by a different final result (a dispute overturned it).
    event TextOverturned(uint256 indexed requestId, bytes32 provisionalHash, bytes32 finalHash);

    /// @notice `fill` was given bytes that are not the final result's.
    error NotTheResult(uint256 requestId);
    /// @notice The beneficiary is zero.
    error ZeroBeneficiary();

    /// @notice Deploys the example.
    /// @param registry_ The verinfer registry.
    /// @param modelId_ The text model's id.
    /// @param beneficiary_ Receives refunds.
    constructor(IInferenceRegistry registry_, bytes32 modelId_, address beneficiary_)
        InferenceConsumer(registry_)
    {
        if (beneficiary_ == address(0)) revert ZeroBeneficiary();
        modelId = modelId_;
        beneficiary = beneficiary_;
    }

    /// @notice Asks the text model about the prompt behind `inputHash`; called back early (provisional) and at
    ///         the end. The caller pays `fee` plus the callback fee (approve this contract for both).
    /// @param inputHash keccak256 of the prompt bytes.
    /// @param inputURI Where the executor fetches the prompt.
    /// @param fee The inference fee.
    /// @param deadline The answer deadline.
    /// @param gasLimit The callback gas limit (about 25,000 per 32 bytes of text stored, plus 50,000).
    /// @return requestId The request.
    function ask(bytes32 inputHash, string calldata inputURI, uint256 fee, uint40 deadline, uint32 gasLimit)
        external
        returns (uint256 requestId)
    {
        return _requestInference(modelId, inputHash, inputURI, fee, deadline, gasLimit, true);
    }

    /// @notice Supplies the text of a final result that was delivered by hash only. Anyone.
    /// @param requestId The request.
    /// @param text The text bytes (keccak256 must be the result).
    function fill(uint256 requestId, bytes calldata text) external {
        Entry storage e = _entries[requestId];
        if (
            e.status != IInferenceRegistry.RequestStatus.Finalized || e.outputHash == bytes32(0)
                || keccak256(text) != e.outputHash
        ) revert NotTheResult(requestId);
        e.text = string(text);
        emit TextStored(requestId, e.outputHash, false);
    }

    /// @notice Sends the registry credits of this contract (refunds) to `beneficiary`. Anyone.
    /// @return amount The amount sent.
    function collectRefunds() external returns (uint256 amount) {
        return _collectRefunds(beneficiary);
    }

    /// @notice The stored entry of `requestId`.
    /// @param requestId The request.
    /// @return The entry.
    function entryOf(uint256 requestId) external view returns (Entry memory) {
        return _entries[requestId];
    }

    /// @inheritdoc InferenceConsumer
    function _onInferenceResult(
        uint256 requestId,
        bytes calldata output,
        bytes32 outputHash,
        IInferenceRegistry.RequestStatus status
    ) internal override {
        Entry storage e = _entries[requestId];
        bytes32 previous = e.outputHash;
        bool provisional = status == IInferenceRegistry.RequestStatus.Quorum;
        if (!provisional && e.status == IInferenceRegistry.RequestStatus.Quorum && previous != outputHash) {
            emit TextOverturned(requestId, previous, outputHash);
        }
        e.status = status;
        e.outputHash = outputHash;
        e.text = string(output);
        emit TextStored(requestId, outputHash, provisional);
    }
}
