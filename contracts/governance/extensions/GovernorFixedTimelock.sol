// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {
    GovernorTimelockControl
} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";

/// @title GovernorFixedTimelock
/// @notice OpenZeppelin GovernorTimelockControl whose timelock is fixed at construction, and which refuses to
///         execute a queued proposal before its eta with a named error.
/// @dev Migrating to another timelock means deploying a new governor: `updateTimelock` always reverts, so
///      no proposal can move the executor (and with it every role the timelock holds) away from the suite.
abstract contract GovernorFixedTimelock is GovernorTimelockControl {
    /// @notice The timelock is fixed; migrate by deploying a new governor.
    error TimelockMigrationDisabled();
    /// @notice `proposalId` is queued but its timelock ends at `eta`.
    error ProposalNotReady(uint256 proposalId, uint256 eta);

    /// @notice Disabled: the timelock is fixed at construction.
    function updateTimelock(TimelockController) external pure virtual override {
        revert TimelockMigrationDisabled();
    }

    /// @dev Reverts with `ProposalNotReady` before the proposal's eta, then executes through the timelock.
    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal virtual override {
        uint256 eta = proposalEta(proposalId);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < eta) revert ProposalNotReady(proposalId, eta);
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }
}
