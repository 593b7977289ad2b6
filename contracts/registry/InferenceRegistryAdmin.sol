// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IDisputeResolver} from "../interfaces/IDisputes.sol";
import {IInferenceRegistry, IInferenceRegistryAdmin} from "../interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../interfaces/ISlasher.sol";
import {InferenceRegistryStorage} from "./InferenceRegistryStorage.sol";

/// @title InferenceRegistryAdmin
/// @notice The governance module of `InferenceRegistry`: roles (OpenZeppelin AccessControl compatible), the
///         one-time resolver wiring, the treasury, the batch window, model registration and retirement, and the
///         delivery parameters. Deployed by the registry's constructor and reached only through the registry's
///         `fallback` (`delegatecall`), so it runs on the registry's storage. Every timing-relevant setter calls
///         `slasher.checkTiming()` (docs/slashing.md, "Timing invariants").
/// @dev Called directly (not through the registry) it acts on its own empty storage, where nobody holds a role.
contract InferenceRegistryAdmin is InferenceRegistryStorage, IInferenceRegistryAdmin {
    /// @notice The registry's slasher (timing checks).
    ISlasher public immutable slasher;

    /// @notice Deployed by the registry's constructor with the registry's slasher.
    /// @param slasher_ The slasher.
    constructor(ISlasher slasher_) {
        slasher = slasher_;
    }

    /// @notice Grants `role` to `account`. Only the admin. Emits `RoleGranted` if newly granted.
    /// @param role The role.
    /// @param account The account.
    function grantRole(bytes32 role, address account) external onlyRole(ADMIN_ROLE) {
        _setRole(role, account, true);
    }

    /// @notice Revokes `role` from `account`. Only the admin. Emits `RoleRevoked` if it was held.
    /// @param role The role.
    /// @param account The account.
    function revokeRole(bytes32 role, address account) external onlyRole(ADMIN_ROLE) {
        _setRole(role, account, false);
    }

    /// @notice Gives up `role`; `callerConfirmation` must be the caller. Emits `RoleRevoked` if it was held.
    /// @param role The role.
    /// @param callerConfirmation The caller's own address.
    function renounceRole(bytes32 role, address callerConfirmation) external {
        if (callerConfirmation != msg.sender) revert IAccessControl.AccessControlBadConfirmation();
        _setRole(role, msg.sender, false);
    }

    /// @inheritdoc IInferenceRegistryAdmin
    function wire(address resolver_) external onlyRole(ADMIN_ROLE) {
        if (address(_resolver) != address(0)) revert IInferenceRegistry.AlreadyWired();
        if (resolver_ == address(0)) revert IInferenceRegistry.ZeroAddress();
        _resolver = IDisputeResolver(resolver_);
        emit IInferenceRegistry.ResolverWired(resolver_);
    }

    /// @inheritdoc IInferenceRegistryAdmin
    function wireReferee(address referee_) external onlyRole(ADMIN_ROLE) {
        if (address(_referee) != address(0)) revert IInferenceRegistry.AlreadyWired();
        if (referee_ == address(0)) revert IInferenceRegistry.ZeroAddress();
        _referee = IDisputeResolver(referee_);
        emit IInferenceRegistry.RefereeWired(referee_);
        slasher.checkTiming();
    }

    /// @inheritdoc IInferenceRegistryAdmin
    function setTreasury(address treasury_) external onlyRole(ADMIN_ROLE) {
        if (treasury_ == address(0)) revert IInferenceRegistry.ZeroAddress();
        _treasury = treasury_;
        emit IInferenceRegistry.TreasuryChanged(treasury_);
    }

    /// @inheritdoc IInferenceRegistryAdmin
    function setBatchWindow(uint32 batchWindow_) external onlyRole(ADMIN_ROLE) {
        _checkBounds("batchWindow", batchWindow_, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        _batchWindow = batchWindow_;
        emit IInferenceRegistry.BatchWindowChanged(batchWindow_);
        slasher.checkTiming();
    }

    /// @inheritdoc IInferenceRegistryAdmin
    function registerModel(
        bytes32 weightsHash,
        bytes32 runtimeSpecHash,
        IInferenceRegistry.ModelParams calldata params
    ) external onlyRole(ADMIN_ROLE) returns (bytes32 modelId) {
        _checkParams(params);
        modelId = keccak256(abi.encode(weightsHash, runtimeSpecHash));
        IInferenceRegistry.Model storage m = _models[modelId];
        if (m.registered) revert IInferenceRegistry.ModelAlreadyRegistered(modelId);
        m.registered = true;
        m.index = SafeCast.toUint32(_modelIds.length);
        _modelIds.push(modelId);
        m.weightsHash = weightsHash;
        m.runtimeSpecHash = runtimeSpecHash;
        m.params = params;
        if (params.challengeWindow > _maxChallengeWindow) _maxChallengeWindow = params.challengeWindow;
        emit IInferenceRegistry.ModelRegistered(modelId, weightsHash, runtimeSpecHash, params);
        slasher.checkTiming();
    }

    /// @inheritdoc IInferenceRegistryAdmin
    function retireModel(bytes32 modelId) external onlyRole(ADMIN_ROLE) {
        IInferenceRegistry.Model storage m = _liveModel(modelId);
        m.retired = true;
        emit IInferenceRegistry.ModelRetired(modelId);
    }

    function _checkParams(IInferenceRegistry.ModelParams calldata p) private pure {
        // Optimistic: exactly one operator. Otherwise 1..MAX_K.
        _checkBounds("k", p.k, 1, p.mode == IInferenceRegistry.VerificationMode.Optimistic ? 1 : MAX_K);
        // A strict majority makes the quorum output unique (k = 1 forces q = 1).
        _checkBounds("q", p.q, uint256(p.k) / 2 + 1, p.k);
        _checkBounds("challengeWindow", p.challengeWindow, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        _checkBounds("challengeBond", p.challengeBond, 1, MAX_FEE);
        _checkBounds("minFee", p.minFee, 1, MAX_FEE);
    }

    /// @inheritdoc IInferenceRegistryAdmin
    function setDeliveryParams(uint32 maxOutputBytes, uint256 callbackGasPrice)
        external
        onlyRole(ADMIN_ROLE)
    {
        _checkBounds("maxOutputBytes", maxOutputBytes, MIN_OUTPUT_BYTES_BOUND, MAX_OUTPUT_BYTES_BOUND);
        _checkBounds("callbackGasPrice", callbackGasPrice, 1, MAX_CALLBACK_GAS_PRICE);
        _maxOutputBytes = maxOutputBytes;
        // forge-lint: disable-next-line(unsafe-typecast)
        _callbackGasPrice = uint96(callbackGasPrice); // <= MAX_CALLBACK_GAS_PRICE < 2^96
        emit IInferenceRegistry.DeliveryParamsChanged(maxOutputBytes, callbackGasPrice);
    }
}
