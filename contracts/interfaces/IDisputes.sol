// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IDisputeResolver
/// @notice Decides disputes opened by the inference registry. Implemented by governance
///         (`DisputeGovernor`) and by a test resolver.
interface IDisputeResolver {
    /// @notice Opens a dispute about `requestId`. `candidates` are the output hashes in contention (the
    ///         resolver adds "no valid result", encoded as bytes32(0)); `involved` are the operators (and
    ///         challenger) who may not vote on it. Only the registry.
    /// @return disputeId The resolver's id for the dispute.
    function openDispute(uint256 requestId, bytes32[] calldata candidates, address[] calldata involved)
        external
        returns (uint256 disputeId);
}

/// @title IDisputeReceiver
/// @notice The registry side: receives the ruling of a dispute.
interface IDisputeReceiver {
    /// @notice Applies the ruling for `disputeId`: `outputHash` is the winning candidate, or bytes32(0)
    ///         for "no valid result". Only the resolver the dispute was opened with.
    function onDisputeResolved(uint256 disputeId, bytes32 outputHash) external;
}
