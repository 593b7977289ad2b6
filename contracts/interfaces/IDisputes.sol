// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IDisputeResolver
/// @notice Decides disputes opened by the inference registry. Implemented by governance
///         (`DisputeGovernor`) and by a test resolver.
interface IDisputeResolver {
    /// @notice Opens a dispute about `requestId`. `candidates` are the output hashes in contention (the
    ///         resolver adds "no valid result", encoded as bytes32(0)); `involved` are the operators (and
    ///         challenger) who may not vote on it; `challenger` is the bonded challenger, or zero for a
    ///         dispute escalated over operators' disagreement. Only the registry.
    /// @param requestId The registry's request.
    /// @param candidates The distinct output hashes in contention (non-zero).
    /// @param involved The parties barred from voting.
    /// @param challenger The challenger (also in `involved`), or zero.
    /// @return disputeId The resolver's id for the dispute.
    function openDispute(
        uint256 requestId,
        bytes32[] calldata candidates,
        address[] calldata involved,
        address challenger
    ) external returns (uint256 disputeId);

    /// @notice The longest time, in seconds, from a dispute's opening until its ruling can be applied
    ///         (voting period plus execution delay). Part of the timing invariants (docs/slashing.md).
    /// @return The bound in seconds.
    function maxRulingDelay() external view returns (uint256);
}

/// @title IDisputeReceiver
/// @notice The registry side: receives the ruling of a dispute.
interface IDisputeReceiver {
    /// @notice Applies the ruling for `disputeId`. Only the resolver the dispute was opened with.
    /// @param disputeId The resolver's dispute id.
    /// @param outputHash The winning candidate, or bytes32(0) for "no valid result" (ignored when not decided).
    /// @param decided Whether the ruling was positively decided (quorum reached). An undecided dispute leaves
    ///        the status quo standing and slashes nobody.
    function onDisputeResolved(uint256 disputeId, bytes32 outputHash, bool decided) external;
}
