// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {GovernorQuadraticCounting} from "./GovernorQuadraticCounting.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title GovernorResidualQuorum
/// @notice A breadth rule for proposals: the for side must still reach the base quorum, and still beat the
///         against side, after its K largest voices are taken out. A few large holders then cannot
///         pass a proposal on their own, however low the turnout of everyone else: they need at least a
///         quorum's worth of other voice for them.
///      K is set at construction and by governance within [0, MAX_RESIDUAL_K]; 0 turns the rule off.
///      A "voice" is one IDENTITY: the ballots for of all accounts linked to one identity at the snapshot
///      (`QuadraticVotes.getPastIdentity(voter, snapshot - 1)`) add up to one voice, and every account that is
///      unattested at the snapshot (identity 0) counts in ONE pooled voice. Unattested stake shares one square
///      root in QuadraticVotes and can be split over any number of accounts, and an identity can link any
///      number of accounts, each of which can be delegated to: keyed by account, a holder would escape the
///      rule by spreading its voice (its own, or unattested stake delegated to it) over its accounts (issue
///      #17). More identities need more issuers (each capped by `QuadraticVotes.issuerCapBps`).
///
///      Storage per proposal: each identity's summed for-weight, and the K largest of those sums, sorted
///      descending, with the pooled for-weight, as sixteen uint64 in four slots (entry 15 is the pool, so
///      K <= 15). A ballot for costs O(K): the identity's sum (one slot), one read of the smallest kept entry,
///      and a re-sort of at most the K entries only when the new sum is larger.
///
///      Bootstrap (issue #17): the K applied to a proposal is K_eff = min(residualK, floor(N / VOICES_PER_K)),
///      N = `QuadraticVotes.getPastVoiceCount` at the snapshot (attested identities with non-zero voice, plus
///      one for the unattested pool). With N <= K voices a fixed K could pass nothing, not even a lower K; with
///      K_eff <= N / 3 at least two thirds of the voices remain after the K_eff largest are taken out, and a
///      coalition passes alone only if it holds more than a third of all voices. N is fixed at the snapshot
///      and counts holders, not voters or delegates: nobody can lower it except by giving up their own voice,
///      and raising it (more identities) only raises K_eff towards residualK. K_eff is computed at the
///      proposal's first ballot for and kept in `Tally.residualK` (as K_eff + 1; 0 = not yet fixed), so a
///      change of `residualK` never applies to a vote already under way.
///
///      Overrides: when a delegator overrides its delegate after the delegate voted for, the delegate's
///      identity sum is not lowered (and the delegator's ballot adds to its own identity's sum). The removed
///      voice can then exceed the voices' current weight, so the residual is a lower bound: the rule errs
///      towards rejecting, never towards passing.
abstract contract GovernorResidualQuorum is GovernorQuadraticCounting {
    /// @notice Upper bound of `residualK` (the fifteen kept entries; the sixteenth is the pool).
    uint256 public constant MAX_RESIDUAL_K = 15;

    /// @notice Voices at the snapshot per unit of K applied: K_eff = min(residualK, N / VOICES_PER_K).
    uint256 public constant VOICES_PER_K = 3;

    uint256 private constant _POOL = 15;

    /// @notice Proposal `proposalId` applies K = `k` (its residualK capped by `voices` / VOICES_PER_K, the
    ///         number of voices at its snapshot), fixed at its first ballot for.
    event ResidualKFixed(uint256 indexed proposalId, uint256 k, uint256 voices);

    mapping(uint256 proposalId => uint256[4] entries) private _largest;
    mapping(uint256 proposalId => mapping(uint256 identity => uint256 forWeight)) private _identityFor;

    /// @param initialK How many of the largest voices for are taken out, within [0, MAX_RESIDUAL_K]; 0 turns
    ///        the rule off. A proposal applies at most a third of the voices at its snapshot (VOICES_PER_K),
    ///        so a young network with few voices can still pass proposals, a lower K included.
    constructor(uint8 initialK) {
        _checkBounds("residualK", initialK, 0, MAX_RESIDUAL_K);
        _parameters().residualK = initialK;
        emit ParameterChanged("residualK", 0, initialK);
    }

    /// @notice How many of the largest voices for are taken out before the residual quorum is checked, for
    ///         proposals whose first ballot for comes after now.
    /// @return K.
    function residualK() external view returns (uint256) {
        return _parameters().residualK;
    }

    /// @notice Sets `residualK`, within [0, MAX_RESIDUAL_K] (0: the rule is off). Only governance. Applies to
    ///         proposals that have no ballot for yet.
    /// @param newK The number of largest voices taken out.
    function setResidualK(uint256 newK) external onlyGovernance {
        _checkBounds("residualK", newK, 0, MAX_RESIDUAL_K);
        Params storage p = _parameters();
        emit ParameterChanged("residualK", p.residualK, newK);
        p.residualK = SafeCast.toUint8(newK);
    }

    /// @notice The for votes of `proposalId` without its K largest voices (the pool of unattested voters
    ///         counting as one voice), and the K applied.
    /// @param proposalId The proposal.
    /// @return residual For votes left, in voice units.
    /// @return k The K applied to this proposal: min(residualK, voices at the snapshot / VOICES_PER_K), fixed
    ///         at its first ballot for (before it, from the current parameter; before the snapshot, the
    ///         parameter itself); 0: the rule is off for it.
    function residualForVotes(uint256 proposalId) public view returns (uint256 residual, uint256 k) {
        Tally storage t = _tally(proposalId);
        k = t.residualK;
        if (k == 0) (k,) = _effectiveK(proposalId);
        else --k;
        uint256[4] storage e = _largest[proposalId];
        uint256 kept = 0;
        uint256 last = 0;
        for (uint256 i; i < k; ++i) {
            last = _entry(e, i);
            kept += last;
        }
        // the K largest of the kept entries and the pool: the K kept ones, or the pool and the K - 1 largest
        uint256 removed = Math.max(kept, kept - last + _entry(e, _POOL));
        residual = t.forVotes > removed ? t.forVotes - removed : 0;
    }

    /// @dev Adds a ballot for to its voice: the voter's identity at the snapshot (its sum kept among the K
    ///      largest when it is one of them), or the pool when the voter is unattested.
    ///
    ///      The kept list is always the K largest of the multiset of identity sums (padded with zeros; as
    ///      values, whichever of equal sums is "the" kept one does not matter). A ballot raises one sum from
    ///      `old` to `sum` > `old`, every other sum staying. If `old` >= the smallest kept entry `last`, one
    ///      entry equals `old`: when `old` > `last` the identity's sum is kept, and when `old` == `last` the
    ///      value `last` is kept, whose identity's it is; replacing that one entry by `sum` leaves the K
    ///      largest, since every sum outside the list is <= `last` <= `old` < `sum` and nothing in the list
    ///      decreased (a tie swaps equal values only). If `old` < `last`, `old` is outside the list and the new
    ///      K largest are the list with its smallest entry replaced by `sum` when `sum` > `last`, else the list
    ///      unchanged: the plain insertion. Both are "drop one entry equal to `drop`, insert `sum`", done in one
    ///      pass: from the first entry smaller than `sum` on, each entry moves one place down until the entry
    ///      moved is <= `drop`; every entry between the two places is >= it, and the first one <= `drop` there
    ///      equals `drop` (`drop` < `sum` is an entry at or after the first one smaller than `sum`).
    function _afterBallotCounted(uint256 proposalId, address voter, uint8 support, uint256 weight)
        internal
        virtual
        override
    {
        super._afterBallotCounted(proposalId, voter, support, weight);
        // `!=` / `<` instead of `==` (slither strict-equality heuristics): only ballots for, with weight
        if (support != uint8(VoteType.For) || weight < 1) return;
        Tally storage t = _tally(proposalId);
        uint256 k = t.residualK;
        if (k == 0) {
            uint256 voices;
            (k, voices) = _effectiveK(proposalId);
            // casting to 'uint8' is safe because k <= MAX_RESIDUAL_K = 15
            // forge-lint: disable-next-line(unsafe-typecast)
            t.residualK = uint8(k + 1);
            emit ResidualKFixed(proposalId, k, voices);
        } else {
            --k;
        }
        if (k < 1) return; // the rule is off for this proposal (`<`: slither strict-equality heuristics)
        uint256[4] storage e = _largest[proposalId];
        uint256 id = votes.getPastIdentity(voter, proposalSnapshot(proposalId) - 1);
        if (id < 1) {
            _setEntry(e, _POOL, _entry(e, _POOL) + weight);
            return;
        }
        mapping(uint256 => uint256) storage sums = _identityFor[proposalId];
        uint256 old = sums[id];
        uint256 sum = old + weight;
        sums[id] = sum;
        uint256 last = _entry(e, k - 1);
        uint256 drop;
        if (old >= last) drop = old;
        else if (sum > last) drop = last;
        else return;
        uint256 carry = sum;
        for (uint256 i; i < k; ++i) {
            uint256 cur = _entry(e, i);
            if (carry > cur) {
                _setEntry(e, i, carry);
                if (cur <= drop) return;
                carry = cur;
            }
        }
    }

    /// @dev The base rule (and any stricter one of other extensions), and, unless K is 0, the residual rule: the
    ///      for votes left without the K largest voices reach the BASE quorum (quorumBps of the total voice at
    ///      the snapshot) and exceed the against votes. The full for side still needs whatever quorum the
    ///      proposal needs (`_requiredQuorum`, e.g. twice the base for a governance target, through
    ///      `_quorumReached`); the residual is held to the base one, which measured honest broad proposals
    ///      reach and the largest voices alone do not (docs/sim.md, "Residual quorum").
    function _voteSucceeded(uint256 proposalId) internal view virtual override returns (bool) {
        if (!super._voteSucceeded(proposalId)) return false;
        (uint256 residual, uint256 k) = residualForVotes(proposalId);
        if (k < 1) return true;
        return residual >= quorum(proposalSnapshot(proposalId)) && residual > _tally(proposalId).againstVotes;
    }

    /// @dev min(residualK, N / VOICES_PER_K) with N the voices at the snapshot, and N; the parameter itself
    ///      (N = 0) while it is 0 or the snapshot is not past.
    function _effectiveK(uint256 proposalId) private view returns (uint256 k, uint256 voices) {
        k = _parameters().residualK;
        uint256 at = proposalSnapshot(proposalId) - 1;
        if (k == 0 || at >= clock()) return (k, 0);
        voices = votes.getPastVoiceCount(at);
        k = Math.min(k, voices / VOICES_PER_K);
    }

    /// @dev Entry `i` (0..15) of the packed list.
    function _entry(uint256[4] storage e, uint256 i) private view returns (uint256) {
        return uint64(e[i >> 2] >> ((i & 3) << 6));
    }

    /// @dev Sets entry `i` (0..15) of the packed list to `v` (a uint64: tallies are uint64).
    function _setEntry(uint256[4] storage e, uint256 i, uint256 v) private {
        uint256 shift = (i & 3) << 6;
        uint256 w = e[i >> 2];
        e[i >> 2] = (w & ~(uint256(type(uint64).max) << shift)) | (uint256(SafeCast.toUint64(v)) << shift);
    }
}
