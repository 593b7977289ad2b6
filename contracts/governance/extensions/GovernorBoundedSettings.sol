// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {GovernorParameterBounds} from "./GovernorParameterBounds.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";

/// @title GovernorBoundedSettings
/// @notice OpenZeppelin GovernorSettings (voting delay, voting period, proposal threshold, set by governance)
///         with a range for each value, checked at construction and by every setter.
/// @dev Storage and events are GovernorSettings' own (`VotingDelaySet`, `VotingPeriodSet`,
///      `ProposalThresholdSet`); this module only adds the bounds. Units: blocks for the delay and the period
///      (the governor's clock is the block number), voice units for the threshold.
abstract contract GovernorBoundedSettings is GovernorSettings, GovernorParameterBounds {
    /// @notice Lower bound of the voting delay (blocks).
    uint256 public constant MIN_VOTING_DELAY = 1;
    /// @notice Upper bound of the voting delay (blocks, ~14 days at 12 s).
    uint256 public constant MAX_VOTING_DELAY = 100_800;
    /// @notice Lower bound of the voting period (blocks).
    uint256 public constant MIN_VOTING_PERIOD = 5;
    /// @notice Upper bound of the voting period (blocks, ~28 days at 12 s).
    uint256 public constant MAX_VOTING_PERIOD = 201_600;
    /// @notice Upper bound of the proposal threshold (voice units).
    uint256 public constant MAX_PROPOSAL_THRESHOLD = 1e30;

    /// @param initialVotingDelay Blocks between proposal and snapshot, within its bounds.
    /// @param initialVotingPeriod Blocks of voting, within its bounds.
    /// @param initialProposalThreshold Voice needed to propose, within its bounds.
    constructor(uint48 initialVotingDelay, uint32 initialVotingPeriod, uint256 initialProposalThreshold)
        GovernorSettings(initialVotingDelay, initialVotingPeriod, initialProposalThreshold)
    {
        _checkBounds("votingDelay", initialVotingDelay, MIN_VOTING_DELAY, MAX_VOTING_DELAY);
        _checkBounds("votingPeriod", initialVotingPeriod, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        _checkBounds("proposalThreshold", initialProposalThreshold, 0, MAX_PROPOSAL_THRESHOLD);
    }

    /// @notice Sets the voting delay, within [MIN_VOTING_DELAY, MAX_VOTING_DELAY]. Only governance.
    /// @param newVotingDelay Blocks between proposal and snapshot.
    function setVotingDelay(uint48 newVotingDelay) public virtual override onlyGovernance {
        _checkBounds("votingDelay", newVotingDelay, MIN_VOTING_DELAY, MAX_VOTING_DELAY);
        _setVotingDelay(newVotingDelay);
    }

    /// @notice Sets the voting period, within [MIN_VOTING_PERIOD, MAX_VOTING_PERIOD]. Only governance.
    /// @param newVotingPeriod Blocks of voting.
    function setVotingPeriod(uint32 newVotingPeriod) public virtual override onlyGovernance {
        _checkBounds("votingPeriod", newVotingPeriod, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        _setVotingPeriod(newVotingPeriod);
    }

    /// @notice Sets the proposal threshold, within [0, MAX_PROPOSAL_THRESHOLD]. Only governance.
    /// @param newProposalThreshold Voice needed to propose.
    function setProposalThreshold(uint256 newProposalThreshold) public virtual override onlyGovernance {
        _checkBounds("proposalThreshold", newProposalThreshold, 0, MAX_PROPOSAL_THRESHOLD);
        _setProposalThreshold(newProposalThreshold);
    }
}
