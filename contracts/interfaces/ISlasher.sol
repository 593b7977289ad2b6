// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ISlasher
/// @notice The only path that removes stake. Objective faults execute at once; subjective ones wait out
///         a veto window in which governance may cancel them.
interface ISlasher {
    enum FaultKind {
        Equivocation, // objective: two signatures, same request, different outputs. Immediate.
        WrongResult, // subjective: decided by a dispute. Veto window.
        MissedAssignment // objective liveness fault: small penalty. Immediate.
    }

    enum SlashStatus {
        None,
        Pending,
        Executed,
        Vetoed
    }

    /// @notice Per-kind parameters. All bounded by hard-coded limits.
    struct FaultParams {
        uint16 slashBps; // share of the operator's slashable stake (active + unbonding) taken
        uint16 reporterBps; // share of the slashed amount paid to the reporter (capped)
        uint32 vetoWindow; // seconds; zero only for objective kinds
        uint32 jailDuration; // seconds the operator is jailed for; zero for none
    }

    struct SlashRequest {
        address operator;
        address reporter;
        FaultKind kind;
        SlashStatus status;
        uint48 executableAt;
        bytes32 ref; // request id / dispute id the fault is about
        FaultParams params; // frozen when the slash is requested: parameter changes are never retroactive
    }

    event SlashRequested(
        uint256 indexed slashId,
        address indexed operator,
        FaultKind indexed kind,
        bytes32 ref,
        uint48 executableAt
    );
    event SlashExecuted(
        uint256 indexed slashId, address indexed operator, uint256 amount, uint256 toReporter, uint256 toSink
    );
    event SlashVetoed(uint256 indexed slashId);
    event FaultParamsChanged(FaultKind indexed kind, FaultParams params);
    event SinkChanged(address indexed treasury); // address(0) = burn

    error UnauthorizedCaller(address caller);
    error UnknownSlash(uint256 slashId);
    error SlashNotPending(uint256 slashId, SlashStatus status);
    error VetoWindowOpen(uint256 slashId, uint48 executableAt);
    error VetoWindowClosed(uint256 slashId, uint48 executableAt);
    error SlashRoundsToZero(address operator);
    error SlashCapReached(address operator, uint256 usedInWindow, uint256 cap);
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    error AlreadySlashed(address operator, FaultKind kind, bytes32 ref);
    /// @notice A cross-contract timing invariant does not hold: `rule` names it; `lhs` must be less than
    ///         `rhs` (rules ending in "<=" allow equality). See docs/slashing.md, "Timing invariants".
    error TimingInvariantViolated(bytes32 rule, uint256 lhs, uint256 rhs);

    /// @notice Requests a slash of `operator` for `kind` about `ref`, crediting `reporter`.
    ///         Objective kinds execute in the same call. Only authorised callers (registry, governance).
    /// @return slashId The id of the slash request.
    function requestSlash(FaultKind kind, address operator, bytes32 ref, address reporter)
        external
        returns (uint256 slashId);

    /// @notice Executes a pending slash whose veto window has passed. Anyone.
    function executeSlash(uint256 slashId) external returns (uint256 amount);

    /// @notice Cancels a pending slash inside its veto window. Only governance.
    function vetoSlash(uint256 slashId) external;

    /// @notice Reverts with `TimingInvariantViolated` unless every cross-contract timing invariant holds for the
    ///         parameters in force now (Staking, registry, dispute resolver, this contract). Called by every
    ///         setter that changes a window; parts not wired yet are skipped.
    function checkTiming() external view;

    function slashRequest(uint256 slashId) external view returns (SlashRequest memory);
    function faultParams(FaultKind kind) external view returns (FaultParams memory);
}
