// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";

/// @title ScriptedConsumer
/// @notice A consumer whose behaviour is fixed at deployment, for devnets and integration tests of delivery: it
///         either records every callback of the registry (any request may name it), or misbehaves the way a hostile
///         or broken consumer does (reverts with a large reason, burns all its gas, returns a huge buffer). The
///         registry isolates each misbehaviour: the callback is marked failed and nothing else changes
///         (docs/consumers.md). Not an example to copy for a real consumer: use `InferenceConsumer`.
contract ScriptedConsumer is IInferenceConsumer {
    /// @notice What the consumer does when called back.
    enum Behaviour {
        Record, // store the output hash and count the call
        Revert, // revert with a 100,000-byte reason
        BurnGas, // loop until out of gas
        ReturnBomb // return a 200,000-byte buffer
    }

    /// @notice The registry allowed to call back.
    IInferenceRegistry public immutable registry;
    /// @notice The behaviour chosen at deployment.
    Behaviour public immutable behaviour;
    /// @notice Callbacks recorded (`Record` only).
    uint256 public calls;
    /// @notice The last output hash recorded per request (`Record` only).
    mapping(uint256 requestId => bytes32) public outputHashOf;

    /// @notice A callback was recorded.
    event Recorded(uint256 indexed requestId, bytes32 outputHash, IInferenceRegistry.RequestStatus status);

    /// @notice Only the registry may call back.
    error OnlyRegistry(address caller);
    /// @notice The registry is zero.
    error ZeroRegistry();

    /// @notice Deploys a consumer of `registry_` behaving as `behaviour_`.
    /// @param registry_ The registry.
    /// @param behaviour_ The behaviour.
    constructor(IInferenceRegistry registry_, Behaviour behaviour_) {
        if (address(registry_) == address(0)) revert ZeroRegistry();
        registry = registry_;
        behaviour = behaviour_;
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(
        uint256 requestId,
        bytes calldata,
        bytes32 outputHash,
        IInferenceRegistry.RequestStatus status
    ) external {
        if (msg.sender != address(registry)) revert OnlyRegistry(msg.sender);
        Behaviour b = behaviour;
        if (b == Behaviour.Revert) {
            assembly ("memory-safe") {
                revert(0, 100000)
            }
        }
        if (b == Behaviour.BurnGas) {
            while (true) {}
        }
        if (b == Behaviour.ReturnBomb) {
            assembly ("memory-safe") {
                return(0, 200000)
            }
        }
        ++calls;
        outputHashOf[requestId] = outputHash;
        emit Recorded(requestId, outputHash, status);
    }
}
