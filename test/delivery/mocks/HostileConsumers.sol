// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceConsumer} from "../../../contracts/interfaces/IInferenceConsumer.sol";
import {IInferenceRegistry} from "../../../contracts/interfaces/IInferenceRegistry.sol";

/// @notice Records every callback; can be told to revert, so that a retry can succeed later.
contract RecordingConsumer is IInferenceConsumer {
    struct Call {
        uint256 requestId;
        bytes output;
        bytes32 outputHash;
        IInferenceRegistry.RequestStatus status;
    }

    Call[] internal _calls;
    bool public shouldRevert;

    error Refused();

    function setRevert(bool on) external {
        shouldRevert = on;
    }

    function onInferenceResult(
        uint256 requestId,
        bytes calldata output,
        bytes32 outputHash,
        IInferenceRegistry.RequestStatus status
    ) external {
        if (shouldRevert) revert Refused();
        _calls.push(Call(requestId, output, outputHash, status));
    }

    function callCount() external view returns (uint256) {
        return _calls.length;
    }

    function callAt(uint256 i) external view returns (Call memory) {
        return _calls[i];
    }
}

/// @notice Does nothing (measures the delivery's own overhead).
contract NoopConsumer is IInferenceConsumer {
    function onInferenceResult(uint256, bytes calldata, bytes32, IInferenceRegistry.RequestStatus) external {}
}

/// @notice Always reverts, with a large revert reason.
contract RevertingConsumer is IInferenceConsumer {
    function onInferenceResult(uint256, bytes calldata, bytes32, IInferenceRegistry.RequestStatus)
        external
        pure
    {
        assembly ("memory-safe") {
            revert(0, 100000)
        }
    }
}

/// @notice Burns every unit of gas it is given.
contract GasBurningConsumer is IInferenceConsumer {
    function onInferenceResult(uint256, bytes calldata, bytes32, IInferenceRegistry.RequestStatus)
        external
        pure
    {
        while (true) {}
    }
}

/// @notice Returns a huge buffer (as much as its gas allows), trying to make the caller copy it.
contract ReturnBombConsumer is IInferenceConsumer {
    function onInferenceResult(uint256, bytes calldata, bytes32, IInferenceRegistry.RequestStatus)
        external
        pure
    {
        assembly ("memory-safe") {
            return(0, 200000)
        }
    }
}

/// @notice Tries to re-enter the registry from the callback (deliver again, retry, finalize, claim).
contract ReenteringConsumer is IInferenceConsumer {
    IInferenceRegistry internal immutable _registry;
    bytes internal _output;
    uint256 public attempts;

    constructor(IInferenceRegistry registry_) {
        _registry = registry_;
    }

    function setOutput(bytes calldata output) external {
        _output = output;
    }

    function onInferenceResult(uint256 requestId, bytes calldata, bytes32, IInferenceRegistry.RequestStatus)
        external
    {
        ++attempts;
        // Each of these must fail (the registry is locked); the first revert fails the callback.
        _registry.deliverOutput(requestId, _output);
    }

    function retry(uint256 requestId, bytes calldata output) external {
        _registry.retryCallback(requestId, output);
    }
}

/// @notice Uses exactly `burn` gas units (approximately) of work, then records the call.
contract MeteredConsumer is IInferenceConsumer {
    uint256 public burn;
    uint256 public calls;

    function setBurn(uint256 burn_) external {
        burn = burn_;
    }

    function onInferenceResult(uint256, bytes calldata, bytes32, IInferenceRegistry.RequestStatus) external {
        uint256 start = gasleft();
        uint256 target = burn;
        while (start - gasleft() < target) {}
        ++calls;
    }
}
