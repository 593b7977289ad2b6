// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceRegistry, IInferenceRegistryDelivery} from "../interfaces/IInferenceRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {InferenceRegistryStorage} from "./InferenceRegistryStorage.sol";

/// @title InferenceRegistryDelivery
/// @notice The delivery module of `InferenceRegistry`: publishes output bytes, calls consumer contracts back with
///         failure isolation (exact gas, no return-data copy, state committed first), answers and settles
///         output-availability challenges, and records operator endpoints. Deployed by the registry's
///         constructor and reached only through the registry's `fallback` (`delegatecall`): it runs on the
///         registry's storage, balance and reentrancy lock. See docs/attestation.md ("Delivery") and
///         docs/consumers.md.
/// @dev Called directly (not through the registry) it acts on its own empty storage and holds no tokens.
contract InferenceRegistryDelivery is
    InferenceRegistryStorage,
    IInferenceRegistryDelivery,
    ReentrancyGuardTransient
{
    using SafeERC20 for IERC20;

    /// @dev Gas kept back for the code between the exact-gas check and the `CALL` itself (as FunctionsRouter's
    ///      `GAS_FOR_CALL_EXACT_CHECK`): the check passes only if the call can really forward `gasLimit`.
    uint256 private constant GAS_FOR_CALL_EXACT_CHECK = 5000;

    /// @notice The registry's staking contract.
    IStaking public immutable staking;
    /// @notice The registry's staking token.
    IERC20 public immutable token;

    /// @notice Deployed by the registry's constructor with the registry's immutables.
    /// @param staking_ The staking contract.
    /// @param token_ The staking token.
    constructor(IStaking staking_, IERC20 token_) {
        staking = staking_;
        token = token_;
    }

    /// @inheritdoc IInferenceRegistryDelivery
    function setEndpoint(string calldata url) external {
        uint256 n = bytes(url).length;
        if (n == 0 || n > MAX_ENDPOINT_BYTES) {
            revert IInferenceRegistry.InvalidEndpoint(n, MAX_ENDPOINT_BYTES);
        }
        if (!staking.isActiveOperator(msg.sender)) revert IInferenceRegistry.NotActiveOperator(msg.sender);
        _endpoints[msg.sender] = url;
        emit IInferenceRegistry.EndpointSet(msg.sender, url);
    }

    /// @inheritdoc IInferenceRegistryDelivery
    function requestOutput(uint256 requestId) external nonReentrant {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        if (c.status != IInferenceRegistry.RequestStatus.Quorum) {
            revert IInferenceRegistry.NotChallengeable(requestId, c.status);
        }
        // The answer must fit in the window that already bounds every fault (no timing invariant moves).
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp + MIN_OUTPUT_RESPONSE_TIME > c.windowEnd) {
            revert IInferenceRegistry.ChallengeWindowClosed(requestId, c.windowEnd);
        }
        if (c.flags & (FLAG_OUTPUT_REQUESTED | FLAG_PUBLISHED) != 0) {
            revert IInferenceRegistry.OutputAlreadyRequested(requestId);
        }
        uint256 bond = _models[_modelIds[c.modelIndex]].params.challengeBond;
        c.flags |= FLAG_OUTPUT_REQUESTED;
        _store(r, c);
        Delivery storage d = _deliveries[requestId];
        d.outputChallenger = msg.sender;
        // forge-lint: disable-next-line(unsafe-typecast)
        d.outputBond = uint96(bond); // <= MAX_FEE, checked at model registration
        emit IInferenceRegistry.OutputRequested(requestId, msg.sender, bond, c.windowEnd);
        token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @inheritdoc IInferenceRegistryDelivery
    function deliverOutput(uint256 requestId, bytes calldata output) external nonReentrant {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        IInferenceRegistry.RequestStatus status = c.status;
        bool early = status == IInferenceRegistry.RequestStatus.Quorum;
        if (
            !early && status != IInferenceRegistry.RequestStatus.Finalized
                && status != IInferenceRegistry.RequestStatus.Expired
        ) {
            revert IInferenceRegistry.NotDeliverable(requestId, status);
        }
        Delivery storage d = _deliveries[requestId];
        bytes32 result = _checkOutput(r, c, d, requestId, output, msg.sender);
        emit IInferenceRegistry.OutputDelivered(requestId, result, output);

        if (early && output.length != 0 && c.flags & FLAG_PUBLISHED == 0) {
            // The bytes of a quorum result are on chain: an availability challenge is answered (its bond goes
            // to the operators that attested the result) and no new one can be raised.
            uint8 answered = c.flags & FLAG_OUTPUT_REQUESTED;
            c.flags = (c.flags | FLAG_PUBLISHED) & ~FLAG_OUTPUT_REQUESTED;
            _store(r, c);
            if (answered != 0) {
                uint256 bond = d.outputBond;
                d.outputChallenger = address(0);
                d.outputBond = 0;
                _distribute(r, requestId, c.agree & ~c.faulted, bond, _treasury);
            }
        }

        if (c.flags & FLAG_CALLBACK == 0) return;
        uint256 pay;
        if (early) {
            if (!d.early || d.earlyDone) return;
            d.earlyDone = true;
            pay = d.fee / 2;
        } else {
            if (d.state != IInferenceRegistry.CallbackState.Pending) return;
            d.state = IInferenceRegistry.CallbackState.Delivered; // committed before the call; see below
            pay = d.fee;
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        d.fee -= uint96(pay); // pay <= d.fee
        _credit(msg.sender, requestId, pay);
        bool ok = _callConsumer(d, requestId, output, result, status);
        if (!ok && !early) d.state = IInferenceRegistry.CallbackState.Failed;
    }

    /// @inheritdoc IInferenceRegistryDelivery
    function retryCallback(uint256 requestId, bytes calldata output) external nonReentrant {
        Delivery storage d = _deliveries[requestId];
        if (msg.sender != d.consumer) revert IInferenceRegistry.NotConsumer(requestId, msg.sender);
        if (d.state != IInferenceRegistry.CallbackState.Failed) {
            revert IInferenceRegistry.NothingToRetry(requestId);
        }
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        bytes32 result = _checkOutput(r, c, d, requestId, output, msg.sender);
        d.state = IInferenceRegistry.CallbackState.Delivered;
        if (!_callConsumer(d, requestId, output, result, c.status)) {
            d.state = IInferenceRegistry.CallbackState.Failed;
        }
    }

    /// @dev Checks `output` against the request's result and returns the result (zero when there is none).
    ///      Empty `output` is the result's hash alone (a pointer), allowed to the client and the consumer only,
    ///      or the absence of a result (anyone).
    function _checkOutput(
        Request storage r,
        Core memory c,
        Delivery storage d,
        uint256 requestId,
        bytes calldata output,
        address caller
    ) private view returns (bytes32 result) {
        if (c.status != IInferenceRegistry.RequestStatus.Expired) result = r.output;
        uint256 n = output.length;
        if (n == 0) {
            if (result != bytes32(0) && caller != r.client && caller != d.consumer) {
                revert IInferenceRegistry.PointerDeliveryNotAllowed(requestId, caller);
            }
            return result;
        }
        if (n > MAX_PUBLISH_BYTES) revert IInferenceRegistry.OutputTooLarge(n, MAX_PUBLISH_BYTES);
        bytes32 h = keccak256(output);
        if (h != result) revert IInferenceRegistry.OutputMismatch(requestId, result, h);
    }

    /// @dev Calls `d.consumer` with exactly `d.gasLimit` gas (FunctionsRouter's `_callWithExactGas` rule):
    ///      reverts the *delivery* transaction with `InsufficientGasForCallback` unless, after EIP-150 keeps
    ///      back 1/64, at least `gasLimit` can be forwarded; a consumer without code counts as a failed call;
    ///      no return data is copied (the consumer pays for any return buffer out of its own gas). The output
    ///      is passed inline only up to `maxOutputBytes` (longer: its hash alone). Emits `CallbackAttempted`.
    function _callConsumer(
        Delivery storage d,
        uint256 requestId,
        bytes calldata output,
        bytes32 result,
        IInferenceRegistry.RequestStatus status
    ) private returns (bool ok) {
        address consumer = d.consumer;
        uint256 gasLimit = d.gasLimit;
        bytes memory data = abi.encodeCall(
            IInferenceConsumer.onInferenceResult,
            (requestId, output.length <= _maxOutputBytes ? output : output[:0], result, status)
        );
        bool enough;
        uint256 used;
        assembly ("memory-safe") {
            let g := gas()
            if gt(g, GAS_FOR_CALL_EXACT_CHECK) {
                g := sub(g, GAS_FOR_CALL_EXACT_CHECK)
                enough := gt(sub(g, div(g, 64)), gasLimit)
            }
            if and(enough, gt(extcodesize(consumer), 0)) {
                g := gas()
                ok := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
                used := sub(g, gas())
            }
        }
        if (!enough) revert IInferenceRegistry.InsufficientGasForCallback(gasLimit);
        emit IInferenceRegistry.CallbackAttempted(requestId, consumer, status, ok, used, msg.sender);
    }
}
