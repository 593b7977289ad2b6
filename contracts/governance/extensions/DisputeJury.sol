// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SumTree} from "../../registry/lib/SumTree.sol";
import {GovernorParameterBounds} from "./GovernorParameterBounds.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title DisputeJury
/// @notice A drafted jury for disputes, in the manner of Kleros: bonded jurors (one seat per identity) form a
///         pool weighted by the square root of their bond; a dispute opened while the pool holds at least
///         `minPoolSize` jurors is decided by `jurySize` jurors drawn at random from it (from the block after
///         the opening, seeded by that block's hash), one vote per seat. A ruling is decided when more than half
///         of the seats voted; plurality among the votes wins, ties go to option 0. Non-voters, and voters for a
///         losing option of a decided final ruling, lose `penaltyBps` of their bond to the coherent voters.
///         Anyone may appeal a jury ruling within `appealWindow` by depositing `appealDeposit`: a new round with
///         2n+1 seats, at most `appealRounds` times (≤ MAX_ROUNDS - 1). Drafted jurors who are involved in the
///         dispute, or hold Staking shares with an involved operator, are excused. docs/governance.md §3.
/// @dev OpenZeppelin-style extension: own storage, events and errors, and internal hooks the composed
///      dispute governor implements (authorization, identity, exclusion, timing re-check, dispute status) and
///      calls (open, vote, resolve). The pool lives in a `SumTree` (at most `SumTree.CAPACITY` = 1024 jurors).
///      The pool is frozen (no join, top-up, leave or settlement) while any round awaits its draw, so nobody can
///      reshape the pool after the seed is known.
abstract contract DisputeJury is GovernorParameterBounds, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SumTree for SumTree.Tree;

    /// @notice Largest number of rounds of one drafted dispute (the first and up to two appeals).
    uint256 public constant MAX_ROUNDS = 3;
    /// @notice Upper bound of `jurySize`; the last round then has 4 * 11 + 3 = 47 seats.
    uint256 public constant MAX_JURY_SIZE = 11;
    uint256 private constant _MIN_AMOUNT = 1 ether;
    uint256 private constant _MAX_AMOUNT = 1e9 ether;
    uint256 private constant _BPS = 10_000;
    uint8 private constant _SEAT_NONE = 0;
    uint8 private constant _SEAT_DRAFTED = 1;
    uint8 private constant _SEAT_EXCUSED = 2;
    uint8 private constant _SEAT_VOTED = 3; // + option

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
    }

    /// @notice A juror.
    struct Juror {
        uint256 identity; // identity seated (one seat per identity)
        uint128 bond; // tokens held for the juror
        uint48 leaveAt; // 0 = in the pool; else the time from which the bond can be withdrawn
        uint32 openSeats; // seats (not excused) in disputes whose jury has not been settled
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
        bool decided; // more than half of the seats voted
        address appellant; // who opened this round (zero for round 0)
        uint128 deposit; // the appellant's deposit
    }

    /// @notice The jury state of a dispute.
    struct JuryCase {
        bool drafted; // decided by a drafted jury (else by the stake-holder vote)
        bool settled; // penalties, rewards and deposits applied
        uint8 round; // current round
        uint8 lastRound; // appealRounds at the opening
    }

    SumTree.Tree private _pool;
    mapping(address juror => Juror) private _jurors;
    mapping(uint256 identity => address juror) private _seatHolder;
    mapping(uint256 disputeId => JuryCase) private _cases;
    mapping(uint256 disputeId => Round[]) private _rounds;
    mapping(uint256 disputeId => mapping(uint256 round => address[])) private _drafted;
    mapping(uint256 disputeId => mapping(uint256 round => mapping(address juror => uint8))) private _seat;
    mapping(uint256 disputeId => mapping(uint256 round => uint8[9])) private _tally;
    /// @notice Rounds that await their draw; the pool is frozen while this is not zero.
    uint256 public pendingDraws;

    JuryParameters private _params = JuryParameters({
        minJurorBond: 100 ether,
        maxJurorBond: 1_000_000 ether,
        appealDeposit: 1000 ether,
        minPoolSize: 31,
        jurySize: 5,
        appealRounds: 0,
        penaltyBps: 1000,
        appealWindow: 1 hours,
        leaveDelay: 1 days
    });

    /// @notice `name` changed.
    event ParameterChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);
    /// @notice The jury parameters changed from `oldParams` to `newParams`.
    event JuryParametersChanged(JuryParameters oldParams, JuryParameters newParams);
    /// @notice `juror` joined the pool for `identity` with `bond` (draw weight `weight` = sqrt(bond)).
    event JurorJoined(address indexed juror, uint256 indexed identity, uint256 bond, uint256 weight);
    /// @notice `juror`'s bond changed to `bond` (top-up, penalty or reward; `delta` signed).
    event JurorBondChanged(address indexed juror, uint256 indexed disputeId, int256 delta, uint256 bond);
    /// @notice `juror` left the pool; its bond can be withdrawn from `withdrawableAt` once no seat is open.
    event JurorLeaveRequested(address indexed juror, uint256 withdrawableAt);
    /// @notice `juror` withdrew `amount` and gave up its identity's seat.
    event JurorWithdrawn(address indexed juror, uint256 amount);
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

    /// @notice `account` is not linked to an identity.
    error NoIdentity(address account);
    /// @notice `account` is already a juror.
    error AlreadyJuror(address account);
    /// @notice `identity` already has a seat, held by `holder`.
    error IdentityAlreadySeated(uint256 identity, address holder);
    /// @notice `account` is not a juror.
    error NotJuror(address account);
    /// @notice Bond `bond` outside [`min`, `max`].
    error BondOutOfBounds(uint256 bond, uint256 min, uint256 max);
    /// @notice The pool is frozen while `pending` rounds await their draw.
    error PoolFrozen(uint256 pending);
    /// @notice `juror` already asked to leave.
    error AlreadyLeaving(address juror);
    /// @notice `juror` has not asked to leave, or its delay ends at `withdrawableAt`.
    error WithdrawNotReady(address juror, uint256 withdrawableAt);
    /// @notice `juror` still has `openSeats` seats in unsettled disputes.
    error JurorHasOpenSeats(address juror, uint256 openSeats);
    /// @notice `disputeId` is not decided by a drafted jury.
    error NotDrafted(uint256 disputeId);
    /// @notice The current round of `disputeId` was drawn already.
    error AlreadyDrawn(uint256 disputeId, uint256 round);
    /// @notice The draw needs a later block than `drawBlock`.
    error DrawTooEarly(uint256 disputeId, uint256 drawBlock);
    /// @notice The round's voting ended at `voteEnd`: it can no longer be drawn.
    error DrawClosed(uint256 disputeId, uint256 voteEnd);
    /// @notice `account` holds no seat in the current round of `disputeId`.
    error NotSeated(uint256 disputeId, address account);
    /// @notice `juror` was excused from `disputeId`.
    error SeatExcused(uint256 disputeId, address juror);
    /// @notice `juror` already voted in the current round of `disputeId`.
    error SeatAlreadyVoted(uint256 disputeId, address juror);
    /// @notice `disputeId` cannot be appealed now (not ruled, window over, or no round left).
    error AppealClosed(uint256 disputeId);
    /// @notice `disputeId`'s jury cannot be settled (not executed, or settled already).
    error NotSettleable(uint256 disputeId);

    // ------------------------------------------------------------------ hooks

    /// @dev Reverts unless the caller may change jury parameters.
    function _authorizeJuryAdmin() internal view virtual;

    /// @dev The current identity of `account` (0 = none).
    function _jurorIdentity(address account) internal view virtual returns (uint256);

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

    // ------------------------------------------------------------------ juror pool

    /// @notice Joins the juror pool with `bond` tokens (pulled; approve first). The caller must be linked to an
    ///         identity, which must not hold a seat yet. Draw weight = sqrt(bond).
    /// @param bond Tokens in [minJurorBond, maxJurorBond].
    function joinJury(uint256 bond) external nonReentrant {
        _notFrozen();
        if (_jurors[msg.sender].bond != 0) revert AlreadyJuror(msg.sender);
        uint256 id = _jurorIdentity(msg.sender);
        if (id == 0) revert NoIdentity(msg.sender);
        address holder = _seatHolder[id];
        if (holder != address(0)) revert IdentityAlreadySeated(id, holder);
        (uint256 lo, uint256 hi) = (_params.minJurorBond, _params.maxJurorBond);
        if (bond < lo || bond > hi) revert BondOutOfBounds(bond, lo, hi);
        _seatHolder[id] = msg.sender;
        _jurors[msg.sender] = Juror({identity: id, bond: SafeCast.toUint128(bond), leaveAt: 0, openSeats: 0});
        uint256 w = _drawWeightOf(bond);
        _pool.insert(msg.sender, w);
        emit JurorJoined(msg.sender, id, bond, w);
        _juryToken().safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @notice Adds `amount` to the caller's bond (pulled), up to maxJurorBond. Not while leaving.
    /// @param amount Tokens.
    function topUp(uint256 amount) external nonReentrant {
        _notFrozen();
        Juror storage j = _jurors[msg.sender];
        if (j.bond == 0) revert NotJuror(msg.sender);
        if (j.leaveAt != 0) revert AlreadyLeaving(msg.sender);
        uint256 bond = j.bond + amount;
        if (amount == 0 || bond > _params.maxJurorBond) {
            revert BondOutOfBounds(bond, j.bond + 1, _params.maxJurorBond);
        }
        j.bond = SafeCast.toUint128(bond);
        _pool.update(msg.sender, _drawWeightOf(bond));
        emit JurorBondChanged(msg.sender, 0, SafeCast.toInt256(amount), bond);
        _juryToken().safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Leaves the pool at once (no further draws); the bond can be withdrawn after `leaveDelay`, once
    ///         every dispute the caller sits on is settled.
    function requestLeave() external {
        _notFrozen();
        Juror storage j = _jurors[msg.sender];
        if (j.bond == 0) revert NotJuror(msg.sender);
        if (j.leaveAt != 0) revert AlreadyLeaving(msg.sender);
        uint48 at = SafeCast.toUint48(block.timestamp + _params.leaveDelay);
        j.leaveAt = at;
        _pool.remove(msg.sender);
        emit JurorLeaveRequested(msg.sender, at);
    }

    /// @notice Withdraws the caller's whole bond after its leave delay, when it has no open seat, and frees its
    ///         identity's seat.
    function withdrawBond() external nonReentrant {
        Juror storage j = _jurors[msg.sender];
        if (j.bond == 0) revert NotJuror(msg.sender);
        // forge-lint: disable-next-line(block-timestamp)
        if (j.leaveAt == 0 || block.timestamp < j.leaveAt) revert WithdrawNotReady(msg.sender, j.leaveAt);
        if (j.openSeats != 0) revert JurorHasOpenSeats(msg.sender, j.openSeats);
        uint256 amount = j.bond;
        delete _seatHolder[j.identity];
        delete _jurors[msg.sender];
        emit JurorWithdrawn(msg.sender, amount);
        _juryToken().safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ draw, appeal, settle

    /// @notice Draws the jurors of the current round of `disputeId`. Anyone, from the block after the opening
    ///         (or appeal) until the round's voting ends. Seeded by the hash of the opening block, so the gas a
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
        if (block.timestamp > rd.voteEnd) revert DrawClosed(disputeId, rd.voteEnd);
        uint256 seedBlock = rd.drawBlock;
        if (block.number - seedBlock > 256) {
            // the latest block at a multiple of 256 after the original one (rounding down is the point)
            // forge-lint: disable-next-line(divide-before-multiply)
            seedBlock += ((block.number - 1 - seedBlock) / 256) * 256;
            emit JurySeedRefreshed(disputeId, r, seedBlock);
        }
        bytes32 seed = keccak256(abi.encode(blockhash(seedBlock), disputeId, r));
        address[] memory picks = _pool.drawDistinct(seed, rd.size);
        rd.drawn = true;
        --pendingDraws;
        uint256 seats;
        address[] storage list = _drafted[disputeId][r];
        for (uint256 i; i < picks.length; ++i) {
            address member = picks[i];
            list.push(member);
            if (_isExcused(disputeId, member)) {
                _seat[disputeId][r][member] = _SEAT_EXCUSED;
                emit JurorExcused(disputeId, r, member);
            } else {
                _seat[disputeId][r][member] = _SEAT_DRAFTED;
                _jurors[member].openSeats += 1;
                ++seats;
            }
        }
        rd.seats = SafeCast.toUint8(seats);
        emit JuryDrawn(disputeId, r, seedBlock, picks, seats);
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
        uint48 voteEnd = SafeCast.toUint48(block.timestamp + _roundPeriod());
        uint128 deposit = _params.appealDeposit;
        c.round += 1;
        _rounds[disputeId].push(
            Round({
                drawBlock: SafeCast.toUint64(block.number),
                voteEnd: voteEnd,
                ruledAt: 0,
                size: SafeCast.toUint8(size),
                seats: 0,
                votes: 0,
                winner: 0,
                drawn: false,
                decided: false,
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
    ///         ruling, in every round: a seated juror who did not vote loses `penaltyBps` of its bond; so does
    ///         one who voted for another option when the final ruling was decided. Excused jurors are untouched.
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
        uint256 pot;
        uint256 coherent;
        uint256 rounds = uint256(c.round) + 1;
        for (uint256 r; r < rounds; ++r) {
            address[] storage list = _drafted[disputeId][r];
            for (uint256 i; i < list.length; ++i) {
                address member = list[i];
                uint8 s = _seat[disputeId][r][member];
                if (s == _SEAT_EXCUSED) continue;
                _jurors[member].openSeats -= 1;
                if (s == _SEAT_DRAFTED || (decided && s != _SEAT_VOTED + option)) {
                    pot += _penalize(disputeId, member);
                } else {
                    ++coherent;
                }
            }
        }
        address[] memory refunds = new address[](rounds);
        uint256[] memory refundAmounts = new uint256[](rounds);
        for (uint256 r = 1; r < rounds; ++r) {
            Round storage rd = _rounds[disputeId][r];
            Round storage appealed = _rounds[disputeId][r - 1];
            bool changed = appealed.winner != option || appealed.decided != decided;
            if (changed) (refunds[r], refundAmounts[r]) = (rd.appellant, rd.deposit);
            else pot += rd.deposit;
            emit AppealDepositSettled(disputeId, r, rd.appellant, changed);
        }
        address sink = coherent == 0 && pot != 0 ? _jurySink() : address(0);
        if (coherent != 0) _reward(disputeId, rounds, option, decided, pot, coherent);
        emit JurySettled(disputeId, pot, coherent, sink);
        for (uint256 r = 1; r < rounds; ++r) {
            if (refundAmounts[r] != 0) _juryToken().safeTransfer(refunds[r], refundAmounts[r]);
        }
        if (sink != address(0)) _juryToken().safeTransfer(sink, pot);
    }

    // ------------------------------------------------------------------ parameters

    /// @notice Sets every jury parameter at once. Only the admin. Each is bounded (`ParameterOutOfBounds`);
    ///         `appealRounds` and `appealWindow` enter `maxRulingDelay`, so the timing invariants are re-checked.
    ///         Seats, appeal rounds and the pool threshold apply to disputes opened afterwards; bond limits to
    ///         joins and top-ups afterwards; the rest at once.
    /// @param p The parameters: minJurorBond in [1, 1e9] tokens, maxJurorBond in [minJurorBond, 1e9] tokens,
    ///        minPoolSize in [3, SumTree.CAPACITY], jurySize in [3, 11], appealRounds in [0, MAX_ROUNDS - 1],
    ///        penaltyBps in [100, 5000], appealWindow in [10 minutes, 7 days], leaveDelay in [1 hour, 30 days],
    ///        appealDeposit in [1, 1e9] tokens.
    function setJuryParameters(JuryParameters calldata p) external {
        _authorizeJuryAdmin();
        _checkBounds("minJurorBond", p.minJurorBond, _MIN_AMOUNT, _MAX_AMOUNT);
        _checkBounds("maxJurorBond", p.maxJurorBond, p.minJurorBond, _MAX_AMOUNT);
        _checkBounds("minPoolSize", p.minPoolSize, 3, SumTree.CAPACITY);
        _checkBounds("jurySize", p.jurySize, 3, MAX_JURY_SIZE);
        _checkBounds("appealRounds", p.appealRounds, 0, MAX_ROUNDS - 1);
        _checkBounds("penaltyBps", p.penaltyBps, 100, 5000);
        _checkBounds("appealWindow", p.appealWindow, 10 minutes, 7 days);
        _checkBounds("leaveDelay", p.leaveDelay, 1 hours, 30 days);
        _checkBounds("appealDeposit", p.appealDeposit, _MIN_AMOUNT, _MAX_AMOUNT);
        emit JuryParametersChanged(_params, p);
        _params = p;
        _onRulingDelayChanged();
    }

    /// @notice The jury parameters in force.
    /// @return The parameters.
    function juryParameters() external view returns (JuryParameters memory) {
        return _params;
    }

    // ------------------------------------------------------------------ views

    /// @notice A juror's record (bond 0 = not a juror).
    /// @param account The account.
    /// @return The juror.
    function juror(address account) external view returns (Juror memory) {
        return _jurors[account];
    }

    /// @notice The juror holding `identity`'s seat (zero = none).
    /// @param identity The identity.
    /// @return The juror.
    function seatHolder(uint256 identity) external view returns (address) {
        return _seatHolder[identity];
    }

    /// @notice Jurors in the pool (drawable) and their total draw weight.
    /// @return size Number of jurors.
    /// @return weight Sum of sqrt(bond).
    function pool() external view returns (uint256 size, uint256 weight) {
        return (_pool.size, _pool.total());
    }

    /// @notice A juror's draw weight (0 when not in the pool).
    /// @param account The account.
    /// @return The weight.
    function drawWeight(address account) external view returns (uint256) {
        return _pool.weightOf(account);
    }

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

    /// @notice The jurors drawn for round `round` of `disputeId`, excused ones included.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @return The jurors.
    function draftedJurors(uint256 disputeId, uint256 round) external view returns (address[] memory) {
        return _drafted[disputeId][round];
    }

    /// @notice `juror`'s seat in round `round` of `disputeId`: 0 none, 1 drafted, 2 excused, 3 + option voted.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param account The juror.
    /// @return The seat state.
    function seatOf(uint256 disputeId, uint256 round, address account) external view returns (uint8) {
        return _seat[disputeId][round][account];
    }

    /// @notice Votes for `option` in round `round` of `disputeId`.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param option The option.
    /// @return The vote count.
    function juryTally(uint256 disputeId, uint256 round, uint256 option) external view returns (uint256) {
        return _tally[disputeId][round][option];
    }

    // ------------------------------------------------------------------ internals for the governor

    /// @dev The extra time appeals add to the ruling delay: each appeal adds a window and a voting period.
    function _juryRulingDelay(uint256 votingPeriod) internal view returns (uint256) {
        return uint256(_params.appealRounds) * (uint256(_params.appealWindow) + votingPeriod);
    }

    /// @dev Records the mode of a new dispute; drafted when the pool holds at least `minPoolSize` jurors.
    function _juryOpen(uint256 disputeId, uint48 voteEnd) internal returns (bool drafted) {
        uint256 size = _pool.size;
        drafted = size >= _params.minPoolSize;
        if (drafted) {
            _cases[disputeId] =
                JuryCase({drafted: true, settled: false, round: 0, lastRound: _params.appealRounds});
            Round storage rd = _rounds[disputeId].push();
            rd.drawBlock = SafeCast.toUint64(block.number);
            rd.voteEnd = voteEnd;
            rd.size = _params.jurySize;
            ++pendingDraws;
        }
        emit DisputeMode(disputeId, drafted, size);
    }

    /// @dev Whether `disputeId` is decided by a drafted jury.
    function _isDrafted(uint256 disputeId) internal view returns (bool) {
        return _cases[disputeId].drafted;
    }

    /// @dev Records `voter`'s vote for `option` in the current round (the governor checked time and option).
    function _juryVote(uint256 disputeId, address voter, uint8 option) internal {
        uint256 r = _cases[disputeId].round;
        uint8 s = _seat[disputeId][r][voter];
        if (s == _SEAT_NONE) revert NotSeated(disputeId, voter);
        if (s == _SEAT_EXCUSED) revert SeatExcused(disputeId, voter);
        if (s != _SEAT_DRAFTED) revert SeatAlreadyVoted(disputeId, voter);
        _seat[disputeId][r][voter] = _SEAT_VOTED + option;
        _tally[disputeId][r][option] += 1;
        _rounds[disputeId][r].votes += 1;
    }

    /// @dev Rules the current round: decided when more than half of the seats voted; plurality, ties to the
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
        uint8[9] storage t = _tally[disputeId][r];
        if (decided) {
            for (uint256 i = 1; i < numOptions; ++i) {
                if (t[i] > t[winner]) winner = SafeCast.toUint8(i);
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
        rd.ruledAt = SafeCast.toUint48(block.timestamp);
        appealDelay = r < c.lastRound ? _params.appealWindow : 0;
        emit JuryRuled(disputeId, r, winner, decided, votes, rd.seats);
    }

    // ------------------------------------------------------------------ private

    /// @dev Draw weight of a bond: its square root, counting at most `maxJurorBond` (rewards may exceed it).
    function _drawWeightOf(uint256 bond) private view returns (uint256) {
        return Math.sqrt(Math.min(bond, _params.maxJurorBond));
    }

    function _notFrozen() private view {
        if (pendingDraws != 0) revert PoolFrozen(pendingDraws);
    }

    function _penalize(uint256 disputeId, address account) private returns (uint256 amount) {
        Juror storage j = _jurors[account];
        amount = Math.mulDiv(j.bond, _params.penaltyBps, _BPS);
        if (amount == 0) return 0;
        uint256 bond = j.bond - amount;
        j.bond = SafeCast.toUint128(bond);
        if (j.leaveAt == 0) _pool.update(account, _drawWeightOf(bond));
        emit JurorBondChanged(account, disputeId, -SafeCast.toInt256(amount), bond);
    }

    function _reward(
        uint256 disputeId,
        uint256 rounds,
        uint8 option,
        bool decided,
        uint256 pot,
        uint256 coherent
    ) private {
        uint256 share = pot / coherent;
        uint256 dust = pot - share * coherent;
        for (uint256 r; r < rounds; ++r) {
            address[] storage list = _drafted[disputeId][r];
            for (uint256 i; i < list.length; ++i) {
                address account = list[i];
                uint8 s = _seat[disputeId][r][account];
                if (s < _SEAT_VOTED || (decided && s != _SEAT_VOTED + option)) continue;
                uint256 amount = share + dust;
                dust = 0;
                if (amount == 0) continue;
                Juror storage j = _jurors[account];
                uint256 bond = uint256(j.bond) + amount;
                j.bond = SafeCast.toUint128(bond);
                if (j.leaveAt == 0) _pool.update(account, _drawWeightOf(bond));
                emit JurorBondChanged(account, disputeId, SafeCast.toInt256(amount), bond);
            }
        }
    }
}
