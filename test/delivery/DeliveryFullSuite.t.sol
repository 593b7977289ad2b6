// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ClassifierConsumer} from "../../contracts/examples/ClassifierConsumer.sol";
import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {SecurityBase} from "../security/SecurityBase.sol";
import {RevertingConsumer} from "./mocks/HostileConsumers.sol";

/// @notice Flow-level: the suite exactly as `DeploySuite` deploys it (real Staking, Slasher, DisputeGovernor,
///         timelock), a consumer deployed by a third party, operators with real stake, a keeper delivering.
contract DeliveryFullSuiteTest is SecurityBase {
    bytes internal constant LOGITS = hex"f0f1f2f3f4f57ff6f7f8"; // class 6
    address internal keeper = makeAddr("keeper");
    address internal dapp = makeAddr("dapp");

    function setUp() public override {
        super.setUp();
        _addOperators(5, 20_000 ether);
        _fund(dapp);
    }

    function test_ThirdPartyConsumer_ReceivesTheFinalResult_EveryonePaid() public {
        vm.prank(dapp);
        ClassifierConsumer classifier = new ClassifierConsumer(s.registry, detModel, dapp);
        vm.prank(dapp);
        s.token.approve(address(classifier), type(uint256).max);
        vm.prank(dapp);
        uint256 rid =
            classifier.classify(INPUT, "data:,hello", FEE, uint40(block.timestamp + 1 hours), 100_000);

        _answerAll(rid, keccak256(LOGITS));
        _advanceTo(s.registry.request(rid).windowEnd + 1);
        s.registry.finalize(rid);
        vm.prank(keeper);
        s.registry.deliverOutput(rid, LOGITS);

        (bool decided, bool hasResult, uint8 label,) = classifier.verdictOf(rid);
        assertTrue(decided && hasResult);
        assertEq(label, 6);
        assertEq(classifier.countOf(6), 1);
        address[] memory assigned = s.registry.assignedOperators(rid);
        for (uint256 i; i < assigned.length; ++i) {
            assertGt(s.registry.credits(assigned[i]), 0);
            vm.prank(assigned[i]);
            s.registry.claim();
        }
        uint256 cbFee = s.registry.callbackFeeFor(100_000, false);
        vm.prank(keeper);
        assertEq(s.registry.claim(), cbFee);
        assertEq(s.token.balanceOf(keeper), cbFee);
    }

    function test_HostileConsumer_MissedOperatorStillSlashed_NoOneElse() public {
        RevertingConsumer bad = new RevertingConsumer();
        uint32 gasLimit = 50_000;
        IInferenceRegistry.CallbackSpec memory cb = IInferenceRegistry.CallbackSpec(
            address(bad), gasLimit, false, s.registry.callbackFeeFor(gasLimit, false)
        );
        vm.prank(client);
        uint256 rid = s.registry
            .requestInferenceWithCallback(detModel, INPUT, "", FEE, uint40(block.timestamp + 1 hours), cb);
        address[] memory assigned = s.registry.assignedOperators(rid);
        _answer(rid, assigned[0], OUT_A);
        _answer(rid, assigned[1], OUT_A); // assigned[2] never answers
        _advanceTo(s.registry.request(rid).windowEnd + 1);
        s.registry.finalize(rid);
        // Hash-only delivery by a keeper is refused; the client may.
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.PointerDeliveryNotAllowed.selector, rid, keeper)
        );
        vm.prank(keeper);
        s.registry.deliverOutput(rid, "");
        vm.prank(client);
        s.registry.deliverOutput(rid, "");
        assertEq(uint8(s.registry.delivery(rid).state), uint8(IInferenceRegistry.CallbackState.Failed));
        s.registry.reportMissed(rid, assigned[2]);
        assertTrue(s.slasher.slashIdOf(assigned[2], ISlasher.FaultKind.MissedAssignment, bytes32(rid)) != 0);
        assertEq(s.slasher.slashIdOf(assigned[0], ISlasher.FaultKind.MissedAssignment, bytes32(rid)), 0);
        assertEq(s.slasher.slashCount(), 1);
    }

    function test_UnavailableOutput_OnTheRealSuite_RefundsAndSlashesNobody() public {
        uint256 rid = _request(detModel);
        _answerAll(rid, OUT_A);
        vm.prank(challenger);
        s.registry.requestOutput(rid);
        _advanceTo(s.registry.request(rid).windowEnd + 1);
        s.registry.finalize(rid);
        assertEq(s.registry.request(rid).output, bytes32(0));
        assertEq(s.registry.credits(client), FEE);
        assertEq(s.registry.credits(challenger), BOND);
        assertEq(s.slasher.slashCount(), 0);
    }
}
