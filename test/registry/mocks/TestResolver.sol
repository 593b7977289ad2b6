// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDisputeReceiver, IDisputeResolver} from "../../../contracts/interfaces/IDisputes.sol";

/// @notice IDisputeResolver for tests: records disputes and lets the test decide the ruling.
contract TestResolver is IDisputeResolver {
    struct Dispute {
        uint256 requestId;
        bytes32[] candidates;
        address[] involved;
        address challenger;
        address registry;
    }

    uint256 public count;
    mapping(uint256 disputeId => Dispute) internal _disputes;

    /// @inheritdoc IDisputeResolver
    function openDispute(
        uint256 requestId,
        bytes32[] calldata candidates,
        address[] calldata involved,
        address challenger
    ) external returns (uint256 disputeId) {
        disputeId = ++count;
        _disputes[disputeId] = Dispute(requestId, candidates, involved, challenger, msg.sender);
    }

    /// @inheritdoc IDisputeResolver
    function maxRulingDelay() external pure returns (uint256) {
        return 0;
    }

    /// @notice Applies `outputHash` as the (decided) ruling of `disputeId` on the registry that opened it.
    function resolve(uint256 disputeId, bytes32 outputHash) external {
        IDisputeReceiver(_disputes[disputeId].registry).onDisputeResolved(disputeId, outputHash, true);
    }

    /// @notice Applies an undecided ruling (no quorum) to `disputeId`.
    function resolveUndecided(uint256 disputeId) external {
        IDisputeReceiver(_disputes[disputeId].registry).onDisputeResolved(disputeId, bytes32(0), false);
    }

    function challengerOf(uint256 disputeId) external view returns (address) {
        return _disputes[disputeId].challenger;
    }

    function candidatesOf(uint256 disputeId) external view returns (bytes32[] memory) {
        return _disputes[disputeId].candidates;
    }

    function involvedOf(uint256 disputeId) external view returns (address[] memory) {
        return _disputes[disputeId].involved;
    }

    function requestOf(uint256 disputeId) external view returns (uint256) {
        return _disputes[disputeId].requestId;
    }
}
