// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "./IInferenceRegistry.sol";

/// @title IInferenceConsumer
/// @notice Implemented by a contract that receives inference results from the registry. See docs/consumers.md.
interface IInferenceConsumer {
    /// @notice Called by the registry with a request's result. Only the registry may call it (check
    ///         `msg.sender`). The call gets exactly the request's callback gas limit; a revert, an out-of-gas or a
    ///         large return value only marks the callback failed (retryable by the consumer) and never affects
    ///         the request, its payments or any slash.
    /// @param requestId The request.
    /// @param output The output bytes, or empty when only the hash is delivered (an output larger than the
    ///        registry's `maxOutputBytes`: fetch it off chain by `outputHash`), or when there is no result.
    /// @param outputHash keccak256 of the output; zero when there is no valid result.
    /// @param status `Quorum`: an early, provisional result (the final callback follows and may differ after a
    ///        dispute); `Finalized`: the final result (`outputHash` zero: no valid result); `Expired`: no result
    ///        before the deadline (fee refunded to the client).
    function onInferenceResult(
        uint256 requestId,
        bytes calldata output,
        bytes32 outputHash,
        IInferenceRegistry.RequestStatus status
    ) external;
}
