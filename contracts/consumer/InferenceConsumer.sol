// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";

/// @title InferenceConsumer
/// @notice Base contract for contracts that ask verinfer for inferences and receive the results by callback.
///         It makes the requests itself (it is the request's client and consumer), accepts callbacks only from
///         the registry and only for requests it made, and hands each result to `_onInferenceResult`. See
///         docs/consumers.md for a walk-through.
/// @dev A callback runs with exactly the gas limit given at request time. If `_onInferenceResult` reverts or runs
///      out of gas, the registry records the callback as failed: nothing else changes, and anyone may retry it
///      with `retryResult` (the registry checks the bytes against the result's hash again).
abstract contract InferenceConsumer is IInferenceConsumer {
    using SafeERC20 for IERC20;

    /// @notice The verinfer registry (the only caller of `onInferenceResult`).
    IInferenceRegistry public immutable registry;
    /// @notice The token fees are paid in (the registry's staking token).
    IERC20 public immutable feeToken;
    /// @notice Whether this contract made request `requestId`.
    mapping(uint256 requestId => bool) public requestedHere;

    /// @notice `caller` is not the registry.
    error OnlyRegistry(address caller);
    /// @notice The callback is for a request this contract did not make.
    error UnexpectedRequest(uint256 requestId);
    /// @notice The registry address is zero.
    error ZeroRegistry();

    /// @notice Binds the consumer to `registry_`.
    /// @param registry_ The verinfer registry.
    constructor(IInferenceRegistry registry_) {
        if (address(registry_) == address(0)) revert ZeroRegistry();
        registry = registry_;
        feeToken = registry_.token();
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(
        uint256 requestId,
        bytes calldata output,
        bytes32 outputHash,
        IInferenceRegistry.RequestStatus status
    ) external {
        if (msg.sender != address(registry)) revert OnlyRegistry(msg.sender);
        if (!requestedHere[requestId]) revert UnexpectedRequest(requestId);
        _onInferenceResult(requestId, output, outputHash, status);
    }

    /// @notice Retries this contract's failed final callback for `requestId` (e.g. after the cause was fixed).
    ///         Anyone: the registry checks `output` against the result and calls back with the same gas limit.
    /// @param requestId The request.
    /// @param output The output bytes (empty for a hash-only delivery or a request without a result).
    function retryResult(uint256 requestId, bytes calldata output) external {
        registry.retryCallback(requestId, output);
    }

    /// @notice Hook: a result for a request this contract made. Revert to mark the callback failed (retryable).
    /// @param requestId The request.
    /// @param output The output bytes; empty if only the hash was delivered or there is no result.
    /// @param outputHash keccak256 of the output, zero if there is no valid result.
    /// @param status `Quorum` (early, provisional), `Finalized` (final) or `Expired` (no result).
    function _onInferenceResult(
        uint256 requestId,
        bytes calldata output,
        bytes32 outputHash,
        IInferenceRegistry.RequestStatus status
    ) internal virtual;

    /// @notice Makes a request with this contract as client and consumer. Pulls `fee` plus the callback fee
    ///         (`registry.callbackFeeFor(gasLimit, early)`) from `msg.sender` (who must have approved this
    ///         contract), approves the registry and records the request.
    /// @param modelId The model.
    /// @param inputHash keccak256 of the input bytes.
    /// @param inputURI Where operators fetch the input.
    /// @param fee The inference fee.
    /// @param deadline The answer deadline.
    /// @param gasLimit The callback gas limit.
    /// @param early Whether to be called back provisionally at quorum too.
    /// @return requestId The request.
    function _requestInference(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint256 fee,
        uint40 deadline,
        uint32 gasLimit,
        bool early
    ) internal returns (uint256 requestId) {
        uint256 callbackFee = registry.callbackFeeFor(gasLimit, early);
        uint256 total = fee + callbackFee;
        feeToken.safeTransferFrom(msg.sender, address(this), total);
        feeToken.forceApprove(address(registry), total);
        requestId = registry.requestInferenceWithCallback(
            modelId,
            inputHash,
            inputURI,
            fee,
            deadline,
            IInferenceRegistry.CallbackSpec({
                consumer: address(this), gasLimit: gasLimit, early: early, fee: callbackFee
            })
        );
        requestedHere[requestId] = true;
    }

    /// @notice Withdraws this contract's registry credits (fees refunded for requests without a result) to `to`.
    /// @param to The recipient.
    /// @return amount The amount sent.
    function _collectRefunds(address to) internal returns (uint256 amount) {
        amount = registry.claim();
        feeToken.safeTransfer(to, amount);
    }
}
