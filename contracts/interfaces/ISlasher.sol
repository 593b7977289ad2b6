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

    /// @dev Append-only: the numeric values are part of the ABI (bindings, off-chain tools).
    enum SlashStatus {
        None,
        Pending, // requested, not executed yet (vetoable before `executableAt`)
        Executed, // final: paid in full, or the last installment took all the operator's stake
        Vetoed, // final: cancelled by governance inside the veto window
        PartiallyExecuted // executed (operator jailed), a remainder is owed until the cap has room
    }

    /// @notice Per-kind parameters. All bounded by hard-coded limits.
    struct FaultParams {
        uint16 slashBps; // share of the operator's slashable stake (active + unbonding) at request owed
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
    /// @notice One installment of `slashId` moved `amount` of stake: `toReporter` to the reporter, `toSink`
    ///         to the treasury or the burn address. A slash pays in one or more installments (one per
    ///         execution that moves stake); the sum of its `amount`s is its `paid` (see `slashAmounts`).
    event SlashExecuted(
        uint256 indexed slashId, address indexed operator, uint256 amount, uint256 toReporter, uint256 toSink
    );
    /// @notice The amount slash `slashId` owes, frozen at request: `ceil(slashable * slashBps / 10_000)`
    ///         of the operator's slashable stake (active + unbonding) at the request. Follows
    ///         `SlashRequested`.
    event SlashOwed(uint256 indexed slashId, address indexed operator, uint256 slashable, uint256 owed);
    /// @notice An execution of `slashId` was limited by the operator's cap window: `outstanding` stays owed
    ///         and anyone may execute it again once the cap has room (status `PartiallyExecuted`).
    event SlashDeferred(uint256 indexed slashId, address indexed operator, uint256 outstanding);
    /// @notice The last installment of `slashId` took all the operator's slashable stake; `unpaid` of the
    ///         owed amount could not be collected (status `Executed`).
    event SlashShortfall(uint256 indexed slashId, address indexed operator, uint256 unpaid);
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

    /// @notice Requests a slash of `operator` for `kind` about `ref`, crediting `reporter`, and freezes the
    ///         amount it owes. Objective kinds execute (first installment) in the same call. Only authorised
    ///         callers (registry, governance).
    /// @return slashId The id of the slash request.
    function requestSlash(FaultKind kind, address operator, bytes32 ref, address reporter)
        external
        returns (uint256 slashId);

    /// @notice Executes the next installment of a slash whose veto window has passed (status `Pending` or
    ///         `PartiallyExecuted`): `min(outstanding, slashable stake now, room left in the cap window)`.
    ///         Anyone.
    /// @return amount The stake taken by this installment (0 only for a first execution on a full cap).
    function executeSlash(uint256 slashId) external returns (uint256 amount);

    /// @notice Cancels a pending slash inside its veto window. Only governance.
    function vetoSlash(uint256 slashId) external;

    /// @notice Reverts with `TimingInvariantViolated` unless every cross-contract timing invariant holds for the
    ///         parameters in force now (Staking, registry, dispute resolver, this contract). Called by every
    ///         setter that changes a window; parts not wired yet are skipped.
    function checkTiming() external view;

    function slashRequest(uint256 slashId) external view returns (SlashRequest memory);

    /// @notice What slash `slashId` owes and has paid. `owed` is frozen at request; `paid` is the sum of its
    ///         installments; `outstanding` is `owed - paid` while the slash is `Pending` or
    ///         `PartiallyExecuted`, 0 once it is final (for `Executed`, `owed - paid` is the shortfall, if
    ///         any).
    function slashAmounts(uint256 slashId)
        external
        view
        returns (uint256 owed, uint256 paid, uint256 outstanding);
    function faultParams(FaultKind kind) external view returns (FaultParams memory);
}
