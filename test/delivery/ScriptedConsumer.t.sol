// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ScriptedConsumer} from "../../contracts/examples/ScriptedConsumer.sol";
import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {DeliveryBase} from "./DeliveryBase.sol";

/// @notice The devnet's scripted consumer: `Record` receives any request's result; each hostile behaviour only
///         fails its own callback, and the deliverer is paid either way.
contract ScriptedConsumerTest is DeliveryBase {
    function _flow(ScriptedConsumer.Behaviour b) internal returns (ScriptedConsumer c, uint256 rid) {
        c = new ScriptedConsumer(registry, b);
        rid = _requestCb(detModel, address(c), GAS_LIMIT, false);
        _finalized(rid, OUTPUT);
        uint256 fee = registry.delivery(rid).callbackFee;
        uint256 before = registry.credits(keeper);
        _deliver(rid, OUTPUT);
        assertEq(registry.credits(keeper) - before, fee, "deliverer paid the callback fee");
        assertEq(registry.request(rid).status == IInferenceRegistry.RequestStatus.Finalized, true);
    }

    function test_Record_AnyRequestNamingIt_IsRecorded_CallbackDelivered() public {
        (ScriptedConsumer c, uint256 rid) = _flow(ScriptedConsumer.Behaviour.Record);
        assertEq(c.calls(), 1);
        assertEq(c.outputHashOf(rid), keccak256(OUTPUT));
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Delivered));
    }

    function test_Revert_FailsTheCallbackOnly() public {
        (, uint256 rid) = _flow(ScriptedConsumer.Behaviour.Revert);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
    }

    function test_BurnGas_FailsTheCallbackOnly() public {
        (, uint256 rid) = _flow(ScriptedConsumer.Behaviour.BurnGas);
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Failed));
    }

    function test_ReturnBomb_WithinItsGas_IsDelivered() public {
        (, uint256 rid) = _flow(ScriptedConsumer.Behaviour.ReturnBomb);
        // The 200,000-byte buffer costs the consumer ~95,000 gas of memory, inside its 200,000 limit: the call
        // returns successfully (the registry's CALL asks for no return data, so nothing is copied).
        assertEq(uint8(_state(rid)), uint8(IInferenceRegistry.CallbackState.Delivered));
    }

    function test_OnlyTheRegistryMayCallBack() public {
        ScriptedConsumer c = new ScriptedConsumer(registry, ScriptedConsumer.Behaviour.Record);
        vm.expectRevert(abi.encodeWithSelector(ScriptedConsumer.OnlyRegistry.selector, address(this)));
        c.onInferenceResult(1, OUTPUT, keccak256(OUTPUT), IInferenceRegistry.RequestStatus.Finalized);
    }
}
