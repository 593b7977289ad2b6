// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {RegistryBase} from "../registry/RegistryBase.t.sol";

/// @notice Shared fixture of the delivery tests: the registry fixture plus helpers to request with a callback and
///         to bring a request to quorum / finality with a given output.
abstract contract DeliveryBase is RegistryBase {
    bytes internal constant OUTPUT = hex"0102030405060708";
    uint32 internal constant GAS_LIMIT = 200_000;
    address internal keeper = makeAddr("keeper");

    function _cbSpec(address consumer, uint32 gasLimit, bool early)
        internal
        view
        returns (IInferenceRegistry.CallbackSpec memory)
    {
        return IInferenceRegistry.CallbackSpec({
            consumer: consumer,
            gasLimit: gasLimit,
            early: early,
            fee: registry.callbackFeeFor(gasLimit, early)
        });
    }

    function _requestCb(bytes32 modelId, address consumer, uint32 gasLimit, bool early)
        internal
        returns (uint256 rid)
    {
        IInferenceRegistry.CallbackSpec memory cb = _cbSpec(consumer, gasLimit, early);
        vm.prank(client);
        rid = registry.requestInferenceWithCallback(
            modelId,
            keccak256(abi.encode("input", block.timestamp, gasleft())),
            "ipfs://in",
            FEE,
            uint40(block.timestamp + 1 hours),
            cb
        );
    }

    /// @dev Brings a deterministic (k=3, q=2) request to quorum on `output`.
    function _quorum(uint256 rid, bytes memory output) internal {
        _answer(rid, 0, keccak256(output));
        _answer(rid, 1, keccak256(output));
    }

    /// @dev Brings a request to Finalized on `output` (all k agree).
    function _finalized(uint256 rid, bytes memory output) internal {
        uint256 k = registry.request(rid).k;
        for (uint256 i; i < k; ++i) {
            _answer(rid, i, keccak256(output));
        }
        _toFinal(rid);
        registry.finalize(rid);
    }

    function _deliver(uint256 rid, bytes memory output) internal {
        vm.prank(keeper);
        registry.deliverOutput(rid, output);
    }

    function _state(uint256 rid) internal view returns (IInferenceRegistry.CallbackState) {
        return registry.delivery(rid).state;
    }
}
