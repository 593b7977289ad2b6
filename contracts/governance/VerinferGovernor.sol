// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {QuadraticVotes} from "./QuadraticVotes.sol";
import {GovernorBoundedSettings} from "./extensions/GovernorBoundedSettings.sol";
import {GovernorDelegateOverrides} from "./extensions/GovernorDelegateOverrides.sol";
import {GovernorFixedTimelock} from "./extensions/GovernorFixedTimelock.sol";
import {GovernorGuardedTargets} from "./extensions/GovernorGuardedTargets.sol";
import {GovernorLateQuorum} from "./extensions/GovernorLateQuorum.sol";
import {GovernorQuadraticCounting} from "./extensions/GovernorQuadraticCounting.sol";
import {GovernorResidualQuorum} from "./extensions/GovernorResidualQuorum.sol";
import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {
    GovernorTimelockControl
} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";

/// @title VerinferGovernor
/// @notice OpenZeppelin Governor on quadratic voice (QuadraticVotes) with a timelock, late-quorum
///         protection, a per-delegate cap, delegation overrides, an action limit, a stricter bar for
///         proposals that can change who holds voice or how it is counted, and a breadth rule: the for side
///         must reach quorum without its K largest voices.
/// @dev Composition only; each behaviour lives in one extension under `extensions/`:
///      - GovernorBoundedSettings: voting delay, period and threshold (OZ GovernorSettings) within bounds;
///      - GovernorFixedTimelock: OZ GovernorTimelockControl with the timelock fixed at construction;
///      - GovernorQuadraticCounting: voice at `snapshot - 1`, Bravo counting, quorum and delegate cap;
///      - GovernorDelegateOverrides: a delegator votes its own voice, taken out of its delegate's vote;
///      - GovernorLateQuorum: OZ GovernorPreventLateQuorum semantics on the packed tally;
///      - GovernorGuardedTargets: 2x threshold, 2x quorum and a 2/3 supermajority for proposals touching the
///        suite's governance-target set, read live from the wiring; at most MAX_ACTIONS actions;
///      - GovernorResidualQuorum: the for side, without its K largest voices (the unattested pool counting as
///        one), must still reach the base quorum and beat the against side.
///      See docs/governance.md, "How the governor is composed".
contract VerinferGovernor is
    Governor,
    GovernorBoundedSettings,
    GovernorFixedTimelock,
    GovernorQuadraticCounting,
    GovernorDelegateOverrides,
    GovernorLateQuorum,
    GovernorGuardedTargets,
    GovernorResidualQuorum
{
    /// @notice Construction parameters.
    struct Config {
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 proposalThreshold;
        uint48 lateQuorumExtension;
        uint16 quorumBps;
        uint16 delegateCapBps;
        uint8 residualK;
    }

    /// @param votes_ QuadraticVotes.
    /// @param timelock_ The timelock (executor of every proposal).
    /// @param identityRegistry_ The identity registry (must be `votes_.identityRegistry()`).
    /// @param cfg Initial parameters (each within its bounds).
    constructor(
        QuadraticVotes votes_,
        TimelockController timelock_,
        address identityRegistry_,
        Config memory cfg
    )
        Governor("VerinferGovernor")
        GovernorBoundedSettings(cfg.votingDelay, cfg.votingPeriod, cfg.proposalThreshold)
        GovernorTimelockControl(timelock_)
        GovernorQuadraticCounting(votes_, cfg.quorumBps, cfg.delegateCapBps)
        GovernorLateQuorum(cfg.lateQuorumExtension)
        GovernorGuardedTargets(votes_, address(timelock_), identityRegistry_)
        GovernorResidualQuorum(cfg.residualK)
    {}

    // ------------------------------------------------------------------ required overrides
    // Each resolves a function that more than one base defines; the behaviour is the extensions' (super).

    /// @inheritdoc GovernorGuardedTargets
    function propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) public override(Governor, GovernorGuardedTargets) returns (uint256 proposalId) {
        return super.propose(targets, values, calldatas, description);
    }

    /// @inheritdoc GovernorLateQuorum
    function proposalDeadline(uint256 proposalId)
        public
        view
        override(Governor, GovernorLateQuorum)
        returns (uint256)
    {
        return super.proposalDeadline(proposalId);
    }

    /// @inheritdoc Governor
    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    /// @inheritdoc Governor
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorFixedTimelock) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal override(Governor, GovernorQuadraticCounting) returns (uint256) {
        return super._castVote(proposalId, account, support, reason, params);
    }

    function _afterVoteCounted(uint256 proposalId, uint256 totalVoice, Params memory p)
        internal
        override(GovernorQuadraticCounting, GovernorLateQuorum)
    {
        super._afterVoteCounted(proposalId, totalVoice, p);
    }

    function _afterBallotCounted(uint256 proposalId, address voter, uint8 support, uint256 weight)
        internal
        override(GovernorQuadraticCounting, GovernorResidualQuorum)
    {
        super._afterBallotCounted(proposalId, voter, support, weight);
    }

    function _requiredQuorum(uint256 proposalId, uint256 baseQuorum)
        internal
        view
        override(GovernorQuadraticCounting, GovernorGuardedTargets)
        returns (uint256)
    {
        return super._requiredQuorum(proposalId, baseQuorum);
    }

    function _voteSucceeded(uint256 proposalId)
        internal
        view
        override(Governor, GovernorQuadraticCounting, GovernorGuardedTargets, GovernorResidualQuorum)
        returns (bool)
    {
        return super._voteSucceeded(proposalId);
    }
}
