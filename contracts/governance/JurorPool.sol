// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "../interfaces/IStaking.sol";
import {SumTree} from "../registry/lib/SumTree.sol";
import {QuadraticVotes} from "./QuadraticVotes.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title IJuryGovernor
/// @notice What the juror pool reads from the dispute governor that created it.
interface IJuryGovernor {
    /// @notice Rounds awaiting their draw; the pool is frozen while this is not zero.
    /// @return The count.
    function pendingDraws() external view returns (uint256);

    /// @notice Bond limits and leave delay in force.
    /// @return minBond Smallest bond of a new juror.
    /// @return maxBond Largest bond (draw weight counts at most this much).
    /// @return leaveDelay Seconds from a leave request until withdrawal.
    function jurorLimits() external view returns (uint256 minBond, uint256 maxBond, uint256 leaveDelay);
}

/// @title JurorPool
/// @notice The bonded juror pool of the dispute governor's drafted jury (DisputeJury): custody of juror bonds
///         (the staking token), one seat per identity, draw weight sqrt(bond), the seats of every drawn round
///         with their hidden votes (commitments) and revealed tallies, and the penalties and rewards the governor
///         settles. Created by the governor in its constructor (its only privileged caller); a
///         separate contract because the governor with the pool inside exceeds the 24,576-byte code limit.
/// @dev The pool is a `SumTree` (at most `SumTree.CAPACITY` = 1024 jurors). Joins, top-ups and leave requests
///      revert `PoolFrozen` while the governor has rounds awaiting their draw, so nobody reshapes the pool once
///      a draw's seed is known. Bonds are conserved: the pool's token balance is the sum of bonds.
contract JurorPool is ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SumTree for SumTree.Tree;

    uint256 private constant _BPS = 10_000;
    /// @notice Seat state: drafted, nothing committed yet.
    uint8 public constant SEAT_DRAFTED = 1;
    /// @notice Seat state: excused (involved, or a delegator of an involved operator).
    uint8 public constant SEAT_EXCUSED = 2;
    /// @notice Seat state: committed, not revealed.
    uint8 public constant SEAT_COMMITTED = 3;
    /// @notice Seat state: revealed option `o` is `SEAT_REVEALED + o`.
    uint8 public constant SEAT_REVEALED = 4;

    /// @notice A juror.
    struct Juror {
        uint256 identity; // identity seated (one seat per identity)
        uint128 bond; // tokens held for the juror (0 = not a juror)
        uint48 leaveAt; // 0 = in the pool; else the time from which the bond can be withdrawn
        uint32 openSeats; // seats (not excused) in disputes whose jury has not been settled
    }

    /// @notice The governor (sole privileged caller).
    IJuryGovernor public immutable governor;
    /// @notice Identities (a juror must be linked to one).
    QuadraticVotes public immutable votes;
    /// @notice Staking (its token is the bond token).
    IStaking public immutable staking;

    SumTree.Tree private _tree;
    mapping(address juror => Juror) private _jurors;
    mapping(uint256 identity => address juror) private _seatHolder;
    // written through a storage reference (`list.push` in openSeats)
    // slither-disable-next-line uninitialized-state
    mapping(uint256 disputeId => mapping(uint256 round => address[])) private _drafted;
    mapping(uint256 disputeId => mapping(uint256 round => mapping(address juror => uint8))) private _seat;
    mapping(uint256 disputeId => mapping(uint256 round => mapping(address juror => bytes32))) private
        _commitment;
    mapping(uint256 disputeId => mapping(uint256 round => uint8[9])) private _tally;

    /// @notice `juror` joined for `identity` with `bond` (draw weight `weight` = sqrt(bond)).
    event JurorJoined(address indexed juror, uint256 indexed identity, uint256 bond, uint256 weight);
    /// @notice `juror`'s bond changed by `delta` to `bond` (top-up: disputeId 0; penalty or reward).
    event JurorBondChanged(address indexed juror, uint256 indexed disputeId, int256 delta, uint256 bond);
    /// @notice `juror` left the pool; its bond can be withdrawn from `withdrawableAt` once no seat is open.
    event JurorLeaveRequested(address indexed juror, uint256 withdrawableAt);
    /// @notice `juror` withdrew `amount` and freed its identity's seat.
    event JurorWithdrawn(address indexed juror, uint256 amount);
    /// @notice `juror`'s open seats changed to `openSeats`.
    event JurorSeatsChanged(address indexed juror, uint256 openSeats);
    /// @notice `amount` of `disputeId`'s penalties went to `to` (nobody was coherent).
    event PenaltiesSwept(uint256 indexed disputeId, address indexed to, uint256 amount);
    /// @notice `juror` committed its hidden vote `commitment` in round `round` of `disputeId`.
    event VoteCommitted(uint256 indexed disputeId, uint256 round, address indexed juror, bytes32 commitment);
    /// @notice `juror` revealed `option` in round `round` of `disputeId` (the governor emits DisputeVoteCast).
    event VoteRevealed(uint256 indexed disputeId, uint256 round, address indexed juror, uint8 option);

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
    /// @notice Only the governor.
    error OnlyGovernor(address caller);
    /// @notice `account` holds no seat in the current round of `disputeId`.
    error NotSeated(uint256 disputeId, address account);
    /// @notice `juror` was excused from `disputeId`.
    error SeatExcused(uint256 disputeId, address juror);
    /// @notice `juror` already committed in the current round of `disputeId`.
    error SeatAlreadyCommitted(uint256 disputeId, address juror);
    /// @notice `juror` has no unrevealed commitment in the current round of `disputeId`.
    error NothingToReveal(uint256 disputeId, address juror);
    /// @notice The revealed option and salt of `juror` do not hash to its commitment in `disputeId`.
    error CommitmentMismatch(uint256 disputeId, address juror);

    /// @param votes_ QuadraticVotes (identities).
    /// @param staking_ Staking (bond token).
    constructor(QuadraticVotes votes_, IStaking staking_) {
        governor = IJuryGovernor(msg.sender);
        votes = votes_;
        staking = staking_;
    }

    modifier onlyGovernor() {
        if (msg.sender != address(governor)) revert OnlyGovernor(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ jurors

    /// @notice Joins the pool with `bond` tokens (pulled; approve this contract first). The caller must be linked
    ///         to an identity that holds no seat. Draw weight = sqrt(bond).
    /// @param bond Tokens within the governor's bond limits.
    function joinJury(uint256 bond) external nonReentrant {
        _notFrozen();
        if (_jurors[msg.sender].bond != 0) revert AlreadyJuror(msg.sender);
        uint256 id = votes.identityOf(msg.sender);
        if (id == 0) revert NoIdentity(msg.sender);
        address holder = _seatHolder[id];
        if (holder != address(0)) revert IdentityAlreadySeated(id, holder);
        // slither-disable-next-line unused-return
        (uint256 lo, uint256 hi,) = governor.jurorLimits();
        if (bond < lo || bond > hi) revert BondOutOfBounds(bond, lo, hi);
        _seatHolder[id] = msg.sender;
        // forge-lint: disable-next-line(unsafe-typecast)
        _jurors[msg.sender] = Juror({identity: id, bond: uint128(bond), leaveAt: 0, openSeats: 0});
        uint256 w = Math.sqrt(bond);
        _tree.insert(msg.sender, w);
        emit JurorJoined(msg.sender, id, bond, w);
        _token().safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @notice Adds `amount` (pulled) to the caller's bond, up to the bond limit. Not while leaving.
    /// @param amount Tokens.
    function topUp(uint256 amount) external nonReentrant {
        _notFrozen();
        Juror storage j = _jurors[msg.sender];
        if (j.bond == 0) revert NotJuror(msg.sender);
        if (j.leaveAt != 0) revert AlreadyLeaving(msg.sender);
        // slither-disable-next-line unused-return
        (, uint256 hi,) = governor.jurorLimits();
        uint256 bond = j.bond + amount;
        if (amount == 0 || bond > hi) revert BondOutOfBounds(bond, uint256(j.bond) + 1, hi);
        // forge-lint: disable-next-line(unsafe-typecast)
        j.bond = uint128(bond);
        // slither-disable-next-line unused-return
        _tree.update(msg.sender, _weightOf(bond, hi));
        // forge-lint: disable-next-line(unsafe-typecast)
        emit JurorBondChanged(msg.sender, 0, int256(amount), bond);
        _token().safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Leaves the pool at once (no further draws). The bond can be withdrawn after the leave delay, once
    ///         every dispute the caller sits on is settled. Not while frozen.
    function requestLeave() external {
        _notFrozen();
        Juror storage j = _jurors[msg.sender];
        if (j.bond == 0) revert NotJuror(msg.sender);
        if (j.leaveAt != 0) revert AlreadyLeaving(msg.sender);
        // slither-disable-next-line unused-return
        (,, uint256 delay) = governor.jurorLimits();
        // forge-lint: disable-next-line(unsafe-typecast)
        uint48 at = uint48(block.timestamp + delay);
        j.leaveAt = at;
        _tree.remove(msg.sender);
        emit JurorLeaveRequested(msg.sender, at);
    }

    /// @notice Withdraws the caller's whole bond after its leave delay, when no seat is open, freeing its
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
        _token().safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ governor

    /// @notice Draws up to `k` distinct jurors by draw weight (SumTree.drawDistinct).
    /// @param seed Randomness.
    /// @param k Seats.
    /// @return The jurors.
    function drawDistinct(bytes32 seed, uint256 k) external view returns (address[] memory) {
        return _tree.drawDistinct(seed, k);
    }

    /// @notice Records the jurors drawn for round `round` of `disputeId`: an excused one (`excused[i]`) gets no
    ///         seat; each other gets a drafted seat and cannot withdraw until it is settled. Only the governor.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param picks The jurors drawn.
    /// @param excused Whether each is excused.
    function openSeats(uint256 disputeId, uint256 round, address[] calldata picks, bool[] calldata excused)
        external
        onlyGovernor
    {
        address[] storage list = _drafted[disputeId][round];
        for (uint256 i; i < picks.length; ++i) {
            address a = picks[i];
            list.push(a);
            if (excused[i]) {
                _seat[disputeId][round][a] = SEAT_EXCUSED;
                continue;
            }
            _seat[disputeId][round][a] = SEAT_DRAFTED;
            Juror storage j = _jurors[a];
            j.openSeats += 1;
            emit JurorSeatsChanged(a, j.openSeats);
        }
    }

    /// @notice Records `account`'s hidden vote in round `round` of `disputeId` (the governor checked the timing).
    ///         Only the governor.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param account The juror.
    /// @param commitment voteCommitment(option, salt, account, disputeId, round).
    function commitVote(uint256 disputeId, uint256 round, address account, bytes32 commitment)
        external
        onlyGovernor
    {
        uint8 st = _seat[disputeId][round][account];
        if (st == 0) revert NotSeated(disputeId, account);
        if (st == SEAT_EXCUSED) revert SeatExcused(disputeId, account);
        if (st != SEAT_DRAFTED) revert SeatAlreadyCommitted(disputeId, account);
        _seat[disputeId][round][account] = SEAT_COMMITTED;
        _commitment[disputeId][round][account] = commitment;
        emit VoteCommitted(disputeId, round, account, commitment);
    }

    /// @notice Opens `account`'s commitment in round `round` of `disputeId` and counts `option` (the governor checked
    ///         the timing and the option). Only the governor.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param account The juror.
    /// @param option The option committed.
    /// @param salt The salt committed.
    function revealVote(uint256 disputeId, uint256 round, address account, uint8 option, bytes32 salt)
        external
        onlyGovernor
    {
        if (_seat[disputeId][round][account] != SEAT_COMMITTED) revert NothingToReveal(disputeId, account);
        if (voteCommitment(option, salt, account, disputeId, round) != _commitment[disputeId][round][account])
        {
            revert CommitmentMismatch(disputeId, account);
        }
        _seat[disputeId][round][account] = SEAT_REVEALED + option;
        _tally[disputeId][round][option] += 1;
        emit VoteRevealed(disputeId, round, account, option);
    }

    /// @notice Settles the seats of rounds 0 .. `rounds` - 1 of `disputeId` against the final ruling (`option`,
    ///         `decided`): closes each non-excused seat; one that revealed no vote (committed or not), or revealed
    ///         another option when the ruling was decided, loses `penaltyBps` of its juror's bond; the penalties
    ///         plus `extra` (tokens the governor sent first) are shared equally by the other seats (the remainder
    ///         of the division to the first), or sent to `sink` when there are none. Only the governor.
    /// @param disputeId The dispute.
    /// @param rounds Rounds played (at most 3, so at most 5 + 11 + 23 seats of jurySize 5; 47 at most).
    /// @param option The final ruling.
    /// @param decided Whether the final ruling was decided.
    /// @param penaltyBps The penalty.
    /// @param extra Tokens added to the pot.
    /// @param sink Receiver of the pot when no seat is coherent.
    /// @return pot The total shared or swept.
    /// @return coherent The number of seats rewarded.
    function settle(
        uint256 disputeId,
        uint256 rounds,
        uint8 option,
        bool decided,
        uint256 penaltyBps,
        uint256 extra,
        address sink
    ) external onlyGovernor returns (uint256 pot, uint256 coherent) {
        (address[] memory seated, bool[] memory penalize) = _seatsToSettle(disputeId, rounds, option, decided);
        return _settleSeats(disputeId, seated, penalize, penaltyBps, extra, sink);
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
    /// @return weight Sum of draw weights.
    function pool() external view returns (uint256 size, uint256 weight) {
        return (_tree.size, _tree.total());
    }

    /// @notice A juror's draw weight (0 when not in the pool).
    /// @param account The account.
    /// @return The weight.
    function drawWeight(address account) external view returns (uint256) {
        return _tree.weightOf(account);
    }

    /// @notice The jurors drawn for round `round` of `disputeId`, excused ones included.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @return The jurors.
    function draftedJurors(uint256 disputeId, uint256 round) external view returns (address[] memory) {
        return _drafted[disputeId][round];
    }

    /// @notice `account`'s seat in round `round` of `disputeId`: 0 none, SEAT_DRAFTED, SEAT_EXCUSED,
    ///         SEAT_COMMITTED, or SEAT_REVEALED + the option revealed.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param account The juror.
    /// @return The seat state.
    function seatOf(uint256 disputeId, uint256 round, address account) external view returns (uint8) {
        return _seat[disputeId][round][account];
    }

    /// @notice `account`'s commitment in round `round` of `disputeId` (zero = none).
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @param account The juror.
    /// @return The commitment.
    function commitmentOf(uint256 disputeId, uint256 round, address account) external view returns (bytes32) {
        return _commitment[disputeId][round][account];
    }

    /// @notice The revealed votes per option of round `round` of `disputeId`.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @return The tallies (index = option).
    function tallyOf(uint256 disputeId, uint256 round) external view returns (uint8[9] memory) {
        return _tally[disputeId][round];
    }

    /// @notice The commitment of a vote: keccak256(abi.encode(option, salt, account, disputeId, round)). The juror
    ///         and round are inside, so a commitment can be neither copied by another juror nor replayed in an
    ///         appeal round.
    /// @param option The option.
    /// @param salt A secret random value (keep it until the reveal).
    /// @param account The juror.
    /// @param disputeId The dispute.
    /// @param round The round.
    /// @return The commitment.
    function voteCommitment(uint8 option, bytes32 salt, address account, uint256 disputeId, uint256 round)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(option, salt, account, disputeId, round));
    }

    /// @notice The bond token (Staking's token).
    /// @return The token.
    function token() external view returns (IERC20) {
        return _token();
    }

    // ------------------------------------------------------------------ private

    function _setBond(uint256 disputeId, address account, Juror storage j, uint256 bond, uint256 hi) private {
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 delta = int256(bond) - int256(uint256(j.bond));
        // forge-lint: disable-next-line(unsafe-typecast)
        j.bond = uint128(bond);
        // slither-disable-next-line unused-return
        if (j.leaveAt == 0) _tree.update(account, _weightOf(bond, hi));
        emit JurorBondChanged(account, disputeId, delta, bond);
    }

    /// @dev Draw weight: sqrt of the bond, counting at most `hi` (rewards may take a bond beyond it).
    function _weightOf(uint256 bond, uint256 hi) private pure returns (uint256) {
        return Math.sqrt(Math.min(bond, hi));
    }

    /// @dev {settle} over the seats `_seatsToSettle` listed.
    function _settleSeats(
        uint256 disputeId,
        address[] memory seated,
        bool[] memory penalize,
        uint256 penaltyBps,
        uint256 extra,
        address sink
    ) private returns (uint256 pot, uint256 coherent) {
        pot = extra;
        // slither-disable-next-line unused-return
        (, uint256 hi,) = governor.jurorLimits();
        for (uint256 i; i < seated.length; ++i) {
            Juror storage j = _jurors[seated[i]];
            j.openSeats -= 1;
            emit JurorSeatsChanged(seated[i], j.openSeats);
            if (!penalize[i]) {
                ++coherent;
                continue;
            }
            uint256 amount = Math.mulDiv(j.bond, penaltyBps, _BPS);
            pot += amount;
            _setBond(disputeId, seated[i], j, uint256(j.bond) - amount, hi);
        }
        if (coherent == 0) {
            if (pot != 0) {
                emit PenaltiesSwept(disputeId, sink, pot);
                _token().safeTransfer(sink, pot);
            }
            return (pot, 0);
        }
        uint256 share = pot / coherent;
        uint256 dust = pot % coherent;
        for (uint256 i; i < seated.length; ++i) {
            if (penalize[i]) continue;
            Juror storage j = _jurors[seated[i]];
            _setBond(disputeId, seated[i], j, uint256(j.bond) + share + dust, hi);
            dust = 0;
        }
    }

    /// @dev The non-excused seats of every round, and whether each is penalised: it revealed no vote, or the
    ///      final ruling was decided and it revealed another option.
    function _seatsToSettle(uint256 disputeId, uint256 rounds, uint8 option, bool decided)
        private
        view
        returns (address[] memory seated, bool[] memory penalize)
    {
        uint256 total = 0;
        for (uint256 r; r < rounds; ++r) {
            total += _drafted[disputeId][r].length;
        }
        seated = new address[](total);
        penalize = new bool[](total);
        uint256 n = 0;
        for (uint256 r; r < rounds; ++r) {
            address[] storage list = _drafted[disputeId][r];
            for (uint256 i; i < list.length; ++i) {
                uint8 st = _seat[disputeId][r][list[i]];
                if (st == SEAT_EXCUSED) continue;
                seated[n] = list[i];
                penalize[n++] = st < SEAT_REVEALED || (decided && st != SEAT_REVEALED + option);
            }
        }
        assembly ("memory-safe") {
            mstore(seated, n)
            mstore(penalize, n)
        }
    }

    function _notFrozen() private view {
        uint256 pending = governor.pendingDraws();
        if (pending != 0) revert PoolFrozen(pending);
    }

    function _token() private view returns (IERC20) {
        return staking.token();
    }
}
