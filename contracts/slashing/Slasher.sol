// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDisputeResolver} from "../interfaces/IDisputes.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../interfaces/ISlasher.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title Slasher
/// @notice The only path that removes stake from `Staking`. Objective faults (equivocation, missed
///         assignments) are slashed in the call that reports them; subjective faults (wrong results decided
///         by a dispute) wait out a veto window in which governance may cancel them.
/// @dev Design rules (see docs/slashing.md):
///      - A request freezes the `FaultParams` of its kind when it is made; later parameter changes never
///        affect it.
///      - A request also freezes the amount the fault owes: `ceil(slashable * slashBps / 10_000)` of the
///        operator's slashable stake (active + unbonding) at the request. It never rounds down to zero, and a
///        request against an operator with no slashable stake reverts instead of "succeeding" with nothing
///        owed. Stake added or removed afterwards changes neither the amount nor (through the cap) what is
///        collected of it.
///      - The cap limits how FAST stake is slashed, never HOW MUCH: per operator, the installments executed
///        inside one cap window never exceed `ceil(base * capBps / 10_000)`. A window opens at the first
///        execution after the previous window ended, with `base` = the slashable stake then; inside the
///        window `base` only grows, to `slashable now + used in the window` when that is larger (stake
///        taken on after an early slash raises the cap; withdrawals cannot lower it). `capBps`/`capWindow`
///        are frozen for a window when it opens.
///      - An execution pays `min(outstanding, slashable now, room left in the window)`. What the cap
///        holds back stays owed (`PartiallyExecuted`) and anyone may execute it again when the cap has room.
///        A slash is final when paid in full, or when an installment took all the operator's slashable stake.
///      - Slashed tokens arrive here and are split at once: the reporter's capped share, the rest to the
///        treasury, or to the dead address (counted as burnt) when no treasury is set.
contract Slasher is ISlasher, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ types
    /// @notice The cap window of one operator. Packed into two slots.
    struct CapWindow {
        uint48 end; // the window is open while block.timestamp < end
        uint16 capBps; // `capBps` frozen when the window opened
        uint128 used; // assets slashed inside the window
        uint128 base; // slashable stake at the opening, raised to `slashable + used` when that is larger
    }

    /// @notice Storage form of a slash request (`ISlasher.SlashRequest` plus its amounts), packed into four
    ///         slots so that freezing the owed amount costs no extra slot.
    struct StoredSlash {
        // slot 0: read and written by every execution
        address operator;
        uint48 executableAt;
        FaultKind kind;
        SlashStatus status;
        // slot 1: the reporter and the `FaultParams` frozen at request
        address reporter;
        uint16 slashBps;
        uint16 reporterBps;
        uint32 vetoWindow;
        uint32 jailDuration;
        // slot 2
        bytes32 ref;
        // slot 3: the amount owed (frozen at request) and the sum of the installments paid so far
        uint128 owed;
        uint128 paid;
    }

    // ------------------------------------------------------------------ constants
    /// @notice Denominator of every basis-point parameter.
    uint256 public constant BPS = 10_000;
    /// @notice Where the sink share goes when no treasury is set (arbitrary ERC20s cannot be burnt).
    address public constant BURN_ADDRESS = 0x000000000000000000000000000000000000dEaD;

    /// @notice Lower bound of `FaultParams.slashBps`.
    uint16 public constant MIN_SLASH_BPS = 1;
    /// @notice Upper bound of `FaultParams.slashBps` (at most half of the slashable stake per slash).
    uint16 public constant MAX_SLASH_BPS = 5000;
    /// @notice Upper bound of `FaultParams.reporterBps`.
    uint16 public constant MAX_REPORTER_BPS = 5000;
    /// @notice Lower bound of the veto window of subjective kinds.
    uint32 public constant MIN_VETO_WINDOW = 1 hours;
    /// @notice Upper bound of the veto window of subjective kinds.
    uint32 public constant MAX_VETO_WINDOW = 14 days;
    /// @notice Upper bound of `FaultParams.jailDuration`.
    uint32 public constant MAX_JAIL_DURATION = 30 days;
    /// @notice Lower bound of `capBps`.
    uint16 public constant MIN_CAP_BPS = 100;
    /// @notice Upper bound of `capBps`.
    uint16 public constant MAX_CAP_BPS = 10_000;
    /// @notice Lower bound of `capWindow`.
    uint32 public constant MIN_CAP_WINDOW = 1 days;
    /// @notice Upper bound of `capWindow`.
    uint32 public constant MAX_CAP_WINDOW = 30 days;

    // ------------------------------------------------------------------ immutables
    /// @notice The staking contract whose stake this contract slashes.
    IStaking public immutable staking;
    /// @notice The staking token (what slashes pay out).
    IERC20 public immutable token;

    // ------------------------------------------------------------------ storage
    /// @notice The inference registry (authorised to request slashes). Set once by `wire`.
    address public registry;
    /// @notice Governance (authorised to request and veto slashes). Set once by `wire`.
    address public governance;
    /// @notice Receiver of the non-reporter share; address(0) means burn (send to `BURN_ADDRESS`).
    address public treasury;

    /// @notice Per-window cap, in basis points of the window's base (frozen into a window when it opens).
    uint16 public capBps;
    /// @notice Length of a cap window, in seconds.
    uint32 public capWindow;

    /// @notice Number of slash requests ever made; ids run from 1 to `slashCount`.
    uint256 public slashCount;

    /// @notice Assets paid to reporters so far.
    uint128 public totalToReporters;
    /// @notice Assets paid to the treasury so far (shares a slot with `totalToReporters`).
    uint128 public totalToTreasury;
    /// @notice Assets sent to `BURN_ADDRESS` so far.
    uint256 public totalBurned;

    mapping(FaultKind kind => FaultParams) private _faultParams;
    mapping(uint256 slashId => StoredSlash) private _requests;
    mapping(bytes32 faultKey => uint256 slashId) private _slashIdOf;
    mapping(address operator => CapWindow) private _capWindows;

    // ------------------------------------------------------------------ events (beyond ISlasher)
    /// @notice `wire` set the authorised callers.
    event Wired(address indexed registry, address indexed governance);
    /// @notice The per-window cap changed (applies to windows opening after this event).
    event CapBpsChanged(uint16 oldCapBps, uint16 newCapBps);
    /// @notice The cap window length changed (applies to windows opening after this event).
    event CapWindowChanged(uint32 oldCapWindow, uint32 newCapWindow);
    /// @notice A new cap window opened for `operator`.
    event CapWindowOpened(address indexed operator, uint48 end, uint256 base, uint256 cap);
    /// @notice The open cap window of `operator` grew: its base is now `slashable + used` (stake taken on
    ///         since the window opened).
    event CapWindowRaised(address indexed operator, uint256 base, uint256 cap);

    // ------------------------------------------------------------------ errors (beyond ISlasher)
    /// @notice `wire` was already called.
    error AlreadyWired();
    /// @notice A required address is zero.
    error ZeroAddress();
    /// @notice `Staking.slash` reported a different amount than requested.
    error SlashAmountMismatch(uint256 requested, uint256 slashed);

    // ------------------------------------------------------------------ construction
    /// @notice Deploys the slasher with the default parameters.
    /// @param staking_ The staking contract to slash.
    /// @param admin The admin (governance timelock in production): sets parameters and wires.
    /// @param treasury_ The initial sink; address(0) burns.
    constructor(IStaking staking_, address admin, address treasury_) {
        if (address(staking_) == address(0) || admin == address(0)) revert ZeroAddress();
        staking = staking_;
        token = staking_.token();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);

        _setFaultParams(
            FaultKind.Equivocation,
            FaultParams({slashBps: 1000, reporterBps: 1000, vetoWindow: 0, jailDuration: 7 days})
        );
        _setFaultParams(
            FaultKind.WrongResult,
            FaultParams({slashBps: 500, reporterBps: 2000, vetoWindow: 2 days, jailDuration: 3 days})
        );
        _setFaultParams(
            FaultKind.MissedAssignment,
            FaultParams({slashBps: 10, reporterBps: 500, vetoWindow: 0, jailDuration: 0})
        );
        _setCapBps(3000);
        _setCapWindow(7 days);
        treasury = treasury_;
        emit SinkChanged(treasury_);
    }

    // ------------------------------------------------------------------ admin
    /// @notice Sets the authorised callers once. Only the admin.
    /// @param registry_ The inference registry.
    /// @param governance_ The governance executor allowed to request and veto slashes.
    function wire(address registry_, address governance_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (registry != address(0)) revert AlreadyWired();
        if (registry_ == address(0) || governance_ == address(0)) revert ZeroAddress();
        registry = registry_;
        governance = governance_;
        emit Wired(registry_, governance_);
    }

    /// @notice Sets the parameters of `kind` for requests made from now on. Only the admin.
    /// @param kind The fault kind.
    /// @param params The new parameters (bounded, see `ParameterOutOfBounds`).
    function setFaultParams(FaultKind kind, FaultParams calldata params)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setFaultParams(kind, params);
        checkTiming();
    }

    /// @notice Sets the sink of the non-reporter share; address(0) burns. Only the admin.
    /// @dev Read at execution time (a pending slash pays the sink in force when it executes).
    /// @param treasury_ The new treasury, or address(0) to burn.
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        treasury = treasury_;
        emit SinkChanged(treasury_);
    }

    /// @notice Sets the per-window cap for windows opening from now on. Only the admin.
    /// @param newCapBps The cap in basis points of a window's base.
    function setCapBps(uint16 newCapBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCapBps(newCapBps);
    }

    /// @notice Sets the cap window length for windows opening from now on. Only the admin.
    /// @param newCapWindow The window length in seconds.
    function setCapWindow(uint32 newCapWindow) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCapWindow(newCapWindow);
    }

    // ------------------------------------------------------------------ slashing
    /// @inheritdoc ISlasher
    /// @dev Freezes the amount owed: `ceil(slashable * slashBps / 10_000)` of the operator's slashable stake
    ///      now (`SlashOwed`). Reverts `SlashRoundsToZero` when the operator has no slashable stake (nothing
    ///      to owe; the fault stays reportable). Objective kinds then execute their first installment here.
    /// @param kind The fault kind (its current `FaultParams` are frozen into the request).
    /// @param operator The operator to slash.
    /// @param ref The request or dispute id the fault is about; (`operator`, `kind`, `ref`) is slashed once.
    /// @param reporter Receives `reporterBps` of every installment; address(0) for none.
    /// @return slashId The id of the new request.
    function requestSlash(FaultKind kind, address operator, bytes32 ref, address reporter)
        external
        nonReentrant
        returns (uint256 slashId)
    {
        if (msg.sender != registry && msg.sender != governance) {
            revert UnauthorizedCaller(msg.sender);
        }
        bytes32 key = faultKey(operator, kind, ref);
        if (_slashIdOf[key] != 0) revert AlreadySlashed(operator, kind, ref);

        FaultParams memory params = _faultParams[kind];
        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        uint256 slashable = info.activeStake + info.unbondingStake;
        if (slashable == 0) revert SlashRoundsToZero(operator);
        uint256 owed = Math.mulDiv(slashable, params.slashBps, BPS, Math.Rounding.Ceil);

        uint48 executableAt = Time.timestamp() + params.vetoWindow;
        slashId = ++slashCount;
        _slashIdOf[key] = slashId;
        _requests[slashId] = StoredSlash({
            operator: operator,
            executableAt: executableAt,
            kind: kind,
            status: SlashStatus.Pending,
            reporter: reporter,
            slashBps: params.slashBps,
            reporterBps: params.reporterBps,
            vetoWindow: params.vetoWindow,
            jailDuration: params.jailDuration,
            ref: ref,
            owed: SafeCast.toUint128(owed),
            paid: 0
        });
        emit SlashRequested(slashId, operator, kind, ref, executableAt);
        emit SlashOwed(slashId, operator, slashable, owed);

        if (params.vetoWindow == 0) _execute(slashId, info);
    }

    /// @inheritdoc ISlasher
    /// @dev Reverts `UnknownSlash`, `SlashNotPending` (final or vetoed), `VetoWindowOpen` before
    ///      `executableAt`, `SlashRoundsToZero` when the operator has no slashable stake, and
    ///      `SlashCapReached` when a `PartiallyExecuted` slash finds no room in the cap window (a first
    ///      execution on a full cap still jails and records the deferral).
    /// @param slashId The slash to execute (status `Pending` or `PartiallyExecuted`).
    /// @return amount The assets taken from the operator by this installment.
    function executeSlash(uint256 slashId) external nonReentrant returns (uint256 amount) {
        StoredSlash storage request = _known(slashId);
        SlashStatus status = request.status;
        if (status == SlashStatus.Pending) {
            if (Time.timestamp() < request.executableAt) {
                revert VetoWindowOpen(slashId, request.executableAt);
            }
        } else if (status != SlashStatus.PartiallyExecuted) {
            revert SlashNotPending(slashId, status);
        }
        amount = _execute(slashId, staking.operatorInfo(request.operator));
    }

    /// @inheritdoc ISlasher
    /// @param slashId The pending slash to cancel (final).
    function vetoSlash(uint256 slashId) external nonReentrant {
        if (msg.sender != governance) revert UnauthorizedCaller(msg.sender);
        StoredSlash storage request = _known(slashId);
        if (request.status != SlashStatus.Pending) revert SlashNotPending(slashId, request.status);
        if (Time.timestamp() >= request.executableAt) revert VetoWindowClosed(slashId, request.executableAt);
        request.status = SlashStatus.Vetoed;
        emit SlashVetoed(slashId);
    }

    // ------------------------------------------------------------------ views
    /// @inheritdoc ISlasher
    /// @notice The stored request `slashId`; reverts `UnknownSlash` for 0 or ids above `slashCount`.
    /// @param slashId The slash id.
    /// @return The request, with the parameters frozen at request time.
    function slashRequest(uint256 slashId) external view returns (SlashRequest memory) {
        StoredSlash storage r = _known(slashId);
        return SlashRequest({
            operator: r.operator,
            reporter: r.reporter,
            kind: r.kind,
            status: r.status,
            executableAt: r.executableAt,
            ref: r.ref,
            params: FaultParams({
                slashBps: r.slashBps,
                reporterBps: r.reporterBps,
                vetoWindow: r.vetoWindow,
                jailDuration: r.jailDuration
            })
        });
    }

    /// @inheritdoc ISlasher
    /// @notice What slash `slashId` owes (frozen at request), has paid, and still owes; reverts
    ///         `UnknownSlash` for 0 or ids above `slashCount`.
    /// @param slashId The slash id.
    /// @return owed The amount frozen at request.
    /// @return paid The sum of the installments executed so far.
    /// @return outstanding `owed - paid` while `Pending` or `PartiallyExecuted`; 0 once final.
    function slashAmounts(uint256 slashId)
        external
        view
        returns (uint256 owed, uint256 paid, uint256 outstanding)
    {
        StoredSlash storage r = _known(slashId);
        owed = r.owed;
        paid = r.paid;
        SlashStatus status = r.status;
        if (status == SlashStatus.Pending || status == SlashStatus.PartiallyExecuted) {
            outstanding = owed - paid;
        }
    }

    /// @inheritdoc ISlasher
    /// @notice The parameters new requests of `kind` get.
    /// @param kind The fault kind.
    /// @return The current parameters.
    function faultParams(FaultKind kind) external view returns (FaultParams memory) {
        return _faultParams[kind];
    }

    /// @notice The slash id recorded for (`operator`, `kind`, `ref`), or 0 if none was requested.
    /// @param operator The operator.
    /// @param kind The fault kind.
    /// @param ref The request or dispute reference.
    /// @return The slash id, or 0.
    function slashIdOf(address operator, FaultKind kind, bytes32 ref) external view returns (uint256) {
        return _slashIdOf[faultKey(operator, kind, ref)];
    }

    /// @notice The cap usage of `operator`, as an execution now would see it.
    /// @dev While a window is open: the assets slashed in it, its cap (over its base, raised to the
    ///      slashable stake now + `used` when that is larger) and its end. When no window is open: (0, the
    ///      cap a window opening now would have, 0).
    /// @param operator The operator.
    /// @return used Assets slashed in the open window.
    /// @return cap The window's cap.
    /// @return windowEnd When the open window ends (0 when none is open).
    function capUsage(address operator) external view returns (uint256 used, uint256 cap, uint48 windowEnd) {
        return _capView(operator, _slashableStake(operator));
    }

    /// @notice What a slash of `kind` requested now, with the current parameters, would owe and what its
    ///         first execution now would take (the rest would be deferred to later cap windows). (0, 0) when
    ///         the request would revert for zero stake.
    /// @param operator The operator.
    /// @param kind The fault kind.
    /// @return owed The amount the fault would owe (frozen at request).
    /// @return payableNow The first installment: `min(owed, room left in the operator's cap window)`.
    function previewSlash(address operator, FaultKind kind)
        external
        view
        returns (uint256 owed, uint256 payableNow)
    {
        uint256 slashable = _slashableStake(operator);
        owed = Math.mulDiv(slashable, _faultParams[kind].slashBps, BPS, Math.Rounding.Ceil);
        (uint256 used, uint256 cap,) = _capView(operator, slashable);
        payableNow = Math.min(owed, cap - used);
    }

    /// @inheritdoc ISlasher
    /// @dev The rules (docs/slashing.md, "Timing invariants"), with F = `registry.faultWindow()` (largest request
    ///      TTL + largest challenge window + batch window), R = the larger of `resolver.maxRulingDelay()` (dispute voting +
    ///      execution delay) and `referee.maxRulingDelay()` (longest game), V = the `WrongResult` veto window and U = `Staking.unbondingDelay`:
    ///      1. F + R + V < U: a slash for any fault executes before stake queued after the fault can leave;
    ///      2. F <= `Staking.signerRotationDelay`: a rotated-out signer still verifies while its statements can
    ///         be proven against it.
    ///      Before the registry (or its resolver) is wired, the missing terms are skipped.
    function checkTiming() public view {
        address reg = registry;
        if (reg == address(0)) return;
        uint256 faultWindow = IInferenceRegistry(reg).faultWindow();
        IDisputeResolver res = IInferenceRegistry(reg).resolver();
        uint256 ruling = address(res) == address(0) ? 0 : res.maxRulingDelay();
        // The referee's longest game is a ruling delay too: the larger of the two bounds applies.
        IDisputeResolver ref = IInferenceRegistry(reg).referee();
        if (address(ref) != address(0)) ruling = Math.max(ruling, ref.maxRulingDelay());
        uint256 latest = faultWindow + ruling + _faultParams[FaultKind.WrongResult].vetoWindow;
        uint256 unbonding = staking.unbondingDelay();
        if (latest >= unbonding) {
            revert TimingInvariantViolated("fault+ruling+veto<unbonding", latest, unbonding);
        }
        uint256 rotation = staking.signerRotationDelay();
        if (faultWindow > rotation) {
            revert TimingInvariantViolated("faultWindow<=signerRotation", faultWindow, rotation);
        }
    }

    /// @notice Assets taken from `Staking` so far: `totalToReporters + totalToTreasury + totalBurned`.
    /// @return The total slashed.
    function totalSlashed() external view returns (uint256) {
        return uint256(totalToReporters) + totalToTreasury + totalBurned;
    }

    /// @notice The key under which (`operator`, `kind`, `ref`) is recorded (each key is slashed once).
    /// @param operator The operator.
    /// @param kind The fault kind.
    /// @param ref The request or dispute reference.
    /// @return The key.
    function faultKey(address operator, FaultKind kind, bytes32 ref) public pure returns (bytes32) {
        return keccak256(abi.encode(operator, kind, ref));
    }

    // ------------------------------------------------------------------ internals
    /// @dev Executes the next installment of `slashId` (status `Pending` past `executableAt`, or
    ///      `PartiallyExecuted`), given the operator's current `info`: `min(outstanding, slashable, room)`.
    ///      Effects first, then Staking, then payouts. The first execution jails; later ones never do.
    function _execute(uint256 slashId, IStaking.OperatorInfo memory info) private returns (uint256 amount) {
        StoredSlash storage request = _requests[slashId];
        address operator = request.operator;
        bool first = request.status == SlashStatus.Pending;
        uint256 paid = request.paid;
        uint256 outstanding = request.owed - paid;
        uint256 slashable = info.activeStake + info.unbondingStake;
        if (slashable == 0) revert SlashRoundsToZero(operator);

        // --- effects: the installment (recorded in the cap window), the request's books, the payout books
        amount = _useCap(operator, slashable, outstanding, first);
        request.paid = SafeCast.toUint128(paid + amount);
        if (amount == outstanding) {
            request.status = SlashStatus.Executed; // paid in full
        } else if (amount == slashable) {
            // took the operator's last stake: the rest cannot be collected
            request.status = SlashStatus.Executed;
            emit SlashShortfall(slashId, operator, outstanding - amount);
        } else {
            request.status = SlashStatus.PartiallyExecuted; // the cap held the rest back: it stays owed
            emit SlashDeferred(slashId, operator, outstanding - amount);
        }
        address reporter = request.reporter;
        (uint256 toReporter, uint256 toSink, address sink) =
            _book(slashId, operator, amount, reporter == address(0) ? 0 : request.reporterBps);

        // --- interactions
        if (amount != 0) {
            uint256 slashed = staking.slash(operator, amount, address(this));
            if (slashed != amount) revert SlashAmountMismatch(amount, slashed);
        }
        uint32 jailDuration = request.jailDuration;
        if (first && jailDuration != 0) {
            uint48 until = Time.timestamp() + jailDuration;
            // never shorten a longer jail term that is already running
            if (!info.jailed || info.jailedUntil < until) staking.jail(operator, until);
        }
        if (toReporter != 0) token.safeTransfer(reporter, toReporter);
        if (toSink != 0) token.safeTransfer(sink, toSink);
    }

    /// @dev Splits an installment of `amount` (reporter share floored), books it in the payout counters and
    ///      emits `SlashExecuted`; nothing for 0. Returns the shares and the sink (`BURN_ADDRESS` without a
    ///      treasury).
    function _book(uint256 slashId, address operator, uint256 amount, uint256 reporterBps)
        private
        returns (uint256 toReporter, uint256 toSink, address sink)
    {
        if (amount == 0) return (0, 0, address(0));
        toReporter = Math.mulDiv(amount, reporterBps, BPS, Math.Rounding.Floor);
        toSink = amount - toReporter;
        sink = treasury;
        totalToReporters += SafeCast.toUint128(toReporter);
        if (sink == address(0)) {
            sink = BURN_ADDRESS;
            totalBurned += toSink;
        } else {
            totalToTreasury += SafeCast.toUint128(toSink);
        }
        emit SlashExecuted(slashId, operator, amount, toReporter, toSink);
    }

    /// @dev The installment `min(outstanding, slashable, room left in the cap window)`, recorded in the
    ///      window. Opens a new window if none is open, else raises the open window's base to
    ///      `slashable + used` when that is larger. A full window reverts `SlashCapReached` unless `first` (a
    ///      first execution still jails and records the deferral; its installment is 0).
    function _useCap(address operator, uint256 slashable, uint256 outstanding, bool first)
        private
        returns (uint256 amount)
    {
        CapWindow storage w = _capWindows[operator];
        uint256 used = 0;
        uint256 cap;
        if (Time.timestamp() >= w.end) {
            uint48 end = Time.timestamp() + capWindow;
            uint16 bps = capBps;
            cap = Math.mulDiv(slashable, bps, BPS, Math.Rounding.Ceil);
            w.end = end;
            w.capBps = bps;
            w.base = SafeCast.toUint128(slashable);
            emit CapWindowOpened(operator, end, slashable, cap);
        } else {
            used = w.used;
            uint256 base = w.base;
            uint256 grown = slashable + used;
            if (grown > base) {
                w.base = SafeCast.toUint128(grown);
                cap = Math.mulDiv(grown, w.capBps, BPS, Math.Rounding.Ceil);
                emit CapWindowRaised(operator, grown, cap);
            } else {
                cap = Math.mulDiv(base, w.capBps, BPS, Math.Rounding.Ceil);
            }
        }
        uint256 room = cap - used;
        if (room == 0 && !first) revert SlashCapReached(operator, used, cap);
        amount = Math.min(Math.min(outstanding, slashable), room);
        w.used = SafeCast.toUint128(used + amount);
    }

    /// @dev `capUsage` for an operator whose slashable stake is `slashable` (the same arithmetic as
    ///      `_capRoom`, without its effects).
    function _capView(address operator, uint256 slashable)
        private
        view
        returns (uint256 used, uint256 cap, uint48 windowEnd)
    {
        CapWindow memory w = _capWindows[operator];
        if (Time.timestamp() < w.end) {
            uint256 base = Math.max(w.base, slashable + w.used);
            return (w.used, Math.mulDiv(base, w.capBps, BPS, Math.Rounding.Ceil), w.end);
        }
        return (0, Math.mulDiv(slashable, capBps, BPS, Math.Rounding.Ceil), 0);
    }

    /// @dev Active + unbonding assets of `operator`.
    function _slashableStake(address operator) private view returns (uint256) {
        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        return info.activeStake + info.unbondingStake;
    }

    /// @dev The stored request `slashId`, or `UnknownSlash` for 0 and ids above `slashCount`.
    function _known(uint256 slashId) private view returns (StoredSlash storage request) {
        if (slashId == 0 || slashId > slashCount) revert UnknownSlash(slashId);
        request = _requests[slashId];
    }

    function _setFaultParams(FaultKind kind, FaultParams memory params) private {
        if (params.slashBps < MIN_SLASH_BPS || params.slashBps > MAX_SLASH_BPS) {
            revert ParameterOutOfBounds("slashBps", params.slashBps, MIN_SLASH_BPS, MAX_SLASH_BPS);
        }
        if (params.reporterBps > MAX_REPORTER_BPS) {
            revert ParameterOutOfBounds("reporterBps", params.reporterBps, 0, MAX_REPORTER_BPS);
        }
        if (kind == FaultKind.WrongResult) {
            if (params.vetoWindow < MIN_VETO_WINDOW || params.vetoWindow > MAX_VETO_WINDOW) {
                revert ParameterOutOfBounds("vetoWindow", params.vetoWindow, MIN_VETO_WINDOW, MAX_VETO_WINDOW);
            }
        } else if (params.vetoWindow != 0) {
            revert ParameterOutOfBounds("vetoWindow", params.vetoWindow, 0, 0);
        }
        if (params.jailDuration > MAX_JAIL_DURATION) {
            revert ParameterOutOfBounds("jailDuration", params.jailDuration, 0, MAX_JAIL_DURATION);
        }
        _faultParams[kind] = params;
        emit FaultParamsChanged(kind, params);
    }

    function _setCapBps(uint16 newCapBps) private {
        if (newCapBps < MIN_CAP_BPS || newCapBps > MAX_CAP_BPS) {
            revert ParameterOutOfBounds("capBps", newCapBps, MIN_CAP_BPS, MAX_CAP_BPS);
        }
        emit CapBpsChanged(capBps, newCapBps);
        capBps = newCapBps;
    }

    function _setCapWindow(uint32 newCapWindow) private {
        if (newCapWindow < MIN_CAP_WINDOW || newCapWindow > MAX_CAP_WINDOW) {
            revert ParameterOutOfBounds("capWindow", newCapWindow, MIN_CAP_WINDOW, MAX_CAP_WINDOW);
        }
        emit CapWindowChanged(capWindow, newCapWindow);
        capWindow = newCapWindow;
    }
}
