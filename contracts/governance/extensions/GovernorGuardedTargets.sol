// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRegistryWiring, ISlasherWiring, IStakingWiring} from "../../interfaces/ISuiteWiring.sol";
import {QuadraticVotes} from "../QuadraticVotes.sol";
import {GovernorQuadraticCounting} from "./GovernorQuadraticCounting.sol";

/// @title GovernorGuardedTargets
/// @notice A stricter bar for proposals that can change who holds voice or how it is counted: a proposal
///         with any target in the governance-target set needs twice the proposal threshold, twice the quorum
///         and a 2/3 supermajority of for + against. Proposals also carry at most MAX_ACTIONS actions.
/// @dev The governance-target set is not a list: it is the suite reachable from the voice source through
///      its wiring getters, read at propose time (the governor, the timelock, QuadraticVotes, its
///      IdentityRegistry and Staking, Staking's token and slasher, the slasher's registry and the registry's
///      dispute resolver). A link that is not wired yet (zero) ends the walk; a getter that reverts reverts
///      the proposal (fail closed). The flag is kept in the counting module's tally slot
///      (`Tally.governance`); the threshold is checked on the proposer's uncapped voice at `clock() - 2`.
abstract contract GovernorGuardedTargets is GovernorQuadraticCounting {
    /// @notice Maximum number of actions in one proposal.
    uint256 public constant MAX_ACTIONS = 10;
    /// @notice Size of the governance-target set when the suite is fully wired.
    uint256 public constant GOVERNANCE_NODES = 9;

    /// @notice The identity registry (a governance target; the one QuadraticVotes listens to).
    address public immutable identityRegistry;
    address private immutable _timelockAddr;
    /// @dev `votes.staking()` (immutable in QuadraticVotes, so reading it once is reading it live).
    address private immutable _staking;

    /// @notice Proposal `proposalId` has a governance target: 2x threshold, 2x quorum, 2/3 supermajority.
    event GovernanceProposalFlagged(uint256 indexed proposalId);

    /// @notice The proposal has `count` actions; at most `max` are allowed.
    error TooManyActions(uint256 count, uint256 max);
    /// @notice `given` is not the identity registry `wired` that QuadraticVotes listens to.
    error IdentityRegistryMismatch(address given, address wired);

    /// @param votes_ The voice source (the same as the counting module's).
    /// @param timelock_ The executor (a governance target).
    /// @param identityRegistry_ The identity registry (must be `votes_.identityRegistry()`).
    constructor(QuadraticVotes votes_, address timelock_, address identityRegistry_) {
        address wired = votes_.identityRegistry();
        if (identityRegistry_ != wired) revert IdentityRegistryMismatch(identityRegistry_, wired);
        identityRegistry = identityRegistry_;
        _timelockAddr = timelock_;
        _staking = address(votes_.staking());
    }

    /// @notice Propose, with the proposal threshold checked on the proposer's uncapped voice at
    ///         `clock() - 2` (votes are read one block before the timepoint). A proposal with any target in
    ///         `governanceTargets()` (read now) is flagged: twice the threshold, twice the quorum and a 2/3
    ///         supermajority. A description ending in `#proposer=<address>` can only be proposed by that
    ///         address (OZ), which protects it from being front-run and cancelled.
    /// @param targets Call targets (at most MAX_ACTIONS).
    /// @param values Call values.
    /// @param calldatas Call data.
    /// @param description Proposal text.
    /// @return proposalId The proposal id.
    function propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) public virtual override returns (uint256 proposalId) {
        address proposer = _msgSender();
        if (!_isValidDescriptionForProposer(proposer, description)) {
            revert GovernorRestrictedProposer(proposer);
        }
        if (targets.length > MAX_ACTIONS) revert TooManyActions(targets.length, MAX_ACTIONS);
        bool governance = _touchesGovernance(targets);
        uint256 need = proposalThreshold();
        if (governance) need *= 2;
        if (need != 0) {
            uint256 have = votes.getPastVotes(proposer, clock() - 2);
            if (have < need) revert GovernorInsufficientProposerVotes(proposer, have, need);
        }
        proposalId = _propose(targets, values, calldatas, description, proposer);
        if (governance) {
            _tally(proposalId).governance = true;
            emit GovernanceProposalFlagged(proposalId);
        }
    }

    /// @notice Whether `proposalId` touches governance (2x threshold, 2x quorum, 2/3 supermajority).
    /// @param proposalId The proposal.
    /// @return True for governance proposals.
    function isGovernanceProposal(uint256 proposalId) external view returns (bool) {
        return _tally(proposalId).governance;
    }

    /// @notice Whether a proposal calling `target` is held to the stricter bar (2x threshold, 2x quorum,
    ///         2/3 supermajority): `target` is in `governanceTargets()`.
    /// @param target The address.
    /// @return True for every contract of the suite reachable from the voice source.
    function isGovernanceTarget(address target) external view returns (bool) {
        address[] memory targets = new address[](1);
        targets[0] = target;
        return _touchesGovernance(targets);
    }

    /// @notice The governance-target set, read live from the wiring: the governor, the timelock,
    ///         QuadraticVotes, `votes.identityRegistry()`, `votes.staking()`, `staking.token()`,
    ///         `staking.slasher()`, the slasher's `registry()` and the registry's `resolver()`. Links that
    ///         are not wired yet (zero) end the walk; an address without code is kept but not queried.
    /// @return nodes The set (no zero entries).
    function governanceTargets() external view returns (address[] memory nodes) {
        (address tok, address slasher, address registry, address resolver) = _wiredNodes();
        address[GOVERNANCE_NODES] memory all = [
            address(this),
            _timelockAddr,
            address(votes),
            identityRegistry,
            _staking,
            tok,
            slasher,
            registry,
            resolver
        ];
        nodes = new address[](GOVERNANCE_NODES);
        uint256 n;
        for (uint256 i; i < GOVERNANCE_NODES; ++i) {
            if (all[i] != address(0)) nodes[n++] = all[i];
        }
        assembly ("memory-safe") {
            mstore(nodes, n) // drop the unwired tail
        }
    }

    /// @dev A flagged proposal needs twice the base quorum.
    function _requiredQuorum(uint256 proposalId, uint256 baseQuorum)
        internal
        view
        virtual
        override
        returns (uint256)
    {
        uint256 q = super._requiredQuorum(proposalId, baseQuorum);
        return _tally(proposalId).governance ? q * 2 : q;
    }

    /// @dev A flagged proposal needs a 2/3 supermajority of for + against (and at least one vote for);
    ///      any other follows the counting module's rule.
    function _voteSucceeded(uint256 proposalId) internal view virtual override returns (bool) {
        Tally storage t = _tally(proposalId);
        if (!t.governance) return super._voteSucceeded(proposalId);
        uint256 f = t.forVotes;
        uint256 a = t.againstVotes;
        return f != 0 && f * 3 >= (f + a) * 2;
    }

    /// @dev Whether any of `targets` (at most MAX_ACTIONS) is a governance target. The nodes are compared on
    ///      the stack (no array); a link that is not wired is zero, and a zero target is never one.
    function _touchesGovernance(address[] memory targets) private view returns (bool) {
        (address tok, address slasher, address registry, address resolver) = _wiredNodes();
        address tl = _timelockAddr;
        address v = address(votes);
        address ir = identityRegistry;
        address st = _staking;
        for (uint256 i; i < targets.length; ++i) {
            address t = targets[i];
            if (t == address(0)) continue;
            if (
                t == address(this) || t == tl || t == v || t == ir || t == st || t == tok || t == slasher
                    || t == registry || t == resolver
            ) return true;
        }
        return false;
    }

    /// @dev The live part of the governance-target set: staking -> token, staking -> slasher -> registry ->
    ///      resolver (zero = not wired yet; the walk stops there). An address without code is kept but not
    ///      queried. A getter that reverts reverts the caller (fail closed: a broken wiring getter cannot
    ///      silently lower the bar).
    function _wiredNodes()
        private
        view
        returns (address tok, address slasher, address registry, address resolver)
    {
        address st = _staking;
        if (st.code.length == 0) return (tok, slasher, registry, resolver);
        tok = IStakingWiring(st).token();
        slasher = IStakingWiring(st).slasher();
        if (slasher.code.length == 0) return (tok, slasher, registry, resolver);
        registry = ISlasherWiring(slasher).registry();
        if (registry.code.length == 0) return (tok, slasher, registry, resolver);
        resolver = IRegistryWiring(registry).resolver();
    }
}
