// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeGovernor} from "../../contracts/governance/DisputeGovernor.sol";
import {JurorPool} from "../../contracts/governance/JurorPool.sol";
import {DisputeJury} from "../../contracts/governance/extensions/DisputeJury.sol";
import {GovernorParameterBounds} from "../../contracts/governance/extensions/GovernorParameterBounds.sol";
import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {DisputeJuryBase} from "./DisputeJuryBase.sol";

/// @notice The drafted jury of DisputeGovernor (DisputeJury + JurorPool) on the suite exactly as DeploySuite
///         deploys it: the pool, the mode switch, the draw and its exclusions, voting, penalties, appeals and
///         timing. docs/governance.md §3.
contract DisputeJuryTest is DisputeJuryBase {
    // ------------------------------------------------------------------ pool

    function test_JoinPullsBondAndWeighsBySquareRoot() public {
        address a = _juror("a", 40_000 ether);
        assertEq(s.token.balanceOf(address(pool)), 40_000 ether);
        assertEq(pool.juror(a).bond, 40_000 ether);
        assertEq(pool.drawWeight(a), 200e9, "sqrt(40,000e18)");
        (uint256 size, uint256 weight) = pool.pool();
        assertEq(size, 1);
        assertEq(weight, 200e9);
        assertEq(pool.seatHolder(pool.juror(a).identity), a);
    }

    function test_JoinRequiresAnIdentity() public {
        address a = makeAddr("unattested");
        _fund(a);
        vm.prank(a);
        s.token.approve(address(pool), type(uint256).max);
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.NoIdentity.selector, a));
        pool.joinJury(JBOND);
    }

    function test_OneSeatPerIdentity() public {
        address a = _juror("a", JBOND);
        uint256 id = pool.juror(a).identity;
        address b = makeAddr("b");
        _fund(b);
        _link(b, id);
        vm.prank(b);
        s.token.approve(address(pool), type(uint256).max);
        vm.prank(b);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.IdentityAlreadySeated.selector, id, a));
        pool.joinJury(JBOND);
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.AlreadyJuror.selector, a));
        pool.joinJury(JBOND);
    }

    function test_BondOutsideLimitsReverts() public {
        address a = _attested("a");
        vm.startPrank(a);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.BondOutOfBounds.selector, 99 ether, 100 ether, 1e24));
        pool.joinJury(99 ether);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.BondOutOfBounds.selector, 1e24 + 1, 100 ether, 1e24));
        pool.joinJury(1e24 + 1);
        vm.stopPrank();
    }

    function test_TopUpRaisesWeightUpToTheLimit() public {
        address a = _juror("a", JBOND);
        vm.prank(a);
        pool.topUp(30_000 ether);
        assertEq(pool.juror(a).bond, 40_000 ether);
        assertEq(pool.drawWeight(a), 200e9);
        vm.prank(a);
        vm.expectRevert(
            abi.encodeWithSelector(JurorPool.BondOutOfBounds.selector, 1e24 + 1, 40_000 ether + 1, 1e24)
        );
        pool.topUp(1e24 + 1 - 40_000 ether);
    }

    function test_LeaveIsARequestThenAWithdrawalAfterTheDelay() public {
        address a = _juror("a", JBOND);
        uint256 id = pool.juror(a).identity;
        uint256 before = s.token.balanceOf(a);
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.WithdrawNotReady.selector, a, 0));
        pool.withdrawBond();
        vm.prank(a);
        pool.requestLeave();
        (uint256 size,) = pool.pool();
        assertEq(size, 0, "out of the pool at once");
        uint256 at = pool.juror(a).leaveAt;
        assertEq(at, block.timestamp + 1 days);
        vm.prank(a);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.WithdrawNotReady.selector, a, at));
        pool.withdrawBond();
        _advanceTo(at);
        vm.prank(a);
        pool.withdrawBond();
        assertEq(s.token.balanceOf(a), before + JBOND);
        assertEq(pool.seatHolder(id), address(0), "the identity's seat is free again");
    }

    // ------------------------------------------------------------------ mode

    function test_SmallPoolLeavesDisputeToTheStakeVote() public {
        _jurors(2, JBOND);
        uint256 rid = _request(detModel);
        _answerAll(rid, OUT_A);
        vm.expectEmit(true, false, false, true, address(s.disputes));
        emit DisputeJury.DisputeMode(1, false, 2);
        vm.prank(challenger);
        uint256 did = s.registry.challenge(rid, OUT_B);
        assertFalse(s.disputes.juryCase(did).drafted);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.NotDrafted.selector, did));
        s.disputes.draw(did);
        assertEq(s.disputes.pendingDraws(), 0);
    }

    function test_PoolAtMinimumDraftsTheDispute() public {
        _jurors(3, JBOND);
        uint256 rid = _request(detModel);
        _answerAll(rid, OUT_A);
        vm.expectEmit(true, false, false, true, address(s.disputes));
        emit DisputeJury.DisputeMode(1, true, 3);
        vm.prank(challenger);
        uint256 did = s.registry.challenge(rid, OUT_B);
        assertTrue(s.disputes.juryCase(did).drafted);
        assertEq(s.disputes.juryRound(did, 0).size, 3);
        assertEq(s.disputes.pendingDraws(), 1);
    }

    // ------------------------------------------------------------------ draw

    function test_DrawNeedsTheNextBlockAndHappensOnce() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.DrawTooEarly.selector, did, block.number));
        s.disputes.draw(did);
        address[] memory drawn = _draw(did);
        assertEq(drawn.length, 3);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.AlreadyDrawn.selector, did, 0));
        s.disputes.draw(did);
    }

    function test_DrawClosesWithTheCommitPeriod() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        uint256 end = s.disputes.juryRound(did, 0).commitEnd;
        assertEq(end, s.disputes.dispute(did).voteEnd - s.disputes.juryParameters().revealPeriod);
        _advanceTo(end + 1);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.DrawClosed.selector, did, end));
        s.disputes.draw(did);
        // never drawn: the ruling is undecided and the pool thaws
        _advanceTo(uint256(s.disputes.dispute(did).voteEnd) + 1);
        s.disputes.resolve(did);
        assertFalse(s.disputes.dispute(did).decided);
        assertEq(s.disputes.pendingDraws(), 0);
    }

    function test_PoolIsFrozenUntilTheDraw() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory list = jurors;
        vm.prank(list[0]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.PoolFrozen.selector, 1));
        pool.topUp(1 ether);
        vm.prank(list[0]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.PoolFrozen.selector, 1));
        pool.requestLeave();
        _draw(did);
        vm.prank(list[0]);
        pool.topUp(1 ether);
    }

    function test_SeedMovesToALaterBlockAfter256Blocks() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        uint256 open = block.number;
        vm.roll(open + 300);
        vm.expectEmit(true, false, false, true, address(s.disputes));
        emit DisputeJury.JurySeedRefreshed(did, 0, open + 256);
        s.disputes.draw(did);
    }

    function test_DelegatorOfAnInvolvedOperatorIsExcusedAndNeverPenalised() public {
        _jurors(3, JBOND);
        (uint256 rid, uint256 did) = _dispute();
        address delegatorJuror = jurors[0];
        // the juror delegated to an assigned operator before the dispute: excused when drafted
        address op = s.registry.assignedOperators(rid)[0];
        vm.prank(delegatorJuror);
        s.staking.delegate(op, 1 ether);
        _draw(did);
        assertEq(pool.seatOf(did, 0, delegatorJuror), 2, "excused");
        assertEq(s.disputes.juryRound(did, 0).seats, 2);
        vm.prank(delegatorJuror);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.SeatExcused.selector, did, delegatorJuror));
        s.disputes.commitVote(did, bytes32(0));
        // nobody votes: both seated jurors lose 10 %, the excused one nothing
        _resolve(did);
        _executeAndSettle(did);
        assertEq(pool.juror(delegatorJuror).bond, JBOND);
        assertEq(pool.juror(jurors[1]).bond, JBOND - JBOND / 10);
        assertEq(pool.juror(jurors[2]).bond, JBOND - JBOND / 10);
    }

    function test_ChallengersIdentityIsExcused() public {
        _jurors(2, JBOND);
        // the challenger's person sits in the pool through another account of its identity
        address alt = makeAddr("challenger-alt");
        _fund(alt);
        _link(alt, s.identity.identityOf(challenger));
        vm.prank(alt);
        s.token.approve(address(pool), type(uint256).max);
        vm.prank(alt);
        pool.joinJury(JBOND);
        _advance(12);
        (, uint256 did) = _dispute();
        _draw(did);
        assertEq(pool.seatOf(did, 0, alt), 2, "excused");
    }

    /// @notice Fuzz: the draw returns only pool members, distinct, of the round's size, and excuses exactly
    ///         the delegators of involved operators.
    function testFuzz_DrawIsDistinctPoolMembersWithExclusions(bytes32 hash, uint8 n, uint256 bondSeed)
        public
    {
        n = uint8(bound(n, 5, 12));
        _setJury(5, 5, 0);
        for (uint256 i; i < n; ++i) {
            uint256 bond = bound(uint256(keccak256(abi.encode(bondSeed, i))), 100 ether, 100_000 ether);
            _juror(string.concat("f", vm.toString(i)), bond);
        }
        _advance(12);
        uint256 rid = _request(detModel);
        _answerAll(rid, OUT_A);
        address[] memory assigned = s.registry.assignedOperators(rid);
        // every third juror delegates to an assigned operator
        for (uint256 i; i < n; i += 3) {
            vm.prank(jurors[i]);
            s.staking.delegate(assigned[i % assigned.length], 1 ether);
        }
        vm.prank(challenger);
        uint256 did = s.registry.challenge(rid, OUT_B);
        vm.setBlockhash(block.number, hash);
        address[] memory drawn = _draw(did);
        assertEq(drawn.length, 5);
        uint256 seats;
        for (uint256 i; i < drawn.length; ++i) {
            assertTrue(pool.juror(drawn[i]).bond != 0, "a pool member");
            for (uint256 j; j < i; ++j) {
                assertTrue(drawn[i] != drawn[j], "distinct");
            }
            bool delegator;
            for (uint256 k; k < assigned.length; ++k) {
                delegator = delegator || s.staking.sharesOf(assigned[k], drawn[i]) != 0;
            }
            assertEq(pool.seatOf(did, 0, drawn[i]), delegator ? 2 : 1, "excused iff a delegator");
            if (!delegator) ++seats;
        }
        assertEq(s.disputes.juryRound(did, 0).seats, seats);
    }

    // ------------------------------------------------------------------ vote and ruling

    function test_OnlySeatedJurorsCommitOncePerSeat() public {
        _jurors(4, JBOND);
        _setJury(3, 3, 0);
        (, uint256 did) = _dispute();
        address[] memory drawn = _draw(did);
        address outsider;
        for (uint256 i; i < jurors.length; ++i) {
            bool found;
            for (uint256 j; j < drawn.length; ++j) {
                found = found || drawn[j] == jurors[i];
            }
            if (!found) outsider = jurors[i];
        }
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.NotSeated.selector, did, outsider));
        s.disputes.commitVote(did, bytes32(uint256(1)));
        address staker = delegators[0];
        vm.prank(staker);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.NotSeated.selector, did, staker));
        s.disputes.commitVote(did, bytes32(uint256(1)));
        _commit(did, drawn[0], 1);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.SeatAlreadyCommitted.selector, did, drawn[0]));
        s.disputes.commitVote(did, bytes32(uint256(2)));
        // the open vote of the stake-holder path is refused on a drafted dispute
        vm.prank(drawn[1]);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.CommitRevealRequired.selector, did));
        s.disputes.castVote(did, 1);
    }

    // ------------------------------------------------------------------ commit and reveal

    function test_RevealWithAWrongSaltOrOptionReverts() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory drawn = _draw(did);
        uint8 a = _option(did, OUT_A);
        _commit(did, drawn[0], a);
        _toReveal(did);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.CommitmentMismatch.selector, did, drawn[0]));
        s.disputes.revealVote(did, a, keccak256("another salt"));
        bytes32 salt = _salt(did, drawn[0]);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.CommitmentMismatch.selector, did, drawn[0]));
        s.disputes.revealVote(did, a == 1 ? 2 : 1, salt);
        // another juror cannot reveal a copied commitment either: the juror is inside the hash
        vm.prank(drawn[1]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.NothingToReveal.selector, did, drawn[1]));
        s.disputes.revealVote(did, a, salt);
        _reveal(did, drawn[0], a);
        assertEq(pool.seatOf(did, 0, drawn[0]), pool.SEAT_REVEALED() + a);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.NothingToReveal.selector, did, drawn[0]));
        s.disputes.revealVote(did, a, salt);
    }

    function test_CommitOnlyAfterTheDrawAndUntilCommitEnd() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        uint256 commitEnd = s.disputes.juryRound(did, 0).commitEnd;
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.CommitClosed.selector, did, commitEnd));
        s.disputes.commitVote(did, bytes32(uint256(1)));
        address[] memory drawn = _draw(did);
        _advanceTo(commitEnd + 1);
        vm.prank(drawn[0]);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.CommitClosed.selector, did, commitEnd));
        s.disputes.commitVote(did, bytes32(uint256(1)));
    }

    function test_RevealOnlyInsideTheRevealPeriod() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory drawn = _draw(did);
        uint8 a = _option(did, OUT_A);
        _commit(did, drawn[0], a);
        DisputeJury.Round memory rd = s.disputes.juryRound(did, 0);
        bytes32 salt = _salt(did, drawn[0]);
        bytes memory closed =
            abi.encodeWithSelector(DisputeJury.RevealClosed.selector, did, rd.commitEnd, rd.voteEnd);
        vm.prank(drawn[0]);
        vm.expectRevert(closed);
        s.disputes.revealVote(did, a, salt);
        _advanceTo(uint256(rd.voteEnd) + 1);
        vm.prank(drawn[0]);
        vm.expectRevert(closed);
        s.disputes.revealVote(did, a, salt);
    }

    function test_UnrevealedCommitmentIsPenalisedAsANonVote() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory d = _draw(did);
        uint8 a = _option(did, OUT_A);
        _vote(did, d[0], a);
        _vote(did, d[1], a);
        _commit(did, d[2], a); // committed for the winner, never revealed
        _resolve(did);
        assertTrue(s.disputes.dispute(did).decided);
        assertEq(s.disputes.juryRound(did, 0).votes, 2, "the unrevealed commitment is not a vote");
        _executeAndSettle(did);
        uint256 penalty = JBOND / 10;
        assertEq(pool.juror(d[2]).bond, JBOND - penalty, "penalised like a non-voter");
        assertEq(pool.juror(d[0]).bond + pool.juror(d[1]).bond, 2 * JBOND + penalty);
    }

    /// @notice Herding is impossible: while jurors commit, nothing on chain tells a later juror which option the
    ///         earlier ones chose (the tallies stay zero, the seats say only "committed", the commitment is a
    ///         salted hash), and once reveals start the commit period is over.
    function test_CommitmentsHideTheOptionUntilTheRevealPeriod() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory d = _draw(did);
        (uint8 a, uint8 b) = (_option(did, OUT_A), _option(did, OUT_B));
        _commit(did, d[0], a);
        _commit(did, d[1], b);
        uint8[9] memory t = pool.tallyOf(did, 0);
        for (uint256 i; i < 9; ++i) {
            assertEq(t[i], 0, "no tally while committing");
        }
        assertEq(pool.seatOf(did, 0, d[0]), pool.seatOf(did, 0, d[1]), "seats do not tell the options apart");
        assertEq(s.disputes.juryRound(did, 0).votes, 0);
        // the first reveal comes after the last moment a juror could commit
        _toReveal(did);
        _reveal(did, d[0], a);
        vm.prank(d[2]);
        vm.expectRevert(
            abi.encodeWithSelector(
                DisputeJury.CommitClosed.selector, did, s.disputes.juryRound(did, 0).commitEnd
            )
        );
        s.disputes.commitVote(did, bytes32(uint256(1)));
    }

    /// @notice Any (option, salt) other than the committed pair is refused; the committed pair is accepted.
    function testFuzz_OnlyTheCommittedOptionAndSaltReveal(
        uint8 option,
        bytes32 salt,
        uint8 tryOption,
        bytes32 trySalt
    ) public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory d = _draw(did);
        option = uint8(bound(option, 0, 2));
        tryOption = uint8(bound(tryOption, 0, 2));
        bytes32 h = pool.voteCommitment(option, salt, d[0], did, 0);
        vm.prank(d[0]);
        s.disputes.commitVote(did, h);
        _toReveal(did);
        if (tryOption != option || trySalt != salt) {
            vm.prank(d[0]);
            vm.expectRevert(abi.encodeWithSelector(JurorPool.CommitmentMismatch.selector, did, d[0]));
            s.disputes.revealVote(did, tryOption, trySalt);
        }
        vm.prank(d[0]);
        s.disputes.revealVote(did, option, salt);
        assertEq(pool.tallyOf(did, 0)[option], 1);
    }

    /// @notice A reveal is accepted exactly in (commitEnd, voteEnd].
    function testFuzz_RevealWindow(uint256 at) public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory d = _draw(did);
        _commit(did, d[0], 1);
        DisputeJury.Round memory rd = s.disputes.juryRound(did, 0);
        at = bound(at, block.timestamp, uint256(rd.voteEnd) + 1 days);
        vm.warp(at);
        bytes32 salt = _salt(did, d[0]);
        bool open = at > rd.commitEnd && at <= rd.voteEnd;
        if (!open) {
            vm.expectRevert(
                abi.encodeWithSelector(DisputeJury.RevealClosed.selector, did, rd.commitEnd, rd.voteEnd)
            );
        }
        vm.prank(d[0]);
        s.disputes.revealVote(did, 1, salt);
    }

    function test_RevealPeriodMustLeaveACommitPeriod() public {
        uint256 v = s.disputes.votingPeriod();
        DisputeJury.JuryParameters memory p = s.disputes.juryParameters();
        p.revealPeriod = uint32(v - 5 minutes + 1);
        vm.prank(address(s.timelock));
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.RevealPeriodTooLong.selector, p.revealPeriod, v));
        s.disputes.setJuryParameters(p);
        p.revealPeriod = uint32(v - 5 minutes);
        vm.prank(address(s.timelock));
        s.disputes.setJuryParameters(p);
        // and the voting period cannot shrink under it
        vm.prank(address(s.timelock));
        vm.expectRevert(
            abi.encodeWithSelector(DisputeJury.RevealPeriodTooLong.selector, p.revealPeriod, v - 1)
        );
        s.disputes.setVotingPeriod(v - 1);
    }

    function test_RulingNeedsMoreThanHalfTheSeats() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory drawn = _draw(did);
        uint8 a = _option(did, OUT_A);
        _vote(did, drawn[0], a);
        _resolve(did);
        assertFalse(s.disputes.dispute(did).decided, "1 of 3 seats is not a decision");
        assertEq(s.disputes.dispute(did).winner, 0);
    }

    function test_DecidedRulingPenalisesNonVotersAndIncoherentVotersForTheCoherent() public {
        _jurors(4, JBOND);
        _setJury(3, 4, 0);
        (uint256 rid, uint256 did) = _dispute();
        address[] memory d = _draw(did);
        (uint8 a, uint8 b) = (_option(did, OUT_A), _option(did, OUT_B));
        _vote(did, d[0], a);
        _vote(did, d[1], a);
        _vote(did, d[2], b);
        uint256 sum = _bondSum();
        _resolve(did);
        assertTrue(s.disputes.dispute(did).decided);
        assertEq(s.disputes.dispute(did).winner, a);
        _executeAndSettle(did);
        assertEq(s.registry.request(rid).output, OUT_A);
        assertEq(pool.juror(d[2]).bond, JBOND - JBOND / 10, "incoherent");
        assertEq(pool.juror(d[3]).bond, JBOND - JBOND / 10, "non-voter");
        assertEq(pool.juror(d[0]).bond, JBOND + JBOND / 10, "coherent: half the pot");
        assertEq(pool.juror(d[1]).bond, JBOND + JBOND / 10);
        assertEq(_bondSum(), sum, "bonds are conserved");
        assertEq(s.token.balanceOf(address(pool)), sum);
        assertEq(pool.juror(d[0]).openSeats, 0);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.NotSettleable.selector, did));
        s.disputes.settleJury(did);
    }

    function test_UndecidedRulingPenalisesOnlyNonVoters() public {
        _jurors(4, JBOND);
        _setJury(3, 4, 0);
        (, uint256 did) = _dispute();
        address[] memory d = _draw(did);
        (uint8 a, uint8 b) = (_option(did, OUT_A), _option(did, OUT_B));
        _vote(did, d[0], a);
        _vote(did, d[1], b);
        _resolve(did);
        assertFalse(s.disputes.dispute(did).decided, "2 of 4 is not more than half");
        _executeAndSettle(did);
        assertEq(pool.juror(d[0]).bond, JBOND + JBOND / 10);
        assertEq(pool.juror(d[1]).bond, JBOND + JBOND / 10, "a minority vote is not penalised when undecided");
        assertEq(pool.juror(d[2]).bond, JBOND - JBOND / 10);
        assertEq(pool.juror(d[3]).bond, JBOND - JBOND / 10);
    }

    function test_NoCoherentVoterSendsThePotToTheTreasury() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        _draw(did);
        uint256 before = s.token.balanceOf(address(s.timelock));
        _resolve(did);
        _executeAndSettle(did);
        assertEq(s.token.balanceOf(address(s.timelock)), before + 3 * (JBOND / 10));
    }

    function test_WithdrawWaitsForOpenSeats() public {
        _jurors(3, JBOND);
        (, uint256 did) = _dispute();
        address[] memory d = _draw(did);
        vm.prank(d[0]);
        pool.requestLeave();
        // a juror that asked to leave still sits and votes
        _vote(did, d[0], _option(did, OUT_A));
        _vote(did, d[1], _option(did, OUT_A));
        _resolve(did);
        _advance(1 days);
        vm.prank(d[0]);
        vm.expectRevert(abi.encodeWithSelector(JurorPool.JurorHasOpenSeats.selector, d[0], 1));
        pool.withdrawBond();
        _executeAndSettle(did);
        vm.prank(d[0]);
        pool.withdrawBond();
        assertEq(pool.juror(d[0]).bond, 0);
    }

    // ------------------------------------------------------------------ appeals and timing

    function test_MaxRulingDelayCountsEveryAppealRound() public {
        uint256 v = s.disputes.votingPeriod();
        uint256 t = s.timelock.getMinDelay();
        assertEq(s.disputes.maxRulingDelay(), v + t, "no appeals: as before");
        _setJury(3, 3, 2);
        assertEq(s.disputes.maxRulingDelay(), 3 * v + 2 * 1 hours + t);
    }

    function test_AppealSettersRecheckTiming() public {
        vm.prank(address(s.timelock));
        s.disputes.setVotingPeriod(2 days);
        DisputeJury.JuryParameters memory p = s.disputes.juryParameters();
        (p.appealRounds, p.appealWindow) = (2, 7 days);
        vm.prank(address(s.timelock));
        vm.expectPartialRevert(ISlasher.TimingInvariantViolated.selector);
        s.disputes.setJuryParameters(p);
    }

    function test_ParametersAreBoundedAndAdminOnly() public {
        DisputeJury.JuryParameters memory p = s.disputes.juryParameters();
        p.jurySize = 12;
        vm.prank(address(s.timelock));
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorParameterBounds.ParameterOutOfBounds.selector, bytes32("jurySize"), 12, 3, 11
            )
        );
        s.disputes.setJuryParameters(p);
        p = s.disputes.juryParameters();
        p.appealRounds = 3;
        vm.prank(address(s.timelock));
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorParameterBounds.ParameterOutOfBounds.selector, bytes32("appealRounds"), 3, 0, 2
            )
        );
        s.disputes.setJuryParameters(p);
        p = s.disputes.juryParameters();
        vm.expectRevert();
        s.disputes.setJuryParameters(p);
    }

    function test_AppealClosesAfterItsWindowAndTheLastRound() public {
        _jurors(7, JBOND);
        _setJury(3, 3, 1);
        (, uint256 did) = _dispute();
        _draw(did);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.AppealClosed.selector, did));
        s.disputes.appeal(did);
        _resolve(did);
        vm.prank(challenger);
        s.token.approve(address(s.disputes), type(uint256).max);
        vm.prank(challenger);
        s.disputes.appeal(did);
        assertEq(s.disputes.juryRound(did, 1).size, 7);
        assertEq(uint8(s.disputes.dispute(did).status), uint8(DisputeGovernor.Status.Voting));
        _draw(did);
        _resolve(did);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DisputeJury.AppealClosed.selector, did));
        s.disputes.appeal(did);
    }

    /// @notice Flow on the deployed suite: a cartel holding 45 % of the jury's draw weight backs a false
    ///         challenge and wins the first, small jury. The honest side appeals; the 7-seat round rules for the
    ///         correct result; the cartel appeals; the 15-seat round confirms it. The correct result stands, the
    ///         cartel's jurors lose bond to the honest ones, the honest appellant gets its deposit back and the
    ///         cartel's deposit goes to the coherent jurors. The seeds are chosen (vm.setBlockhash) to play this
    ///         sequence; the odds are in docs/governance.md.
    function test_CartelWith45PercentOfJuryWeightLosesOnAppeal() public {
        _setJury(20, 3, 2);
        // 11 honest jurors and 9 cartel jurors of equal bond: the cartel holds 9/20 = 45 % of the weight
        address[] memory cartel = new address[](9);
        for (uint256 i; i < 11; ++i) {
            _juror(string.concat("honest", vm.toString(i)), JBOND);
        }
        for (uint256 i; i < 9; ++i) {
            cartel[i] = _juror(string.concat("cartel", vm.toString(i)), JBOND);
        }
        address honestAppellant = jurors[0];
        address cartelAppellant = cartel[0];
        _advance(12);
        (uint256 rid, uint256 did) = _dispute();
        (uint8 a, uint8 b) = (_option(did, OUT_A), _option(did, OUT_B));
        uint256 sum = _bondSum();

        // round 0 (3 seats): a seed where the cartel holds the majority
        _playRound(did, cartel, a, b, true);
        assertEq(s.disputes.dispute(did).winner, b, "the cartel wins the small jury");
        uint256 honestBefore = s.token.balanceOf(honestAppellant);
        vm.prank(honestAppellant);
        s.disputes.appeal(did);
        // round 1 (7 seats): the honest majority
        _playRound(did, cartel, a, b, false);
        assertEq(s.disputes.dispute(did).winner, a);
        vm.prank(cartelAppellant);
        s.disputes.appeal(did);
        // round 2 (15 seats): the honest majority again; no appeal is left
        _playRound(did, cartel, a, b, false);
        assertEq(s.disputes.juryRound(did, 2).size, 15);
        assertTrue(s.disputes.dispute(did).decided);
        assertEq(s.disputes.dispute(did).winner, a);

        _executeAndSettle(did);
        assertEq(s.registry.request(rid).output, OUT_A, "the correct result stands");
        assertEq(s.slasher.slashCount(), 0, "no honest operator slashed");
        assertEq(
            s.token.balanceOf(honestAppellant), honestBefore, "the appeal that changed the ruling is refunded"
        );
        uint256 cartelSum;
        for (uint256 i; i < cartel.length; ++i) {
            cartelSum += pool.juror(cartel[i]).bond;
        }
        assertLt(cartelSum, 9 * JBOND, "the cartel lost bond");
        // bonds grew by exactly the forfeited cartel deposit
        assertEq(_bondSum(), sum + s.disputes.juryParameters().appealDeposit);
    }

    /// @dev Finds a block hash whose draw gives the cartel the majority of seats (or not, `cartelWins`), draws,
    ///      lets every seated juror vote its side and resolves.
    function _playRound(uint256 did, address[] memory cartel, uint8 honest, uint8 bad, bool cartelWins)
        internal
    {
        DisputeJury.JuryCase memory c = s.disputes.juryCase(did);
        DisputeJury.Round memory rd = s.disputes.juryRound(did, c.round);
        vm.roll(block.number + 1);
        for (uint256 salt;; ++salt) {
            bytes32 h = keccak256(abi.encode("seed", did, c.round, salt));
            address[] memory picks =
                pool.drawDistinct(keccak256(abi.encode(h, did, uint256(c.round))), rd.size);
            uint256 n;
            for (uint256 i; i < picks.length; ++i) {
                if (_isCartel(cartel, picks[i])) ++n;
            }
            if ((2 * n > picks.length) == cartelWins) {
                vm.setBlockhash(rd.drawBlock, h);
                break;
            }
        }
        s.disputes.draw(did);
        address[] memory d = pool.draftedJurors(did, c.round);
        for (uint256 i; i < d.length; ++i) {
            _vote(did, d[i], _isCartel(cartel, d[i]) ? bad : honest);
        }
        _resolve(did);
    }

    function _isCartel(address[] memory cartel, address a) internal pure returns (bool) {
        for (uint256 i; i < cartel.length; ++i) {
            if (cartel[i] == a) return true;
        }
        return false;
    }
}
