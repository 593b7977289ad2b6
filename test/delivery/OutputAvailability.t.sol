// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {DeliveryBase} from "./DeliveryBase.sol";
import {RecordingConsumer} from "./mocks/HostileConsumers.sol";

/// @notice The output-availability challenge: a result whose bytes nobody publishes on chain by the window end
///         cannot finalize; it becomes "no valid result" (client refunded, challenger's bond returned, nobody paid,
///         nobody slashed). Publishing the bytes in time forfeits the bond to the operators that attested them.
contract OutputAvailabilityTest is DeliveryBase {
    function _challengeOutput(uint256 rid) internal {
        vm.prank(challenger);
        registry.requestOutput(rid);
    }

    function test_RequestOutput_PullsTheBondAndRecordsTheChallenger() public {
        uint256 rid = _request(detModel);
        _quorum(rid, OUTPUT);
        uint256 before = token.balanceOf(challenger);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.OutputRequested(rid, challenger, BOND, registry.request(rid).windowEnd);
        _challengeOutput(rid);
        assertEq(token.balanceOf(challenger), before - BOND);
        assertEq(registry.delivery(rid).outputChallenger, challenger);
        assertEq(registry.delivery(rid).outputBond, BOND);
    }

    function test_Unanswered_FinalizesAsNoValidResult_RefundsClient_ReturnsBond_SlashesNobody() public {
        uint256 rid = _request(detModel);
        _quorum(rid, OUTPUT);
        _challengeOutput(rid);
        _toFinal(rid);
        uint256 slashes = slasher.callCount();
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.OutputUnavailable(rid, challenger);
        registry.finalize(rid);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(v.output, bytes32(0));
        assertEq(v.rewardedMask, 0);
        assertEq(v.agreeMask, 0);
        assertEq(registry.credits(client), FEE);
        assertEq(registry.credits(challenger), BOND);
        assertEq(slasher.callCount(), slashes);
        // Every answer stays readable.
        (bool answered, bytes32 out) = registry.answerOf(rid, registry.assignedOperators(rid)[0]);
        assertTrue(answered);
        assertEq(out, keccak256(OUTPUT));
        assertEq(registry.delivery(rid).outputBond, 0);
    }

    function test_AnsweredInTime_BondToTheAttestingOperators_ResultFinalizesNormally() public {
        uint256 rid = _request(detModel);
        _quorum(rid, OUTPUT);
        _challengeOutput(rid);
        address op0 = registry.assignedOperators(rid)[0];
        address op1 = registry.assignedOperators(rid)[1];
        _deliver(rid, OUTPUT); // anyone holding the bytes can answer
        assertEq(registry.credits(op0) + registry.credits(op1), BOND);
        assertEq(registry.delivery(rid).outputChallenger, address(0));
        _toFinal(rid);
        registry.finalize(rid);
        assertEq(registry.request(rid).output, keccak256(OUTPUT));
        assertEq(registry.credits(challenger), 0);
    }

    function test_RevertWhen_RequestedTwiceOrAfterPublication() public {
        uint256 rid = _request(detModel);
        _quorum(rid, OUTPUT);
        _challengeOutput(rid);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.OutputAlreadyRequested.selector, rid));
        _challengeOutput(rid);
        uint256 rid2 = _request(detModel);
        _quorum(rid2, OUTPUT);
        _deliver(rid2, OUTPUT);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.OutputAlreadyRequested.selector, rid2));
        _challengeOutput(rid2);
    }

    function test_RevertWhen_LessThanTheResponseTimeIsLeftOrNotAtQuorum() public {
        uint256 rid = _request(detModel);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotChallengeable.selector, rid, IInferenceRegistry.RequestStatus.Open
            )
        );
        _challengeOutput(rid);
        _quorum(rid, OUTPUT);
        uint40 end = registry.request(rid).windowEnd;
        vm.warp(end - 5 minutes + 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ChallengeWindowClosed.selector, rid, end));
        _challengeOutput(rid);
        vm.warp(end - 5 minutes);
        _challengeOutput(rid); // exactly the response time left: accepted
    }

    function test_DisputeWhileRequested_TheRulingDecides_AndTheBondReturns() public {
        uint256 rid = _request(detModel);
        _quorum(rid, OUTPUT);
        _challengeOutput(rid);
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, keccak256("other"));
        resolver.resolve(did, keccak256(OUTPUT));
        assertEq(registry.request(rid).output, keccak256(OUTPUT));
        assertEq(registry.delivery(rid).outputBond, 0);
        // The availability bond came back; the dispute bond went to the operators (challenger was wrong).
        assertEq(registry.credits(challenger), BOND);
    }

    function test_UnavailableResult_TellsTheConsumerNoValidResult() public {
        RecordingConsumer consumer = new RecordingConsumer();
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        _quorum(rid, OUTPUT);
        _challengeOutput(rid);
        _toFinal(rid);
        registry.finalize(rid);
        _deliver(rid, "");
        assertEq(consumer.callAt(0).outputHash, bytes32(0));
    }

    function test_Unanswered_TokenConservation() public {
        uint256 rid = _request(detModel);
        _quorum(rid, OUTPUT);
        _challengeOutput(rid);
        _toFinal(rid);
        registry.finalize(rid);
        // Everything the registry holds for this request is owed to someone.
        assertEq(token.balanceOf(address(registry)), registry.credits(client) + registry.credits(challenger));
    }
}
