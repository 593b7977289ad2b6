// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "../../interfaces/IStaking.sol";
import {SumTree} from "../../registry/lib/SumTree.sol";
import {JurorPool} from "../JurorPool.sol";
import {QuadraticVotes} from "../QuadraticVotes.sol";
import {GovernorParameterBounds} from "./GovernorParameterBounds.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title DisputeJury
/// @notice A drafted jury for disputes, in the manner of Kleros: bonded jurors (one seat per identity) form a
///         pool weighted by the square root of their bond; a dispute opened while the pool holds at least
///         `minPoolSize` jurors is decided by `jurySize` jurors drawn at random from it (from the block after
///         the opening, seeded by that block's hash), one vote per seat. Votes are hidden: a seated juror commits
///         `JurorPool.voteCommitment(option, salt, juror, dispute, round)` until the round's `commitEnd`
///         (`voteEnd - revealPeriod`), then reveals (option, salt) until `voteEnd`; an unrevealed commitment is a
///         non-vote. A ruling is decided when more than half of the seats revealed; plurality among the revealed
///         votes wins, ties go to option 0. Non-voters, and voters for a losing option of a decided final ruling,
///         lose `penaltyBps` of their bond to the coherent voters.
///         Anyone may appeal a jury ruling within `appealWindow` by depositing `appealDeposit`: a new round with
///         2n+1 seats, at most `appealRounds` times (≤ MAX_ROUNDS - 1). Drafted jurors who are involved in the
///         dispute, or hold Staking shares with an involved operator, are excused. docs/governance.md §3.
/// @dev OpenZeppelin-style extension: own storage, events and errors, and internal hooks the composed
///      dispute governor implements (authorization, identity, exclusion, timing re-check, dispute status) and
///      calls (open, resolve). The pool lives in a `SumTree` (at most `SumTree.CAPACITY` = 1024 jurors); the
///      seats, commitments and tallies of every round live in the `JurorPool` (this contract only sequences
///      rounds, so the composed governor stays under the EIP-170 code limit).
///      The pool is frozen (no join, top-up, leave or settlement) while any round awaits its draw, so nobody can
///      reshape the pool after the seed is known.
abstract contract DisputeJury is GovernorParameterBounds, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Largest number of rounds of one drafted dispute (the first and up to two appeals).
    uint256 public constant MAX_ROUNDS = 3;
    /// @notice Upper bound of `jurySize`; the last round then has 4 * 11 + 3 = 47 seats.
    uint256 public constant MAX_JURY_SIZE = 11;
    uint256 private constant _MIN_AMOUNT = 1 ether;
    uint256 private constant _MAX_AMOUNT = 1e9 ether;
    /// @dev Basis points in one (shared with DisputeGovernor).
    uint256 internal constant _BPS = 10_000;
    /// @notice Shortest commit period a round keeps: `revealPeriod + MIN_COMMIT_PERIOD <= votingPeriod`.
    uint256 public constant MIN_COMMIT_PERIOD = 5 minutes;

    /// @notice The jury's parameters (setJuryParameters gives the bounds).
    struct JuryParameters {
        uint128 minJurorBond; // smallest bond of a new juror
        uint128 maxJurorBond; // largest bond; draw weight counts at most this much
        uint128 appealDeposit; // tokens an appellant deposits
        uint16 minPoolSize; // pool size from which new disputes are drafted
        uint8 jurySize; // seats of a first round; an appeal round has 2n+1 of the previous n
        uint8 appealRounds; // appeals per dispute; each adds to maxRulingDelay
        uint16 penaltyBps; // share of the bond lost by a non-voter or an incoherent voter
        uint32 appealWindow; // seconds after a jury ruling during which it can be appealed
        uint32 leaveDelay; // seconds from a leave request until the bond can be withdrawn
        uint32 revealPeriod; // last seconds of each round, for reveals (commits before); ≤ votingPeriod - 5 min
    }

    /// @notice One round of a drafted dispute.
    struct Round {
        uint64 drawBlock; // block whose hash seeds the draw (the opening or the appeal)
        uint48 voteEnd; // last second of voting (inclusive)
        uint48 ruledAt; // 0 = not ruled yet
        uint8 size; // seats asked for
        uint8 seats; // seats drawn and not excused
        uint8 votes; // votes cast
        uint8 winner; // option of the round's ruling
        bool drawn;
        bool decided; // more than half of the seats revealed
        uint48 commitEnd; // last second of committing (inclusive); reveals until voteEnd
        address appellant; // who opened this round (zero for round 0)
        uint128 deposit; // the appellant's deposit
    }

    /// @notice The jury state of a dispute.
    struct JuryCase {
        bool drafted; // decided by a drafted jury (else by the stake-holder vote)
        bool settled; // penalties, rewards and deposits applied
        uint8 round; // current round
        uint8 lastRound; // appealRounds at the opening
        uint8 options; // number of options (candidates + 1)
    }

    /// @notice The bonded juror pool (created by this contract).
    JurorPool public immutable jurorPool;
    mapping(uint256 disputeId => JuryCase) private _cases;
    mapping(uint256 disputeId => Round[]) private _rounds;
    /// @notice Rounds that await their draw; the pool is frozen while this is not zero.
    uint256 public pendingDraws;

    JuryParameters private _params;

    /// @notice `name` changed.
    event ParameterChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);
    /// @notice The jury parameters are now `params`.
    event JuryParametersChanged(JuryParameters params);
    /// @notice The mode of `disputeId`: drafted jury or stake-holder vote, with the pool size at the opening.
    event DisputeMode(uint256 indexed disputeId, bool drafted, uint256 poolSize);
    /// @notice Round `round` of `disputeId` was drawn from `seedBlock`'s hash: `jurors` (including excused).
    event JuryDrawn(
        uint256 indexed disputeId, uint256 round, uint256 seedBlock, address[] jurors, uint256 seats
    );
    /// @notice The seed block of round `round` was older than 256 blocks and moved to `seedBlock`.
    event JurySeedRefreshed(uint256 indexed disputeId, uint256 round, uint256 seedBlock);
    /// @notice `juror`, drafted for `disputeId`, is involved or a delegator of an involved operator: excused.
    event JurorExcused(uint256 indexed disputeId, uint256 round, address indexed juror);
    /// @notice Round `round` of `disputeId` ruled `option` (`decided` when more than half the seats voted).
    event JuryRuled(
        uint256 indexed disputeId, uint256 round, uint8 option, bool decided, uint256 votes, uint256 seats
    );
    /// @notice `appellant` appealed `disputeId`, opening round `round` with `size` seats until `voteEnd`.
    event DisputeAppealed(
        uint256 indexed disputeId,
        uint256 round,
        address indexed appellant,
        uint256 deposit,
        uint256 size,
        uint48 voteEnd
    );
    /// @notice The appeal that opened `round` is settled: deposit returned (`returned`) or paid to the jurors.
    event AppealDepositSettled(
        uint256 indexed disputeId, uint256 round, address indexed appellant, bool returned
    );
    /// @notice The jury of `disputeId` was settled: `pot` paid to `coherent` voters (to `sink` if none).
    event JurySettled(uint256 indexed disputeId, uint256 pot, uint256 coherent, address sink);
    /// @notice `voter` voted for `option` with `weight` (a drafted juror: its revealed vote, weight 1).
    event DisputeVoteCast(uint256 indexed disputeId, address indexed voter, uint8 option, uint256 weight);

    /// @notice The pool is frozen while `pending` rounds await their draw.
    error PoolFrozen(uint256 pending);
    /// @notice `disputeId` is not decided by a drafted jury.
    error NotDrafted(uint256 disputeId);
    /// @notice The current round of `disputeId` was drawn already.
    error AlreadyDrawn(uint256 disputeId, uint256 round);
    /// @notice The draw needs a later block than `drawBlock`.
    error DrawTooEarly(uint256 disputeId, uint256 drawBlock);
    /// @notice The round's commit period ended at `commitEnd`: it can no longer be drawn.
    error DrawClosed(uint256 disputeId, uint256 commitEnd);
    /// @notice Commits to `disputeId` are not open (the round is not drawn, or its commit period ended).
    error CommitClosed(uint256 disputeId, uint256 commitEnd);
    /// @notice Reveals on `disputeId` are open after `commitEnd` until `voteEnd` only.
    error RevealClosed(uint256 disputeId, uint256 commitEnd, uint256 voteEnd);
    /// @notice A drafted dispute is voted by commitVote and revealVote, not castVote.
    error CommitRevealRequired(uint256 disputeId);
    /// @notice `option` does not exist.
    error InvalidOption(uint256 disputeId, uint256 option);
    /// @notice `revealPeriod` leaves less than MIN_COMMIT_PERIOD of a `votingPeriod` round for commits.
    error RevealPeriodTooLong(uint256 revealPeriod, uint256 votingPeriod);
    /// @notice `disputeId` cannot be appealed now (not ruled, window over, or no round left).
    error AppealClosed(uint256 disputeId);
    /// @notice `disputeId`'s jury cannot be settled (not executed, or settled already).
    error NotSettleable(uint256 disputeId);

    // ------------------------------------------------------------------ hooks

    /// @dev Reverts unless the caller may change jury parameters.
    function _authorizeJuryAdmin() internal view virtual;

    /// @dev Whether `juror` must be excused from `disputeId` (involved, or a delegator of an involved operator).
    function _isExcused(uint256 disputeId, address juror) internal view virtual returns (bool);

    /// @dev The bond and appeal token.
    function _juryToken() internal view virtual returns (IERC20);

    /// @dev Where penalties and forfeited deposits go when no juror was coherent.
    function _jurySink() internal view virtual returns (address);

    /// @dev Called after a parameter that enters `maxRulingDelay` changed (re-check the timing invariants).
    function _onRulingDelayChanged() internal virtual;

    /// @dev Whether the ruling of `disputeId` has been applied, and the final (option, decided).
    function _finalRuling(uint256 disputeId)
        internal
        view
        virtual
        returns (bool executed, uint8 option, bool decided);

    /// @dev Reopens `disputeId` for voting until `voteEnd` (an appeal).
    function _reopenDispute(uint256 disputeId, uint48 voteEnd) internal virtual;

    /// @dev The voting period (seconds) of each round.
    function _roundPeriod() internal view virtual returns (uint256);

    /// @param votes_ QuadraticVotes (juror identities).
    /// @param staking_ Staking (bond token).
    constructor(QuadraticVotes votes_, IStaking staking_) {
        jurorPool = new JurorPool(votes_, staking_);
        _params = JuryParameters({
            minJurorBond: 100 ether,
            maxJurorBond: 1_000_000 ether,
            appealDeposit: 1000 ether,
            minPoolSize: 31,
            jurySize: 5,
            appealRounds: 0,
            penaltyBps: 1000,
            appealWindow: 1 hours,
            leaveDelay: 1 days,
            // the shortest allowed: it fits every voting period (≥ 10 minutes); governance lengthens it
            revealPeriod: 5 minutes
        });
    }

    // ------------------------------------------------------------------ draw, appeal, settle

    /// @notice Draws the jurors of the current round of `disputeId`. Anyone, from the block after the opening
    ///         (or appeal) until the round's commit period ends (`commitEnd`). Seeded by the hash of the opening block, so the gas a
    ///         client estimates is the gas used; if that hash is out of reach (256 blocks), by the hash of the
    ///         latest block at a multiple of 256 blocks after it.
    /// @param disputeId The dispute.
    function draw(uint256 disputeId) external {
        JuryCase storage c = _cases[disputeId];
        if (!c.drafted) revert NotDrafted(disputeId);
        uint256 r = c.round;
        Round storage rd = _rounds[disputeId][r];
        if (rd.drawn) revert AlreadyDrawn(disputeId, r);
        if (block.number <= rd.drawBlock) revert DrawTooEarly(disputeId, rd.drawBlock);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > rd.commitEnd) revert DrawClosed(disputeId, rd.commitEnd);
        uint256 seedBlock = rd.drawBlock;
        if (block.number - seedBlock > 256) {
            // the latest block at a multiple of 256 after the original one (rounding down is the point)
            uint256 gap = block.number - 1 - seedBlock;
            seedBlock += gap - (gap % 256);
            emit JurySeedRefreshed(disputeId, r, seedBlock);
        }
        bytes32 seed = keccak256(abi.encode(blockhash(seedBlock), disputeId, r));
        address[] memory picks = jurorPool.drawDistinct(seed, rd.size);
        rd.drawn = true;
        --pendingDraws;
        bool[] memory excused = new bool[](picks.length);
        uint256 seats = picks.length;
        for (uint256 i; i < picks.length; ++i) {
            if (_isExcused(disputeId, picks[i])) {
                excused[i] = true;
                --seats;
                emit JurorExcused(disputeId, r, picks[i]);
            }
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        rd.seats = uint8(seats);
        jurorPool.openSeats(disputeId, r, picks, excused);
        emit JuryDrawn(disputeId, r, seedBlock, picks, seats);
    }

    /// @notice Commits the caller's hidden vote in the current round of `disputeId`: `commitment` =
    ///         `JurorPool.voteCommitment(option, salt, caller, disputeId, round)`. Only a seated, non-excused
    ///         juror, once per round, after the draw and until the round's `commitEnd` (errors `CommitClosed`,
    ///         `JurorPool.NotSeated`, `JurorPool.SeatExcused`, `JurorPool.SeatAlreadyCommitted`). Nobody sees
    ///         the option before the reveal period, so no juror can follow the others.
    /// @param disputeId The dispute.
    /// @param commitment The hash of the vote.
    function commitVote(uint256 disputeId, bytes32 commitment) external {
        JuryCase storage c = _cases[disputeId];
        if (!c.drafted) revert NotDrafted(disputeId);
        uint256 r = c.round;
        Round storage rd = _rounds[disputeId][r];
        // forge-lint: disable-next-line(block-timestamp)
        if (!rd.drawn || block.timestamp > rd.commitEnd) revert CommitClosed(disputeId, rd.commitEnd);
        jurorPool.commitVote(disputeId, r, msg.sender, commitment);
    }

    /// @notice Reveals the caller's vote committed in the current round of `disputeId`, after the round's
    ///         `commitEnd` until its `voteEnd` (`RevealClosed`). The option and salt must hash to the commitment
    ///         (`JurorPool.CommitmentMismatch`); a commitment never revealed counts as a non-vote at settlement.
    /// @param disputeId The dispute.
    /// @param option The option committed (0 = no valid result, i = candidates[i-1]).
    /// @param salt The salt committed.
    function revealVote(uint256 disputeId, uint8 option, bytes32 salt) external {
        JuryCase storage c = _cases[disputeId];
        if (!c.drafted) revert NotDrafted(disputeId);
        uint256 r = c.round;
        Round storage rd = _rounds[disputeId][r];
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= rd.commitEnd || block.timestamp > rd.voteEnd) {
            revert RevealClosed(disputeId, rd.commitEnd, rd.voteEnd);
        }
        if (option >= c.options) revert InvalidOption(disputeId, option);
        rd.votes += 1; // the pool reverts the whole call unless the reveal matches
        emit DisputeVoteCast(disputeId, msg.sender, option, 1);
        jurorPool.revealVote(disputeId, r, msg.sender, option, salt);
    }

    /// @notice Appeals the jury ruling of `disputeId` within `appealWindow` of it, depositing `appealDeposit`
    ///         (pulled; approve first): a new round with 2n+1 seats. The deposit returns if the final ruling
    ///         differs from the one appealed, else it goes to the coherent jurors.
    /// @param disputeId The dispute.
    function appeal(uint256 disputeId) external nonReentrant {
        JuryCase storage c = _cases[disputeId];
        if (!c.drafted || c.round >= c.lastRound) revert AppealClosed(disputeId);
        Round storage prev = _rounds[disputeId][c.round];
        // forge-lint: disable-next-line(block-timestamp)
        if (prev.ruledAt == 0 || block.timestamp >= uint256(prev.ruledAt) + _params.appealWindow) {
            revert AppealClosed(disputeId);
        }
        uint256 size = 2 * uint256(prev.size) + 1;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint48 voteEnd = uint48(block.timestamp + _roundPeriod());
        uint128 deposit = _params.appealDeposit;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint48 commitEnd = uint48(voteEnd - _params.revealPeriod);
        c.round += 1;
        _rounds[disputeId].push(
            Round({
                // forge-lint: disable-next-line(unsafe-typecast)
                drawBlock: uint64(block.number),
                voteEnd: voteEnd,
                ruledAt: 0,
                // forge-lint: disable-next-line(unsafe-typecast)
                size: uint8(size),
                seats: 0,
                votes: 0,
                winner: 0,
                drawn: false,
                decided: false,
                commitEnd: commitEnd,
                appellant: msg.sender,
                deposit: deposit
            })
        );
        ++pendingDraws;
        _reopenDispute(disputeId, voteEnd);
        emit DisputeAppealed(disputeId, c.round, msg.sender, deposit, size, voteEnd);
        _juryToken().safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @notice Settles the jury of `disputeId` once its ruling has been applied. Anyone. Against the final
    ///         ruling, in every round: a seated juror who did not reveal a vote (whether or not it committed)
    ///         loses `penaltyBps` of its bond; so does one who revealed another option when the final ruling was
    ///         decided. Excused jurors are untouched.
    ///         Penalties and forfeited appeal deposits are shared equally by the coherent voters (added to their
    ///         bonds; the remainder of the division to the first of them), or go to the treasury if there are
    ///         none. Appeal deposits return to appellants whose appeal changed the ruling. Not while frozen.
    /// @param disputeId The dispute.
    function settleJury(uint256 disputeId) external nonReentrant {
        _notFrozen();
        JuryCase storage c = _cases[disputeId];
        (bool executed, uint8 option, bool decided) = _finalRuling(disputeId);
        if (!c.drafted || c.settled || !executed) revert NotSettleable(disputeId);
        c.settled = true;
        uint256 rounds = uint256(c.round) + 1;
        uint256 forfeited = _settleDeposits(disputeId, rounds, option, decided);
        address sink = _jurySink();
        (uint256 pot, uint256 coherent) =
            jurorPool.settle(disputeId, rounds, option, decided, _params.penaltyBps, forfeited, sink);
        // slither-disable-next-line incorrect-equality
        emit JurySettled(disputeId, pot, coherent, coherent == 0 ? sink : address(0));
    }

    /// @dev Appeal deposits: back to an appellant whose appeal changed the ruling, else sent to the pool's pot.
    function _settleDeposits(uint256 disputeId, uint256 rounds, uint8 option, bool decided)
        private
        returns (uint256 forfeited)
    {
        IERC20 token = _juryToken();
        for (uint256 r = 1; r < rounds; ++r) {
            Round storage rd = _rounds[disputeId][r];
            Round storage appealed = _rounds[disputeId][r - 1];
            bool changed = appealed.winner != option || appealed.decided != decided;
            emit AppealDepositSettled(disputeId, r, rd.appellant, changed);
            if (changed) token.safeTransfer(rd.appellant, rd.deposit);
            else forfeited += rd.deposit;
        }
        if (forfeited != 0) token.safeTransfer(address(jurorPool), forfeited);
    }

    // ------------------------------------------------------------------ parameters

    /// @notice Sets every jury parameter at once. Only the admin. Each is bounded (`ParameterOutOfBounds`);
    ///         `appealRounds` and `appealWindow` enter `maxRulingDelay`, so the timing invariants are re-checked.
    ///         Seats, appeal rounds and the pool threshold apply to disputes opened afterwards; bond limits to
    ///         joins and top-ups afterwards; the rest at once.
    /// @param p The parameters: minJurorBond in [1, 1e9] tokens, maxJurorBond in [minJurorBond, 1e9] tokens,
    ///        minPoolSize in [3, SumTree.CAPACITY], jurySize in [3, 11], appealRounds in [0, MAX_ROUNDS - 1],
    ///        penaltyBps in [100, 5000], appealWindow in [10 minutes, 7 days], leaveDelay in [1 hour, 30 days],
    ///        appealDeposit in [1, 1e9] tokens, revealPeriod in [5 minutes, 7 days] and at most
    ///        votingPeriod - MIN_COMMIT_PERIOD (`RevealPeriodTooLong`; applies to rounds opened afterwards).
    function setJuryParameters(JuryParameters calldata p) external {
        _authorizeJuryAdmin();
        uint256[10] memory v = [
            uint256(p.minJurorBond),
            p.maxJurorBond,
            p.minPoolSize,
            p.jurySize,
            p.appealRounds,
            p.penaltyBps,
            p.appealWindow,
            p.leaveDelay,
            p.appealDeposit,
            p.revealPeriod
        ];
        uint256[10] memory lo =
            [_MIN_AMOUNT, p.minJurorBond, 3, 3, 0, 100, 10 minutes, 1 hours, _MIN_AMOUNT, MIN_COMMIT_PERIOD];
        uint256[10] memory hi = [
            _MAX_AMOUNT,
            _MAX_AMOUNT,
            SumTree.CAPACITY,
            MAX_JURY_SIZE,
            MAX_ROUNDS - 1,
            5000,
            7 days,
            30 days,
            _MAX_AMOUNT,
            7 days
        ];
        bytes32[10] memory names = [
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes32("minJurorBond"),
            "maxJurorBond",
            "minPoolSize",
            "jurySize",
            "appealRounds",
            "penaltyBps",
            "appealWindow",
            "leaveDelay",
            "appealDeposit",
            "revealPeriod"
        ];
        for (uint256 i; i < 10; ++i) {
            _checkBounds(names[i], v[i], lo[i], hi[i]);
        }
        _checkRevealFits(p.revealPeriod, _roundPeriod());
        emit JuryParametersChanged(p);
        _params = p;
        _onRulingDelayChanged();
    }

    /// @notice Bond limits and leave delay, read by the juror pool.
    /// @return minBond Smallest bond of a new juror.
    /// @return maxBond Largest bond.
    /// @return leaveDelay Seconds from a leave request until withdrawal.
    function jurorLimits() external view returns (uint256 minBond, uint256 maxBond, uint256 leaveDelay) {
        return (_params.minJurorBond, _params.maxJurorBond, _params.leaveDelay);
    }

    /// @notice The jury parameters in force.
    /// @return The parameters.
    function juryParameters() external view returns (JuryParameters memory) {
        return _params;
    }

    // ------------------------------------------------------------------ views

    /// @notice The jury state of `disputeId`.
    /// @param disputeId The dispute.
    /// @return The case (drafted = false for a stake-holder vote).
    function juryCase(uint256 disputeId) external view returns (JuryCase memory) {
        return _cases[disputeId];
    }

    /// @notice Round `round` of `disputeId`.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @return The round.
    function juryRound(uint256 disputeId, uint256 round) external view returns (Round memory) {
        return _rounds[disputeId][round];
    }

    // ------------------------------------------------------------------ internals for the governor

    /// @dev The extra time appeals add to the ruling delay: each appeal adds a window and a voting period.
    function _juryRulingDelay(uint256 votingPeriod) internal view returns (uint256) {
        return uint256(_params.appealRounds) * (uint256(_params.appealWindow) + votingPeriod);
    }

    /// @dev Reverts `RevealPeriodTooLong` unless `revealPeriod + MIN_COMMIT_PERIOD <= votingPeriod`: every round
    ///      (of `votingPeriod` seconds) keeps a commit period, and reveals end with the round, so the commit and
    ///      reveal periods lie inside the rounds `maxRulingDelay` already counts.
    function _checkRevealFits(uint256 revealPeriod, uint256 votingPeriod) internal pure {
        if (revealPeriod + MIN_COMMIT_PERIOD > votingPeriod) {
            revert RevealPeriodTooLong(revealPeriod, votingPeriod);
        }
    }

    /// @dev The reveal period in force (for the governor's voting-period re-check).
    function _revealPeriod() internal view returns (uint256) {
        return _params.revealPeriod;
    }

    /// @dev Records the mode of a new dispute; drafted when the pool holds at least `minPoolSize` jurors.
    function _juryOpen(uint256 disputeId, uint48 voteEnd, uint8 numOptions) internal returns (bool drafted) {
        // slither-disable-next-line unused-return
        (uint256 size,) = jurorPool.pool();
        drafted = size >= _params.minPoolSize;
        if (drafted) {
            _cases[disputeId] = JuryCase({
                drafted: true, settled: false, round: 0, lastRound: _params.appealRounds, options: numOptions
            });
            Round storage rd = _rounds[disputeId].push();
            // forge-lint: disable-next-line(unsafe-typecast)
            rd.drawBlock = uint64(block.number);
            rd.voteEnd = voteEnd;
            rd.commitEnd = voteEnd - _params.revealPeriod;
            rd.size = _params.jurySize;
            ++pendingDraws;
        }
        emit DisputeMode(disputeId, drafted, size);
    }

    /// @dev Whether `disputeId` is decided by a drafted jury.
    function _isDrafted(uint256 disputeId) internal view returns (bool) {
        return _cases[disputeId].drafted;
    }

    /// @dev Rules the current round: decided when more than half of the seats revealed a vote; plurality, ties to the
    ///      lower option. Returns the ruling, the votes cast, the smallest number of voters that could have
    ///      flipped it (0 when undecided) and how long the ruling stays open to appeal (0 = final).
    function _juryResolve(uint256 disputeId, uint256 numOptions)
        internal
        returns (uint8 winner, bool decided, uint256 votes, uint256 flip, uint256 appealDelay)
    {
        JuryCase storage c = _cases[disputeId];
        uint256 r = c.round;
        Round storage rd = _rounds[disputeId][r];
        if (!rd.drawn) {
            rd.drawn = true; // never drawn: no seats; the pool thaws
            --pendingDraws;
        }
        votes = rd.votes;
        decided = rd.seats != 0 && 2 * votes > rd.seats;
        if (decided) {
            uint8[9] memory t = jurorPool.tallyOf(disputeId, r);
            for (uint256 i = 1; i < numOptions; ++i) {
                // forge-lint: disable-next-line(unsafe-typecast)
                if (t[i] > t[winner]) winner = uint8(i);
            }
            for (uint256 i; i < numOptions; ++i) {
                if (i == winner) continue;
                // unit weights: one voter leaving the winner for i closes the gap by 2
                uint256 k = (uint256(t[winner]) - t[i] + (i > winner ? 1 : 0) + 1) / 2;
                if (flip == 0 || k < flip) flip = k;
            }
        }
        rd.winner = winner;
        rd.decided = decided;
        // forge-lint: disable-next-line(unsafe-typecast)
        rd.ruledAt = uint48(block.timestamp);
        appealDelay = r < c.lastRound ? _params.appealWindow : 0;
        emit JuryRuled(disputeId, r, winner, decided, votes, rd.seats);
    }

    // ------------------------------------------------------------------ private

    function _notFrozen() private view {
        if (pendingDraws != 0) revert PoolFrozen(pendingDraws);
    }
}
