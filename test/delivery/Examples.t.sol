// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {InferenceConsumer} from "../../contracts/consumer/InferenceConsumer.sol";
import {ClassifierConsumer} from "../../contracts/examples/ClassifierConsumer.sol";
import {TextStore} from "../../contracts/examples/TextStore.sol";
import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {DeliveryBase} from "./DeliveryBase.sol";

/// @notice The two example consumers, unit and flow level: a user asks through the example contract, operators
///         answer, anyone finalizes and delivers, the example acts on the result.
contract ExamplesTest is DeliveryBase {
    ClassifierConsumer internal classifier;
    TextStore internal store;
    address internal user = makeAddr("user");
    address internal beneficiary = makeAddr("beneficiary");

    function setUp() public override {
        super.setUp();
        classifier = new ClassifierConsumer(registry, detModel, beneficiary);
        store = new TextStore(registry, optModel, beneficiary);
        token.mint(user, 1000e18);
        vm.startPrank(user);
        token.approve(address(classifier), type(uint256).max);
        token.approve(address(store), type(uint256).max);
        vm.stopPrank();
    }

    function _classify() internal returns (uint256 rid) {
        vm.prank(user);
        rid = classifier.classify(
            keccak256("hello"), "data:,hello", FEE, uint40(block.timestamp + 1 hours), 100_000
        );
    }

    // ------------------------------------------------------------------ ClassifierConsumer
    function test_Classifier_Decode_ArgmaxOfTheInt8Logits() public view {
        (uint8 label, int8 score) = classifier.decode(hex"80ff7f00017f02030405"); // -128,-1,127,0,1,127,2,3,4,5
        assertEq(label, 2); // first of the two 127s
        assertEq(score, 127);
        (label, score) = classifier.decode(hex"80808080808080808080");
        assertEq(label, 0);
        assertEq(score, -128);
    }

    function testFuzz_Classifier_Decode_IsTheMaximum(bytes10 raw) public view {
        bytes memory out = abi.encodePacked(raw);
        (uint8 label, int8 score) = classifier.decode(out);
        for (uint256 i; i < 10; ++i) {
            int8 v = int8(uint8(out[i]));
            assertLe(v, score);
            if (i < label) assertLt(v, score);
        }
    }

    function test_Classifier_Flow_UserPaysThroughTheExample_VerdictRecordedAndCounted() public {
        uint256 before = token.balanceOf(user);
        uint256 rid = _classify();
        assertEq(before - token.balanceOf(user), FEE + registry.callbackFeeFor(100_000, false));
        assertTrue(classifier.requestedHere(rid));
        bytes memory out = hex"0001020304050a060708"; // class 6
        _finalized(rid, out);
        _deliver(rid, out);
        (bool decided, bool hasResult, uint8 label, int8 score) = classifier.verdictOf(rid);
        assertTrue(decided && hasResult);
        assertEq(label, 6);
        assertEq(score, 10);
        assertEq(classifier.countOf(6), 1);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Delivered));
    }

    function test_Classifier_WrongLengthOutput_FailsTheCallback_NotTheRequest() public {
        uint256 rid = _classify();
        bytes memory out = hex"0001"; // not the built-in model's 10 bytes
        _finalized(rid, out);
        _deliver(rid, out);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
        assertEq(classifier.countOf(0), 0);
    }

    function test_Classifier_Expired_RefundGoesToTheBeneficiary() public {
        uint256 rid = _classify();
        vm.warp(block.timestamp + 2 hours);
        registry.finalize(rid);
        _deliver(rid, "");
        (bool decided, bool hasResult,,) = classifier.verdictOf(rid);
        assertTrue(decided);
        assertFalse(hasResult);
        classifier.collectRefunds();
        assertEq(token.balanceOf(beneficiary), FEE);
    }

    function test_Consumer_RejectsCallersOtherThanTheRegistry_AndForeignRequests() public {
        vm.expectRevert(abi.encodeWithSelector(InferenceConsumer.OnlyRegistry.selector, address(this)));
        classifier.onInferenceResult(1, OUTPUT, keccak256(OUTPUT), IInferenceRegistry.RequestStatus.Finalized);
        // A request someone else made naming the classifier: its callback fails (retryable, harmless).
        uint256 rid = _requestCb(detModel, address(classifier), 100_000, false);
        _finalized(rid, OUTPUT);
        _deliver(rid, OUTPUT);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
        assertEq(classifier.countOf(7), 0);
    }

    function test_Consumer_RetryResult_AfterAFailedCallback() public {
        // A callback limit too small for the classifier's storage writes: the final callback fails ...
        vm.prank(user);
        uint256 rid = classifier.classify(keccak256("x"), "", FEE, uint40(block.timestamp + 1 hours), 20_000);
        bytes memory out = hex"00000000000000000001";
        _finalized(rid, out);
        _deliver(rid, out);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
        // ... and a retry with the same limit fails the same way; the state stays retryable.
        classifier.retryResult(rid, out);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
    }

    // ------------------------------------------------------------------ TextStore
    function _ask() internal returns (uint256 rid) {
        vm.prank(user);
        rid = store.ask(keccak256("prompt"), "ipfs://prompt", FEE, uint40(block.timestamp + 1 hours), 400_000);
    }

    function test_TextStore_Flow_ProvisionalAtQuorum_ThenFinal() public {
        uint256 rid = _ask();
        bytes memory text = "The capital of France is Paris.";
        _answer(rid, 0, keccak256(text));
        _deliver(rid, text);
        TextStore.Entry memory e = store.entryOf(rid);
        assertEq(uint8(e.status), uint8(IInferenceRegistry.RequestStatus.Quorum));
        assertEq(e.text, string(text));
        _toFinal(rid);
        registry.finalize(rid);
        _deliver(rid, text);
        e = store.entryOf(rid);
        assertEq(uint8(e.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(e.text, string(text));
    }

    function test_TextStore_OverturnedByADispute_ReplacesTheProvisionalText() public {
        uint256 rid = _ask();
        bytes memory wrong = "The capital of France is Lyon.";
        bytes memory right = "The capital of France is Paris.";
        _answer(rid, 0, keccak256(wrong));
        _deliver(rid, wrong);
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, keccak256(right));
        resolver.resolve(did, keccak256(right));
        vm.expectEmit(address(store));
        emit TextStore.TextOverturned(rid, keccak256(wrong), keccak256(right));
        _deliver(rid, right);
        assertEq(store.entryOf(rid).text, string(right));
    }

    function test_TextStore_LongText_ArrivesByHash_AndIsFilledLater() public {
        uint256 rid = _ask();
        bytes memory text = new bytes(600);
        for (uint256 i; i < 600; ++i) {
            text[i] = bytes1(uint8(65 + (i % 26)));
        }
        _answer(rid, 0, keccak256(text));
        _toFinal(rid);
        registry.finalize(rid);
        _deliver(rid, text); // over maxOutputBytes (512): published in the event, hash only to the consumer
        TextStore.Entry memory e = store.entryOf(rid);
        assertEq(bytes(e.text).length, 0);
        assertEq(e.outputHash, keccak256(text));
        vm.expectRevert(abi.encodeWithSelector(TextStore.NotTheResult.selector, rid));
        store.fill(rid, "forged");
        store.fill(rid, text);
        assertEq(store.entryOf(rid).text, string(text));
    }
}
