// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";

import {IInferenceConsumer} from "../../contracts/interfaces/IInferenceConsumer.sol";
import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {DeliveryBase} from "./DeliveryBase.sol";
import {
    GasBurningConsumer,
    NoopConsumer,
    RecordingConsumer,
    ReenteringConsumer,
    ReturnBombConsumer,
    RevertingConsumer
} from "./mocks/HostileConsumers.sol";

/// @notice A consumer that reverts, burns its gas, returns a huge buffer, re-enters the registry or loses its code
///         can never block finalization, payment or slashing, nor get an operator slashed: its callback is only
///         recorded as failed, the deliverer is paid, and the consumer may retry.
contract HostileConsumersTest is DeliveryBase {
    /// @dev Runs the whole flow against `consumer` and checks everything except the callback went as usual.
    function _flowAgainst(address consumer, uint32 gasLimit) internal returns (uint256 rid) {
        rid = _requestCb(detModel, consumer, gasLimit, false);
        uint256 cbFee = registry.delivery(rid).callbackFee;
        uint256 slashes = slasher.callCount();
        _finalized(rid, OUTPUT);
        address[] memory assigned = registry.assignedOperators(rid);
        uint256 share = FEE / assigned.length;

        vm.expectEmit(true, true, true, false, address(registry));
        emit IInferenceRegistry.CallbackAttempted(
            rid, consumer, IInferenceRegistry.RequestStatus.Finalized, false, 0, keeper
        );
        vm.prank(keeper);
        registry.deliverOutput{gas: gasLimit + 400_000}(rid, OUTPUT);

        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed), "failure recorded");
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Finalized), "result stands");
        assertEq(registry.request(rid).output, keccak256(OUTPUT));
        assertEq(registry.credits(keeper), cbFee, "deliverer paid");
        for (uint256 i; i < assigned.length; ++i) {
            assertGe(registry.credits(assigned[i]), share, "operators paid");
        }
        assertEq(slasher.callCount(), slashes, "nobody slashed");
        // The operators can claim; the fee and the callback fee are fully accounted for.
        vm.prank(assigned[0]);
        registry.claim();
    }

    function test_RevertingConsumer_OnlyFailsItsCallback() public {
        _flowAgainst(address(new RevertingConsumer()), GAS_LIMIT);
    }

    function test_GasBurningConsumer_OnlyFailsItsCallback_WithinItsLimit() public {
        _flowAgainst(address(new GasBurningConsumer()), 2_500_000);
    }

    /// @dev Gas of a delivery transaction beyond the gas its callback used (from `CallbackAttempted`).
    function _overhead(address consumer) internal returns (uint256) {
        uint256 rid = _requestCb(detModel, consumer, 1_000_000, false);
        _finalized(rid, OUTPUT);
        vm.recordLogs();
        uint256 g = gasleft();
        _deliver(rid, OUTPUT);
        uint256 used = g - gasleft();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        (,, uint256 callbackGas) = abi.decode(logs[logs.length - 1].data, (uint8, bool, uint256));
        return used - callbackGas;
    }

    function test_ReturnBombConsumer_ItsReturnDataIsNeverCopied() public {
        uint256 noop = _overhead(address(new NoopConsumer()));
        // The bomb returns 200,000 bytes: copying them would cost the deliverer ~100,000 gas of memory on top
        // of the delivery; the bomb's own memory is paid out of its callback gas.
        uint256 bomb = _overhead(address(new ReturnBombConsumer()));
        assertLe(bomb, noop + 2000);
    }

    function test_ReenteringConsumer_CannotReenter_AndItsCallbackFails() public {
        ReenteringConsumer re = new ReenteringConsumer(registry);
        re.setOutput(OUTPUT);
        uint256 rid = _flowAgainst(address(re), GAS_LIMIT);
        assertEq(re.attempts(), 0, "the attempt was rolled back with the failed callback");
        // Its retry re-enters again and fails again; the state stays Failed and nothing else moves.
        re.retry(rid, OUTPUT);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
    }

    function test_ConsumerThatLostItsCode_IsAFailedCallback() public {
        RecordingConsumer gone = new RecordingConsumer();
        uint256 rid = _requestCb(detModel, address(gone), GAS_LIMIT, false);
        vm.etch(address(gone), ""); // self-destructed (or otherwise codeless) by delivery time
        _finalized(rid, OUTPUT);
        _deliver(rid, OUTPUT);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
    }

    function test_HostileConsumer_CannotBlockFinalizeOrDisputeOrSlashing() public {
        address bad = address(new RevertingConsumer());
        uint256 rid = _requestCb(detModel, bad, GAS_LIMIT, false);
        _answer(rid, 0, keccak256(OUTPUT));
        _answer(rid, 1, keccak256(OUTPUT));
        _answer(rid, 2, keccak256("wrong"));
        vm.prank(challenger);
        uint256 did = registry.challenge(rid, keccak256("wrong"));
        resolver.resolve(did, keccak256(OUTPUT)); // the dissenter is slashed, as without a consumer
        assertEq(slasher.callCount(), 1);
        _deliver(rid, OUTPUT);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
        assertEq(slasher.callCount(), 1);
    }

    /// @notice Whatever a consumer does with its gas, the delivery's effects on payments, status and slashes are
    ///         the same as for a consumer that succeeds.
    function testFuzz_CallbackOutcome_NeverChangesPaymentsStatusOrSlashes(uint8 kind, uint32 gasLimit)
        public
    {
        gasLimit = uint32(bound(gasLimit, 10_000, 1_000_000));
        address c;
        kind = kind % 4;
        if (kind == 0) c = address(new RecordingConsumer());
        else if (kind == 1) c = address(new RevertingConsumer());
        else if (kind == 2) c = address(new GasBurningConsumer());
        else c = address(new ReturnBombConsumer());
        uint256 rid = _requestCb(detModel, c, gasLimit, false);
        _finalized(rid, OUTPUT);
        address[] memory assigned = registry.assignedOperators(rid);
        uint256[] memory before = new uint256[](assigned.length);
        for (uint256 i; i < assigned.length; ++i) {
            before[i] = registry.credits(assigned[i]);
        }
        uint256 clientBefore = registry.credits(client);
        uint256 slashes = slasher.callCount();
        uint256 cbFee = registry.delivery(rid).callbackFee;
        _deliver(rid, OUTPUT);
        for (uint256 i; i < assigned.length; ++i) {
            assertEq(registry.credits(assigned[i]), before[i]);
        }
        assertEq(registry.credits(client), clientBefore);
        assertEq(registry.credits(keeper), cbFee);
        assertEq(slasher.callCount(), slashes);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertTrue(_state(rid) != IInferenceRegistry.CallbackState.Pending);
        IInferenceConsumer(c); // (typed: every kind implements the interface)
    }
}
