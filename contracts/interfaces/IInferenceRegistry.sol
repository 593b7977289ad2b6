// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IDisputeReceiver, IDisputeResolver} from "./IDisputes.sol";
import {ISlasher} from "./ISlasher.sol";
import {IOperatorObserver} from "./IStakeObservers.sol";
import {IStaking} from "./IStaking.sol";

/// @title IInferenceRegistryActions
/// @notice The state-changing functions of the registry, implemented by `InferenceRegistry` itself. Types,
///         events and errors are declared in `IInferenceRegistry`.
interface IInferenceRegistryActions is IOperatorObserver, IDisputeReceiver {
    // ------------------------------------------------------------------ operators
    /// @notice The caller (an operator's owner address) opts in to serve `modelId`.
    /// @param modelId The model.
    function serveModel(bytes32 modelId) external;

    /// @notice The caller stops serving `modelId` (already assigned requests must still be answered).
    /// @param modelId The model.
    function stopServing(bytes32 modelId) external;

    /// @notice Removes `operator` from `modelId`'s selection tree while it does not qualify: its selection
    ///         weight is 0 (active stake below the model's minStake, jailed or inactive). Anyone; a slot is held
    ///         only while its operator qualifies. Emits `OperatorStopped`.
    /// @param modelId The model.
    /// @param operator The operator to evict.
    function evict(bytes32 modelId, address operator) external;

    // ------------------------------------------------------------------ requests
    /// @notice Creates a request, pulls `fee` into escrow and assigns operators.
    /// @param modelId The model.
    /// @param inputHash Hash of the input (non-zero).
    /// @param inputURI Where operators fetch the input (event only).
    /// @param fee Fee in the staking token, >= the model's minFee.
    /// @param deadline Unix time by which answers must be on chain, [now + 1 minute, now + 1 day].
    /// @return requestId The new request id (sequential from 1).
    function requestInference(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint256 fee,
        uint40 deadline
    ) external returns (uint256 requestId);

    /// @notice Like `requestInference`, and names a consumer contract called back with the result
    ///         (`IInferenceConsumer.onInferenceResult`). Pulls `fee + callback.fee` into escrow.
    /// @param modelId The model.
    /// @param inputHash Hash of the input (non-zero).
    /// @param inputURI Where operators fetch the input (event only).
    /// @param fee Fee in the staking token, >= the model's minFee.
    /// @param deadline Unix time by which answers must be on chain, [now + 1 minute, now + 1 day].
    /// @param callback The consumer, its gas limit, the early-callback opt-in and the callback fee.
    /// @return requestId The new request id.
    function requestInferenceWithCallback(
        bytes32 modelId,
        bytes32 inputHash,
        string calldata inputURI,
        uint256 fee,
        uint40 deadline,
        IInferenceRegistry.CallbackSpec calldata callback
    ) external returns (uint256 requestId);

    /// @notice Records an operator's signed answer. Anyone may relay.
    /// @param att The attestation.
    /// @param signature 65-byte (r, s, v) signature of the EIP-712 digest by `staking.signerOf(att.operator)`.
    function submitAttestation(IInferenceRegistry.Attestation calldata att, bytes calldata signature) external;

    /// @notice Records up to 64 signed answers; reverts as a whole if one is invalid.
    /// @param atts The attestations.
    /// @param signatures One signature per attestation.
    function submitAttestations(IInferenceRegistry.Attestation[] calldata atts, bytes[] calldata signatures)
        external;

    /// @notice Commits a Merkle root over results of the caller (as operator owner).
    /// @param root Merkle root (OZ StandardMerkleTree leaves, see docs).
    /// @param count Number of leaves, [1, 65536].
    /// @return batchId The batch id.
    function commitBatch(bytes32 root, uint32 count) external returns (uint256 batchId);

    /// @notice Commits a Merkle root for `operator`; the caller must be its owner or current signer.
    /// @param operator The operator.
    /// @param root Merkle root.
    /// @param count Number of leaves, [1, 65536].
    /// @return batchId The batch id.
    function commitBatchFor(address operator, bytes32 root, uint32 count) external returns (uint256 batchId);

    /// @notice Reveals one leaf of a batch; it counts as the batch operator's answer. Anyone.
    /// @param batchId The batch.
    /// @param requestId The request the leaf answers.
    /// @param outputHash The output in the leaf.
    /// @param proof Merkle proof of the leaf.
    function revealBatchResult(
        uint256 batchId,
        uint256 requestId,
        bytes32 outputHash,
        bytes32[] calldata proof
    ) external;

    /// @notice Challenges a batch leaf (revealing it first if it is not yet the operator's answer) with a bond,
    ///         while the batch window and the request's challenge window are open.
    /// @param batchId The batch.
    /// @param requestId The request.
    /// @param outputHash The output in the leaf.
    /// @param proof Merkle proof of the leaf.
    /// @param claimedOutput The concrete output the challenger claims is correct (non-zero, not the result).
    /// @return disputeId The resolver's dispute id.
    function challengeLeaf(
        uint256 batchId,
        uint256 requestId,
        bytes32 outputHash,
        bytes32[] calldata proof,
        bytes32 claimedOutput
    ) external returns (uint256 disputeId);

    /// @notice Finalizes a request whose window elapsed (pays agreeing operators), or expires one whose
    ///         deadline passed without quorum or disagreement (refunds the client). Anyone.
    /// @param requestId The request.
    function finalize(uint256 requestId) external;

    /// @notice Bonded challenge of the current result inside the challenge window; opens a dispute. The
    ///         challenger must name a concrete alternative output; without a positive ruling for it the bond
    ///         is forfeited and the result stands.
    /// @param requestId The request.
    /// @param claimedOutput The concrete output the challenger claims is correct (non-zero, not the result).
    /// @return disputeId The resolver's dispute id.
    function challenge(uint256 requestId, bytes32 claimedOutput) external returns (uint256 disputeId);

    /// @notice Opens a dispute when assigned operators disagree and quorum became impossible. Anyone.
    /// @param requestId The request.
    /// @return disputeId The resolver's dispute id.
    function escalate(uint256 requestId) external returns (uint256 disputeId);

    /// @notice Reports an assigned operator that did not answer before the deadline. Anyone; the reporter
    ///         is credited by the Slasher.
    /// @param requestId The request.
    /// @param operator The operator.
    /// @return slashId The Slasher's id.
    function reportMissed(uint256 requestId, address operator) external returns (uint256 slashId);

    /// @notice Reports two statements of one operator answering one request with different outputs: any pair of
    ///         signed attestations and batch leaves (two leaves may be in the same batch). Anyone; the reporter
    ///         is credited by the Slasher.
    /// @param a The first statement.
    /// @param b The second statement (same operator and request, different output).
    /// @return slashId The Slasher's id.
    function reportEquivocation(
        IInferenceRegistry.Statement calldata a,
        IInferenceRegistry.Statement calldata b
    ) external returns (uint256 slashId);

    /// @notice Withdraws the caller's credited payouts (fees, returned bonds).
    /// @return amount The amount transferred.
    function claim() external returns (uint256 amount);

    // ------------------------------------------------------------------ immutables (answered by the registry)
    /// @notice The staking contract.
    /// @return The staking contract.
    function staking() external view returns (IStaking);

    /// @notice The slasher this registry reports faults to.
    /// @return The slasher.
    function slasher() external view returns (ISlasher);

    /// @notice The staking token (fees, bonds, callback fees).
    /// @return The token.
    function token() external view returns (IERC20);
}

/// @title IInferenceRegistryAdmin
/// @notice Governance of the registry: wiring, roles, windows, models and delivery parameters. Implemented by
///         `InferenceRegistryAdmin`, which the registry reaches by `delegatecall` from its fallback: call them at
///         the registry's address.
interface IInferenceRegistryAdmin {
    /// @notice Sets the dispute resolver once. Only admin.
    /// @param resolver The IDisputeResolver (DisputeGovernor in production).
    function wire(address resolver) external;

    /// @notice Sets the referee once: two-way disputes over Deterministic integer-MLP models go to it
    ///         (docs/referee.md). Re-checks the timing invariants. Only admin.
    /// @param referee The Referee.
    function wireReferee(address referee) external;

    /// @notice Sets where forfeited bonds with no winning operator go. Only admin.
    /// @param treasury Non-zero treasury address.
    function setTreasury(address treasury) external;

    /// @notice Sets how long after commit a batch's leaves may be revealed or challenged. Only admin.
    /// @param batchWindow Seconds, [10 minutes, 7 days].
    function setBatchWindow(uint32 batchWindow) external;

    /// @notice Registers a model. Only admin.
    /// @param weightsHash Content hash of the weights.
    /// @param runtimeSpecHash Content hash of the runtime/quantization spec.
    /// @param params Verification parameters (bounded).
    /// @return modelId keccak256(abi.encode(weightsHash, runtimeSpecHash)).
    function registerModel(
        bytes32 weightsHash,
        bytes32 runtimeSpecHash,
        IInferenceRegistry.ModelParams calldata params
    ) external returns (bytes32 modelId);

    /// @notice Retires a model: no new requests or new operators; open requests run to completion. Only admin.
    /// @param modelId The model.
    function retireModel(bytes32 modelId) external;

    /// @notice Grants `role` to `account`. Only the admin. Emits `RoleGranted` if newly granted.
    /// @param role The role.
    /// @param account The account.
    function grantRole(bytes32 role, address account) external;

    /// @notice Revokes `role` from `account`. Only the admin. Emits `RoleRevoked` if it was held.
    /// @param role The role.
    /// @param account The account.
    function revokeRole(bytes32 role, address account) external;

    /// @notice Gives up `role`; `callerConfirmation` must be the caller. Emits `RoleRevoked` if it was held.
    /// @param role The role.
    /// @param callerConfirmation The caller's own address.
    function renounceRole(bytes32 role, address callerConfirmation) external;

    /// @notice Sets the delivery parameters. Only admin.
    /// @param maxOutputBytes Longest output delivered inline to a consumer, [32, 1024] bytes.
    /// @param callbackGasPrice Staking-token units charged per callback gas, [1, 1e15].
    function setDeliveryParams(uint32 maxOutputBytes, uint256 callbackGasPrice) external;
}

/// @title IInferenceRegistryDelivery
/// @notice Output delivery, consumer callbacks, output-availability challenges and operator endpoints.
///         Implemented by `InferenceRegistryDelivery`, which the registry reaches by `delegatecall` from its
///         fallback: call them at the registry's address.
interface IInferenceRegistryDelivery {
    /// @notice Publishes the bytes behind a request's result (`OutputDelivered`) and, when the request has a
    ///         consumer, calls it back with exactly its gas limit (once finalized or expired; once early at
    ///         quorum if it opted in). Anyone; the caller is credited the callback fee share, whether the
    ///         consumer succeeds or not. Empty `output` delivers the hash alone (only the client or consumer,
    ///         for outputs too large to go on chain) or the lack of a result (anyone). While an availability
    ///         challenge is pending, publishing the bytes answers it.
    /// @param requestId The request.
    /// @param output The output bytes: keccak256(output) must equal the result; at most 64 KiB, and at most
    ///        `maxOutputBytes` to be passed to a consumer.
    function deliverOutput(uint256 requestId, bytes calldata output) external;

    /// @notice Retries a failed final callback. Only the consumer. Same gas limit, no payment.
    /// @param requestId The request.
    /// @param output The output bytes (as for `deliverOutput`).
    function retryCallback(uint256 requestId, bytes calldata output) external;

    /// @notice Bonded data-availability challenge of a quorum result (the model's challengeBond): unless
    ///         someone publishes the bytes with `deliverOutput` by the window end, the request finalizes as
    ///         "no valid result" (fee refunded, bond returned, nobody paid, nobody slashed). Publishing in time
    ///         forfeits the bond to the operators that attested the result. At least 5 minutes before the end.
    /// @param requestId The request.
    function requestOutput(uint256 requestId) external;

    /// @notice The caller (an operator's owner address) publishes the base URL where it serves outputs.
    /// @param url The base URL, 1..256 bytes.
    function setEndpoint(string calldata url) external;
}

/// @title IInferenceRegistryView
/// @notice The read-only functions of the registry, implemented by `InferenceRegistryView`, which the registry
///         reaches by `delegatecall` from its fallback: call them at the registry's address.
interface IInferenceRegistryView is IERC5267 {
    /// @notice The dispute resolver (zero until wired).
    /// @return The resolver.
    function resolver() external view returns (IDisputeResolver);

    /// @notice The referee for computable disputes (zero until wired).
    /// @return The referee.
    function referee() external view returns (IDisputeResolver);

    /// @notice The longest time, in seconds, after a request is created during which a fault on it can still
    ///         be brought to the registry: the largest request TTL, plus the largest challenge window of any
    ///         registered model, plus the batch window. Part of the timing invariants (docs/slashing.md).
    /// @return The bound in seconds.
    function faultWindow() external view returns (uint256);

    /// @notice The EIP-712 digest an operator signs for `att`.
    /// @param att The attestation.
    /// @return The digest.
    function attestationDigest(IInferenceRegistry.Attestation calldata att) external view returns (bytes32);

    /// @notice The model record.
    /// @param modelId The model.
    /// @return The model.
    function model(bytes32 modelId) external view returns (IInferenceRegistry.Model memory);

    /// @notice The request record.
    /// @param requestId The request.
    /// @return The request view.
    function request(uint256 requestId) external view returns (IInferenceRegistry.RequestView memory);

    /// @notice The operators assigned to a request, in assignment order.
    /// @param requestId The request.
    /// @return ops The operators.
    function assignedOperators(uint256 requestId) external view returns (address[] memory ops);

    /// @notice An assigned operator's answer.
    /// @param requestId The request.
    /// @param operator The operator.
    /// @return answered Whether it answered.
    /// @return outputHash Its output (zero if not answered).
    function answerOf(uint256 requestId, address operator)
        external
        view
        returns (bool answered, bytes32 outputHash);

    /// @notice A committed batch.
    /// @param batchId The batch.
    /// @return The batch.
    function batch(uint256 batchId) external view returns (IInferenceRegistry.Batch memory);

    /// @notice Claimable balance of `account`.
    /// @param account The account.
    /// @return The amount.
    function credits(address account) external view returns (uint256);

    /// @notice The admin role.
    /// @return bytes32(0).
    // solhint-disable-next-line func-name-mixedcase
    function DEFAULT_ADMIN_ROLE() external view returns (bytes32);

    /// @notice Whether `account` holds `role` (OpenZeppelin AccessControl compatible).
    /// @param role The role.
    /// @param account The account.
    /// @return True if `account` holds `role`.
    function hasRole(bytes32 role, address account) external view returns (bool);

    /// @notice The EIP-712 domain separator (name "verinfer", version "1", this chain, the registry).
    /// @return The domain separator.
    function domainSeparator() external view returns (bytes32);

    /// @notice Where forfeited bonds with no winning operator go.
    /// @return The treasury.
    function treasury() external view returns (address);

    /// @notice Seconds after commit during which a batch's leaves can be revealed or challenged.
    /// @return The batch window.
    function batchWindow() external view returns (uint32);

    /// @notice Last request id.
    /// @return The count.
    function requestCount() external view returns (uint256);

    /// @notice Last batch id.
    /// @return The count.
    function batchCount() external view returns (uint256);

    /// @notice Models `operator` serves.
    /// @param operator The operator.
    /// @return The model ids.
    function servedModels(address operator) external view returns (bytes32[] memory);

    /// @notice `operator`'s current selection weight for `modelId` (0 if not serving).
    /// @param modelId The model.
    /// @param operator The operator.
    /// @return The weight.
    function operatorWeight(bytes32 modelId, address operator) external view returns (uint256);

    /// @notice Sum of selection weights for `modelId`.
    /// @param modelId The model.
    /// @return The total weight.
    function totalWeight(bytes32 modelId) external view returns (uint256);

    /// @notice Number of operators serving `modelId`.
    /// @param modelId The model.
    /// @return The count.
    function operatorCount(bytes32 modelId) external view returns (uint256);

    /// @notice Whether `operator` serves `modelId`.
    /// @param modelId The model.
    /// @param operator The operator.
    /// @return True if serving.
    function isServing(bytes32 modelId, address operator) external view returns (bool);

    /// @notice The delivery state of a request (consumer callback, availability challenge).
    /// @param requestId The request.
    /// @return The delivery view.
    function delivery(uint256 requestId) external view returns (IInferenceRegistry.DeliveryView memory);

    /// @notice The delivery parameters and bounds.
    /// @return maxOutputBytes Longest output passed inline to a consumer.
    /// @return callbackGasPrice Staking-token units per callback gas.
    /// @return maxCallbackGas Largest callback gas limit.
    /// @return overheadGas Gas charged per callback on top of its limit (the delivery's own cost).
    function deliveryParams()
        external
        view
        returns (uint32 maxOutputBytes, uint256 callbackGasPrice, uint256 maxCallbackGas, uint256 overheadGas);

    /// @notice The smallest callback fee for `gasLimit` (twice the per-callback price when `early`).
    /// @param gasLimit The callback gas limit.
    /// @param early Whether an early callback is requested too.
    /// @return The fee in staking-token units.
    function callbackFeeFor(uint32 gasLimit, bool early) external view returns (uint256);

    /// @notice The base URL where `operator` serves outputs (empty if never set).
    /// @param operator The operator.
    /// @return The URL.
    function endpointOf(address operator) external view returns (string memory);
}

/// @title IInferenceRegistry
/// @notice The whole ABI at the registry's address: models, inference requests, stake-weighted assignment,
///         EIP-712 attestations, Merkle result batches, finalization, disputes, fault reports, output delivery
///         and consumer callbacks of verinfer. Declares the types, events and errors; the functions are split
///         into `IInferenceRegistryActions` (the registry contract), `IInferenceRegistryAdmin` (its governance
///         module), `IInferenceRegistryDelivery` (its delivery module) and `IInferenceRegistryView` (its view
///         contract). See docs/attestation.md and docs/consumers.md.
interface IInferenceRegistry is
    IInferenceRegistryActions,
    IInferenceRegistryAdmin,
    IInferenceRegistryDelivery,
    IInferenceRegistryView
{
    // ------------------------------------------------------------------ types
    /// @notice How a model's results are verified.
    enum VerificationMode {
        Deterministic, // k operators run it; q of them must return the same output hash
        Optimistic // one executor; its answer stands unless challenged inside the window
    }

    /// @notice Lifecycle of a request (see the state diagram in docs/attestation.md).
    enum RequestStatus {
        None,
        Open, // accepting answers, no quorum yet
        Quorum, // quorum (or the single optimistic answer) reached; challenge window running
        Disputed, // a dispute is open with the resolver
        Finalized, // result recorded (bytes32(0) = "no valid result"); immutable
        Expired // no result before the deadline and no disagreement; fee refunded
    }

    /// @notice Governance-set, immutable per-model parameters.
    struct ModelParams {
        VerificationMode mode;
        uint8 k; // operators assigned per request, 1..8 (Optimistic: 1)
        uint8 q; // matching answers needed, a strict majority of k (Optimistic: 1)
        uint32 challengeWindow; // seconds, [10 minutes, 7 days]
        uint256 minStake; // operator active stake needed to be selectable for this model
        uint256 challengeBond; // bond (staking token) a challenger posts, > 0
        uint256 minFee; // smallest fee a request for this model may carry, > 0 (anti-spam)
    }

    /// @notice A registered model.
    struct Model {
        bool registered;
        bool retired;
        uint32 index; // registration order
        bytes32 weightsHash;
        bytes32 runtimeSpecHash;
        ModelParams params;
    }

    /// @notice The EIP-712 attestation an operator's hot key signs (fixed format, see common brief).
    struct Attestation {
        address operator;
        uint256 requestId;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
    }

    /// @notice A committed Merkle root of results by one operator.
    struct Batch {
        address operator;
        uint40 committedAt;
        uint32 count;
        bytes32 root;
    }

    /// @notice A statement by `att.operator` that `att.outputHash` answers `att.requestId`, in one of two forms:
    ///         signed (`batchId == 0`: `signature` is the operator's signature of `att`'s EIP-712 digest), or
    ///         committed (`batchId != 0`: a leaf (operator, requestId, outputHash) of that batch of the operator,
    ///         proven by `proof`; `att.modelId` and `att.inputHash` are not part of a leaf and are ignored).
    struct Statement {
        Attestation att;
        bytes signature;
        uint256 batchId;
        bytes32[] proof;
    }

    /// @notice Read-only view of a request.
    struct RequestView {
        RequestStatus status;
        VerificationMode mode;
        uint8 k;
        uint8 q;
        uint8 respondedMask; // bit i: assigned operator i answered
        uint8 agreeMask; // bit i: operator i's answer equals `output`
        uint8 rewardedMask; // bit i: operator i was credited a share of the fee
        uint8 faultedMask; // bit i: operator i was reported for equivocation on this request
        uint40 deadline;
        uint40 windowEnd; // challenge window end, set when quorum is reached
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 output; // leading (plurality) output while open; the result once finalized
        address client;
        uint256 fee;
        address challenger;
        uint256 bond;
        bytes32 claimedOutput;
        uint256 disputeId;
    }

    /// @notice What a request asks of a consumer contract (`requestInferenceWithCallback`).
    struct CallbackSpec {
        address consumer; // an `IInferenceConsumer` contract (must have code)
        uint32 gasLimit; // gas forwarded to each callback, [MIN_CALLBACK_GAS, MAX_CALLBACK_GAS]
        bool early; // also call back once, provisionally, at quorum (ORA style); the final callback follows
        uint256 fee; // staking-token fee escrowed for the callback(s), >= `callbackFeeFor(gasLimit, early)`
    }

    /// @notice State of a request's final callback.
    enum CallbackState {
        None, // no consumer
        Pending, // not yet delivered
        Delivered, // the consumer's final callback returned successfully
        Failed // the final callback reverted, ran out of gas or hit a consumer without code; retryable
    }

    /// @notice Read-only view of a request's delivery (consumer callback and output-availability challenge).
    struct DeliveryView {
        address consumer;
        uint32 gasLimit;
        bool early; // an early (quorum) callback was requested
        bool earlyDone; // the early callback was attempted
        CallbackState state;
        uint256 callbackFee; // escrowed callback fee not yet paid to a deliverer
        address outputChallenger; // the bonded `requestOutput` challenger while pending, else zero
        uint256 outputBond;
    }

    // ------------------------------------------------------------------ events
    event ResolverWired(address indexed resolver);
    /// @notice The referee was wired.
    event RefereeWired(address indexed referee);
    event TreasuryChanged(address indexed treasury);
    event BatchWindowChanged(uint32 batchWindow);
    event ModelRegistered(
        bytes32 indexed modelId, bytes32 weightsHash, bytes32 runtimeSpecHash, ModelParams params
    );
    event ModelRetired(bytes32 indexed modelId);
    event OperatorServing(bytes32 indexed modelId, address indexed operator, uint256 weight);
    event OperatorStopped(bytes32 indexed modelId, address indexed operator);
    event OperatorWeightUpdated(bytes32 indexed modelId, address indexed operator, uint256 weight);
    event RequestCreated(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed client,
        bytes32 inputHash,
        string inputURI,
        uint256 fee,
        uint40 deadline
    );
    event OperatorAssigned(uint256 indexed requestId, address indexed operator, uint256 index);
    event AnswerRecorded(uint256 indexed requestId, address indexed operator, bytes32 outputHash);
    event QuorumReached(uint256 indexed requestId, bytes32 outputHash, uint40 windowEnd);
    event RequestFinalized(uint256 indexed requestId, bytes32 outputHash);
    event RequestExpired(uint256 indexed requestId);
    event Challenged(
        uint256 indexed requestId, address indexed challenger, bytes32 claimedOutput, uint256 bond
    );
    event DisputeOpened(uint256 indexed requestId, uint256 indexed disputeId);
    event DisputeResolved(uint256 indexed disputeId, uint256 indexed requestId, bytes32 outputHash);
    event Credited(address indexed account, uint256 indexed requestId, uint256 amount);
    event Claimed(address indexed account, uint256 amount);
    event MissedReported(
        uint256 indexed requestId, address indexed operator, address indexed reporter, uint256 slashId
    );
    event EquivocationReported(
        uint256 indexed requestId, address indexed operator, address indexed reporter, uint256 slashId
    );
    event WrongResultSlashRequested(uint256 indexed requestId, address indexed operator, uint256 slashId);
    event SlashRequestFailed(uint256 indexed requestId, address indexed operator);
    event BatchCommitted(uint256 indexed batchId, address indexed operator, bytes32 root, uint32 count);
    /// @notice Request `requestId` will call back `consumer` (`gasLimit` gas, `fee` escrowed for it).
    event CallbackRegistered(
        uint256 indexed requestId, address indexed consumer, uint32 gasLimit, bool early, uint256 fee
    );
    /// @notice The bytes behind `outputHash` (empty: a pointer delivery, fetch them by hash off chain).
    event OutputDelivered(uint256 indexed requestId, bytes32 indexed outputHash, bytes output);
    /// @notice The consumer was called back with `status`; `success` false if it reverted, ran out of gas or
    ///         had no code. `gasUsed` is the gas the call itself consumed (at most the request's gas limit).
    event CallbackAttempted(
        uint256 indexed requestId,
        address indexed consumer,
        RequestStatus status,
        bool success,
        uint256 gasUsed,
        address indexed deliverer
    );
    /// @notice A bonded data-availability challenge: the bytes behind the quorum result must be published
    ///         (`deliverOutput`) by `respondBy` (the request's window end) or the result cannot finalize.
    event OutputRequested(
        uint256 indexed requestId, address indexed challenger, uint256 bond, uint40 respondBy
    );
    /// @notice Nobody published the bytes of a challenged result in time: it finalizes as "no valid result".
    event OutputUnavailable(uint256 indexed requestId, address indexed challenger);
    /// @notice `operator` serves the outputs it attests at `url` (`GET <url>/v1/outputs/<outputHash>`).
    event EndpointSet(address indexed operator, string url);
    /// @notice The delivery parameters changed.
    event DeliveryParamsChanged(uint32 maxOutputBytes, uint256 callbackGasPrice);

    // ------------------------------------------------------------------ errors
    error AlreadyWired();
    error ZeroAddress();
    error UnauthorizedCaller(address caller);
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    error ModelAlreadyRegistered(bytes32 modelId);
    error UnknownModel(bytes32 modelId);
    error ModelIsRetired(bytes32 modelId);
    error NotActiveOperator(address operator);
    error InsufficientStake(address operator, uint256 stake, uint256 minStake);
    error AlreadyServing(bytes32 modelId, address operator);
    error NotServing(bytes32 modelId, address operator);
    error TooManyModels(address operator, uint256 max);
    error ModelFull(bytes32 modelId, uint256 capacity);
    error InvalidDeadline(uint256 deadline, uint256 min, uint256 max);
    error FeeOutOfRange(uint256 fee, uint256 minFee, uint256 maxFee);
    error ZeroInputHash();
    error InsufficientOperators(bytes32 modelId, uint256 available, uint256 required);
    error UnknownRequest(uint256 requestId);
    error NotAcceptingAnswers(uint256 requestId, RequestStatus status);
    error DeadlinePassed(uint256 requestId, uint40 deadline);
    error AttestationMismatch(uint256 requestId);
    error InvalidOutputHash(bytes32 outputHash);
    error NotAssigned(uint256 requestId, address operator);
    error AlreadyAnswered(uint256 requestId, address operator);
    error InvalidSignature(address operator);
    error LengthMismatch(uint256 a, uint256 b);
    error BadArrayLength(uint256 length, uint256 max);
    error InvalidBatch(bytes32 root, uint32 count);
    /// @notice `batchId` is not a committed batch (of the operator a statement names).
    error UnknownBatch(uint256 batchId);
    error BatchWindowClosed(uint256 batchId, uint256 closedAt);
    error InvalidProof();
    error NotOperatorOrSigner(address caller, address operator);
    error NotFinalizable(uint256 requestId, RequestStatus status);
    error ChallengeWindowOpen(uint256 requestId, uint40 windowEnd);
    error DisagreementMustBeEscalated(uint256 requestId);
    error NotChallengeable(uint256 requestId, RequestStatus status);
    error ChallengeWindowClosed(uint256 requestId, uint40 windowEnd);
    error ClaimMatchesResult(uint256 requestId);
    error NoDisagreement(uint256 requestId);
    error QuorumStillPossible(uint256 requestId);
    error UnknownDispute(uint256 disputeId);
    error DisputeNotOpen(uint256 requestId, RequestStatus status);
    error DeadlineNotPassed(uint256 requestId, uint40 deadline);
    error OperatorAnswered(uint256 requestId, address operator);
    error MissedAlreadyReported(uint256 requestId, address operator);
    error OperatorExcused(uint256 requestId, address operator);
    error NotEquivocation();
    error OperatorAlreadyRewarded(uint256 requestId, address operator);
    error NothingToClaim(address account);
    /// @notice `operator` still qualifies for `modelId` (its selection weight is `weight` > 0): not evictable.
    error OperatorQualifies(bytes32 modelId, address operator, uint256 weight);
    /// @notice Less than `required` gas was left after the operator draw: the worst-case draw must be payable
    ///         whatever the block's randomness, so that an exact gas estimate never under-prices a request.
    error DrawGasReserve(uint256 required);
    /// @notice A consumer must be a contract (have code) when the request is made.
    error ConsumerNotContract(address consumer);
    /// @notice The callback gas limit is outside [min, max].
    error CallbackGasOutOfRange(uint256 gasLimit, uint256 min, uint256 max);
    /// @notice The callback fee does not cover the callback gas at the registry's callback gas price.
    error CallbackFeeTooLow(uint256 fee, uint256 required);
    /// @notice keccak256 of the delivered bytes is not the request's result.
    error OutputMismatch(uint256 requestId, bytes32 expected, bytes32 actual);
    /// @notice The delivered bytes are longer than the bound.
    error OutputTooLarge(uint256 length, uint256 max);
    /// @notice The request is not in a state where its output can be delivered.
    error NotDeliverable(uint256 requestId, RequestStatus status);
    /// @notice The delivery transaction left too little gas to forward the callback's gas limit exactly.
    error InsufficientGasForCallback(uint256 gasLimit);
    /// @notice Only the client or the consumer may deliver a result by its hash alone (empty bytes).
    error PointerDeliveryNotAllowed(uint256 requestId, address caller);
    /// @notice Only the request's consumer may retry its failed callback.
    error NotConsumer(uint256 requestId, address caller);
    /// @notice The request's final callback is not in the `Failed` state.
    error NothingToRetry(uint256 requestId);
    /// @notice The request's output was already challenged for availability, or already published.
    error OutputAlreadyRequested(uint256 requestId);
    /// @notice The endpoint URL is empty or longer than the bound.
    error InvalidEndpoint(uint256 length, uint256 max);
}
