// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IDisputeReceiver, IDisputeResolver} from "../interfaces/IDisputes.sol";
import {
    IInferenceRegistry,
    IInferenceRegistryActions,
    IInferenceRegistryAdmin,
    IInferenceRegistryDelivery
} from "../interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../interfaces/ISlasher.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {InferenceRegistryAdmin} from "./InferenceRegistryAdmin.sol";
import {InferenceRegistryDelivery} from "./InferenceRegistryDelivery.sol";
import {InferenceRegistryStorage} from "./InferenceRegistryStorage.sol";
import {InferenceRegistryView} from "./InferenceRegistryView.sol";
import {SumTree} from "./lib/SumTree.sol";

/// @title InferenceRegistry
/// @notice Models, inference requests, stake-weighted operator assignment, EIP-712 attestations, Merkle
///         result batches, finalization, disputes and fault reports. See docs/attestation.md.
///         The read-only functions live in `InferenceRegistryView` (deployed by the constructor, reached by
///         `delegatecall` from `fallback`); the whole ABI at this address is `IInferenceRegistry`.
/// @dev Request state that the attestation path touches lives in one packed slot (`Core`); the first
///      output hash is stored once and later matching answers only flip bits. The output slot is
///      pre-initialised at request time so the first answer never creates a storage slot.
contract InferenceRegistry is InferenceRegistryStorage, IInferenceRegistryActions, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SumTree for SumTree.Tree;

    // ------------------------------------------------------------------ immutables & storage
    /// @notice The staking contract (operators, signers, stake).
    IStaking public immutable staking;
    /// @notice The slasher (fault reports).
    ISlasher public immutable slasher;
    /// @notice The staking token (fees, bonds).
    IERC20 public immutable token;
    /// @notice The view contract the fallback delegates read-only selectors to (deployed by the constructor).
    address public immutable viewImplementation;
    /// @notice The delivery module the fallback delegates `IInferenceRegistryDelivery` selectors to (deployed by
    ///         the constructor).
    address public immutable deliveryModule;
    /// @notice The governance module the fallback delegates `IInferenceRegistryAdmin` selectors to (deployed by
    ///         the constructor).
    address public immutable adminModule;
    /// @dev Domain separator at deployment, and the chain it was computed for (recomputed after a fork).
    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;

    // ------------------------------------------------------------------ construction
    /// @notice Deploys the registry.
    /// @param staking_ The Staking contract.
    /// @param slasher_ The Slasher contract.
    /// @param treasury_ The treasury.
    /// @param admin The admin (timelock in production).
    constructor(IStaking staking_, ISlasher slasher_, address treasury_, address admin) {
        if (
            address(staking_) == address(0) || address(slasher_) == address(0) || treasury_ == address(0)
                || admin == address(0)
        ) revert IInferenceRegistry.ZeroAddress();
        staking = staking_;
        slasher = slasher_;
        token = staking_.token();
        _treasury = treasury_;
        _batchWindow = 1 hours;
        _maxOutputBytes = 512;
        _callbackGasPrice = 1e9;
        viewImplementation = address(new InferenceRegistryView());
        deliveryModule = address(new InferenceRegistryDelivery(staking_, token));
        adminModule = address(new InferenceRegistryAdmin(slasher_));
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
        _setRole(ADMIN_ROLE, admin, true);
    }

    /// @notice Delegates every selector this contract does not implement: those of `IInferenceRegistryAdmin` to
    ///         `adminModule`, those of `IInferenceRegistryDelivery` to `deliveryModule`, every other one to
    ///         `viewImplementation` (the read-only functions of `IInferenceRegistryView`; an unknown selector
    ///         reverts there). Returns or reverts with the module's exact return data. Not payable.
    // solhint-disable-next-line no-complex-fallback
    fallback() external {
        address impl = _moduleFor(msg.sig);
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), impl, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev The module implementing `sig`.
    function _moduleFor(bytes4 sig) private view returns (address) {
        if (
            sig == IInferenceRegistryDelivery.deliverOutput.selector
                || sig == IInferenceRegistryDelivery.retryCallback.selector
                || sig == IInferenceRegistryDelivery.requestOutput.selector
                || sig == IInferenceRegistryDelivery.setEndpoint.selector
        ) return deliveryModule;
        if (
            sig == IInferenceRegistryAdmin.grantRole.selector
                || sig == IInferenceRegistryAdmin.revokeRole.selector
                || sig == IInferenceRegistryAdmin.renounceRole.selector
                || sig == IInferenceRegistryAdmin.wire.selector
                || sig == IInferenceRegistryAdmin.wireReferee.selector
                || sig == IInferenceRegistryAdmin.setTreasury.selector
                || sig == IInferenceRegistryAdmin.setBatchWindow.selector
                || sig == IInferenceRegistryAdmin.registerModel.selector
                || sig == IInferenceRegistryAdmin.retireModel.selector
                || sig == IInferenceRegistryAdmin.setDeliveryParams.selector
        ) return adminModule;
        return viewImplementation;
    }

    // ------------------------------------------------------------------ operators
    /// @inheritdoc IInferenceRegistryActions
    function serveModel(bytes32 modelId) external {
        IInferenceRegistry.Model storage m = _liveModel(modelId);
        SumTree.Tree storage tree = _trees[modelId];
        address operator = msg.sender;
        if (tree.contains(operator)) revert IInferenceRegistry.AlreadyServing(modelId, operator);
        if (!staking.isActiveOperator(operator)) revert IInferenceRegistry.NotActiveOperator(operator);
        uint256 stake = staking.operatorStake(operator);
        uint256 minStake = m.params.minStake;
        if (stake < minStake) revert IInferenceRegistry.InsufficientStake(operator, stake, minStake);
        if (_servedModels[operator].length >= MAX_MODELS_PER_OPERATOR) {
            revert IInferenceRegistry.TooManyModels(operator, MAX_MODELS_PER_OPERATOR);
        }
        if (tree.size >= MAX_OPERATORS_PER_MODEL) {
            revert IInferenceRegistry.ModelFull(modelId, MAX_OPERATORS_PER_MODEL);
        }
        _servedModels[operator].push(modelId);
        tree.insert(operator, stake);
        emit IInferenceRegistry.OperatorServing(modelId, operator, stake);
    }

    /// @inheritdoc IInferenceRegistryActions
    function stopServing(bytes32 modelId) external {
        _stopServing(modelId, msg.sender);
    }

    /// @inheritdoc IInferenceRegistryActions
    function evict(bytes32 modelId, address operator) external {
        uint256 weight = _trees[modelId].weightOf(operator);
        if (weight != 0) revert IInferenceRegistry.OperatorQualifies(modelId, operator, weight);
        _stopServing(modelId, operator);
    }

    /// @dev Removes `operator` from `modelId`'s tree and from its served list.
    function _stopServing(bytes32 modelId, address operator) private {
        SumTree.Tree storage tree = _trees[modelId];
        if (!tree.contains(operator)) revert IInferenceRegistry.NotServing(modelId, operator);
        bytes32[] storage served = _servedModels[operator];
        uint256 n = served.length;
        for (uint256 i; i < n; ++i) {
            if (served[i] == modelId) {
                _servedModels[operator][i] = served[n - 1];
                _servedModels[operator].pop();
                break;
            }
        }
        tree.remove(operator);
        emit IInferenceRegistry.OperatorStopped(modelId, operator);
    }

    /// @notice Staking reports `operator`'s new selection weight (0 when jailed or inactive). Updates every
    ///         model the operator serves; a model's weight is 0 below its minStake. Never reverts for a
    ///         valid caller. Only Staking.
    /// @param operator The operator.
    /// @param weight Its active stake, or 0.
    function onOperatorWeightChanged(address operator, uint256 weight) external {
        if (msg.sender != address(staking)) revert IInferenceRegistry.UnauthorizedCaller(msg.sender);
        bytes32[] storage served = _servedModels[operator];
        uint256 n = served.length;
        for (uint256 i; i < n; ++i) {
            bytes32 modelId = served[i];
            uint256 w = weight >= _models[modelId].params.minStake ? weight : 0;
            if (_trees[modelId].update(operator, w)) {
                emit IInferenceRegistry.OperatorWeightUpdated(modelId, operator, w);
            }
        }
    }

    // ------------------------------------------------------------------ requests
    /// @inheritdoc IInferenceRegistryActions
    function requestInference(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint256 fee,
        uint40 deadline
    ) external nonReentrant returns (uint256 requestId) {
        uint256 reserve;
        (requestId, reserve) = _newRequest(modelId, inputHash, inputURI, fee, deadline, 0);
        _checkDrawReserve(reserve);
    }

    /// @inheritdoc IInferenceRegistryActions
    function requestInferenceWithCallback(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint256 fee,
        uint40 deadline,
        IInferenceRegistry.CallbackSpec calldata callback
    ) external nonReentrant returns (uint256 requestId) {
        address consumer = callback.consumer;
        if (consumer.code.length == 0) revert IInferenceRegistry.ConsumerNotContract(consumer);
        uint32 gasLimit = callback.gasLimit;
        if (gasLimit < MIN_CALLBACK_GAS || gasLimit > MAX_CALLBACK_GAS) {
            revert IInferenceRegistry.CallbackGasOutOfRange(gasLimit, MIN_CALLBACK_GAS, MAX_CALLBACK_GAS);
        }
        uint256 cbFee = callback.fee;
        uint256 required = _callbackFeeFor(gasLimit, callback.early);
        if (cbFee < required) revert IInferenceRegistry.CallbackFeeTooLow(cbFee, required);
        if (cbFee > MAX_FEE) revert IInferenceRegistry.FeeOutOfRange(cbFee, required, MAX_FEE);
        uint256 reserve;
        (requestId, reserve) = _newRequest(modelId, inputHash, inputURI, fee, deadline, cbFee);
        _requests[requestId].core |= uint256(FLAG_CALLBACK) << 72; // Core.flags
        _deliveries[requestId] = Delivery({
            consumer: consumer,
            gasLimit: gasLimit,
            early: callback.early,
            earlyDone: false,
            state: IInferenceRegistry.CallbackState.Pending,
            // forge-lint: disable-next-line(unsafe-typecast)
            fee: uint96(cbFee), // <= MAX_FEE
            outputChallenger: address(0),
            outputBond: 0
        });
        emit IInferenceRegistry.CallbackRegistered(requestId, consumer, gasLimit, callback.early, cbFee);
        _checkDrawReserve(reserve); // last: the callback record's gas must not depend on the draw either
    }

    /// @dev Reverts unless `reserve` (the unspent part of the draw's worst case) is left at the very end of a request
    ///      call, so the smallest gas limit that succeeds does not depend on the draw (docs/security.md, finding 6).
    function _checkDrawReserve(uint256 reserve) private view {
        if (gasleft() < reserve) revert IInferenceRegistry.DrawGasReserve(reserve);
    }

    /// @dev Creates a request: pulls `fee + callbackFee`, draws the operators and stores the request. Returns the
    ///      draw's gas reserve, which the caller checks at its very end (`_checkDrawReserve`).
    function _newRequest(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint256 fee,
        uint40 deadline,
        uint256 callbackFee
    ) private returns (uint256 requestId, uint256 reserve) {
        (IInferenceRegistry.ModelParams memory p, uint32 modelIndex) =
            _checkRequest(modelId, inputHash, fee, deadline);
        // The fee is pulled first (the callers are guarded by nonReentrant) so that nothing after the draw
        // depends on a third party's gas use; see the gas reserve below.
        token.safeTransferFrom(msg.sender, address(this), fee + callbackFee);
        requestId = ++_requestCount;
        address[] memory picks;
        (picks, reserve) = _draw(modelId, requestId, p.k);
        emit IInferenceRegistry.RequestCreated(
            requestId, modelId, msg.sender, inputHash, inputURI, fee, deadline
        );
        _storeRequest(requestId, modelId, inputHash, fee, deadline, p, modelIndex, picks);
    }

    /// @dev Draws `k` distinct operators for `requestId`, seeded by the block. The draw's path, and so its gas,
    ///      depends on the block's randomness; `reserve` is the unspent part of its worst case, which the caller
    ///      requires to be left over at the end. Then every gas limit that succeeds for one draw succeeds for
    ///      all, and an exact estimate made in one block holds in the next (docs/security.md, finding 6).
    function _draw(bytes32 modelId, uint256 requestId, uint256 k)
        private
        view
        returns (address[] memory picks, uint256 reserve)
    {
        bytes32 seed = keccak256(abi.encode(block.prevrandao, blockhash(block.number - 1), requestId));
        SumTree.Tree storage tree = _trees[modelId];
        reserve = tree.drawGasBound(k);
        uint256 before = gasleft();
        picks = tree.drawDistinct(seed, k);
        uint256 used = before - gasleft();
        if (picks.length < k) revert IInferenceRegistry.InsufficientOperators(modelId, picks.length, k);
        reserve = reserve > used ? reserve - used : 0;
    }

    /// @dev Validates a new request; returns the model parameters.
    function _checkRequest(bytes32 modelId, bytes32 inputHash, uint256 fee, uint40 deadline)
        private
        view
        returns (IInferenceRegistry.ModelParams memory p, uint32 modelIndex)
    {
        IInferenceRegistry.Model storage m = _liveModel(modelId);
        p = m.params;
        modelIndex = m.index;
        if (inputHash == bytes32(0)) revert IInferenceRegistry.ZeroInputHash();
        if (fee < p.minFee || fee > MAX_FEE) revert IInferenceRegistry.FeeOutOfRange(fee, p.minFee, MAX_FEE);
        uint256 minDeadline = block.timestamp + MIN_TTL;
        uint256 maxDeadline = block.timestamp + MAX_TTL;
        if (deadline < minDeadline || deadline > maxDeadline) {
            revert IInferenceRegistry.InvalidDeadline(deadline, minDeadline, maxDeadline);
        }
    }

    /// @dev Writes a new request and its assignment.
    function _storeRequest(
        uint256 requestId,
        bytes32 modelId,
        bytes32 inputHash,
        uint256 fee,
        uint40 deadline,
        IInferenceRegistry.ModelParams memory p,
        uint32 modelIndex,
        address[] memory picks
    ) private {
        Request storage r = _requests[requestId];
        // The packed `Core` of a new request (layout in `Core`); every other field starts at zero.
        r.core = uint256(uint8(IInferenceRegistry.RequestStatus.Open)) | (uint256(uint8(p.mode)) << 8)
            | (uint256(p.k) << 16) | (uint256(p.q) << 24) | (uint256(deadline) << 80)
            | (uint256(p.challengeWindow) << 160) | (uint256(modelIndex) << 192)
            | (uint256(_fingerprints(picks)) << 224);
        r.subject = keccak256(abi.encode(modelId, inputHash));
        r.inputHash = inputHash;
        r.output = NO_OUTPUT;
        r.client = msg.sender;
        // forge-lint: disable-next-line(unsafe-typecast)
        r.fee = uint96(fee); // <= MAX_FEE, checked in `_checkRequest`
        for (uint256 i; i < picks.length; ++i) {
            r.operators[i] = picks[i];
            emit IInferenceRegistry.OperatorAssigned(requestId, picks[i], i);
        }
    }

    // ------------------------------------------------------------------ answers
    /// @inheritdoc IInferenceRegistryActions
    function submitAttestation(IInferenceRegistry.Attestation calldata att, bytes calldata signature)
        external
    {
        _submit(att, signature, staking.signerOf(att.operator));
    }

    /// @inheritdoc IInferenceRegistryActions
    function submitAttestations(IInferenceRegistry.Attestation[] calldata atts, bytes[] calldata signatures)
        external
    {
        uint256 n = atts.length;
        if (n != signatures.length) revert IInferenceRegistry.LengthMismatch(n, signatures.length);
        if (n == 0 || n > MAX_ATTESTATIONS_PER_CALL) {
            revert IInferenceRegistry.BadArrayLength(n, MAX_ATTESTATIONS_PER_CALL);
        }
        address cachedOperator = address(0);
        address cachedSigner = address(0);
        for (uint256 j; j < n; ++j) {
            IInferenceRegistry.Attestation calldata att = atts[j];
            if (att.operator != cachedOperator || j == 0) {
                cachedOperator = att.operator;
                cachedSigner = staking.signerOf(att.operator);
            }
            _submit(att, signatures[j], cachedSigner);
        }
    }

    /// @dev Checks and records one attestation signed by `signer`.
    function _submit(IInferenceRegistry.Attestation calldata att, bytes calldata signature, address signer)
        private
    {
        (Request storage r, Core memory c, uint256 i) =
            _answerable(att.requestId, att.operator, att.outputHash);
        if (keccak256(abi.encode(att.modelId, att.inputHash)) != r.subject) {
            revert IInferenceRegistry.AttestationMismatch(att.requestId);
        }
        _checkSignature(att, signature, signer);
        _record(r, c, i, att.requestId, att.operator, att.outputHash);
    }

    /// @inheritdoc IInferenceRegistryActions
    function commitBatch(bytes32 root, uint32 count) external returns (uint256 batchId) {
        return _commitBatch(msg.sender, root, count);
    }

    /// @inheritdoc IInferenceRegistryActions
    function commitBatchFor(address operator, bytes32 root, uint32 count) external returns (uint256 batchId) {
        if (msg.sender != operator && msg.sender != staking.signerOf(operator)) {
            revert IInferenceRegistry.NotOperatorOrSigner(msg.sender, operator);
        }
        return _commitBatch(operator, root, count);
    }

    /// @inheritdoc IInferenceRegistryActions
    function revealBatchResult(
        uint256 batchId,
        uint256 requestId,
        bytes32 outputHash,
        bytes32[] calldata proof
    ) external {
        address operator = _openBatchLeaf(batchId, requestId, outputHash, proof);
        (Request storage r, Core memory c, uint256 i) = _answerable(requestId, operator, outputHash);
        _record(r, c, i, requestId, operator, outputHash);
    }

    // ------------------------------------------------------------------ settlement
    /// @inheritdoc IInferenceRegistryActions
    function finalize(uint256 requestId) external nonReentrant {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        if (c.status == IInferenceRegistry.RequestStatus.Quorum) {
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp <= c.windowEnd) {
                revert IInferenceRegistry.ChallengeWindowOpen(requestId, c.windowEnd);
            }
            bytes32 output = r.output;
            uint8 payees = c.agree & ~c.faulted;
            bool unavailable = c.flags & FLAG_OUTPUT_REQUESTED != 0;
            if (unavailable) {
                // Nobody published the bytes of the challenged result by the window end: the result cannot
                // finalize. No valid result: the client is refunded, nobody is paid and nobody is slashed.
                _voidResult(r, c, output);
                output = bytes32(0);
                payees = 0;
            }
            c.status = IInferenceRegistry.RequestStatus.Finalized;
            c.rewarded = payees;
            _store(r, c);
            if (unavailable) {
                r.output = bytes32(0);
                _returnOutputBond(requestId, true);
            }
            emit IInferenceRegistry.RequestFinalized(requestId, output);
            _distribute(r, requestId, payees, r.fee, r.client);
        } else if (c.status == IInferenceRegistry.RequestStatus.Open) {
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp <= c.deadline) revert IInferenceRegistry.NotFinalizable(requestId, c.status);
            if (c.responded != c.agree) revert IInferenceRegistry.DisagreementMustBeEscalated(requestId);
            c.status = IInferenceRegistry.RequestStatus.Expired;
            _store(r, c);
            emit IInferenceRegistry.RequestExpired(requestId);
            _credit(r.client, requestId, r.fee);
        } else {
            revert IInferenceRegistry.NotFinalizable(requestId, c.status);
        }
    }

    /// @inheritdoc IInferenceRegistryActions
    function challenge(uint256 requestId, bytes32 claimedOutput)
        external
        nonReentrant
        returns (uint256 disputeId)
    {
        return _challenge(requestId, claimedOutput);
    }

    /// @inheritdoc IInferenceRegistryActions
    function challengeLeaf(
        uint256 batchId,
        uint256 requestId,
        bytes32 outputHash,
        bytes32[] calldata proof,
        bytes32 claimedOutput
    ) external nonReentrant returns (uint256 disputeId) {
        address operator = _openBatchLeaf(batchId, requestId, outputHash, proof);
        _revealIfUnanswered(requestId, operator, outputHash);
        return _challenge(requestId, claimedOutput);
    }

    /// @inheritdoc IInferenceRegistryActions
    function escalate(uint256 requestId) external nonReentrant returns (uint256 disputeId) {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        if (c.status != IInferenceRegistry.RequestStatus.Open) {
            revert IInferenceRegistry.NotChallengeable(requestId, c.status);
        }
        if (c.responded == c.agree) revert IInferenceRegistry.NoDisagreement(requestId);
        // forge-lint: disable-next-line(block-timestamp)
        bool beforeDeadline = block.timestamp <= c.deadline;
        uint256 unanswered = beforeDeadline ? c.k - _popcount(c.responded) : 0;
        if (_popcount(c.agree) + unanswered >= c.q) revert IInferenceRegistry.QuorumStillPossible(requestId);
        c.status = IInferenceRegistry.RequestStatus.Disputed;
        if (beforeDeadline) c.flags |= FLAG_EXCUSED;
        _store(r, c);
        return _openDispute(r, requestId, c, bytes32(0), address(0));
    }

    /// @inheritdoc IDisputeReceiver
    /// @dev Only from the resolver the dispute was opened with: the referee for a game, else the vote.
    function onDisputeResolved(uint256 disputeId, bytes32 outputHash, bool decided) external nonReentrant {
        uint256 requestId = _disputeRequest[disputeId];
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        if (msg.sender != address(c.flags & FLAG_REFEREE != 0 ? _referee : _resolver)) {
            revert IInferenceRegistry.UnauthorizedCaller(msg.sender);
        }
        if (requestId == 0) revert IInferenceRegistry.UnknownDispute(disputeId);
        if (c.status != IInferenceRegistry.RequestStatus.Disputed) {
            revert IInferenceRegistry.DisputeNotOpen(requestId, c.status);
        }
        address challenger = r.challenger;
        // No quorum is no decision: the status quo stands (a challenged quorum result, or no valid result for
        // an escalated disagreement), the challenger's bond is forfeited and nobody is slashed.
        if (!decided) outputHash = challenger != address(0) ? r.output : bytes32(0);

        // Classify answers against the ruling; afterwards `agree` marks the answers equal to the ruling and
        // `answers[i]` holds every other operator's answer (so `answerOf` stays exact).
        uint8 matching = 0;
        bytes32 lead = r.output;
        for (uint256 i; i < c.k; ++i) {
            uint8 bit = _bit(i);
            if (c.responded & bit == 0) continue;
            bytes32 answer = c.agree & bit != 0 ? lead : r.answers[i];
            if (outputHash != bytes32(0) && answer == outputHash) matching |= bit;
            else if (c.agree & bit != 0) r.answers[i] = lead;
        }
        uint8 winners = matching & ~c.faulted;
        uint8 losers = decided ? c.responded & ~matching & ~c.faulted : 0;
        bool challengerRight = challenger != address(0) && r.claimed == outputHash;

        // Effects. A pending availability challenge is moot once a ruling decides the result: its bond returns.
        bool outputRequested = c.flags & FLAG_OUTPUT_REQUESTED != 0;
        c.flags &= ~FLAG_OUTPUT_REQUESTED;
        c.status = IInferenceRegistry.RequestStatus.Finalized;
        c.agree = matching;
        c.rewarded = winners;
        _store(r, c);
        r.output = outputHash;
        if (outputRequested) _returnOutputBond(requestId, false);
        emit IInferenceRegistry.DisputeResolved(disputeId, requestId, outputHash);
        emit IInferenceRegistry.RequestFinalized(requestId, outputHash);
        _distribute(r, requestId, winners, r.fee, r.client);
        uint256 bond = r.bond;
        if (bond != 0) {
            if (challengerRight) _credit(challenger, requestId, bond);
            else _distribute(r, requestId, winners, bond, _treasury);
        }

        // Interactions: WrongResult slashes of every (unfaulted) operator that attested a losing output.
        _slashLosers(r, requestId, losers, challengerRight ? challenger : address(0));
    }

    /// @dev Turns the agreeing answers into explicit ones (so `answerOf` stays exact) and clears `agree`.
    function _voidResult(Request storage r, Core memory c, bytes32 lead) private {
        for (uint256 i; i < c.k; ++i) {
            if (c.agree & _bit(i) != 0) r.answers[i] = lead;
        }
        c.agree = 0;
        c.flags &= ~FLAG_OUTPUT_REQUESTED;
    }

    /// @dev Credits a pending availability challenge's bond back to its challenger.
    function _returnOutputBond(uint256 requestId, bool unavailable) private {
        Delivery storage d = _deliveries[requestId];
        address challenger = d.outputChallenger;
        uint256 bond = d.outputBond;
        d.outputChallenger = address(0);
        d.outputBond = 0;
        if (unavailable) emit IInferenceRegistry.OutputUnavailable(requestId, challenger);
        _credit(challenger, requestId, bond);
    }

    /// @dev Requests a WrongResult slash for each operator in `losers`. A failing request (e.g. the
    ///      operator has no stake left) is logged and skipped so a ruling can always be applied.
    function _slashLosers(Request storage r, uint256 requestId, uint8 losers, address reporter) private {
        for (uint256 i; i < MAX_K; ++i) {
            if (losers & _bit(i) == 0) continue;
            address op = r.operators[i];
            try slasher.requestSlash(
                ISlasher.FaultKind.WrongResult, op, bytes32(requestId), reporter
            ) returns (
                uint256 slashId
            ) {
                emit IInferenceRegistry.WrongResultSlashRequested(requestId, op, slashId);
            } catch {
                emit IInferenceRegistry.SlashRequestFailed(requestId, op);
            }
        }
    }

    // ------------------------------------------------------------------ faults
    /// @inheritdoc IInferenceRegistryActions
    function reportMissed(uint256 requestId, address operator)
        external
        nonReentrant
        returns (uint256 slashId)
    {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        if (c.status == IInferenceRegistry.RequestStatus.None) {
            revert IInferenceRegistry.UnknownRequest(requestId);
        }
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= c.deadline) {
            revert IInferenceRegistry.DeadlineNotPassed(requestId, c.deadline);
        }
        (bool found, uint256 i) = _indexOf(r, c, operator);
        if (!found) revert IInferenceRegistry.NotAssigned(requestId, operator);
        uint8 bit = _bit(i);
        if (c.responded & bit != 0) revert IInferenceRegistry.OperatorAnswered(requestId, operator);
        if (c.missed & bit != 0) revert IInferenceRegistry.MissedAlreadyReported(requestId, operator);
        if (c.flags & FLAG_EXCUSED != 0) revert IInferenceRegistry.OperatorExcused(requestId, operator);
        c.missed = c.missed | bit;
        _store(r, c);
        slashId = _requestSlash(ISlasher.FaultKind.MissedAssignment, operator, requestId);
        emit IInferenceRegistry.MissedReported(requestId, operator, msg.sender, slashId);
    }

    /// @inheritdoc IInferenceRegistryActions
    function reportEquivocation(
        IInferenceRegistry.Statement calldata a,
        IInferenceRegistry.Statement calldata b
    ) external nonReentrant returns (uint256 slashId) {
        IInferenceRegistry.Attestation calldata x = a.att;
        IInferenceRegistry.Attestation calldata y = b.att;
        address operator = x.operator;
        if (y.operator != operator || y.requestId != x.requestId || y.outputHash == x.outputHash) {
            revert IInferenceRegistry.NotEquivocation();
        }
        address signer = staking.signerOf(operator);
        _checkStatement(a, signer);
        _checkStatement(b, signer);
        return _equivocation(x.requestId, operator);
    }

    /// @inheritdoc IInferenceRegistryActions
    function claim() external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert IInferenceRegistry.NothingToClaim(msg.sender);
        _credits[msg.sender] = 0;
        emit IInferenceRegistry.Claimed(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ internals: answers
    /// @dev Checks that `operator` may answer `requestId` now; returns the request, its core and the index.
    function _answerable(uint256 requestId, address operator, bytes32 outputHash)
        private
        view
        returns (Request storage r, Core memory c, uint256 i)
    {
        r = _requests[requestId];
        c = _load(r);
        if (
            c.status != IInferenceRegistry.RequestStatus.Open
                && c.status != IInferenceRegistry.RequestStatus.Quorum
        ) {
            if (c.status == IInferenceRegistry.RequestStatus.None) {
                revert IInferenceRegistry.UnknownRequest(requestId);
            }
            revert IInferenceRegistry.NotAcceptingAnswers(requestId, c.status);
        }
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > c.deadline) revert IInferenceRegistry.DeadlinePassed(requestId, c.deadline);
        if (outputHash == bytes32(0) || outputHash == NO_OUTPUT) {
            revert IInferenceRegistry.InvalidOutputHash(outputHash);
        }
        bool found;
        (found, i) = _indexOf(r, c, operator);
        if (!found) revert IInferenceRegistry.NotAssigned(requestId, operator);
        if (c.responded & _bit(i) != 0) revert IInferenceRegistry.AlreadyAnswered(requestId, operator);
    }

    /// @dev Records answer `out` of operator index `i`, keeping `output` the plurality answer.
    function _record(
        Request storage r,
        Core memory c,
        uint256 i,
        uint256 requestId,
        address operator,
        bytes32 out
    ) private {
        uint8 bit = _bit(i);
        c.responded |= bit;
        if (c.agree == 0) {
            r.output = out;
            c.agree = bit;
        } else {
            bytes32 lead = r.output;
            if (out == lead) {
                c.agree |= bit;
            } else {
                r.answers[i] = out;
                _maybePromote(r, c, out, lead);
            }
        }
        if (c.status == IInferenceRegistry.RequestStatus.Open && _popcount(c.agree) >= c.q) {
            uint256 end = block.timestamp + c.challengeWindow;
            if (end < c.deadline) end = c.deadline;
            c.status = IInferenceRegistry.RequestStatus.Quorum;
            c.windowEnd = SafeCast.toUint40(end);
            emit IInferenceRegistry.QuorumReached(requestId, r.output, c.windowEnd);
        }
        _store(r, c);
        emit IInferenceRegistry.AnswerRecorded(requestId, operator, out);
    }

    /// @dev Makes `out` the leading output when strictly more operators answered it than the current lead.
    function _maybePromote(Request storage r, Core memory c, bytes32 out, bytes32 lead) private {
        uint8 matches = 0;
        for (uint256 j; j < c.k; ++j) {
            uint8 b = _bit(j);
            if (c.responded & b != 0 && c.agree & b == 0 && r.answers[j] == out) matches |= b;
        }
        if (_popcount(matches) <= _popcount(c.agree)) return;
        for (uint256 j; j < c.k; ++j) {
            uint8 b = _bit(j);
            if (c.agree & b != 0) r.answers[j] = lead;
            else if (matches & b != 0) delete r.answers[j];
        }
        c.agree = matches;
        r.output = out;
    }

    function _checkSignature(
        IInferenceRegistry.Attestation calldata att,
        bytes calldata signature,
        address signer
    ) private view {
        if (signature.length != 65) {
            revert IInferenceRegistry.InvalidSignature(att.operator);
        }
        bytes32 rr;
        bytes32 ss;
        uint8 v;
        assembly ("memory-safe") {
            rr := calldataload(signature.offset)
            ss := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        (address recovered, ECDSA.RecoverError err, bytes32 errArg) =
            ECDSA.tryRecover(_digest(att), v, rr, ss);
        // `errArg` only details why recovery failed; any failure is reported as InvalidSignature.
        if (err != ECDSA.RecoverError.NoError || recovered != signer || errArg != bytes32(0)) {
            revert IInferenceRegistry.InvalidSignature(att.operator);
        }
    }

    function _digest(IInferenceRegistry.Attestation calldata att) private view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(
            _domainSeparatorV4(), keccak256(abi.encode(ATTESTATION_TYPEHASH, att))
        );
    }

    /// @dev The EIP-712 domain separator, recomputed if the chain id changed since deployment.
    function _domainSeparatorV4() private view returns (bytes32) {
        if (block.chainid == _cachedChainId) return _cachedDomainSeparator;
        return _buildDomainSeparator();
    }

    /// @dev Packs the fingerprints of `ops` (at most 8), 4 bits each.
    function _fingerprints(address[] memory ops) private pure returns (uint32 fps) {
        uint256 packed = 0;
        for (uint256 i; i < ops.length; ++i) {
            packed |= _fingerprint(ops[i]) << (4 * i);
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(packed); // at most MAX_K = 8 fingerprints of 4 bits
    }

    // ------------------------------------------------------------------ internals: batches
    function _commitBatch(address operator, bytes32 root, uint32 count) private returns (uint256 batchId) {
        if (root == bytes32(0) || count == 0 || count > MAX_BATCH_LEAVES) {
            revert IInferenceRegistry.InvalidBatch(root, count);
        }
        batchId = ++_batchCount;
        _batches[batchId] = IInferenceRegistry.Batch({
            operator: operator, committedAt: SafeCast.toUint40(block.timestamp), count: count, root: root
        });
        emit IInferenceRegistry.BatchCommitted(batchId, operator, root, count);
    }

    /// @dev Records `outputHash` as `operator`'s answer unless it already answered `requestId`.
    function _revealIfUnanswered(uint256 requestId, address operator, bytes32 outputHash) private {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        (bool found, uint256 i) = _indexOf(r, c, operator);
        if (!found) revert IInferenceRegistry.NotAssigned(requestId, operator);
        if (c.responded & _bit(i) == 0) {
            (, c,) = _answerable(requestId, operator, outputHash);
            _record(r, c, i, requestId, operator, outputHash);
        }
    }

    /// @dev Checks the batch window and the proof of leaf (operator, requestId, outputHash); returns operator.
    function _openBatchLeaf(uint256 batchId, uint256 requestId, bytes32 outputHash, bytes32[] calldata proof)
        private
        view
        returns (address operator)
    {
        IInferenceRegistry.Batch storage b = _batches[batchId];
        operator = b.operator;
        if (operator == address(0)) revert IInferenceRegistry.UnknownBatch(batchId);
        uint256 closesAt = uint256(b.committedAt) + _batchWindow;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > closesAt) revert IInferenceRegistry.BatchWindowClosed(batchId, closesAt);
        _verifyLeaf(b.root, operator, requestId, outputHash, proof);
    }

    /// @dev Reverts unless `st` is a statement of `st.att.operator` (hot key `signer`): a valid signature, or a
    ///      leaf of one of its batches (at any time: statements stay attributable after the batch window).
    function _checkStatement(IInferenceRegistry.Statement calldata st, address signer) private view {
        IInferenceRegistry.Attestation calldata att = st.att;
        if (st.batchId == 0) return _checkSignature(att, st.signature, signer);
        IInferenceRegistry.Batch storage b = _batches[st.batchId];
        if (b.operator != att.operator) revert IInferenceRegistry.UnknownBatch(st.batchId);
        _verifyLeaf(b.root, att.operator, att.requestId, att.outputHash, st.proof);
    }

    /// @dev Reverts with `InvalidProof` unless leaf (operator, requestId, outputHash) is under `root`.
    function _verifyLeaf(
        bytes32 root,
        address operator,
        uint256 requestId,
        bytes32 outputHash,
        bytes32[] calldata proof
    ) private pure {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(operator, requestId, outputHash))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert IInferenceRegistry.InvalidProof();
    }

    // ------------------------------------------------------------------ internals: disputes & payouts
    function _challenge(uint256 requestId, bytes32 claimedOutput) private returns (uint256 disputeId) {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        if (c.status != IInferenceRegistry.RequestStatus.Quorum) {
            revert IInferenceRegistry.NotChallengeable(requestId, c.status);
        }
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > c.windowEnd) {
            revert IInferenceRegistry.ChallengeWindowClosed(requestId, c.windowEnd);
        }
        if (claimedOutput == r.output) revert IInferenceRegistry.ClaimMatchesResult(requestId);
        // A challenger names a concrete alternative: "no valid result" is not a claim anyone can be paid for.
        if (claimedOutput == bytes32(0) || claimedOutput == NO_OUTPUT) {
            revert IInferenceRegistry.InvalidOutputHash(claimedOutput);
        }
        uint256 bond = _models[_modelIds[c.modelIndex]].params.challengeBond;
        c.status = IInferenceRegistry.RequestStatus.Disputed;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= c.deadline) c.flags |= FLAG_EXCUSED;
        _store(r, c);
        r.challenger = msg.sender;
        // forge-lint: disable-next-line(unsafe-typecast)
        r.bond = uint96(bond); // <= MAX_FEE, checked in `_checkParams`
        r.claimed = claimedOutput;
        emit IInferenceRegistry.Challenged(requestId, msg.sender, claimedOutput, bond);
        token.safeTransferFrom(msg.sender, address(this), bond);
        return _openDispute(r, requestId, c, claimedOutput, msg.sender);
    }

    /// @dev Opens a dispute over the distinct answers (plus `claimed` when `challenger` is set).
    ///      Every caller has already set the request's status to Disputed, so a re-entering resolver finds
    ///      nothing to answer, challenge or escalate; the id bookkeeping needs the resolver's return value.
    // slither-disable-start reentrancy-no-eth
    function _openDispute(
        Request storage r,
        uint256 requestId,
        Core memory c,
        bytes32 claimed,
        address challenger
    ) private returns (uint256 disputeId) {
        bytes32[] memory candidates = new bytes32[](MAX_K + 1);
        uint256 n;
        if (c.agree != 0) candidates[n++] = r.output;
        for (uint256 i; i < c.k; ++i) {
            uint8 b = _bit(i);
            // An operator that answered but is not in the agreeing set: a bit test, not a balance check.
            if (c.responded & b != 0 && c.agree & b != b) n = _addCandidate(candidates, n, r.answers[i]);
        }
        if (challenger != address(0)) n = _addCandidate(candidates, n, claimed);
        address[] memory involved = new address[](c.k + (challenger != address(0) ? 1 : 0));
        for (uint256 i; i < c.k; ++i) {
            involved[i] = r.operators[i];
        }
        if (challenger != address(0)) involved[c.k] = challenger;
        assembly ("memory-safe") {
            mstore(candidates, n)
        }
        // The path follows from the model, never from the caller: two outputs of a Deterministic integer MLP
        // are settled by the referee's game, everything else by the vote.
        IDisputeResolver res = _resolver;
        IInferenceRegistry.Model storage m = _models[_modelIds[c.modelIndex]];
        if (
            n == 2 && address(_referee) != address(0) && m.runtimeSpecHash == INT_MLP_SPEC_HASH
                && m.params.mode == IInferenceRegistry.VerificationMode.Deterministic
        ) {
            res = _referee;
            c.flags |= FLAG_REFEREE;
            _store(r, c);
        }
        if (address(res) == address(0)) revert IInferenceRegistry.ZeroAddress();
        disputeId = res.openDispute(requestId, candidates, involved, challenger);
        if (_disputeRequest[disputeId] != 0) revert IInferenceRegistry.UnknownDispute(disputeId);
        _disputeRequest[disputeId] = requestId;
        r.disputeId = disputeId;
        emit IInferenceRegistry.DisputeOpened(requestId, disputeId);
    }
    // slither-disable-end reentrancy-no-eth

    function _addCandidate(bytes32[] memory list, uint256 n, bytes32 value) private pure returns (uint256) {
        for (uint256 j; j < n; ++j) {
            if (list[j] == value) return n;
        }
        list[n] = value;
        return n + 1;
    }

    function _equivocation(uint256 requestId, address operator) private returns (uint256 slashId) {
        Request storage r = _requests[requestId];
        Core memory c = _load(r);
        if (c.status == IInferenceRegistry.RequestStatus.None) {
            revert IInferenceRegistry.UnknownRequest(requestId);
        }
        (bool found, uint256 i) = _indexOf(r, c, operator);
        if (found) {
            uint8 bit = _bit(i);
            if (c.rewarded & bit != 0) {
                revert IInferenceRegistry.OperatorAlreadyRewarded(requestId, operator);
            }
            c.faulted = c.faulted | bit;
            _store(r, c);
        }
        slashId = _requestSlash(ISlasher.FaultKind.Equivocation, operator, requestId);
        emit IInferenceRegistry.EquivocationReported(requestId, operator, msg.sender, slashId);
    }

    /// @dev Asks the slasher to slash `operator` for `kind` on `requestId`, reported by the caller.
    function _requestSlash(ISlasher.FaultKind kind, address operator, uint256 requestId)
        private
        returns (uint256)
    {
        return slasher.requestSlash(kind, operator, bytes32(requestId), msg.sender);
    }

    // ------------------------------------------------------------------ internals: models
}
