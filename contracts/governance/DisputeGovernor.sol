// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDisputeReceiver, IDisputeResolver} from "../interfaces/IDisputes.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {QuadraticVotes} from "./QuadraticVotes.sol";
import {DisputeJury} from "./extensions/DisputeJury.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title DisputeGovernor
/// @notice Settles inference disputes by quadratic vote (IDisputeResolver). The registry opens a dispute
///         with the candidate output hashes; option 0 is always "no valid result" (bytes32(0)). Voters pick
///         one option; weight = capped quadratic voice at the dispute's snapshot (open block - 1), minus any
///         voice delegated to the voter by involved parties. Barred from voting: the involved accounts (the
///         assigned operators and the challenger), every account linked at the snapshot to an identity of one
///         of them, and every hot key (current, pending or rotated out) an involved operator claimed. A
///         challenger must be linked to an identity at the snapshot, so that its person's identity is barred.
///         Voting lasts `votingPeriod` seconds; then anyone calls {resolve}: with quorum, plurality wins (ties
///         go to the lower option index, so "no valid result" wins every tie) and the ruling is DECIDED;
///         without quorum nothing is decided: the registry keeps the status quo and slashes nobody
///         (docs/governance.md). The ruling is applied after the timelock's minimum delay by {execute}, which
///         calls `registry.onDisputeResolved`.
///         Drafted jury (DisputeJury): a dispute opened while the juror pool holds at least `minPoolSize` jurors
///         is decided by jurors drawn from the pool instead, one hidden vote per seat (commit, then reveal), with
///         appeals; {castVote} then reverts (`CommitRevealRequired`), {resolve} follows the jury's rules, and the
///         stake-holder vote is not used.
/// @dev Measurement: during voting the top-N (N = 16) weights per option are kept in a sorted array; the
///      ruling event reports distinct voters, the largest voter's share and the smallest coalition that
///      could have flipped the outcome (greedy over the top-N, flagged `saturated` when N was not enough).
contract DisputeGovernor is IDisputeResolver, AccessControl, ReentrancyGuard, DisputeJury {
    /// @notice Maximum number of candidate outputs (option 0 "no valid result" comes on top).
    uint256 public constant MAX_CANDIDATES = 8;
    /// @notice Maximum number of involved accounts per dispute.
    uint256 public constant MAX_INVOLVED = 16;
    /// @notice Number of largest voters tracked per option.
    uint256 public constant TOP_N = 16;
    /// @notice Lower bound of the voting period (seconds).
    uint256 public constant MIN_VOTING_PERIOD = 10 minutes;
    /// @notice Upper bound of the voting period (seconds).
    uint256 public constant MAX_VOTING_PERIOD = 14 days;
    /// @notice Lower bound of quorum and cap bps.
    uint256 public constant MIN_BPS = 100;
    /// @notice Upper bound of quorum and cap bps.
    uint256 public constant MAX_BPS = 5000;

    uint256 private constant _MAX_OPTIONS = MAX_CANDIDATES + 1;

    /// @notice Life cycle of a dispute.
    enum Status {
        None,
        Voting,
        Ruled,
        Executed
    }

    /// @notice A dispute.
    struct Dispute {
        uint256 requestId;
        uint48 snapshot; // open block - 1
        uint48 voteEnd; // last second of voting (inclusive)
        uint48 executableAt; // timestamp from which the ruling can be applied
        uint8 numOptions; // candidates + 1
        Status status;
        uint8 winner; // option index of the ruling
        bool decided; // quorum was reached: the ruling is a decision (else the status quo stands)
        uint32 voters;
        uint128 totalCast;
        uint128 totalVoice; // at the snapshot
    }

    /// @notice Measurement of who decided a ruling.
    struct RulingStats {
        uint256 voters; // distinct voters
        uint256 largestVoterBps; // largest single voter, bps of votes cast
        uint256 flipCoalition; // smallest number of voters that could have flipped the outcome (0 = n/a)
        bool saturated; // top-N was not enough: flipCoalition is a lower bound
        bool quorumReached;
    }

    struct OptionVotes {
        uint128 tally;
        uint32 voters;
        uint128[16] top; // sorted descending
    }

    /// @notice Source of voice.
    QuadraticVotes public immutable votes;
    /// @notice Staking (signer keys of involved operators).
    IStaking public immutable staking;
    /// @notice Timelock whose minimum delay the ruling waits.
    TimelockController public immutable timelock;
    /// @notice The registry (wired once).
    IDisputeReceiver public registry;

    /// @notice Voting period in seconds.
    uint32 public votingPeriod;
    /// @notice Quorum: bps of the total voice at the snapshot.
    uint16 public quorumBps;
    /// @notice Per-voter cap: bps of the total voice at the snapshot.
    uint16 public delegateCapBps;
    /// @notice Number of disputes opened.
    uint256 public disputeCount;

    mapping(uint256 disputeId => Dispute) private _disputes;
    mapping(uint256 disputeId => bytes32[]) private _options;
    mapping(uint256 disputeId => address[]) private _involved;
    mapping(uint256 disputeId => mapping(uint256 option => OptionVotes)) private _optionVotes;
    mapping(uint256 disputeId => mapping(address voter => uint8)) private _ballot; // option + 1

    /// @notice The registry was wired.
    event RegistryWired(address indexed registry);
    /// @notice A dispute was opened.
    event DisputeOpened(
        uint256 indexed disputeId,
        uint256 indexed requestId,
        bytes32[] candidates,
        uint48 snapshot,
        uint48 voteEnd
    );
    /// @notice The ruling of a dispute, with its measurement.
    event DisputeRuled(
        uint256 indexed disputeId,
        bytes32 outcome,
        uint8 option,
        uint256 totalCast,
        uint48 executableAt,
        RulingStats stats
    );
    /// @notice `disputeId` was appealed: voting is open again until `voteEnd`.
    event DisputeReopened(uint256 indexed disputeId, uint48 voteEnd);
    /// @notice The ruling was applied to the registry.
    event DisputeExecuted(uint256 indexed disputeId, bytes32 outcome);

    /// @notice The registry is already wired.
    error AlreadyWired();
    /// @notice Zero address.
    error ZeroAddress();
    /// @notice `caller` is not allowed.
    error UnauthorizedCaller(address caller);
    /// @notice Bad candidate list (empty, too long, zero or duplicate entry).
    error InvalidCandidates();
    /// @notice Too many involved accounts.
    error TooManyInvolved(uint256 count, uint256 max);
    /// @notice Unknown dispute.
    error UnknownDispute(uint256 disputeId);
    /// @notice Voting on `disputeId` is not open (it ended at timestamp `voteEnd`).
    error VotingClosed(uint256 disputeId, uint256 voteEnd);
    /// @notice Voting on `disputeId` has not ended (it ends at timestamp `voteEnd`).
    error VotingNotEnded(uint256 disputeId, uint256 voteEnd);
    /// @notice The challenger `challenger` was not linked to an identity at the dispute's snapshot.
    error ChallengerNotAttested(address challenger);
    /// @notice `voter` is involved in `disputeId` (party, same identity or signer key).
    error InvolvedVoter(uint256 disputeId, address voter);
    /// @notice `voter` already voted.
    error AlreadyVoted(uint256 disputeId, address voter);
    /// @notice `voter` has no voice at the snapshot.
    error NoVotingPower(address voter);
    /// @notice The dispute is not in the expected status.
    error UnexpectedStatus(uint256 disputeId, Status status);
    /// @notice The ruling cannot be applied before `executableAt`.
    error RulingNotReady(uint256 disputeId, uint256 executableAt);

    /// @param votes_ QuadraticVotes.
    /// @param staking_ Staking (signer lookups).
    /// @param timelock_ The timelock (delay source).
    /// @param admin Admin (the timelock in production): parameters and wiring.
    /// @param votingPeriod_ Voting period (seconds).
    /// @param quorumBps_ Quorum bps.
    /// @param delegateCapBps_ Per-voter cap bps.
    constructor(
        QuadraticVotes votes_,
        IStaking staking_,
        TimelockController timelock_,
        address admin,
        uint32 votingPeriod_,
        uint16 quorumBps_,
        uint16 delegateCapBps_
    ) DisputeJury(votes_, staking_) {
        if (
            address(votes_) == address(0) || address(staking_) == address(0)
                || address(timelock_) == address(0) || admin == address(0)
        ) revert ZeroAddress();
        votes = votes_;
        staking = staking_;
        timelock = timelock_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _checkBounds("votingPeriod", votingPeriod_, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        _checkBounds("quorumBps", quorumBps_, MIN_BPS, MAX_BPS);
        _checkBounds("delegateCapBps", delegateCapBps_, MIN_BPS, MAX_BPS);
        votingPeriod = votingPeriod_;
        quorumBps = quorumBps_;
        delegateCapBps = delegateCapBps_;
    }

    // ------------------------------------------------------------------ admin

    /// @notice Wires the registry. Once; only the admin.
    /// @param registry_ The inference registry.
    function wire(IDisputeReceiver registry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(registry) != address(0)) revert AlreadyWired();
        if (address(registry_) == address(0)) revert ZeroAddress();
        registry = registry_;
        emit RegistryWired(address(registry_));
    }

    /// @notice Sets the voting period (bounded). Only the admin. Applies to disputes opened afterwards.
    ///         Re-checks the timing invariants (ISlasher.checkTiming) once the registry is wired, and that the jury's
    ///         reveal period still leaves a commit period (`RevealPeriodTooLong`).
    /// @param newPeriod Seconds.
    function setVotingPeriod(uint256 newPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBounds("votingPeriod", newPeriod, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        _checkRevealFits(_revealPeriod(), newPeriod);
        emit ParameterChanged("votingPeriod", votingPeriod, newPeriod);
        votingPeriod = SafeCast.toUint32(newPeriod);
        _recheckTiming();
    }

    /// @notice Sets the quorum bps (bounded). Only the admin.
    /// @param newBps Bps of total voice.
    function setQuorumBps(uint256 newBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBounds("quorumBps", newBps, MIN_BPS, MAX_BPS);
        emit ParameterChanged("quorumBps", quorumBps, newBps);
        quorumBps = SafeCast.toUint16(newBps);
    }

    /// @notice Sets the per-voter cap bps (bounded). Only the admin.
    /// @param newBps Bps of total voice.
    function setDelegateCapBps(uint256 newBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBounds("delegateCapBps", newBps, MIN_BPS, MAX_BPS);
        emit ParameterChanged("delegateCapBps", delegateCapBps, newBps);
        delegateCapBps = SafeCast.toUint16(newBps);
    }

    // ------------------------------------------------------------------ dispute flow

    /// @inheritdoc IDisputeResolver
    function openDispute(
        uint256 requestId,
        bytes32[] calldata candidates,
        address[] calldata involved,
        address challenger
    ) external returns (uint256 disputeId) {
        if (msg.sender != address(registry) || msg.sender == address(0)) {
            revert UnauthorizedCaller(msg.sender);
        }
        uint256 n = candidates.length;
        if (n == 0 || n > MAX_CANDIDATES) revert InvalidCandidates();
        for (uint256 i; i < n; ++i) {
            if (candidates[i] == bytes32(0)) revert InvalidCandidates();
            for (uint256 j; j < i; ++j) {
                if (candidates[i] == candidates[j]) revert InvalidCandidates();
            }
        }
        if (involved.length > MAX_INVOLVED) revert TooManyInvolved(involved.length, MAX_INVOLVED);

        uint48 snapshot = SafeCast.toUint48(block.number - 1);
        // A challenger's person must be known, so that its identity (all its linked accounts) is barred.
        // slither-disable-next-line incorrect-equality
        if (challenger != address(0) && votes.getPastIdentity(challenger, snapshot) == 0) {
            revert ChallengerNotAttested(challenger);
        }
        disputeId = ++disputeCount;
        uint48 voteEnd = SafeCast.toUint48(block.timestamp + votingPeriod);
        Dispute storage d = _disputes[disputeId];
        d.requestId = requestId;
        d.snapshot = snapshot;
        d.voteEnd = voteEnd;
        d.numOptions = SafeCast.toUint8(n + 1);
        d.status = Status.Voting;
        d.totalVoice = SafeCast.toUint128(votes.getPastTotalSupply(snapshot));
        _options[disputeId].push(bytes32(0));
        for (uint256 i; i < n; ++i) {
            _options[disputeId].push(candidates[i]);
        }
        for (uint256 i; i < involved.length; ++i) {
            _involved[disputeId].push(involved[i]);
        }
        emit DisputeOpened(disputeId, requestId, candidates, snapshot, voteEnd);
        _juryOpen(disputeId, voteEnd, d.numOptions);
    }

    /// @notice Votes on `disputeId` for `option` (0 = no valid result, i = candidates[i-1]). A drafted dispute
    ///         is voted by its jurors with DisputeJury.commitVote and revealVote instead (`CommitRevealRequired`).
    /// @param disputeId The dispute.
    /// @param option The option index.
    /// @return weight The weight counted.
    function castVote(uint256 disputeId, uint8 option) external returns (uint256 weight) {
        Dispute storage d = _disputes[disputeId];
        if (d.status == Status.None) revert UnknownDispute(disputeId);
        // forge-lint: disable-next-line(block-timestamp)
        if (d.status != Status.Voting || block.timestamp > d.voteEnd) {
            revert VotingClosed(disputeId, d.voteEnd);
        }
        if (option >= d.numOptions) revert InvalidOption(disputeId, option);
        if (_isDrafted(disputeId)) revert CommitRevealRequired(disputeId);
        if (_ballot[disputeId][msg.sender] != 0) revert AlreadyVoted(disputeId, msg.sender);
        weight = _weight(disputeId, d, msg.sender);
        if (weight == 0) revert NoVotingPower(msg.sender);

        _ballot[disputeId][msg.sender] = option + 1;
        d.voters += 1;
        d.totalCast += SafeCast.toUint128(weight);
        OptionVotes storage ov = _optionVotes[disputeId][option];
        ov.tally += SafeCast.toUint128(weight);
        ov.voters += 1;
        _insertTop(ov.top, SafeCast.toUint128(weight));
        emit DisputeVoteCast(disputeId, msg.sender, option, weight);
    }

    /// @notice Decides `disputeId` once voting has ended. Anyone. A drafted round is decided when more than
    ///         half of its seats voted (plurality of votes, ties to option 0); its ruling can be appealed during
    ///         `appealWindow` (DisputeJury.appeal), and is applicable after the larger of that and the timelock
    ///         delay.
    /// @param disputeId The dispute.
    /// @return outcome The winning output hash (bytes32(0) = no valid result).
    function resolve(uint256 disputeId) external returns (bytes32 outcome) {
        Dispute storage d = _disputes[disputeId];
        if (d.status != Status.Voting) revert UnexpectedStatus(disputeId, d.status);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= d.voteEnd) revert VotingNotEnded(disputeId, d.voteEnd);

        if (_isDrafted(disputeId)) return _resolveJury(disputeId, d);
        RulingStats memory stats = RulingStats({
            voters: d.voters, largestVoterBps: 0, flipCoalition: 0, saturated: false, quorumReached: false
        });
        stats.quorumReached = d.totalCast != 0 && d.totalCast >= Math.mulDiv(d.totalVoice, quorumBps, _BPS);
        uint8 winner = 0;
        if (stats.quorumReached) {
            uint256[] memory tallies = _tallies(disputeId, d.numOptions);
            winner = _plurality(tallies);
            (stats.flipCoalition, stats.saturated) = _flipCoalition(disputeId, tallies, winner);
        }
        stats.largestVoterBps = _largestBps(disputeId, d);

        uint48 executableAt = SafeCast.toUint48(block.timestamp + timelock.getMinDelay());
        d.winner = winner;
        d.decided = stats.quorumReached;
        d.status = Status.Ruled;
        d.executableAt = executableAt;
        outcome = _options[disputeId][winner];
        emit DisputeRuled(disputeId, outcome, winner, d.totalCast, executableAt, stats);
    }

    /// @dev {resolve} for a drafted dispute: one vote per seat (stats: voters = votes, the largest voter's share
    ///      is one vote, the flip coalition counts unit votes).
    function _resolveJury(uint256 disputeId, Dispute storage d) private returns (bytes32 outcome) {
        (uint8 winner, bool decided, uint256 cast, uint256 flip, uint256 appealDelay) =
            _juryResolve(disputeId, d.numOptions);
        RulingStats memory stats = RulingStats({
            voters: cast,
            largestVoterBps: cast == 0 ? 0 : _BPS / cast,
            flipCoalition: flip,
            saturated: false,
            quorumReached: decided
        });
        uint48 executableAt =
            SafeCast.toUint48(block.timestamp + Math.max(timelock.getMinDelay(), appealDelay));
        d.winner = winner;
        d.decided = decided;
        d.status = Status.Ruled;
        d.executableAt = executableAt;
        outcome = _options[disputeId][winner];
        emit DisputeRuled(disputeId, outcome, winner, cast, executableAt, stats);
    }

    /// @notice Applies a ruling to the registry once its delay has passed. Anyone.
    /// @param disputeId The dispute.
    function execute(uint256 disputeId) external nonReentrant {
        Dispute storage d = _disputes[disputeId];
        if (d.status != Status.Ruled) revert UnexpectedStatus(disputeId, d.status);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < d.executableAt) revert RulingNotReady(disputeId, d.executableAt);
        d.status = Status.Executed;
        bytes32 outcome = _options[disputeId][d.winner];
        emit DisputeExecuted(disputeId, outcome);
        registry.onDisputeResolved(disputeId, outcome, d.decided);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDisputeResolver
    /// @dev votingPeriod + appealRounds × (appealWindow + votingPeriod) + the timelock delay: the first round,
    ///      each appeal filed at the end of its window followed by a full round, then the execution delay (an
    ///      unappealed ruling waits max(delay, appealWindow), within the bound). Without appeals: as before.
    function maxRulingDelay() external view returns (uint256) {
        return uint256(votingPeriod) + _juryRulingDelay(votingPeriod) + timelock.getMinDelay();
    }

    /// @notice A dispute's record.
    /// @param disputeId The dispute.
    /// @return The dispute.
    function dispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @notice A dispute's options (index 0 = no valid result).
    /// @param disputeId The dispute.
    /// @return The option hashes.
    function options(uint256 disputeId) external view returns (bytes32[] memory) {
        return _options[disputeId];
    }

    /// @notice A dispute's involved accounts.
    /// @param disputeId The dispute.
    /// @return The accounts.
    function involvedOf(uint256 disputeId) external view returns (address[] memory) {
        return _involved[disputeId];
    }

    /// @notice Tally, voter count and top weights of `option`.
    /// @param disputeId The dispute.
    /// @param option The option index.
    /// @return tally The option's weight.
    /// @return voters The option's voter count.
    /// @return top The largest weights (descending).
    function optionVotes(uint256 disputeId, uint256 option)
        external
        view
        returns (uint256 tally, uint256 voters, uint128[16] memory top)
    {
        OptionVotes storage ov = _optionVotes[disputeId][option];
        return (ov.tally, ov.voters, ov.top);
    }

    /// @notice The option `voter` chose (+1; 0 = not voted).
    /// @param disputeId The dispute.
    /// @param voter The voter.
    /// @return The ballot.
    function ballotOf(uint256 disputeId, address voter) external view returns (uint8) {
        return _ballot[disputeId][voter];
    }

    /// @notice Whether `voter` is barred from `disputeId`: it is involved, shares an identity (at the snapshot)
    ///         with an involved account, or is a current, pending or former hot key of an involved operator.
    /// @param disputeId The dispute.
    /// @param voter The voter.
    /// @return True when barred.
    function isInvolved(uint256 disputeId, address voter) public view returns (bool) {
        Dispute storage d = _disputes[disputeId];
        address[] storage inv = _involved[disputeId];
        uint256 vid = votes.getPastIdentity(voter, d.snapshot);
        address claimant = staking.signerClaimant(voter);
        for (uint256 i; i < inv.length; ++i) {
            address a = inv[i];
            if (a == voter || a == claimant) return true;
            // slither-disable-next-line incorrect-equality
            if (vid != 0 && votes.getPastIdentity(a, d.snapshot) == vid) return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Capped voice at the snapshot minus voice delegated to `voter` by involved holders.
    function _weight(uint256 disputeId, Dispute storage d, address voter) private view returns (uint256) {
        if (isInvolved(disputeId, voter)) revert InvolvedVoter(disputeId, voter);
        uint256 raw = votes.getPastVotes(voter, d.snapshot);
        address[] storage inv = _involved[disputeId];
        bytes32[] memory seen = new bytes32[](inv.length);
        for (uint256 i; i < inv.length; ++i) {
            (bytes32 holder, address delegatee, uint256 voice) = votes.getPastHolder(inv[i], d.snapshot);
            if (delegatee != voter || voice == 0) continue;
            bool dup = false;
            for (uint256 j; j < i; ++j) {
                if (seen[j] == holder) dup = true;
            }
            seen[i] = holder;
            if (!dup) raw = raw > voice ? raw - voice : 0;
        }
        return Math.min(raw, Math.mulDiv(d.totalVoice, delegateCapBps, _BPS));
    }

    function _insertTop(uint128[16] storage top, uint128 w) private {
        if (w <= top[TOP_N - 1]) return;
        uint256 i = TOP_N - 1;
        while (i > 0 && top[i - 1] < w) {
            top[i] = top[i - 1];
            --i;
        }
        top[i] = w;
    }

    function _tallies(uint256 disputeId, uint256 n) private view returns (uint256[] memory t) {
        t = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            t[i] = _optionVotes[disputeId][i].tally;
        }
    }

    /// @dev Highest tally; ties go to the lower index.
    function _plurality(uint256[] memory t) private pure returns (uint8 w) {
        for (uint256 i = 1; i < t.length; ++i) {
            if (t[i] > t[w]) w = SafeCast.toUint8(i);
        }
    }

    function _largestBps(uint256 disputeId, Dispute storage d) private view returns (uint256 bps) {
        if (d.totalCast == 0) return 0;
        uint256 maxW = 0;
        for (uint256 i; i < d.numOptions; ++i) {
            maxW = Math.max(maxW, _optionVotes[disputeId][i].top[0]);
        }
        return Math.mulDiv(maxW, _BPS, d.totalCast);
    }

    /// @dev Smallest number of voters whose switch to one other option flips the plurality. A voter moving
    ///      from the winner reduces the gap by 2w, one moving from a third option by w; taking the largest
    ///      reductions first is optimal for a fixed target, and we minimise over targets.
    function _flipCoalition(uint256 disputeId, uint256[] memory t, uint8 winner)
        private
        view
        returns (uint256 best, bool saturated)
    {
        for (uint256 r; r < t.length; ++r) {
            if (r == winner) continue;
            // the target r wins if t_r' > t_w' (r > winner) or t_r' >= t_w' (r < winner)
            uint256 deficit = t[winner] - t[r] + (r > winner ? 1 : 0);
            (uint256 k, bool sat) = _greedy(disputeId, t.length, winner, r, deficit);
            if (k != 0 && (best == 0 || k < best)) {
                best = k;
                saturated = sat;
            }
        }
    }

    function _greedy(uint256 disputeId, uint256 n, uint256 winner, uint256 target, uint256 deficit)
        private
        view
        returns (uint256 k, bool saturated)
    {
        uint256[_MAX_OPTIONS] memory idx;
        while (deficit > 0) {
            uint256 bestEffect = 0;
            uint256 bestOpt = type(uint256).max;
            for (uint256 o; o < n; ++o) {
                if (o == target || idx[o] >= TOP_N) continue;
                uint256 w = _optionVotes[disputeId][o].top[idx[o]];
                uint256 effect = o == winner ? 2 * w : w;
                if (effect > bestEffect) {
                    bestEffect = effect;
                    bestOpt = o;
                }
            }
            if (bestOpt == type(uint256).max) {
                // ran out of tracked voters: flag saturation if any option had more than TOP_N voters
                for (uint256 o; o < n; ++o) {
                    if (_optionVotes[disputeId][o].voters > TOP_N) return (k + 1, true);
                }
                return (0, false);
            }
            ++idx[bestOpt];
            ++k;
            deficit = bestEffect >= deficit ? 0 : deficit - bestEffect;
        }
    }

    // ------------------------------------------------------------------ DisputeJury hooks

    function _authorizeJuryAdmin() internal view override {
        _checkRole(DEFAULT_ADMIN_ROLE);
    }

    /// @dev Excused: barred from voting (isInvolved), or holding Staking shares with an involved address.
    function _isExcused(uint256 disputeId, address juror_) internal view override returns (bool) {
        if (isInvolved(disputeId, juror_)) return true;
        address[] storage inv = _involved[disputeId];
        for (uint256 i; i < inv.length; ++i) {
            if (staking.sharesOf(inv[i], juror_) != 0) return true;
        }
        return false;
    }

    function _juryToken() internal view override returns (IERC20) {
        return staking.token();
    }

    function _jurySink() internal view override returns (address) {
        return address(timelock);
    }

    function _onRulingDelayChanged() internal view override {
        _recheckTiming();
    }

    function _finalRuling(uint256 disputeId) internal view override returns (bool, uint8, bool) {
        Dispute storage d = _disputes[disputeId];
        return (d.status == Status.Executed, d.winner, d.decided);
    }

    function _reopenDispute(uint256 disputeId, uint48 voteEnd) internal override {
        Dispute storage d = _disputes[disputeId];
        if (d.status != Status.Ruled) revert UnexpectedStatus(disputeId, d.status);
        d.status = Status.Voting;
        d.voteEnd = voteEnd;
        d.executableAt = 0;
        emit DisputeReopened(disputeId, voteEnd);
    }

    function _roundPeriod() internal view override returns (uint256) {
        return votingPeriod;
    }

    /// @dev Re-checks the timing invariants (ISlasher.checkTiming) once the registry is wired.
    function _recheckTiming() private view {
        if (address(registry) != address(0)) IInferenceRegistry(address(registry)).slasher().checkTiming();
    }
}
