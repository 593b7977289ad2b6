// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeGovernor} from "../../../contracts/governance/DisputeGovernor.sol";
import {JurorPool} from "../../../contracts/governance/JurorPool.sol";
import {DisputeJury} from "../../../contracts/governance/extensions/DisputeJury.sol";
import {DisputeJuryBase} from "../DisputeJuryBase.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {console} from "forge-std/console.sol";

/// @notice Drives the drafted jury with random joins, top-ups, leaves, withdrawals, disputes, draws, votes
///         (from any account), rulings, appeals, executions and settlements, and records what must never happen.
contract DisputeJuryHandler is CommonBase, StdUtils {
    DisputeJuryInvariants internal immutable t;
    DisputeGovernor internal immutable gov;
    JurorPool internal immutable pool;
    IERC20 internal immutable token;
    address[] public actors;
    uint256[] public disputes;

    /// @notice A vote was accepted from an account without a drafted, non-excused seat.
    uint256 public ghostNonDraftedVotes;
    /// @notice A reveal was accepted that does not match the juror's commitment, or outside the reveal period.
    uint256 public ghostBadReveals;
    /// @notice A commitment was accepted outside the commit period.
    uint256 public ghostLateCommits;
    /// @notice During a commit period, a seat's option was readable on chain (a tally moved before reveals).
    uint256 public ghostVisibleBeforeReveal;
    /// @notice Accepted commitments.
    uint256 public committed;
    /// @notice Successful calls, to show the run is not vacuous (logged by `afterInvariant`).
    uint256 public drawn;
    /// @notice Accepted jury votes.
    uint256 public voted;
    /// @notice Settled juries.
    uint256 public settled;
    /// @notice A juror whose every seat in a dispute was excused lost bond at that dispute's settlement.
    uint256 public ghostExcusedPenalised;

    constructor(DisputeJuryInvariants t_, address[] memory actors_) {
        t = t_;
        gov = t_.governor();
        pool = gov.jurorPool();
        token = pool.token();
        actors = actors_;
    }

    function _actor(uint256 r) internal view returns (address) {
        return actors[r % actors.length];
    }

    function _dispute(uint256 r) internal view returns (uint256) {
        return disputes.length == 0 ? 0 : disputes[r % disputes.length];
    }

    function join(uint256 r, uint256 bond) external {
        address a = _actor(r);
        vm.prank(a);
        try pool.joinJury(bound(bond, 100 ether, 50_000 ether)) {} catch {}
    }

    function topUp(uint256 r, uint256 amount) external {
        vm.prank(_actor(r));
        try pool.topUp(bound(amount, 1, 10_000 ether)) {} catch {}
    }

    function leave(uint256 r) external {
        vm.prank(_actor(r));
        try pool.requestLeave() {} catch {}
    }

    function withdraw(uint256 r) external {
        vm.prank(_actor(r));
        try pool.withdrawBond() {} catch {}
    }

    function open() external {
        if (disputes.length >= 6) return;
        try t.openDispute() returns (uint256 did) {
            disputes.push(did);
        } catch {}
    }

    function draw(uint256 r) external {
        vm.roll(block.number + 1);
        try gov.draw(_dispute(r)) {
            ++drawn;
        } catch {}
    }

    /// @dev The salt an actor commits with in `round` of `did`; `wrong` gives another.
    function _salt(uint256 did, uint256 round, address a, bool wrong) internal pure returns (bytes32) {
        return keccak256(abi.encode(did, round, a, wrong));
    }

    /// @dev The option an actor commits to in `round` of `did` (fixed, so a reveal can find it).
    function _choice(uint256 did, uint256 round, address a) internal pure returns (uint8) {
        return uint8(uint256(keccak256(abi.encode("option", did, round, a))) % 3);
    }

    function _pick(uint256 r, uint256 did, uint256 round) internal view returns (address) {
        address[] memory seated = pool.draftedJurors(did, round);
        // half of the time a drawn juror (seated or excused), else any actor
        return r % 2 == 0 && seated.length != 0 ? seated[(r / 2) % seated.length] : _actor(r / 2);
    }

    function vote(uint256 r, uint256 d) external {
        uint256 did = _dispute(d);
        if (did == 0) return;
        uint256 round = gov.juryCase(did).round;
        address a = _pick(r, did, round);
        uint8 seat = pool.seatOf(did, round, a);
        bytes32 h = pool.voteCommitment(_choice(did, round, a), _salt(did, round, a, false), a, did, round);
        uint256[9] memory before = _tally(did, round);
        vm.prank(a);
        try gov.commitVote(did, h) {
            if (seat != pool.SEAT_DRAFTED()) ++ghostNonDraftedVotes;
            if (block.timestamp > gov.juryRound(did, round).commitEnd) ++ghostLateCommits;
            uint256[9] memory afterCommit = _tally(did, round);
            for (uint256 i; i < 9; ++i) {
                if (afterCommit[i] != before[i]) ++ghostVisibleBeforeReveal;
            }
            ++committed;
        } catch {}
    }

    function reveal(uint256 r, uint256 d, bool wrongSalt) external {
        uint256 did = _dispute(d);
        if (did == 0) return;
        uint256 round = gov.juryCase(did).round;
        address a = _pick(r, did, round);
        DisputeJury.Round memory rd = gov.juryRound(did, round);
        vm.prank(a);
        try gov.revealVote(did, _choice(did, round, a), _salt(did, round, a, wrongSalt)) {
            if (wrongSalt || block.timestamp <= rd.commitEnd || block.timestamp > rd.voteEnd) {
                ++ghostBadReveals;
            }
            ++voted;
        } catch {}
    }

    function _tally(uint256 did, uint256 round) internal view returns (uint256[9] memory tally) {
        uint8[9] memory u = pool.tallyOf(did, round);
        for (uint256 i; i < 9; ++i) {
            tally[i] = u[i];
        }
    }

    /// @notice Moves time forward a little (so both commit and reveal periods are visited).
    function wait(uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 40 minutes));
        vm.roll(block.number + 1);
    }

    function resolve(uint256 d, uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 2 hours));
        vm.roll(block.number + 1);
        try gov.resolve(_dispute(d)) {} catch {}
    }

    function appeal(uint256 r, uint256 d) external {
        vm.prank(_actor(r));
        try gov.appeal(_dispute(d)) {} catch {}
    }

    function execute(uint256 d, uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 13 hours));
        try gov.execute(_dispute(d)) {} catch {}
    }

    function settle(uint256 d) external {
        uint256 did = _dispute(d);
        if (did == 0) return;
        DisputeJury.JuryCase memory c = gov.juryCase(did);
        address[] memory excusedOnly = new address[](actors.length);
        uint256[] memory before = new uint256[](actors.length);
        for (uint256 i; i < actors.length; ++i) {
            bool excused;
            bool seated;
            for (uint256 r; r <= c.round; ++r) {
                uint8 s = pool.seatOf(did, r, actors[i]);
                excused = excused || s == 2;
                seated = seated || (s != 0 && s != 2);
            }
            if (excused && !seated) (excusedOnly[i], before[i]) = (actors[i], pool.juror(actors[i]).bond);
        }
        try gov.settleJury(did) {
            ++settled;
            for (uint256 i; i < actors.length; ++i) {
                if (excusedOnly[i] != address(0) && pool.juror(excusedOnly[i]).bond < before[i]) {
                    ++ghostExcusedPenalised;
                }
            }
        } catch {}
    }

    /// @notice Sum of every actor's bond.
    function bondSum() external view returns (uint256 sum) {
        for (uint256 i; i < actors.length; ++i) {
            sum += pool.juror(actors[i]).bond;
        }
    }
}

/// @notice Invariants of the drafted jury on the DeploySuite wiring: bonds are conserved (the pool holds
///         exactly the sum of bonds), nobody only excused is penalised, and no account without a drafted seat
///         ever votes on a drafted dispute.
contract DisputeJuryInvariants is DisputeJuryBase {
    DisputeJuryHandler internal handler;

    function setUp() public override {
        super.setUp();
        _setJury(4, 3, 2);
        // rounds of 1 hour: 30 minutes of commits, then 30 minutes of reveals
        DisputeJury.JuryParameters memory p = s.disputes.juryParameters();
        p.revealPeriod = 30 minutes;
        vm.prank(address(s.timelock));
        s.disputes.setJuryParameters(p);
        vm.prank(address(s.timelock));
        s.disputes.setVotingPeriod(1 hours);
        address[] memory actors = new address[](8);
        for (uint256 i; i < 8; ++i) {
            actors[i] = _juror(string.concat("actor", vm.toString(i)), 1000 ether);
        }
        // two actors delegate to every operator, so that drafted ones are excused
        for (uint256 i; i < ops.length; ++i) {
            vm.prank(actors[0]);
            s.staking.delegate(ops[i], 1 ether);
            vm.prank(actors[1]);
            s.staking.delegate(ops[i], 1 ether);
        }
        _advance(12);
        handler = new DisputeJuryHandler(this, actors);
        targetContract(address(handler));
    }

    /// @notice The governor under test (for the handler).
    function governor() external view returns (DisputeGovernor) {
        return s.disputes;
    }

    /// @notice Opens a dispute over a correct, challenged result (for the handler).
    function openDispute() external returns (uint256 did) {
        (, did) = _dispute();
    }

    /// @notice The handler's steps do reach the jury: a dispute is opened, drawn, committed, revealed, ruled,
    ///         executed and settled through them (so the invariants are not checked over reverted calls only).
    function test_HandlerReachesEveryStep() public {
        handler.open();
        handler.draw(0);
        assertEq(handler.drawn(), 1, "drawn");
        for (uint256 i; i < 6; i += 2) {
            handler.vote(i, 0);
        }
        assertGt(handler.committed(), 0, "committed");
        // into the reveal period (the last half of the 1-hour round)
        handler.wait(31 minutes);
        for (uint256 i; i < 6; i += 2) {
            handler.reveal(i, 0, true); // wrong salts are refused
            handler.reveal(i, 0, false);
        }
        assertGt(handler.voted(), 0, "revealed");
        handler.resolve(0, 2 hours);
        handler.execute(0, 13 hours);
        handler.settle(0);
        assertEq(handler.settled(), 1, "settled");
    }

    function afterInvariant() public view {
        console.log("draws", handler.drawn(), "commits", handler.committed());
        console.log("reveals", handler.voted());
        console.log("settlements", handler.settled());
    }

    function invariant_BondsAreConserved() public view {
        assertEq(s.token.balanceOf(address(pool)), handler.bondSum());
    }

    function invariant_NobodyExcusedIsPenalised() public view {
        assertEq(handler.ghostExcusedPenalised(), 0);
    }

    function invariant_NoVoteWithoutADraftedSeat() public view {
        assertEq(handler.ghostNonDraftedVotes(), 0);
    }

    function invariant_RevealsMatchTheirCommitmentInsideTheRevealPeriod() public view {
        assertEq(handler.ghostBadReveals(), 0);
    }

    function invariant_CommitsOnlyInTheCommitPeriod() public view {
        assertEq(handler.ghostLateCommits(), 0);
    }

    function invariant_NoOptionIsVisibleWhileCommitting() public view {
        assertEq(handler.ghostVisibleBeforeReveal(), 0);
    }
}
