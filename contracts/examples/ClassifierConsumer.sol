// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InferenceConsumer} from "../consumer/InferenceConsumer.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";

/// @title ClassifierConsumer
/// @notice Example consumer of verinfer's built-in model (`crates/mlp/src/`, the digits classifier): its output is 10 bytes, the
///         int8 logits of the 10 digit classes. The contract asks for a classification, and when the result is final it
///         takes the class with the largest logit (ties: the lowest index) and acts on it: records the verdict
///         and counts it per class. Requests without a result are recorded too, and their refunds go to
///         `beneficiary`.
contract ClassifierConsumer is InferenceConsumer {
    /// @notice Number of classes (output bytes) of the built-in model.
    uint256 public constant CLASSES = 10;

    /// @notice A final verdict.
    struct Verdict {
        bool decided; // a final callback arrived
        bool hasResult; // the request has a valid result
        uint8 label; // argmax class
        int8 score; // its logit
    }

    /// @notice The built-in model's id.
    bytes32 public immutable modelId;
    /// @notice Receives the refunds of requests without a result.
    address public immutable beneficiary;
    /// @notice Verdict per request.
    mapping(uint256 requestId => Verdict) public verdictOf;
    /// @notice Final verdicts per class.
    uint256[CLASSES] public countOf;

    /// @notice A final classification.
    event Classified(uint256 indexed requestId, uint8 label, int8 score);
    /// @notice A request ended without a valid result (`status` Expired, or Finalized with no valid result).
    event Unclassified(uint256 indexed requestId, IInferenceRegistry.RequestStatus status);

    /// @notice The output is not the built-in model's 10 bytes (the callback fails and can be retried).
    error BadOutputLength(uint256 length);
    /// @notice The beneficiary is zero.
    error ZeroBeneficiary();

    /// @notice Deploys the example.
    /// @param registry_ The verinfer registry.
    /// @param modelId_ The built-in model's id.
    /// @param beneficiary_ Receives refunds.
    constructor(IInferenceRegistry registry_, bytes32 modelId_, address beneficiary_)
        InferenceConsumer(registry_)
    {
        if (beneficiary_ == address(0)) revert ZeroBeneficiary();
        modelId = modelId_;
        beneficiary = beneficiary_;
    }

    /// @notice Asks for the classification of the input behind `inputHash`. The caller pays `fee` plus the
    ///         callback fee (approve this contract for both).
    /// @param inputHash keccak256 of the input bytes.
    /// @param inputURI Where operators fetch the input (e.g. `data:` or `ipfs://`).
    /// @param fee The inference fee.
    /// @param deadline The answer deadline.
    /// @param gasLimit The callback gas limit (100,000 is ample for this contract).
    /// @return requestId The request.
    function classify(
        bytes32 inputHash,
        string calldata inputURI,
        uint256 fee,
        uint40 deadline,
        uint32 gasLimit
    ) external returns (uint256 requestId) {
        return _requestInference(modelId, inputHash, inputURI, fee, deadline, gasLimit, false);
    }

    /// @notice Sends the registry credits of this contract (refunds) to `beneficiary`. Anyone.
    /// @return amount The amount sent.
    function collectRefunds() external returns (uint256 amount) {
        return _collectRefunds(beneficiary);
    }

    /// @notice The argmax class of a built-in-model output and its logit.
    /// @param output The 10 output bytes.
    /// @return label The class with the largest logit (lowest index on ties).
    /// @return score Its logit.
    function decode(bytes calldata output) public pure returns (uint8 label, int8 score) {
        if (output.length != CLASSES) revert BadOutputLength(output.length);
        score = int8(uint8(output[0]));
        for (uint256 i = 1; i < CLASSES; ++i) {
            int8 v = int8(uint8(output[i]));
            if (v > score) {
                score = v;
                // forge-lint: disable-next-line(unsafe-typecast)
                label = uint8(i); // i < 10
            }
        }
    }

    /// @inheritdoc InferenceConsumer
    function _onInferenceResult(
        uint256 requestId,
        bytes calldata output,
        bytes32 outputHash,
        IInferenceRegistry.RequestStatus status
    ) internal override {
        Verdict storage v = verdictOf[requestId];
        v.decided = true;
        if (outputHash == bytes32(0)) {
            emit Unclassified(requestId, status);
            return;
        }
        (uint8 label, int8 score) = decode(output);
        v.hasResult = true;
        v.label = label;
        v.score = score;
        ++countOf[label];
        emit Classified(requestId, label, score);
    }
}
