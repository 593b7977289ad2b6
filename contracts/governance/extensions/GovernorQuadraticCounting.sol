// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {QuadraticVotes} from "../QuadraticVotes.sol";
import {GovernorParameterBounds} from "./GovernorParameterBounds.sol";
import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title GovernorQuadraticCounting
/// @notice Voting power, quorum and counting for a Governor on quadratic voice (QuadraticVotes): Bravo
///         support (against, for, abstain), quorum over for + abstain, and a per-delegate cap.
/// @dev Units: votes, quorum and cap are in VOICE units, read at `snapshot - 1` so stake that arrives in the
///      snapshot block has no weight. Quorum is `quorumBps` of the total voice; one delegate counts for at
///      most `delegateCapBps` of it. The clock is the block number (ERC-6372).
///
///      Storage is packed for the extensions built on this module, so that a vote touches one proposal slot
///      and one parameter slot:
///      - `Tally.extendedDeadline` and `Params.voteExtension` belong to GovernorLateQuorum;
///      - `Tally.governance` belongs to GovernorGuardedTargets;
///      - `Receipt.overridden` belongs to GovernorDelegateOverrides;
///      - `Tally.residualK` and `Params.residualK` belong to GovernorResidualQuorum.
///      This module keeps them at zero and never reads them. Extensions reach the storage through
///      `_tally`, `_receipt` and `_parameters`, and change the rules through the hooks `_requiredQuorum`
///      (the quorum a proposal needs), `_voteSucceeded`, `_afterBallotCounted` (called with the voter and
///      the weight of every ballot added to a tally) and `_afterVoteCounted` (called after every counted
///      vote). Tallies are uint64 voice units (see docs/governance.md for the bound).
abstract contract GovernorQuadraticCounting is Governor, GovernorParameterBounds {
    /// @notice Lower bound of `quorumBps` and `delegateCapBps`.
    uint256 public constant MIN_BPS = 100;
    /// @notice Upper bound of `quorumBps` and `delegateCapBps`.
    uint256 public constant MAX_BPS = 5000;

    uint256 internal constant _BPS = 10_000;

    /// @notice Supported vote types (Governor Bravo order).
    enum VoteType {
        Against,
        For,
        Abstain
    }

    /// @dev One slot per proposal: the three tallies and the extensions' per-proposal state.
    struct Tally {
        uint64 againstVotes;
        uint64 forVotes;
        uint64 abstainVotes;
        uint48 extendedDeadline; // GovernorLateQuorum: deadline set when quorum is reached, 0 until then
        bool governance; // GovernorGuardedTargets: the proposal touches governance itself
        uint8 residualK; // GovernorResidualQuorum: K applied + 1, fixed at the first ballot for; 0 until then
    }

    /// @dev A delegate's vote on one proposal.
    struct Receipt {
        uint8 casted; // support + 1, 0 = not voted
        uint120 raw; // delegate's uncapped weight still its own (after overrides)
        uint120 overridden; // GovernorDelegateOverrides: voice overridden before the delegate voted
    }

    /// @dev The governance-set parameters, one slot.
    struct Params {
        uint16 quorumBps;
        uint16 delegateCapBps;
        uint48 voteExtension; // GovernorLateQuorum
        uint8 residualK; // GovernorResidualQuorum
    }

    /// @notice Source of voting power.
    QuadraticVotes public immutable votes;

    Params private _params;
    mapping(uint256 proposalId => Tally) private _tallies;
    mapping(uint256 proposalId => mapping(address voter => Receipt)) private _receipts;

    /// @notice `name` changed from `oldValue` to `newValue`.
    event ParameterChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);

    /// @notice Voting on `proposalId` is not open (state `current`).
    error VotingClosed(uint256 proposalId, ProposalState current);

    /// @param votes_ The source of voice.
    /// @param initialQuorumBps Quorum as bps of the total voice, within [MIN_BPS, MAX_BPS].
    /// @param initialDelegateCapBps Per-delegate cap as bps of the total voice, within [MIN_BPS, MAX_BPS].
    constructor(QuadraticVotes votes_, uint16 initialQuorumBps, uint16 initialDelegateCapBps) {
        _checkBounds("quorumBps", initialQuorumBps, MIN_BPS, MAX_BPS);
        _checkBounds("delegateCapBps", initialDelegateCapBps, MIN_BPS, MAX_BPS);
        votes = votes_;
        _params = Params(initialQuorumBps, initialDelegateCapBps, 0, 0);
    }

    // ------------------------------------------------------------------ clock and mode

    /// @notice Block-number clock (ERC-6372).
    /// @return The current block number.
    function clock() public view virtual override returns (uint48) {
        return SafeCast.toUint48(block.number);
    }

    /// @notice ERC-6372 clock description.
    /// @return The clock mode.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure virtual override returns (string memory) {
        return "mode=blocknumber&from=default";
    }

    /// @notice Counting mode description.
    /// @return The counting mode.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure virtual override returns (string memory) {
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
        _checkBounds("quorumBps", newBps, MIN_BPS, MAX_BPS);
        emit ParameterChanged("quorumBps", _params.quorumBps, newBps);
        _params.quorumBps = SafeCast.toUint16(newBps);
    }

    /// @notice Sets the per-delegate cap, within [MIN_BPS, MAX_BPS]. Only governance.
    /// @param newBps The new cap bps.
    function setDelegateCapBps(uint256 newBps) external onlyGovernance {
        _checkBounds("delegateCapBps", newBps, MIN_BPS, MAX_BPS);
        emit ParameterChanged("delegateCapBps", _params.delegateCapBps, newBps);
        _params.delegateCapBps = SafeCast.toUint16(newBps);
    }

    // ------------------------------------------------------------------ views

    /// @notice Quorum for a proposal whose snapshot is `timepoint`: quorumBps of the total voice at
    ///         `timepoint - 1`. An extension may raise what a given proposal needs (`_requiredQuorum`).
    /// @param timepoint The proposal snapshot.
    /// @return The quorum in voice units.
    function quorum(uint256 timepoint) public view virtual override returns (uint256) {
        return Math.mulDiv(votes.getPastTotalSupply(timepoint - 1), _params.quorumBps, _BPS);
    }

    /// @notice Whether `account` has voted (as a delegate) on `proposalId`.
    /// @param proposalId The proposal.
    /// @param account The account.
    /// @return True when it has voted.
    function hasVoted(uint256 proposalId, address account) public view virtual override returns (bool) {
        return _receipts[proposalId][account].casted != 0;
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

    // ------------------------------------------------------------------ hooks for extensions

    /// @dev The quorum `proposalId` needs, given the base quorum `baseQuorum` (quorumBps of the total voice).
    ///      Used by `_quorumReached` and by extensions that react to quorum. Default: the base quorum.
    ///      The first parameter is the proposal; the base rule is the same for every proposal.
    /// @param baseQuorum quorumBps of the total voice at the snapshot.
    /// @return The quorum in voice units.
    function _requiredQuorum(uint256, uint256 baseQuorum) internal view virtual returns (uint256) {
        return baseQuorum;
    }

    /// @dev Called after every counted vote (a delegate's vote or an override), with the total voice at the
    ///      snapshot and the parameters read for the vote. Default: nothing.
    /// @param proposalId The proposal.
    /// @param totalVoice The total voice at `snapshot - 1`.
    /// @param p The parameters.
    function _afterVoteCounted(uint256 proposalId, uint256 totalVoice, Params memory p) internal virtual {}

    /// @dev Called for every ballot added to a tally (a delegate's vote or an override), with the voter and
    ///      the weight added, before `_afterVoteCounted`. Not called when an override reduces a delegate's
    ///      counted vote. Default: nothing.
    /// @param proposalId The proposal.
    /// @param voter The account whose ballot was counted.
    /// @param support 0 = against, 1 = for, 2 = abstain.
    /// @param weight The weight added to the tally of `support`.
    function _afterBallotCounted(uint256 proposalId, address voter, uint8 support, uint256 weight)
        internal
        virtual {}

    /// @dev The tally slot of `proposalId`.
    function _tally(uint256 proposalId) internal view returns (Tally storage) {
        return _tallies[proposalId];
    }

    /// @dev The receipt of `account` on `proposalId`.
    function _receipt(uint256 proposalId, address account) internal view returns (Receipt storage) {
        return _receipts[proposalId][account];
    }

    /// @dev The parameter slot.
    function _parameters() internal view returns (Params storage) {
        return _params;
    }

    // ------------------------------------------------------------------ counting

    /// @dev Casts a delegate's vote: its voice at `snapshot - 1`, less what was overridden, capped at
    ///      delegateCapBps of the total voice. Emits `VoteCast` (or `VoteCastWithParams`), then calls
    ///      `_afterVoteCounted`.
    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal virtual override returns (uint256 weight) {
        _requireActive(proposalId);
        (uint256 raw, uint256 total) = votes.getPastVotesAndTotal(account, proposalSnapshot(proposalId) - 1);
        Params memory p = _params;
        weight = _count(proposalId, account, support, raw, Math.mulDiv(total, p.delegateCapBps, _BPS));
        if (params.length == 0) {
            emit VoteCast(account, proposalId, support, weight, reason);
        } else {
            emit VoteCastWithParams(account, proposalId, support, weight, reason, params);
        }
        _afterBallotCounted(proposalId, account, support, weight);
        _afterVoteCounted(proposalId, total, p);
    }

    /// @dev OZ counting entry point: counts `totalWeight` uncapped.
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory)
        internal
        virtual
        override
        returns (uint256)
    {
        return _count(proposalId, account, support, totalWeight, type(uint256).max);
    }

    /// @dev Records `account`'s receipt and adds `min(raw - overridden, cap)` to the tally of `support`.
    function _count(uint256 proposalId, address account, uint8 support, uint256 raw, uint256 cap)
        internal
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
        virtual
        override
        returns (uint256)
    {
        (uint256 raw, uint256 total) = votes.getPastVotesAndTotal(account, timepoint - 1);
        return Math.min(raw, Math.mulDiv(total, _params.delegateCapBps, _BPS));
    }

    /// @dev For + abstain reach `_requiredQuorum` of the base quorum at the snapshot.
    function _quorumReached(uint256 proposalId) internal view virtual override returns (bool) {
        Tally storage t = _tallies[proposalId];
        uint256 q = _requiredQuorum(proposalId, quorum(proposalSnapshot(proposalId)));
        return q <= uint256(t.forVotes) + t.abstainVotes;
    }

    /// @dev Simple majority: more for than against.
    function _voteSucceeded(uint256 proposalId) internal view virtual override returns (bool) {
        Tally storage t = _tallies[proposalId];
        return t.forVotes > t.againstVotes;
    }

    /// @dev Reverts with `VotingClosed` unless `proposalId` is Active.
    function _requireActive(uint256 proposalId) internal view {
        ProposalState s = state(proposalId);
        if (s != ProposalState.Active) revert VotingClosed(proposalId, s);
    }

    /// @dev Adds `w` to the tally of `support` (0 = against, 1 = for, 2 = abstain).
    function _addTally(uint256 proposalId, uint8 support, uint256 w) internal {
        Tally storage t = _tallies[proposalId];
        // `<` comparisons instead of `==` (slither strict-equality heuristics); 0 = against, 1 = for
        if (support < 1) t.againstVotes += SafeCast.toUint64(w);
        else if (support < 2) t.forVotes += SafeCast.toUint64(w);
        else t.abstainVotes += SafeCast.toUint64(w);
    }

    /// @dev Subtracts `w` from the tally of `support` (0 = against, 1 = for, 2 = abstain).
    function _subTally(uint256 proposalId, uint8 support, uint256 w) internal {
        Tally storage t = _tallies[proposalId];
        if (support < 1) t.againstVotes -= SafeCast.toUint64(w);
        else if (support < 2) t.forVotes -= SafeCast.toUint64(w);
        else t.abstainVotes -= SafeCast.toUint64(w);
    }
}
