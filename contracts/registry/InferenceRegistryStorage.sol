// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IDisputeResolver} from "../interfaces/IDisputes.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";
import {IntMlpStep} from "../referee/lib/IntMlpStep.sol";
import {SumTree} from "./lib/SumTree.sol";

/// @title InferenceRegistryStorage
/// @notice The storage layout, constants and shared read helpers of the inference registry. Inherited first
///         (and as the only contract with storage) by both `InferenceRegistry` and `InferenceRegistryView`, so the
///         view contract, reached by `delegatecall`, reads the registry's storage with the same layout
///         (EigenLayer's split-contract pattern). Append new variables at the end only.
abstract contract InferenceRegistryStorage {
    // ------------------------------------------------------------------ constants
    /// @notice The admin role (the only role; it administers itself), as in OpenZeppelin AccessControl.
    bytes32 internal constant ADMIN_ROLE = 0x00;
    /// @notice EIP-712 type hash of {Attestation}.
    bytes32 internal constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address operator,uint256 requestId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash)"
    );
    /// @notice Hard bound on operators per request.
    uint256 internal constant MAX_K = 8;
    /// @notice Bound on models one operator may serve (bounds the weight-update loop).
    uint256 internal constant MAX_MODELS_PER_OPERATOR = 8;
    /// @notice Bound on operators serving one model (sum-tree capacity).
    uint256 internal constant MAX_OPERATORS_PER_MODEL = SumTree.CAPACITY;
    /// @notice Challenge window bounds.
    uint32 internal constant MIN_CHALLENGE_WINDOW = 10 minutes;
    /// @notice Challenge window bounds.
    uint32 internal constant MAX_CHALLENGE_WINDOW = 7 days;
    /// @notice Request deadline bounds, relative to creation.
    uint40 internal constant MIN_TTL = 1 minutes;
    /// @notice Request deadline bounds, relative to creation.
    uint40 internal constant MAX_TTL = 1 days;
    /// @notice Largest fee (fits the packed uint96).
    uint256 internal constant MAX_FEE = type(uint96).max;
    /// @notice Largest attestation array of `submitAttestations`.
    uint256 internal constant MAX_ATTESTATIONS_PER_CALL = 64;
    /// @notice Largest leaf count of one batch.
    uint32 internal constant MAX_BATCH_LEAVES = 65_536;
    /// @dev EIP-712 domain: name "verinfer", version "1", this chain, this contract.
    bytes32 internal constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant _NAME_HASH = keccak256("verinfer");
    bytes32 internal constant _VERSION_HASH = keccak256("1");
    /// @notice Longest output `deliverOutput` publishes (answers to availability challenges included).
    uint256 internal constant MAX_PUBLISH_BYTES = 65_536;
    /// @notice Bounds of `maxOutputBytes`, the longest output passed inline to a consumer.
    uint32 internal constant MIN_OUTPUT_BYTES_BOUND = 32;
    /// @notice Bounds of `maxOutputBytes`, the longest output passed inline to a consumer.
    uint32 internal constant MAX_OUTPUT_BYTES_BOUND = 1024;
    /// @notice Bounds of a callback's gas limit.
    uint32 internal constant MIN_CALLBACK_GAS = 10_000;
    /// @notice Bounds of a callback's gas limit.
    uint32 internal constant MAX_CALLBACK_GAS = 2_500_000;
    /// @notice Gas charged per callback on top of its limit: the delivery transaction's own cost (base, calldata
    ///         of a bounded output, hash check, bookkeeping, events). Measured in test/gas/DeliveryGas.t.sol.
    uint256 internal constant CALLBACK_OVERHEAD_GAS = 75_000;
    /// @notice Bounds of the callback gas price (staking-token units per gas).
    uint256 internal constant MAX_CALLBACK_GAS_PRICE = 1e15;
    /// @notice Longest operator endpoint URL.
    uint256 internal constant MAX_ENDPOINT_BYTES = 256;
    /// @notice An availability challenge must leave at least this long before the window end for the answer.
    uint40 internal constant MIN_OUTPUT_RESPONSE_TIME = 5 minutes;
    /// @dev `Core.flags` bit: answers stopped before the deadline (early dispute): nobody missed.
    uint8 internal constant FLAG_EXCUSED = 1;
    /// @dev `Core.flags` bit: the request has a consumer (`_deliveries` holds its callback).
    uint8 internal constant FLAG_CALLBACK = 2;
    /// @dev `Core.flags` bit: an availability challenge (`requestOutput`) is pending.
    uint8 internal constant FLAG_OUTPUT_REQUESTED = 4;
    /// @dev `Core.flags` bit: the bytes of the quorum result were published on chain (`deliverOutput`).
    uint8 internal constant FLAG_PUBLISHED = 8;
    /// @dev `Core.flags` bit: the open dispute is a referee game (`_referee`), not a vote (`_resolver`).
    uint8 internal constant FLAG_REFEREE = 16;
    /// @dev `keccak256` of the integer-MLP runtime spec (`IntMlpStep.RUNTIME_SPEC_HASH`): the models whose
    ///      two-way disputes the referee settles (docs/referee.md).
    bytes32 internal constant INT_MLP_SPEC_HASH = IntMlpStep.RUNTIME_SPEC_HASH;
    /// @dev Value of an unanswered request's output slot (never a valid output).
    bytes32 internal constant NO_OUTPUT = bytes32(uint256(1));

    // ------------------------------------------------------------------ storage types
    /// @dev Everything the answer path reads and writes. Stored packed in one word (`Request.core`): bit
    ///      offsets 0 status, 8 mode, 16 k, 24 q, 32 responded, 40 agree, 48 faulted, 56 missed, 64 rewarded,
    ///      72 flags (FLAG_*), 80 deadline (40 bits), 120 windowEnd (40 bits), 160 challengeWindow (32 bits),
    ///      192 modelIndex (32 bits, index into `_modelIds`), 224 fingerprints (32 bits, 4 per operator).
    struct Core {
        IInferenceRegistry.RequestStatus status;
        IInferenceRegistry.VerificationMode mode;
        uint8 k;
        uint8 q;
        uint8 responded; // bit i: assigned operator i answered
        uint8 agree; // bit i: operator i's answer == Request.output
        uint8 faulted; // bit i: operator i reported for equivocation on this request
        uint8 missed; // bit i: operator i reported for missing
        uint8 rewarded; // bit i: operator i credited a share of the fee
        uint8 flags; // FLAG_EXCUSED | FLAG_CALLBACK | FLAG_OUTPUT_REQUESTED | FLAG_PUBLISHED | FLAG_REFEREE
        uint40 deadline;
        uint40 windowEnd;
        uint32 challengeWindow;
        uint32 modelIndex;
        uint32 fingerprints; // 4 bits per assigned operator: low 4 bits of its address
    }

    struct Request {
        uint256 core; // a packed `Core`, see `_load` / `_store`
        bytes32 subject; // keccak256(abi.encode(modelId, inputHash)): one slot checks both attested fields
        bytes32 inputHash;
        bytes32 output; // plurality output while open (NO_OUTPUT before the first answer); result when final
        address client;
        uint96 fee;
        address challenger;
        uint96 bond;
        bytes32 claimed;
        uint256 disputeId;
        address[8] operators; // assigned operators, one per slot; located through `Core.fingerprints`
        bytes32[8] answers; // answers of operators whose bit is not in `agree`
    }

    /// @dev A request's consumer callback and availability challenge (written only when used).
    struct Delivery {
        address consumer;
        uint32 gasLimit;
        bool early;
        bool earlyDone;
        IInferenceRegistry.CallbackState state;
        uint96 fee; // callback fee not yet paid out
        address outputChallenger;
        uint96 outputBond;
    }

    // ------------------------------------------------------------------ storage
    // The view contract and the modules never write most of these: they run by `delegatecall` on the registry's
    // storage, which the registry writes. Slither's uninitialized-state detector sees each contract alone.
    // slither-disable-start uninitialized-state
    /// @dev The dispute resolver (wired once).
    IDisputeResolver internal _resolver;
    /// @dev Receives forfeited bonds nobody else is owed.
    address internal _treasury;
    /// @dev Seconds after commit during which a batch's leaves can be revealed or challenged.
    uint32 internal _batchWindow;
    /// @dev Largest challenge window of any registered model (part of `faultWindow`).
    uint32 internal _maxChallengeWindow;
    /// @dev Last request id.
    uint256 internal _requestCount;
    /// @dev Last batch id.
    uint256 internal _batchCount;

    mapping(bytes32 modelId => IInferenceRegistry.Model) internal _models;
    bytes32[] internal _modelIds;
    mapping(bytes32 modelId => SumTree.Tree) internal _trees;
    mapping(address operator => bytes32[]) internal _servedModels;
    mapping(uint256 requestId => Request) internal _requests;
    mapping(uint256 batchId => IInferenceRegistry.Batch) internal _batches;
    mapping(uint256 disputeId => uint256 requestId) internal _disputeRequest;
    mapping(address account => uint256) internal _credits;
    mapping(bytes32 role => mapping(address account => bool)) internal _roles;
    /// @dev Longest output passed inline to a consumer, [MIN_OUTPUT_BYTES_BOUND, MAX_OUTPUT_BYTES_BOUND].
    uint32 internal _maxOutputBytes;
    /// @dev Staking-token units per callback gas, [1, MAX_CALLBACK_GAS_PRICE].
    uint96 internal _callbackGasPrice;
    mapping(uint256 requestId => Delivery) internal _deliveries;
    mapping(address operator => string) internal _endpoints;
    /// @dev The referee for computable disputes (wired once; zero: every dispute goes to `_resolver`).
    IDisputeResolver internal _referee;

    // slither-disable-end uninitialized-state

    // ------------------------------------------------------------------ shared helpers

    /// @dev Unpacks `r.core` (one SLOAD).
    function _load(Request storage r) internal view returns (Core memory c) {
        uint256 w = r.core;
        assembly ("memory-safe") {
            mstore(c, and(w, 0xff))
            mstore(add(c, 0x20), and(shr(8, w), 0xff))
            mstore(add(c, 0x40), and(shr(16, w), 0xff))
            mstore(add(c, 0x60), and(shr(24, w), 0xff))
            mstore(add(c, 0x80), and(shr(32, w), 0xff))
            mstore(add(c, 0xa0), and(shr(40, w), 0xff))
            mstore(add(c, 0xc0), and(shr(48, w), 0xff))
            mstore(add(c, 0xe0), and(shr(56, w), 0xff))
            mstore(add(c, 0x100), and(shr(64, w), 0xff))
            mstore(add(c, 0x120), and(shr(72, w), 0xff))
            mstore(add(c, 0x140), and(shr(80, w), 0xffffffffff))
            mstore(add(c, 0x160), and(shr(120, w), 0xffffffffff))
            mstore(add(c, 0x180), and(shr(160, w), 0xffffffff))
            mstore(add(c, 0x1a0), and(shr(192, w), 0xffffffff))
            mstore(add(c, 0x1c0), shr(224, w))
        }
    }

    /// @dev Finds `operator` among the assigned operators. Only slots whose 4-bit fingerprint (kept in the
    ///      packed core word) matches are read, so the usual cost is one storage read whatever the position.
    function _indexOf(Request storage r, Core memory c, address operator)
        internal
        view
        returns (bool, uint256)
    {
        uint256 fp = _fingerprint(operator);
        uint256 fps = c.fingerprints;
        uint256 k = c.k;
        for (uint256 i; i < k; ++i) {
            if (((fps >> (4 * i)) ^ fp) & 0xf != 0) continue; // fingerprint differs: not this slot
            if (r.operators[i] == operator) return (true, i);
        }
        return (false, 0);
    }

    /// @dev Low 4 bits of the address: a cheap filter, collisions only cost an extra read.
    function _fingerprint(address operator) internal pure returns (uint256) {
        return uint256(uint160(operator)) & 0xf;
    }

    /// @dev The bitmap bit of assigned-operator index `i` (< 8).
    function _bit(uint256 i) internal pure returns (uint8 b) {
        assembly ("memory-safe") {
            let one := 1
            b := shl(i, one)
        }
    }

    function _buildDomainSeparator() internal view returns (bytes32) {
        return
            keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev The callback fee for `gasLimit` at the current price (twice for an early callback too).
    function _callbackFeeFor(uint256 gasLimit, bool early) internal view returns (uint256) {
        return (gasLimit + CALLBACK_OVERHEAD_GAS) * _callbackGasPrice * (early ? 2 : 1);
    }

    /// @dev Reverts with `AccessControlUnauthorizedAccount` unless the caller holds `role`.
    modifier onlyRole(bytes32 role) {
        _checkRole(role);
        _;
    }

    function _checkRole(bytes32 role) internal view {
        if (!_roles[role][msg.sender]) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, role);
        }
    }

    /// @dev Splits `amount` equally among the operators in `mask` (dust to the first); to `fallbackTo` if none.
    function _distribute(Request storage r, uint256 requestId, uint8 mask, uint256 amount, address fallbackTo)
        internal
    {
        uint256 n = _popcount(mask);
        if (n == 0) {
            _credit(fallbackTo, requestId, amount);
            return;
        }
        uint256 share = amount / n;
        uint256 dust = amount % n;
        for (uint256 i; i < MAX_K; ++i) {
            if (mask & _bit(i) == 0) continue;
            _credit(r.operators[i], requestId, share + dust);
            dust = 0;
        }
    }

    function _credit(address account, uint256 requestId, uint256 amount) internal {
        if (amount == 0) return;
        _credits[account] += amount;
        emit IInferenceRegistry.Credited(account, requestId, amount);
    }

    /// @dev Reverts with `ParameterOutOfBounds` unless `min <= value <= max`.
    function _checkBounds(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) {
            revert IInferenceRegistry.ParameterOutOfBounds(name, value, min, max);
        }
    }

    /// @dev Packs `c` into `r.core` (one SSTORE). Field values are in range by their Solidity types.
    function _store(Request storage r, Core memory c) internal {
        uint256 w;
        assembly ("memory-safe") {
            w := or(mload(c), shl(8, mload(add(c, 0x20))))
            w := or(w, shl(16, mload(add(c, 0x40))))
            w := or(w, shl(24, mload(add(c, 0x60))))
            w := or(w, shl(32, mload(add(c, 0x80))))
            w := or(w, shl(40, mload(add(c, 0xa0))))
            w := or(w, shl(48, mload(add(c, 0xc0))))
            w := or(w, shl(56, mload(add(c, 0xe0))))
            w := or(w, shl(64, mload(add(c, 0x100))))
            w := or(w, shl(72, mload(add(c, 0x120))))
            w := or(w, shl(80, mload(add(c, 0x140))))
            w := or(w, shl(120, mload(add(c, 0x160))))
            w := or(w, shl(160, mload(add(c, 0x180))))
            w := or(w, shl(192, mload(add(c, 0x1a0))))
            w := or(w, shl(224, mload(add(c, 0x1c0))))
        }
        r.core = w;
    }

    function _popcount(uint8 x) internal pure returns (uint256 n) {
        while (x != 0) {
            x &= x - 1;
            ++n;
        }
    }

    function _setRole(bytes32 role, address account, bool granted) internal {
        if (_roles[role][account] == granted) return;
        _roles[role][account] = granted;
        if (granted) emit IAccessControl.RoleGranted(role, account, msg.sender);
        else emit IAccessControl.RoleRevoked(role, account, msg.sender);
    }

    function _liveModel(bytes32 modelId) internal view returns (IInferenceRegistry.Model storage m) {
        m = _models[modelId];
        if (!m.registered) revert IInferenceRegistry.UnknownModel(modelId);
        if (m.retired) revert IInferenceRegistry.ModelIsRetired(modelId);
    }
}
