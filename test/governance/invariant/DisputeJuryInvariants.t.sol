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

    function vote(uint256 r, uint256 d, uint8 option) external {
        uint256 did = _dispute(d);
        if (did == 0) return;
        uint256 round = gov.juryCase(did).round;
        address[] memory seated = gov.draftedJurors(did, round);
        // half of the time a drawn juror (seated or excused), else any actor
        address a = r % 2 == 0 && seated.length != 0 ? seated[(r / 2) % seated.length] : _actor(r / 2);
        uint8 seat = gov.seatOf(did, round, a);
        vm.prank(a);
        try gov.castVote(did, uint8(option % 3)) {
            if (gov.juryCase(did).drafted && seat != 1) ++ghostNonDraftedVotes;
            ++voted;
        } catch {}
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
                uint8 s = gov.seatOf(did, r, actors[i]);
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

    /// @notice The handler's steps do reach the jury: a dispute is opened, drawn, voted, ruled, executed and
    ///         settled through them (so the invariants are not checked over reverted calls only).
    function test_HandlerReachesEveryStep() public {
        handler.open();
        handler.draw(0);
        assertEq(handler.drawn(), 1, "drawn");
        for (uint256 i; i < 6; i += 2) {
            handler.vote(i, 0, 1);
        }
        assertGt(handler.voted(), 0, "voted");
        handler.resolve(0, 2 hours);
        handler.execute(0, 13 hours);
        handler.settle(0);
        assertEq(handler.settled(), 1, "settled");
    }

    function afterInvariant() public view {
        console.log("draws", handler.drawn(), "votes", handler.voted());
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
}
