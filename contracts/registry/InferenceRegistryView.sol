// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {IDisputeResolver} from "../interfaces/IDisputes.sol";
import {IInferenceRegistry, IInferenceRegistryView} from "../interfaces/IInferenceRegistry.sol";
import {InferenceRegistryStorage} from "./InferenceRegistryStorage.sol";
import {SumTree} from "./lib/SumTree.sol";

/// @title InferenceRegistryView
/// @notice The read-only functions of `InferenceRegistry`, split out of it for code size (EIP-170). Deployed
///         by the registry's constructor and reached only through the registry's `fallback`, which
///         `delegatecall`s every selector the registry itself does not implement: call these functions at the
///         registry's address. Every function is `view`; called directly, it reads this contract's own (empty)
///         storage.
/// @dev Shares the registry's storage layout through `InferenceRegistryStorage` (EigenLayer's split-contract
///      pattern). It has no state-changing function, so a `delegatecall` into it can never write the
///      registry's storage.
contract InferenceRegistryView is InferenceRegistryStorage, IInferenceRegistryView {
    using SumTree for SumTree.Tree;

    /// @inheritdoc IInferenceRegistryView
    function hasRole(bytes32 role, address account) external view returns (bool) {
        return _roles[role][account];
    }

    /// @inheritdoc IInferenceRegistryView
    function faultWindow() external view returns (uint256) {
        return uint256(MAX_TTL) + _maxChallengeWindow + _batchWindow;
    }

    /// @inheritdoc IInferenceRegistryView
    function attestationDigest(IInferenceRegistry.Attestation calldata att) external view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(
            _buildDomainSeparator(), keccak256(abi.encode(ATTESTATION_TYPEHASH, att))
        );
    }

    /// @inheritdoc IInferenceRegistryView
    function domainSeparator() external view returns (bytes32) {
        return _buildDomainSeparator();
    }

    /// @inheritdoc IInferenceRegistryView
    function model(bytes32 modelId) external view returns (IInferenceRegistry.Model memory) {
        return _models[modelId];
    }

    /// @inheritdoc IInferenceRegistryView
    function request(uint256 requestId) external view returns (IInferenceRegistry.RequestView memory v) {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        v.status = c.status;
        v.mode = c.mode;
        v.k = c.k;
        v.q = c.q;
        v.respondedMask = c.responded;
        v.agreeMask = c.agree;
        v.rewardedMask = c.rewarded;
        v.faultedMask = c.faulted;
        v.deadline = c.deadline;
        v.windowEnd = c.windowEnd;
        v.modelId = c.status == IInferenceRegistry.RequestStatus.None ? bytes32(0) : _modelIds[c.modelIndex];
        v.inputHash = r.inputHash;
        v.output = r.output == NO_OUTPUT ? bytes32(0) : r.output;
        v.client = r.client;
        v.fee = r.fee;
        v.challenger = r.challenger;
        v.bond = r.bond;
        v.claimedOutput = r.claimed;
        v.disputeId = r.disputeId;
    }

    /// @inheritdoc IInferenceRegistryView
    function assignedOperators(uint256 requestId) external view returns (address[] memory ops) {
        Request storage r = _requests[requestId];
        uint256 k = _load(r).k;
        ops = new address[](k);
        for (uint256 i; i < k; ++i) {
            ops[i] = r.operators[i];
        }
    }

    /// @inheritdoc IInferenceRegistryView
    function answerOf(uint256 requestId, address operator)
        external
        view
        returns (bool answered, bytes32 outputHash)
    {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        (bool found, uint256 i) = _indexOf(r, c, operator);
        if (!found || c.responded & _bit(i) == 0) return (false, bytes32(0));
        return (true, c.agree & _bit(i) != 0 ? r.output : r.answers[i]);
    }

    /// @inheritdoc IInferenceRegistryView
    function batch(uint256 batchId) external view returns (IInferenceRegistry.Batch memory) {
        return _batches[batchId];
    }

    /// @inheritdoc IInferenceRegistryView
    function credits(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IInferenceRegistryView
    function servedModels(address operator) external view returns (bytes32[] memory) {
        return _servedModels[operator];
    }

    /// @inheritdoc IInferenceRegistryView
    function operatorWeight(bytes32 modelId, address operator) external view returns (uint256) {
        return _trees[modelId].weightOf(operator);
    }

    /// @inheritdoc IInferenceRegistryView
    function totalWeight(bytes32 modelId) external view returns (uint256) {
        return _trees[modelId].total();
    }

    /// @inheritdoc IInferenceRegistryView
    function operatorCount(bytes32 modelId) external view returns (uint256) {
        return _trees[modelId].size;
    }

    /// @inheritdoc IInferenceRegistryView
    function isServing(bytes32 modelId, address operator) external view returns (bool) {
        return _trees[modelId].contains(operator);
    }

    /// @inheritdoc IInferenceRegistryView
    function DEFAULT_ADMIN_ROLE() external pure returns (bytes32) {
        return ADMIN_ROLE;
    }

    /// @notice ERC-5267: the EIP-712 domain operators sign attestations in (name "verinfer", version "1",
    ///         chain id, verifying contract = the registry).
    /// @return fields 0x0f: name, version, chainId and verifyingContract are set.
    /// @return name "verinfer".
    /// @return version "1".
    /// @return chainId The current chain id.
    /// @return verifyingContract The registry.
    /// @return salt Unused (zero).
    /// @return extensions None.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", "verinfer", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc IInferenceRegistryView
    function resolver() external view returns (IDisputeResolver) {
        return _resolver;
    }

    /// @inheritdoc IInferenceRegistryView
    function referee() external view returns (IDisputeResolver) {
        return _referee;
    }

    /// @inheritdoc IInferenceRegistryView
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IInferenceRegistryView
    function batchWindow() external view returns (uint32) {
        return _batchWindow;
    }

    /// @inheritdoc IInferenceRegistryView
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @inheritdoc IInferenceRegistryView
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc IInferenceRegistryView
    function delivery(uint256 requestId) external view returns (IInferenceRegistry.DeliveryView memory v) {
        Delivery storage d = _deliveries[requestId];
        v.consumer = d.consumer;
        v.gasLimit = d.gasLimit;
        v.early = d.early;
        v.earlyDone = d.earlyDone;
        v.state = d.state;
        v.callbackFee = d.fee;
        v.outputChallenger = d.outputChallenger;
        v.outputBond = d.outputBond;
    }

    /// @inheritdoc IInferenceRegistryView
    function deliveryParams()
        external
        view
        returns (uint32 maxOutputBytes, uint256 callbackGasPrice, uint256 maxCallbackGas, uint256 overheadGas)
    {
        return (_maxOutputBytes, _callbackGasPrice, MAX_CALLBACK_GAS, CALLBACK_OVERHEAD_GAS);
    }

    /// @inheritdoc IInferenceRegistryView
    function callbackFeeFor(uint32 gasLimit, bool early) external view returns (uint256) {
        return _callbackFeeFor(gasLimit, early);
    }

    /// @inheritdoc IInferenceRegistryView
    function endpointOf(address operator) external view returns (string memory) {
        return _endpoints[operator];
    }
}
