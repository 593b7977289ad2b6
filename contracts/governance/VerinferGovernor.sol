// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRegistryWiring, ISlasherWiring, IStakingWiring} from "../interfaces/ISuiteWiring.sol";
import {QuadraticVotes} from "./QuadraticVotes.sol";
import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {
    GovernorTimelockControl
} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title VerinferGovernor
/// @notice OpenZeppelin Governor on quadratic voice (QuadraticVotes) with a timelock, late-quorum
///         protection, a per-delegate cap, delegation overrides, an action limit and a stricter bar for
///         proposals that can change who holds voice or how it is counted.
/// @dev Units: votes, quorum and threshold are all in VOICE (sum of per-identity square roots plus the
///      square root of the unattested pool), read at `snapshot - 1` so stake that arrives in the snapshot
///      block has no weight. A delegate counts for at most `delegateCapBps` of the total voice. A proposal
///      with any target in the governance-target set (`governanceTargets`) needs twice the proposal
///      threshold, twice the quorum and a 2/3 supermajority of for+against. That set is not a list: it is
///      the suite reachable from the voice source through its wiring getters, read at propose time (the
///      governor, the timelock, QuadraticVotes, its IdentityRegistry and Staking, Staking's token and
///      slasher, the slasher's registry and the registry's dispute resolver).
///      Late-quorum protection has the semantics of OZ GovernorPreventLateQuorum (same events and API), but
///      the extended deadline is packed into the proposal's tally slot so that the vote that reaches quorum
///      does not pay a fresh storage slot. Tallies are uint64 voice units (see docs/governance.md for the
///      bound); the timelock is fixed at construction (timelock migration needs a new governor).
contract VerinferGovernor is Governor, GovernorSettings, GovernorTimelockControl {
    /// @notice Maximum number of actions in one proposal.
    uint256 public constant MAX_ACTIONS = 10;
    /// @notice Bounds of `quorumBps` and `delegateCapBps`.
    uint256 public constant MIN_BPS = 100;
    /// @notice Upper bound of `quorumBps` and `delegateCapBps`.
    uint256 public constant MAX_BPS = 5000;
    /// @notice Bounds of the voting delay (blocks).
    uint256 public constant MIN_VOTING_DELAY = 1;
    /// @notice Upper bound of the voting delay (blocks, ~14 days at 12 s).
    uint256 public constant MAX_VOTING_DELAY = 100_800;
    /// @notice Lower bound of the voting period (blocks).
    uint256 public constant MIN_VOTING_PERIOD = 5;
    /// @notice Upper bound of the voting period (blocks, ~28 days at 12 s).
    uint256 public constant MAX_VOTING_PERIOD = 201_600;
    /// @notice Upper bound of the late-quorum extension (blocks).
    uint256 public constant MAX_LATE_QUORUM_EXTENSION = 50_400;
    /// @notice Upper bound of the proposal threshold (voice units).
    uint256 public constant MAX_PROPOSAL_THRESHOLD = 1e30;
    /// @notice Size of the governance-target set when the suite is fully wired.
    uint256 public constant GOVERNANCE_NODES = 9;

    uint256 private constant _BPS = 10_000;

    /// @notice Supported vote types (Governor Bravo order).
    enum VoteType {
        Against,
        For,
        Abstain
    }

    struct Tally {
        uint64 againstVotes;
        uint64 forVotes;
        uint64 abstainVotes;
        uint48 extendedDeadline; // late-quorum deadline, 0 until quorum is reached
        bool governance; // the proposal touches governance itself
    }

    struct Receipt {
        uint8 casted; // support + 1, 0 = not voted
        uint120 raw; // delegate's uncapped weight still its own (after overrides)
        uint120 overridden; // voice overridden before the delegate voted
    }

    struct Params {
        uint16 quorumBps;
        uint16 delegateCapBps;
        uint48 voteExtension;
    }

    /// @notice Construction parameters.
    struct Config {
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 proposalThreshold;
        uint48 lateQuorumExtension;
        uint16 quorumBps;
        uint16 delegateCapBps;
    }

    /// @notice Source of voting power.
    QuadraticVotes public immutable votes;
    address private immutable _timelockAddr;
    /// @notice The identity registry (a governance target; the one QuadraticVotes listens to).
    address public immutable identityRegistry;
    /// @dev `votes.staking()` (immutable in QuadraticVotes, so reading it once is reading it live).
    address private immutable _staking;

    Params private _params;
    mapping(uint256 proposalId => Tally) private _tallies;
    mapping(uint256 proposalId => mapping(address voter => Receipt)) private _receipts;
    mapping(uint256 proposalId => mapping(bytes32 holder => bool)) private _overridden;

    /// @notice Late quorum moved the deadline of `proposalId` (as in OZ GovernorPreventLateQuorum).
    event ProposalExtended(uint256 indexed proposalId, uint64 extendedDeadline);
    /// @notice The late-quorum extension changed (as in OZ GovernorPreventLateQuorum).
    event LateQuorumVoteExtensionSet(uint64 oldVoteExtension, uint64 newVoteExtension);
    /// @notice `name` changed from `oldValue` to `newValue`.
    event ParameterChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);
    /// @notice Proposal `proposalId` has a governance target: 2x threshold, 2x quorum, 2/3 supermajority.
    event GovernanceProposalFlagged(uint256 indexed proposalId);
    /// @notice `voter` overrode its delegate's vote with its own voice.
    event OverrideVoteCast(
        address indexed voter, uint256 proposalId, uint8 support, uint256 weight, string reason
    );
    /// @notice The counted vote of `delegatee` on `proposalId` was reduced by `weight` (an override).
    event VoteReduced(address indexed delegatee, uint256 proposalId, uint8 support, uint256 weight);

    /// @notice The proposal has `count` actions; at most `max` are allowed.
    error TooManyActions(uint256 count, uint256 max);
    /// @notice Voting on `proposalId` is not open (state `current`).
    error VotingClosed(uint256 proposalId, ProposalState current);
    /// @notice `proposalId` is queued but its timelock ends at `eta`.
    error ProposalNotReady(uint256 proposalId, uint256 eta);
    /// @notice Parameter `name` = `value` is outside [`min`, `max`].
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    /// @notice The voice holder `holder` has already overridden its delegate on this proposal.
    error AlreadyOverridden(bytes32 holder);
    /// @notice `account` has no delegated voice to override (none, or it is its own delegate).
    error NothingToOverride(address account);
    /// @notice The timelock is fixed; migrate by deploying a new governor.
    error TimelockMigrationDisabled();
    /// @notice `given` is not the identity registry `wired` that QuadraticVotes listens to.
    error IdentityRegistryMismatch(address given, address wired);

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
        GovernorSettings(cfg.votingDelay, cfg.votingPeriod, cfg.proposalThreshold)
        GovernorTimelockControl(timelock_)
    {
        if (identityRegistry_ != votes_.identityRegistry()) {
            revert IdentityRegistryMismatch(identityRegistry_, votes_.identityRegistry());
        }
        votes = votes_;
        identityRegistry = identityRegistry_;
        _staking = address(votes_.staking());
        _timelockAddr = address(timelock_);
        _check("votingDelay", cfg.votingDelay, MIN_VOTING_DELAY, MAX_VOTING_DELAY);
        _check("votingPeriod", cfg.votingPeriod, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        _check("proposalThreshold", cfg.proposalThreshold, 0, MAX_PROPOSAL_THRESHOLD);
        _check("lateQuorumExtension", cfg.lateQuorumExtension, 0, MAX_LATE_QUORUM_EXTENSION);
        _check("quorumBps", cfg.quorumBps, MIN_BPS, MAX_BPS);
        _check("delegateCapBps", cfg.delegateCapBps, MIN_BPS, MAX_BPS);
        _params = Params(cfg.quorumBps, cfg.delegateCapBps, cfg.lateQuorumExtension);
        emit LateQuorumVoteExtensionSet(0, cfg.lateQuorumExtension);
    }

    // ------------------------------------------------------------------ clock

    /// @notice Block-number clock (ERC-6372).
    /// @return The current block number.
    function clock() public view override returns (uint48) {
        return SafeCast.toUint48(block.number);
    }

    /// @notice ERC-6372 clock description.
    /// @return The clock mode.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=blocknumber&from=default";
    }

    /// @notice Counting mode description.
    /// @return The counting mode.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure override returns (string memory) {
        return "support=bravo,override&quorum=for,abstain&params=quadratic-capped";
    }

    // ------------------------------------------------------------------ parameters

    /// @notice Quorum as bps of the total voice at the snapshot.
    /// @return The quorum bps.
    function quorumBps() public view returns (uint256) {
        return _params.quorumBps;
    }

    /// @notice Per-delegate cap as bps of the total voice at the snapshot.
    /// @return The cap bps.
    function delegateCapBps() public view returns (uint256) {
        return _params.delegateCapBps;
    }

    /// @notice Sets the quorum bps, within [MIN_BPS, MAX_BPS]. Only governance.
    /// @param newBps The new quorum bps.
    function setQuorumBps(uint256 newBps) external onlyGovernance {
        _check("quorumBps", newBps, MIN_BPS, MAX_BPS);
        emit ParameterChanged("quorumBps", _params.quorumBps, newBps);
        _params.quorumBps = SafeCast.toUint16(newBps);
    }

    /// @notice Sets the per-delegate cap, within [MIN_BPS, MAX_BPS]. Only governance.
    /// @param newBps The new cap bps.
    function setDelegateCapBps(uint256 newBps) external onlyGovernance {
        _check("delegateCapBps", newBps, MIN_BPS, MAX_BPS);
        emit ParameterChanged("delegateCapBps", _params.delegateCapBps, newBps);
        _params.delegateCapBps = SafeCast.toUint16(newBps);
    }

    /// @notice Sets the voting delay (bounded). Only governance.
    /// @param newVotingDelay Blocks between proposal and snapshot.
    function setVotingDelay(uint48 newVotingDelay) public override onlyGovernance {
        _check("votingDelay", newVotingDelay, MIN_VOTING_DELAY, MAX_VOTING_DELAY);
        _setVotingDelay(newVotingDelay);
    }

    /// @notice Sets the voting period (bounded). Only governance.
    /// @param newVotingPeriod Blocks of voting.
    function setVotingPeriod(uint32 newVotingPeriod) public override onlyGovernance {
        _check("votingPeriod", newVotingPeriod, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        _setVotingPeriod(newVotingPeriod);
    }

    /// @notice Sets the proposal threshold (bounded). Only governance.
    /// @param newProposalThreshold Voice needed to propose.
    function setProposalThreshold(uint256 newProposalThreshold) public override onlyGovernance {
        _check("proposalThreshold", newProposalThreshold, 0, MAX_PROPOSAL_THRESHOLD);
        _setProposalThreshold(newProposalThreshold);
    }

    /// @notice Sets the late-quorum extension (bounded). Only governance.
    /// @param newVoteExtension Blocks voting stays open after quorum is reached.
    function setLateQuorumVoteExtension(uint48 newVoteExtension) external onlyGovernance {
        _check("lateQuorumExtension", newVoteExtension, 0, MAX_LATE_QUORUM_EXTENSION);
        emit LateQuorumVoteExtensionSet(_params.voteExtension, newVoteExtension);
        _params.voteExtension = newVoteExtension;
    }

    /// @notice Disabled: the timelock is fixed at construction.
    function updateTimelock(TimelockController) external pure override {
        revert TimelockMigrationDisabled();
    }

    /// @notice Blocks voting stays open after quorum is reached (OZ GovernorPreventLateQuorum semantics).
    /// @return The extension in blocks.
    function lateQuorumVoteExtension() external view returns (uint48) {
        return _params.voteExtension;
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
    ) public override returns (uint256 proposalId) {
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
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        if (governance) {
            _tallies[proposalId].governance = true;
            emit GovernanceProposalFlagged(proposalId);
        }
    }

    // ------------------------------------------------------------------ views

    /// @notice Quorum for a proposal whose snapshot is `timepoint`: quorumBps of the total voice at
    ///         `timepoint - 1`. Governance proposals need twice this.
    /// @param timepoint The proposal snapshot.
    /// @return The quorum in voice units.
    function quorum(uint256 timepoint) public view override returns (uint256) {
        return Math.mulDiv(votes.getPastTotalSupply(timepoint - 1), _params.quorumBps, _BPS);
    }

    /// @notice Whether `account` has voted (as a delegate) on `proposalId`.
    /// @param proposalId The proposal.
    /// @param account The account.
    /// @return True when it has voted.
    function hasVoted(uint256 proposalId, address account) public view override returns (bool) {
        return _receipts[proposalId][account].casted != 0;
    }

    /// @notice Whether the voice holder `holder` (see QuadraticVotes.getPastHolder) overrode on `proposalId`.
    /// @param proposalId The proposal.
    /// @param holder The holder key.
    /// @return True when it has overridden.
    function hasOverridden(uint256 proposalId, bytes32 holder) external view returns (bool) {
        return _overridden[proposalId][holder];
    }

    /// @notice Vote tallies of `proposalId`.
    /// @param proposalId The proposal.
    /// @return againstVotes Against.
    /// @return forVotes For.
    /// @return abstainVotes Abstain.
    function proposalVotes(uint256 proposalId)
        external
        view
        returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes)
    {
        Tally storage t = _tallies[proposalId];
        return (t.againstVotes, t.forVotes, t.abstainVotes);
    }

    /// @notice Whether `proposalId` touches governance (2x threshold, 2x quorum, 2/3 supermajority).
    /// @param proposalId The proposal.
    /// @return True for governance proposals.
    function isGovernanceProposal(uint256 proposalId) external view returns (bool) {
        return _tallies[proposalId].governance;
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

    // ------------------------------------------------------------------ voting

    /// @notice Casts the caller's OWN voice (its identity's, or its unattested share) on `proposalId`,
    ///         overriding its delegate. If the delegate already voted, its counted weight is reduced.
    /// @param proposalId The proposal.
    /// @param support 0 = against, 1 = for, 2 = abstain.
    /// @param reason Free text.
    /// @return weight The weight counted for the override.
    function castOverrideVote(uint256 proposalId, uint8 support, string calldata reason)
        external
        returns (uint256 weight)
    {
        _requireActive(proposalId);
        if (support > uint8(VoteType.Abstain)) revert GovernorInvalidVoteType();
        uint256 t = proposalSnapshot(proposalId) - 1;
        (bytes32 holder, address delegatee, uint256 voice) = votes.getPastHolder(msg.sender, t);
        if (voice < 1 || delegatee == msg.sender) revert NothingToOverride(msg.sender);
        if (_overridden[proposalId][holder]) revert AlreadyOverridden(holder);
        _overridden[proposalId][holder] = true;

        uint256 cap = Math.mulDiv(votes.getPastTotalSupply(t), _params.delegateCapBps, _BPS);
        weight = Math.min(voice, cap);
        _addTally(proposalId, support, weight);

        _reduceDelegate(proposalId, delegatee, voice, cap);
        emit OverrideVoteCast(msg.sender, proposalId, support, weight, reason);
        _lateQuorumCheck(proposalId, votes.getPastTotalSupply(t), _params);
    }

    // ------------------------------------------------------------------ internals

    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal override returns (uint256 weight) {
        _requireActive(proposalId);
        (uint256 raw, uint256 total) = votes.getPastVotesAndTotal(account, proposalSnapshot(proposalId) - 1);
        Params memory p = _params;
        weight = _count(proposalId, account, support, raw, Math.mulDiv(total, p.delegateCapBps, _BPS));
        if (params.length == 0) {
            emit VoteCast(account, proposalId, support, weight, reason);
        } else {
            emit VoteCastWithParams(account, proposalId, support, weight, reason, params);
        }
        _lateQuorumCheck(proposalId, total, p);
    }

    /// @dev OZ GovernorPreventLateQuorum logic on the packed tally: the first time quorum is reached, the
    ///      deadline becomes at least `clock() + voteExtension`.
    function _lateQuorumCheck(uint256 proposalId, uint256 total, Params memory p) private {
        Tally storage t = _tallies[proposalId];
        if (t.extendedDeadline != 0) return;
        uint256 q = Math.mulDiv(total, p.quorumBps, _BPS);
        if (t.governance) q *= 2;
        if (uint256(t.forVotes) + t.abstainVotes < q) return;
        uint48 ext = clock() + p.voteExtension;
        if (ext > proposalDeadline(proposalId)) emit ProposalExtended(proposalId, ext);
        t.extendedDeadline = ext;
    }

    function _reduceDelegate(uint256 proposalId, address delegatee, uint256 voice, uint256 cap) private {
        Receipt storage r = _receipts[proposalId][delegatee];
        if (r.casted == 0) {
            r.overridden = SafeCast.toUint120(uint256(r.overridden) + voice);
            return;
        }
        uint256 oldW = Math.min(r.raw, cap);
        uint256 newRaw = r.raw > voice ? r.raw - voice : 0;
        r.raw = SafeCast.toUint120(newRaw);
        uint256 cut = oldW - Math.min(newRaw, cap);
        if (cut != 0) {
            uint8 dSupport = r.casted - 1;
            _subTally(proposalId, dSupport, cut);
            emit VoteReduced(delegatee, proposalId, dSupport, cut);
        }
    }

    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory)
        internal
        override
        returns (uint256)
    {
        return _count(proposalId, account, support, totalWeight, type(uint256).max);
    }

    function _count(uint256 proposalId, address account, uint8 support, uint256 raw, uint256 cap)
        private
        returns (uint256 weight)
    {
        if (support > uint8(VoteType.Abstain)) revert GovernorInvalidVoteType();
        Receipt storage r = _receipts[proposalId][account];
        if (r.casted != 0) revert GovernorAlreadyCastVote(account);
        uint256 remaining = raw > r.overridden ? raw - r.overridden : 0;
        weight = Math.min(remaining, cap);
        r.casted = support + 1;
        r.raw = SafeCast.toUint120(remaining);
        _addTally(proposalId, support, weight);
    }

    /// @dev Capped votes at `timepoint - 1` (flash-loan safety: stake arriving in the snapshot block is ignored).
    function _getVotes(address account, uint256 timepoint, bytes memory)
        internal
        view
        override
        returns (uint256)
    {
        (uint256 raw, uint256 total) = votes.getPastVotesAndTotal(account, timepoint - 1);
        return Math.min(raw, _cap(total));
    }

    function _quorumReached(uint256 proposalId) internal view override returns (bool) {
        Tally storage t = _tallies[proposalId];
        uint256 q = quorum(proposalSnapshot(proposalId));
        if (t.governance) q *= 2;
        return q <= uint256(t.forVotes) + t.abstainVotes;
    }

    function _voteSucceeded(uint256 proposalId) internal view override returns (bool) {
        Tally storage t = _tallies[proposalId];
        uint256 f = t.forVotes;
        uint256 a = t.againstVotes;
        if (t.governance) return f != 0 && f * 3 >= (f + a) * 2;
        return f > a;
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

    function _requireActive(uint256 proposalId) private view {
        ProposalState s = state(proposalId);
        if (s != ProposalState.Active) revert VotingClosed(proposalId, s);
    }

    function _cap(uint256 total) private view returns (uint256) {
        return Math.mulDiv(total, _params.delegateCapBps, _BPS);
    }

    function _addTally(uint256 proposalId, uint8 support, uint256 w) private {
        Tally storage t = _tallies[proposalId];
        // `<` comparisons instead of `==` (slither strict-equality heuristics); 0 = against, 1 = for
        if (support < 1) t.againstVotes += SafeCast.toUint64(w);
        else if (support < 2) t.forVotes += SafeCast.toUint64(w);
        else t.abstainVotes += SafeCast.toUint64(w);
    }

    function _subTally(uint256 proposalId, uint8 support, uint256 w) private {
        Tally storage t = _tallies[proposalId];
        if (support < 1) t.againstVotes -= SafeCast.toUint64(w);
        else if (support < 2) t.forVotes -= SafeCast.toUint64(w);
        else t.abstainVotes -= SafeCast.toUint64(w);
    }

    function _check(bytes32 name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert ParameterOutOfBounds(name, value, min, max);
    }

    // ------------------------------------------------------------------ required overrides

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        uint256 eta = proposalEta(proposalId);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < eta) revert ProposalNotReady(proposalId, eta);
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
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

    /// @notice Voting deadline, extended by late quorum (OZ GovernorPreventLateQuorum semantics).
    /// @param proposalId The proposal.
    /// @return The last block of voting.
    function proposalDeadline(uint256 proposalId) public view override returns (uint256) {
        return Math.max(super.proposalDeadline(proposalId), _tallies[proposalId].extendedDeadline);
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
}
