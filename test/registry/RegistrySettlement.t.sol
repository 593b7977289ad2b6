// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {RegistryBase} from "./RegistryBase.t.sol";
import {Statements} from "./utils/Statements.sol";

/// @notice Requests, finalization, expiry, challenges, disagreement disputes, missed reports, equivocation,
///         payouts.
contract RegistrySettlementTest is RegistryBase {
    bytes32 internal constant X = keccak256("X");
    bytes32 internal constant Y = keccak256("Y");
    bytes32 internal constant Z = keccak256("Z");

    // ------------------------------------------------------------------ requestInference
    function test_RequestInferenceEscrowsFeeAndAssignsDistinctOperators() public {
        uint256 before = token.balanceOf(client);
        vm.expectEmit(true, true, true, false, address(registry));
        emit IInferenceRegistry.RequestCreated(1, detModel, client, bytes32(0), "", 0, 0);
        uint256 rid = _request(detModel);
        assertEq(rid, 1);
        assertEq(token.balanceOf(client), before - FEE);
        assertEq(token.balanceOf(address(registry)), FEE);
        address[] memory a = registry.assignedOperators(rid);
        assertEq(a.length, 3);
        assertTrue(a[0] != a[1] && a[1] != a[2] && a[0] != a[2]);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Open));
        assertEq(v.client, client);
        assertEq(v.fee, FEE);
        assertEq(v.k, 3);
        assertEq(v.q, 2);
        assertEq(v.output, bytes32(0));
    }

    function test_RevertWhen_RequestBadInputs() public {
        vm.startPrank(client);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownModel.selector, _n("m")));
        registry.requestInference(_n("m"), X, "", FEE, uint40(block.timestamp + 1 hours));
        vm.expectRevert(IInferenceRegistry.ZeroInputHash.selector);
        registry.requestInference(detModel, bytes32(0), "", FEE, uint40(block.timestamp + 1 hours));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.FeeOutOfRange.selector, 1e15 - 1, 1e15, type(uint96).max
            )
        );
        registry.requestInference(detModel, X, "", 1e15 - 1, uint40(block.timestamp + 1 hours));
        uint256 big = uint256(type(uint96).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.FeeOutOfRange.selector, big, 1e15, type(uint96).max)
        );
        registry.requestInference(detModel, X, "", big, uint40(block.timestamp + 1 hours));
        uint256 t = block.timestamp;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.InvalidDeadline.selector, t + 59, t + 60, t + 1 days)
        );
        registry.requestInference(detModel, X, "", FEE, SafeCast.toUint40(t + 59));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.InvalidDeadline.selector, t + 1 days + 1, t + 60, t + 1 days
            )
        );
        registry.requestInference(detModel, X, "", FEE, SafeCast.toUint40(t + 1 days + 1));
        vm.stopPrank();
    }

    function test_RevertWhen_NotEnoughSelectableOperators() public {
        for (uint256 i; i < N_OPS - 2; ++i) {
            staking.setJailed(ops[i], true);
        }
        vm.prank(client);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.InsufficientOperators.selector, detModel, 2, 3)
        );
        registry.requestInference(detModel, X, "", FEE, uint40(block.timestamp + 1 hours));
    }

    function testFuzz_AssignmentSkipsJailedAndNonServing(bytes32 randao, uint8 jailMask) public {
        jailMask = jailMask & 0x3f;
        uint256 jailed;
        for (uint256 i; i < N_OPS; ++i) {
            if (jailMask & (2 ** i) != 0) {
                staking.setJailed(ops[i], true);
                ++jailed;
            }
        }
        vm.prank(ops[0]);
        registry.stopServing(detModel);
        uint256 selectable = N_OPS - 1 - (jailMask & 1 == 0 ? jailed : jailed - 1);
        vm.assume(selectable >= 3);
        vm.prevrandao(randao);
        uint256 rid = _request(detModel);
        address[] memory a = registry.assignedOperators(rid);
        for (uint256 i; i < a.length; ++i) {
            assertTrue(a[i] != ops[0], "non-serving picked");
            (,,, bool isJailed) = staking.ops(a[i]);
            assertFalse(isJailed, "jailed picked");
        }
    }

    function test_SelectionIsStakeWeighted() public {
        staking.setStake(ops[0], 20 * STAKE); // 20/25 of the optimistic model's weight
        uint256 hits;
        for (uint256 i; i < 100; ++i) {
            vm.prevrandao(bytes32(i));
            uint256 rid = _request(optModel);
            if (registry.assignedOperators(rid)[0] == ops[0]) ++hits;
        }
        assertGt(hits, 65);
        assertLt(hits, 95);
    }

    // ------------------------------------------------------------------ finalize
    function test_FinalizePaysAgreeingOperatorsDustToFirst() public {
        vm.prank(client);
        uint256 rid = registry.requestInference(detModel, X, "", 1e18, uint40(block.timestamp + 1 hours));
        address a0 = _answer(rid, 0, X);
        address a1 = _answer(rid, 1, X);
        address a2 = _answer(rid, 2, X);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ChallengeWindowOpen.selector, rid, registry.request(rid).windowEnd
            )
        );
        registry.finalize(rid);
        _toFinal(rid);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.RequestFinalized(rid, X);
        registry.finalize(rid);
        uint256 share = uint256(1e18) / 3;
        assertEq(registry.credits(a0), share + 1); // 1e18 = 3 * share + 1

        assertEq(registry.credits(a1), share);
        assertEq(registry.credits(a2), share);
        vm.prank(a1);
        assertEq(registry.claim(), share);
        assertEq(token.balanceOf(a1), share);
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NothingToClaim.selector, a1));
        registry.claim();
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotFinalizable.selector, rid, IInferenceRegistry.RequestStatus.Finalized
            )
        );
        registry.finalize(rid);
    }

    function test_FinalizeWithMissingOperatorThenReportMissed() public {
        uint256 rid = _request(detModel);
        address a0 = _answer(rid, 0, X);
        _answer(rid, 1, X);
        address missing = registry.assignedOperators(rid)[2];
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.DeadlineNotPassed.selector, rid, registry.request(rid).deadline
            )
        );
        registry.reportMissed(rid, missing);
        _toFinal(rid);
        registry.finalize(rid);
        assertEq(registry.credits(a0), FEE / 2);
        assertEq(registry.credits(missing), 0);
        address reporter = makeAddr("reporter");
        vm.prank(reporter);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.MissedReported(rid, missing, reporter, 1);
        registry.reportMissed(rid, missing);
        (ISlasher.FaultKind kind, address op, bytes32 ref, address rep) = slasher.calls(0);
        assertEq(uint8(kind), uint8(ISlasher.FaultKind.MissedAssignment));
        assertEq(op, missing);
        assertEq(ref, bytes32(rid));
        assertEq(rep, reporter);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.MissedAlreadyReported.selector, rid, missing)
        );
        registry.reportMissed(rid, missing);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.OperatorAnswered.selector, rid, a0));
        registry.reportMissed(rid, a0);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotAssigned.selector, rid, client));
        registry.reportMissed(rid, client);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownRequest.selector, 77));
        registry.reportMissed(77, client);
    }

    function test_ExpireRefundsClientWhenNoAnswer() public {
        uint256 rid = _request(detModel);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotFinalizable.selector, rid, IInferenceRegistry.RequestStatus.Open
            )
        );
        registry.finalize(rid);
        vm.warp(registry.request(rid).deadline + 1);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.RequestExpired(rid);
        registry.finalize(rid);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Expired));
        assertEq(registry.credits(client), FEE);
        address[] memory a = registry.assignedOperators(rid);
        for (uint256 i; i < 3; ++i) {
            registry.reportMissed(rid, a[i]);
        }
        assertEq(slasher.callCount(), 3);
    }

    function test_ExpireWithSingleAnswerBelowQuorum() public {
        uint256 rid = _request(detModel);
        address a0 = _answer(rid, 0, X);
        vm.warp(registry.request(rid).deadline + 1);
        registry.finalize(rid);
        assertEq(registry.credits(client), FEE);
        assertEq(registry.credits(a0), 0);
    }

    function test_RevertWhen_FinalizeDisagreementAfterDeadline() public {
        uint256 rid = _request(detModel);
        _answer(rid, 0, X);
        _answer(rid, 1, Y);
        vm.warp(registry.request(rid).deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.DisagreementMustBeEscalated.selector, rid));
        registry.finalize(rid);
    }

    function test_RevertWhen_FinalizeUnknown() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotFinalizable.selector, 5, IInferenceRegistry.RequestStatus.None
            )
        );
        registry.finalize(5);
    }

    // ------------------------------------------------------------------ challenge
    function _optimisticAnswered() internal returns (uint256 rid, address op) {
        rid = _request(optModel);
        op = _answer(rid, 0, X);
    }

    function test_ChallengeOpensDispute() public {
        (uint256 rid, address op) = _optimisticAnswered();
        uint256 before = token.balanceOf(challenger);
        vm.prank(challenger);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.Challenged(rid, challenger, Y, BOND);
        uint256 did = registry.challenge(rid, Y);
        assertEq(token.balanceOf(challenger), before - BOND);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Disputed));
        bytes32[] memory c = resolver.candidatesOf(did);
        assertEq(c.length, 2);
        assertEq(c[0], X);
        assertEq(c[1], Y);
        address[] memory inv = resolver.involvedOf(did);
        assertEq(inv.length, 2);
        assertEq(inv[0], op);
        assertEq(inv[1], challenger);
        assertEq(registry.request(rid).disputeId, did);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotChallengeable.selector, rid, IInferenceRegistry.RequestStatus.Disputed
            )
        );
        registry.challenge(rid, Z);
    }

    function test_ChallengerWinsGetsBondAndReporterCredit() public {
        (uint256 rid, address op) = _optimisticAnswered();
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.DisputeResolved(did, rid, Y);
        resolver.resolve(did, Y);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(v.output, Y);
        assertEq(registry.credits(challenger), BOND);
        assertEq(registry.credits(client), FEE); // no operator produced Y
        assertEq(registry.credits(op), 0);
        (ISlasher.FaultKind kind, address slashed, bytes32 ref, address rep) = slasher.calls(0);
        assertEq(uint8(kind), uint8(ISlasher.FaultKind.WrongResult));
        assertEq(slashed, op);
        assertEq(ref, bytes32(rid));
        assertEq(rep, challenger);
        (, bytes32 opAnswer) = registry.answerOf(rid, op);
        assertEq(opAnswer, X);
    }

    function test_ChallengerLosesBondGoesToAgreeingOperator() public {
        (uint256 rid, address op) = _optimisticAnswered();
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        resolver.resolve(did, X);
        assertEq(registry.credits(op), FEE + BOND);
        assertEq(registry.credits(challenger), 0);
        assertEq(slasher.callCount(), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.DisputeNotOpen.selector, rid, IInferenceRegistry.RequestStatus.Finalized
            )
        );
        resolver.resolve(did, Y);
    }

    function test_NoValidResultRefundsAndBondToTreasury() public {
        (uint256 rid, address op) = _optimisticAnswered();
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        resolver.resolve(did, bytes32(0));
        assertEq(registry.credits(client), FEE);
        assertEq(registry.credits(treasury), BOND);
        assertEq(registry.credits(challenger), 0);
        (,,, address rep) = slasher.calls(0);
        assertEq(rep, address(0));
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.WrongResult, op, bytes32(rid)));
        assertEq(registry.request(rid).output, bytes32(0));
    }

    /// @notice A challenger must name a concrete alternative output: an empty claim ("no valid result") is
    ///         refused, so nobody can be paid for claiming that a correct result has none (security finding 1).
    function test_RevertWhen_ChallengeClaimsNoConcreteOutput() public {
        (uint256 rid,) = _optimisticAnswered();
        vm.startPrank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidOutputHash.selector, bytes32(0)));
        registry.challenge(rid, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.InvalidOutputHash.selector, bytes32(uint256(1)))
        );
        registry.challenge(rid, bytes32(uint256(1)));
        vm.stopPrank();
    }

    /// @notice An undecided ruling (no quorum) on a challenge leaves the result standing: operators are paid,
    ///         the challenger's bond goes to them, nobody is slashed.
    function test_UndecidedChallengeKeepsResultAndForfeitsBond() public {
        (uint256 rid, address op) = _optimisticAnswered();
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        resolver.resolveUndecided(did);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(v.output, X);
        assertEq(registry.credits(op), FEE + BOND); // fee + the forfeited bond
        assertEq(registry.credits(challenger), 0);
        assertEq(slasher.callCount(), 0);
    }

    /// @notice An undecided ruling on an escalated disagreement refunds the client and slashes nobody.
    function test_UndecidedEscalationRefundsAndSlashesNobody() public {
        uint256 rid = _request(detModel);
        _answer(rid, 0, X);
        _answer(rid, 1, Y);
        _answer(rid, 2, keccak256("Z"));
        uint256 did = registry.escalate(rid);
        resolver.resolveUndecided(did);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(v.output, bytes32(0));
        assertEq(registry.credits(client), FEE);
        assertEq(slasher.callCount(), 0);
    }

    function test_RevertWhen_ChallengeBadTiming() public {
        uint256 rid = _request(detModel);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotChallengeable.selector, rid, IInferenceRegistry.RequestStatus.Open
            )
        );
        registry.challenge(rid, Y);
        (uint256 rid2,) = _optimisticAnswered();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ClaimMatchesResult.selector, rid2));
        registry.challenge(rid2, X);
        uint40 end = registry.request(rid2).windowEnd;
        vm.warp(end + 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ChallengeWindowClosed.selector, rid2, end));
        registry.challenge(rid2, Y);
    }

    function test_DeterministicChallengeSlashesAllAgreeingLosers() public {
        uint256 rid = _request(detModel);
        address a0 = _answer(rid, 0, X);
        address a1 = _answer(rid, 1, X);
        address a2 = _answer(rid, 2, Y); // dissenter
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        assertEq(resolver.candidatesOf(did).length, 2);
        resolver.resolve(did, Y);
        assertEq(registry.credits(a2), FEE);
        assertEq(registry.credits(challenger), BOND);
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.WrongResult, a0, bytes32(rid)));
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.WrongResult, a1, bytes32(rid)));
        assertFalse(slasher.wasSlashed(ISlasher.FaultKind.WrongResult, a2, bytes32(rid)));
        (, bytes32 out0) = registry.answerOf(rid, a0);
        (, bytes32 out2) = registry.answerOf(rid, a2);
        assertEq(out0, X);
        assertEq(out2, Y);
    }

    function test_ChallengeBeforeDeadlineExcusesSilentOperators() public {
        uint256 rid = _request(detModel);
        _answer(rid, 0, X);
        _answer(rid, 1, X);
        address silent = registry.assignedOperators(rid)[2];
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        resolver.resolve(did, X);
        vm.warp(registry.request(rid).deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.OperatorExcused.selector, rid, silent));
        registry.reportMissed(rid, silent);
    }

    function test_FailingSlashDoesNotBlockRuling() public {
        (uint256 rid, address op) = _optimisticAnswered();
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, Y);
        slasher.setShouldRevert(true);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.SlashRequestFailed(rid, op);
        resolver.resolve(did, Y);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Finalized));
    }

    function test_RevertWhen_RulingFromNonResolverOrUnknownDispute() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnauthorizedCaller.selector, address(this)));
        registry.onDisputeResolved(1, X, true);
        vm.prank(address(resolver));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownDispute.selector, 42));
        registry.onDisputeResolved(42, X, true);
    }

    // ------------------------------------------------------------------ escalate
    function test_EscalateWhenQuorumImpossible() public {
        uint256 rid = _request(detModel);
        address a0 = _answer(rid, 0, X);
        _answer(rid, 1, Y);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.QuorumStillPossible.selector, rid));
        registry.escalate(rid);
        address a2 = _answer(rid, 2, Z);
        uint256 did = registry.escalate(rid);
        bytes32[] memory c = resolver.candidatesOf(did);
        assertEq(c.length, 3);
        assertEq(resolver.involvedOf(did).length, 3);
        resolver.resolve(did, Z);
        assertEq(registry.credits(a2), FEE);
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.WrongResult, a0, bytes32(rid)));
        (,,, address rep) = slasher.calls(0);
        assertEq(rep, address(0));
    }

    function test_EscalateAfterDeadlineLeavesSilentOperatorMissed() public {
        uint256 rid = _request(detModel);
        _answer(rid, 0, X);
        _answer(rid, 1, Y);
        address silent = registry.assignedOperators(rid)[2];
        vm.warp(registry.request(rid).deadline + 1);
        registry.escalate(rid);
        registry.reportMissed(rid, silent);
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.MissedAssignment, silent, bytes32(rid)));
    }

    function test_RevertWhen_EscalateWithoutDisagreement() public {
        uint256 rid = _request(detModel);
        _answer(rid, 0, X);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NoDisagreement.selector, rid));
        registry.escalate(rid);
        _answer(rid, 1, X);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotChallengeable.selector, rid, IInferenceRegistry.RequestStatus.Quorum
            )
        );
        registry.escalate(rid);
    }

    // ------------------------------------------------------------------ equivocation
    function test_EquivocationSlashesAndForfeitsReward() public {
        uint256 rid = _request(detModel);
        address a0 = _answer(rid, 0, X);
        address a1 = _answer(rid, 1, X);
        _answer(rid, 2, X);
        IInferenceRegistry.Attestation memory att1 = _att(rid, a0, X);
        IInferenceRegistry.Attestation memory att2 = _att(rid, a0, Y);
        address reporter = makeAddr("reporter");
        bytes memory s1 = _sign(att1, signerKey[a0]);
        bytes memory s2 = _sign(att2, signerKey[a0]);
        vm.prank(reporter);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.EquivocationReported(rid, a0, reporter, 1);
        registry.reportEquivocation(Statements.signed(att1, s1), Statements.signed(att2, s2));
        (ISlasher.FaultKind kind,,, address rep) = slasher.calls(0);
        assertEq(uint8(kind), uint8(ISlasher.FaultKind.Equivocation));
        assertEq(rep, reporter);
        _toFinal(rid);
        registry.finalize(rid);
        assertEq(registry.credits(a0), 0);
        assertEq(registry.credits(a1), FEE / 2);
    }

    function test_RevertWhen_EquivocationAfterReward() public {
        (uint256 rid, address op) = _optimisticAnswered();
        _toFinal(rid);
        registry.finalize(rid);
        IInferenceRegistry.Attestation memory att1 = _att(rid, op, X);
        IInferenceRegistry.Attestation memory att2 = _att(rid, op, Y);
        bytes memory s1 = _sign(att1, signerKey[op]);
        bytes memory s2 = _sign(att2, signerKey[op]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.OperatorAlreadyRewarded.selector, rid, op));
        registry.reportEquivocation(Statements.signed(att1, s1), Statements.signed(att2, s2));
    }

    function test_EquivocationOfUnassignedOperatorIsSlashed() public {
        uint256 rid = _request(optModel);
        address outsider = registry.assignedOperators(rid)[0] == ops[0] ? ops[1] : ops[0];
        IInferenceRegistry.Attestation memory att1 = _att(rid, outsider, X);
        IInferenceRegistry.Attestation memory att2 = _att(rid, outsider, Y);
        registry.reportEquivocation(
            Statements.signed(att1, _sign(att1, signerKey[outsider])),
            Statements.signed(att2, _sign(att2, signerKey[outsider]))
        );
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.Equivocation, outsider, bytes32(rid)));
    }

    function test_RevertWhen_NotEquivocation() public {
        uint256 rid = _request(optModel);
        IInferenceRegistry.Attestation memory att1 = _att(rid, ops[0], X);
        IInferenceRegistry.Attestation memory same = _att(rid, ops[0], X);
        IInferenceRegistry.Attestation memory otherOp = _att(rid, ops[1], Y);
        IInferenceRegistry.Attestation memory otherReq = _att(rid, ops[0], Y);
        otherReq.requestId = rid + 1;
        bytes memory sig = _sign(att1, signerKey[ops[0]]);
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportEquivocation(Statements.signed(att1, sig), Statements.signed(same, sig));
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportEquivocation(Statements.signed(att1, sig), Statements.signed(otherOp, sig));
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportEquivocation(Statements.signed(att1, sig), Statements.signed(otherReq, sig));
    }

    function test_RevertWhen_EquivocationBadSignatureOrUnknownRequest() public {
        uint256 rid = _request(optModel);
        IInferenceRegistry.Attestation memory att1 = _att(rid, ops[0], X);
        IInferenceRegistry.Attestation memory att2 = _att(rid, ops[0], Y);
        bytes memory s1 = _sign(att1, signerKey[ops[0]]);
        bytes memory forged = _sign(att2, signerKey[ops[1]]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, ops[0]));
        registry.reportEquivocation(Statements.signed(att1, s1), Statements.signed(att2, forged));
        att1.requestId = 999;
        att2.requestId = 999;
        s1 = _sign(att1, signerKey[ops[0]]);
        bytes memory s2 = _sign(att2, signerKey[ops[0]]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownRequest.selector, 999));
        registry.reportEquivocation(Statements.signed(att1, s1), Statements.signed(att2, s2));
    }

    /// @dev A short string literal as bytes32 (implicit conversion, no cast).
    function _n(bytes32 x) internal pure returns (bytes32) {
        return x;
    }
}
