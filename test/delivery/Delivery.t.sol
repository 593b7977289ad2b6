// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Vm} from "forge-std/Vm.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {InferenceRegistry} from "../../contracts/registry/InferenceRegistry.sol";
import {DeliveryBase} from "./DeliveryBase.sol";
import {RecordingConsumer} from "./mocks/HostileConsumers.sol";

/// @notice Unit and fuzz tests of output delivery, consumer callbacks, endpoints and the delivery parameters.
contract DeliveryTest is DeliveryBase {
    RecordingConsumer internal consumer;

    function setUp() public override {
        super.setUp();
        consumer = new RecordingConsumer();
    }

    // ------------------------------------------------------------------ requests with a callback
    function test_RequestWithCallback_EscrowsBothFeesAndRecordsTheCallback() public {
        uint256 cbFee = registry.callbackFeeFor(GAS_LIMIT, false);
        uint256 before = token.balanceOf(address(registry));
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        assertEq(token.balanceOf(address(registry)), before + FEE + cbFee);
        IInferenceRegistry.DeliveryView memory d = registry.delivery(rid);
        assertEq(d.consumer, address(consumer));
        assertEq(d.gasLimit, GAS_LIMIT);
        assertEq(d.callbackFee, cbFee);
        assertEq(uint8(d.state), uint8(IInferenceRegistry.CallbackState.Pending));
        assertFalse(d.early);
    }

    function test_CallbackFee_IsGasLimitPlusOverheadTimesPrice_TwiceWhenEarly() public view {
        (,, uint256 maxGas, uint256 overhead) = registry.deliveryParams();
        assertEq(maxGas, 2_500_000);
        (, uint256 price,,) = registry.deliveryParams();
        assertEq(registry.callbackFeeFor(GAS_LIMIT, false), (GAS_LIMIT + overhead) * price);
        assertEq(registry.callbackFeeFor(GAS_LIMIT, true), 2 * (GAS_LIMIT + overhead) * price);
    }

    function test_RevertWhen_ConsumerIsNotAContract() public {
        IInferenceRegistry.CallbackSpec memory cb = _cbSpec(makeAddr("eoa"), GAS_LIMIT, false);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.ConsumerNotContract.selector, cb.consumer));
        vm.prank(client);
        registry.requestInferenceWithCallback(
            detModel, keccak256("in"), "", FEE, uint40(block.timestamp + 1 hours), cb
        );
    }

    function test_RevertWhen_CallbackGasAboveTheCapOrBelowTheMinimum() public {
        IInferenceRegistry.CallbackSpec memory cb = _cbSpec(address(consumer), 2_500_001, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.CallbackGasOutOfRange.selector, 2_500_001, 10_000, 2_500_000
            )
        );
        vm.prank(client);
        registry.requestInferenceWithCallback(
            detModel, keccak256("in"), "", FEE, uint40(block.timestamp + 1 hours), cb
        );
        cb = _cbSpec(address(consumer), 9999, false);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.CallbackGasOutOfRange.selector, 9999, 10_000, 2_500_000)
        );
        vm.prank(client);
        registry.requestInferenceWithCallback(
            detModel, keccak256("in"), "", FEE, uint40(block.timestamp + 1 hours), cb
        );
    }

    function testFuzz_RevertWhen_CallbackFeeDoesNotCoverTheCallback(
        uint32 gasLimit,
        bool early,
        uint256 short
    ) public {
        gasLimit = uint32(bound(gasLimit, 10_000, 2_500_000));
        IInferenceRegistry.CallbackSpec memory cb = _cbSpec(address(consumer), gasLimit, early);
        uint256 required = cb.fee;
        cb.fee = required - bound(short, 1, required);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.CallbackFeeTooLow.selector, cb.fee, required)
        );
        vm.prank(client);
        registry.requestInferenceWithCallback(
            detModel, keccak256("in"), "", FEE, uint40(block.timestamp + 1 hours), cb
        );
    }

    // ------------------------------------------------------------------ delivery
    function test_Deliver_FinalResult_CallsTheConsumerOnceWithTheBytesAndPaysTheDeliverer() public {
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        uint256 cbFee = registry.delivery(rid).callbackFee;
        _finalized(rid, OUTPUT);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.OutputDelivered(rid, keccak256(OUTPUT), OUTPUT);
        _deliver(rid, OUTPUT);
        assertEq(consumer.callCount(), 1);
        RecordingConsumer.Call memory c = consumer.callAt(0);
        assertEq(c.requestId, rid);
        assertEq(c.output, OUTPUT);
        assertEq(c.outputHash, keccak256(OUTPUT));
        assertEq(uint8(c.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Delivered));
        assertEq(registry.credits(keeper), cbFee);
        assertEq(registry.delivery(rid).callbackFee, 0);
        // A second delivery publishes again but neither calls back nor pays.
        _deliver(rid, OUTPUT);
        assertEq(consumer.callCount(), 1);
        assertEq(registry.credits(keeper), cbFee);
    }

    function test_RevertWhen_OutputBytesDoNotMatchTheHash() public {
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        _finalized(rid, OUTPUT);
        bytes memory wrong = hex"0102030405060709";
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.OutputMismatch.selector, rid, keccak256(OUTPUT), keccak256(wrong)
            )
        );
        _deliver(rid, wrong);
    }

    function testFuzz_RevertWhen_AnyOtherBytesAreDelivered(bytes memory other) public {
        vm.assume(other.length != 0 && keccak256(other) != keccak256(OUTPUT));
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        _finalized(rid, OUTPUT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.OutputMismatch.selector, rid, keccak256(OUTPUT), keccak256(other)
            )
        );
        _deliver(rid, other);
        assertEq(consumer.callCount(), 0);
    }

    function test_RevertWhen_OutputIsOverThePublishBound() public {
        uint256 rid = _request(detModel);
        bytes memory big = new bytes(65_537);
        _finalized(rid, big);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.OutputTooLarge.selector, 65_537, 65_536));
        _deliver(rid, big);
    }

    function test_Deliver_OutputOverMaxOutputBytes_ReachesTheConsumerAsItsHashAlone() public {
        uint256 rid = _requestCb(detModel, address(consumer), 1_000_000, false);
        bytes memory text = new bytes(513);
        text[0] = "x";
        _finalized(rid, text);
        _deliver(rid, text); // published in the event, ...
        RecordingConsumer.Call memory c = consumer.callAt(0);
        assertEq(c.output.length, 0); // ... passed to the consumer by hash only
        assertEq(c.outputHash, keccak256(text));
    }

    function test_RevertWhen_DeliveredBeforeQuorumOrWhileDisputed() public {
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotDeliverable.selector, rid, IInferenceRegistry.RequestStatus.Open
            )
        );
        _deliver(rid, OUTPUT);
        _quorum(rid, OUTPUT);
        vm.prank(challenger);
        registry.challenge(rid, keccak256("other"));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotDeliverable.selector, rid, IInferenceRegistry.RequestStatus.Disputed
            )
        );
        _deliver(rid, OUTPUT);
    }

    function test_PointerDelivery_OnlyByTheClientOrTheConsumer() public {
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        _finalized(rid, OUTPUT);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.PointerDeliveryNotAllowed.selector, rid, keeper)
        );
        _deliver(rid, "");
        vm.prank(client);
        registry.deliverOutput(rid, "");
        RecordingConsumer.Call memory c = consumer.callAt(0);
        assertEq(c.output.length, 0);
        assertEq(c.outputHash, keccak256(OUTPUT));
        assertEq(registry.credits(client), registry.callbackFeeFor(GAS_LIMIT, false));
    }

    function test_Deliver_ExpiredRequest_TellsTheConsumerThereIsNoResult() public {
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        vm.warp(block.timestamp + 2 hours);
        registry.finalize(rid);
        _deliver(rid, ""); // anyone: there is no result to withhold
        RecordingConsumer.Call memory c = consumer.callAt(0);
        assertEq(c.outputHash, bytes32(0));
        assertEq(uint8(c.status), uint8(IInferenceRegistry.RequestStatus.Expired));
        assertEq(registry.credits(client), FEE); // refund untouched by the delivery
    }

    function test_Deliver_NoValidResultAfterADispute_TellsTheConsumer() public {
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        _quorum(rid, OUTPUT);
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, keccak256("other"));
        resolver.resolve(did, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.OutputMismatch.selector, rid, bytes32(0), keccak256(OUTPUT)
            )
        );
        _deliver(rid, OUTPUT);
        _deliver(rid, "");
        assertEq(consumer.callAt(0).outputHash, bytes32(0));
        assertEq(uint8(consumer.callAt(0).status), uint8(IInferenceRegistry.RequestStatus.Finalized));
    }

    function test_EarlyCallback_AtQuorumThenFinal_EachPaidHalf() public {
        uint256 rid = _requestCb(optModel, address(consumer), GAS_LIMIT, true);
        uint256 cbFee = registry.delivery(rid).callbackFee;
        _answer(rid, 0, keccak256(OUTPUT));
        _deliver(rid, OUTPUT);
        assertEq(consumer.callCount(), 1);
        assertEq(uint8(consumer.callAt(0).status), uint8(IInferenceRegistry.RequestStatus.Quorum));
        assertEq(registry.credits(keeper), cbFee / 2);
        _deliver(rid, OUTPUT); // no second early callback
        assertEq(consumer.callCount(), 1);
        _toFinal(rid);
        registry.finalize(rid);
        _deliver(rid, OUTPUT);
        assertEq(consumer.callCount(), 2);
        assertEq(uint8(consumer.callAt(1).status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(registry.credits(keeper), cbFee);
    }

    function test_EarlyCallback_OverturnedByADispute_TheFinalCallbackCarriesTheNewResult() public {
        uint256 rid = _requestCb(optModel, address(consumer), GAS_LIMIT, true);
        bytes memory right = hex"aa";
        _answer(rid, 0, keccak256(OUTPUT));
        _deliver(rid, OUTPUT); // provisional
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, keccak256(right));
        resolver.resolve(did, keccak256(right));
        _deliver(rid, right);
        RecordingConsumer.Call memory fin = consumer.callAt(1);
        assertEq(uint8(fin.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(fin.outputHash, keccak256(right));
        assertEq(fin.output, right);
    }

    function test_RevertWhen_TheDeliveryTxGivesTooLittleGasForTheCallback() public {
        uint256 rid = _requestCb(detModel, address(consumer), 1_000_000, false);
        _finalized(rid, OUTPUT);
        vm.prank(keeper);
        (bool ok, bytes memory ret) =
            address(registry).call{gas: 600_000}(abi.encodeCall(registry.deliverOutput, (rid, OUTPUT)));
        assertFalse(ok);
        assertEq(bytes4(ret), IInferenceRegistry.InsufficientGasForCallback.selector);
        // Nothing changed: the callback is still pending, nobody was paid, the result stands.
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Pending));
        assertEq(registry.credits(keeper), 0);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Finalized));
        _deliver(rid, OUTPUT); // with enough gas it goes through
        assertEq(consumer.callCount(), 1);
    }

    function testFuzz_Callback_GetsAtLeastItsGasLimit(uint32 gasLimit) public {
        gasLimit = uint32(bound(gasLimit, 30_000, 2_500_000)); // the probe's own SSTORE needs ~22k
        GasProbe probe = new GasProbe();
        uint256 rid = _requestCb(detModel, address(probe), gasLimit, false);
        _finalized(rid, OUTPUT);
        _deliver(rid, OUTPUT);
        // The probe saw the whole limit, less its own entry code (dispatch and ABI decoding) before gasleft().
        assertGe(probe.seen() + 1000, gasLimit);
        assertLe(probe.seen(), gasLimit);
    }

    function test_DeliverWithoutConsumer_OnlyPublishesTheBytes() public {
        uint256 rid = _request(detModel);
        _finalized(rid, OUTPUT);
        vm.recordLogs();
        _deliver(rid, OUTPUT);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IInferenceRegistry.OutputDelivered.selector);
        assertEq(registry.credits(keeper), 0);
    }

    // ------------------------------------------------------------------ retry
    function test_Retry_ByTheConsumerAfterAFailure_Delivers() public {
        consumer.setRevert(true);
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        _finalized(rid, OUTPUT);
        _deliver(rid, OUTPUT);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotConsumer.selector, rid, keeper));
        vm.prank(keeper);
        registry.retryCallback(rid, OUTPUT);
        consumer.setRevert(false);
        vm.prank(address(consumer));
        registry.retryCallback(rid, OUTPUT);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Delivered));
        assertEq(consumer.callCount(), 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NothingToRetry.selector, rid));
        vm.prank(address(consumer));
        registry.retryCallback(rid, OUTPUT);
    }

    function test_Retry_ThatFailsAgain_StaysFailedAndRetryable() public {
        consumer.setRevert(true);
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        _finalized(rid, OUTPUT);
        _deliver(rid, OUTPUT);
        vm.prank(address(consumer));
        registry.retryCallback(rid, OUTPUT);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
    }

    // ------------------------------------------------------------------ endpoints and parameters
    function test_SetEndpoint_StoredAndEmitted_OnlyForActiveOperators() public {
        address op = ops[0];
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.EndpointSet(op, "https://op0.example");
        vm.prank(op);
        registry.setEndpoint("https://op0.example");
        assertEq(registry.endpointOf(op), "https://op0.example");
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotActiveOperator.selector, client));
        vm.prank(client);
        registry.setEndpoint("https://x");
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidEndpoint.selector, 0, 256));
        vm.prank(op);
        registry.setEndpoint("");
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidEndpoint.selector, 257, 256));
        vm.prank(op);
        registry.setEndpoint(string(new bytes(257)));
    }

    function test_SetDeliveryParams_BoundedAndAdminOnly() public {
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.DeliveryParamsChanged(256, 5);
        registry.setDeliveryParams(256, 5);
        (uint32 maxOut, uint256 price,,) = registry.deliveryParams();
        assertEq(maxOut, 256);
        assertEq(price, 5);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector, bytes32("maxOutputBytes"), 31, 32, 1024
            )
        );
        registry.setDeliveryParams(31, 5);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.ParameterOutOfBounds.selector, bytes32("callbackGasPrice"), 0, 1, 1e15
            )
        );
        registry.setDeliveryParams(256, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, client, bytes32(0)
            )
        );
        vm.prank(client);
        registry.setDeliveryParams(256, 5);
    }

    function test_SetDeliveryParams_NeverChangesAnEscrowedCallbackFee() public {
        uint256 rid = _requestCb(detModel, address(consumer), GAS_LIMIT, false);
        uint256 escrowed = registry.delivery(rid).callbackFee;
        registry.setDeliveryParams(512, 1e15);
        _finalized(rid, OUTPUT);
        _deliver(rid, OUTPUT);
        assertEq(registry.credits(keeper), escrowed);
    }

    // ------------------------------------------------------------------ the split
    function test_Eip712Domain_DescribesTheAttestationDomain() public view {
        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address vc,
            bytes32 salt,
        ) = registry.eip712Domain();
        assertEq(fields, hex"0f");
        assertEq(name, "verinfer");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(vc, address(registry));
        assertEq(salt, bytes32(0));
        bytes32 ds = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                vc
            )
        );
        assertEq(ds, registry.domainSeparator());
    }

    function test_Fallback_UnknownSelectorReverts_AndValueIsRefused() public {
        (bool ok,) = address(registry).call(abi.encodeWithSignature("noSuchFunction()"));
        assertFalse(ok);
        vm.deal(client, 1 ether);
        vm.prank(client);
        (ok,) = address(registry).call{value: 1}(abi.encodeCall(registry.requestCount, ()));
        assertFalse(ok);
    }

    function test_Modules_CalledDirectly_TouchOnlyTheirOwnEmptyStorage() public {
        InferenceRegistry reg = InferenceRegistry(address(registry));
        IInferenceRegistry admin_ = IInferenceRegistry(reg.adminModule());
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, admin, bytes32(0)
            )
        );
        admin_.setTreasury(client); // the registry admin holds no role there
        IInferenceRegistry delivery_ = IInferenceRegistry(reg.deliveryModule());
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotDeliverable.selector, 1, IInferenceRegistry.RequestStatus.None
            )
        );
        delivery_.deliverOutput(1, OUTPUT);
        _request(detModel);
        assertEq(IInferenceRegistry(reg.viewImplementation()).requestCount(), 0);
        assertEq(registry.requestCount(), 1); // the registry's own storage, read through the fallback
    }
}

/// @notice Records the gas it was given.
contract GasProbe {
    uint256 public seen;

    function onInferenceResult(uint256, bytes calldata, bytes32, IInferenceRegistry.RequestStatus) external {
        seen = gasleft();
    }
}
