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
///      - The amount is `ceil(slashable * slashBps / 10_000)` of the operator's slashable stake (active +
///        unbonding) at execution time: it never rounds down to zero, and a slash of an operator with no
///        slashable stake reverts instead of "succeeding" with nothing burnt.
///      - Per operator, the slashes executed inside one cap window never exceed `ceil(base * capBps /
///        10_000)`, where `base` is the operator's slashable stake when the window opened. A window opens
///        at the first execution after the previous window ended, and `capBps`/`capWindow` are frozen for
///        that window when it opens.
///      - Slashed tokens arrive here and are split at once: the reporter's capped share, the rest to the
///        treasury, or to the dead address (counted as burnt) when no treasury is set.
contract Slasher is ISlasher, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ types
    /// @notice The cap window of one operator. Packed into two slots.
    struct CapWindow {
        uint48 end; // the window is open while block.timestamp < end
        uint128 used; // assets slashed inside the window
        uint128 cap; // maximum assets slashable inside the window
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

    /// @notice Per-window cap, in basis points of the slashable stake at the window's start.
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
    mapping(uint256 slashId => SlashRequest) private _requests;
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
    /// @param newCapBps The cap in basis points of the slashable stake at a window's start.
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
    /// @param kind The fault kind (its current `FaultParams` are frozen into the request).
    /// @param operator The operator to slash.
    /// @param ref The request or dispute id the fault is about; (`operator`, `kind`, `ref`) is slashed once.
    /// @param reporter Receives `reporterBps` of the amount; address(0) for none.
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
        uint48 executableAt = Time.timestamp() + params.vetoWindow;
        slashId = ++slashCount;
        _slashIdOf[key] = slashId;
        _requests[slashId] = SlashRequest({
            operator: operator,
            reporter: reporter,
            kind: kind,
            status: SlashStatus.Pending,
            executableAt: executableAt,
            ref: ref,
            params: params
        });
        emit SlashRequested(slashId, operator, kind, ref, executableAt);

        if (params.vetoWindow == 0) _execute(slashId);
    }

    /// @inheritdoc ISlasher
    /// @param slashId The pending slash to execute.
    /// @return amount The assets taken from the operator.
    function executeSlash(uint256 slashId) external nonReentrant returns (uint256 amount) {
        SlashRequest storage request = _pending(slashId);
        if (Time.timestamp() < request.executableAt) revert VetoWindowOpen(slashId, request.executableAt);
        amount = _execute(slashId);
    }

    /// @inheritdoc ISlasher
    /// @param slashId The pending slash to cancel (final).
    function vetoSlash(uint256 slashId) external nonReentrant {
        if (msg.sender != governance) revert UnauthorizedCaller(msg.sender);
        SlashRequest storage request = _pending(slashId);
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
        if (slashId == 0 || slashId > slashCount) revert UnknownSlash(slashId);
        return _requests[slashId];
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

    /// @notice The cap usage of `operator`.
    /// @dev While a window is open: the assets slashed in it, its frozen cap and its end. When no window is
    ///      open: (0, the cap a window opening now would have, 0).
    /// @param operator The operator.
    /// @return used Assets slashed in the open window.
    /// @return cap The window's cap.
    /// @return windowEnd When the open window ends (0 when none is open).
    function capUsage(address operator) external view returns (uint256 used, uint256 cap, uint48 windowEnd) {
        CapWindow memory w = _capWindows[operator];
        if (Time.timestamp() < w.end) return (w.used, w.cap, w.end);
        return (0, _capFor(_slashableStake(operator)), 0);
    }

    /// @notice The assets a slash of `kind` would take from `operator` if executed now with the current
    ///         parameters (0 when it would revert for zero stake or a full cap).
    /// @param operator The operator.
    /// @param kind The fault kind.
    /// @return amount The assets that would be slashed.
    function previewSlash(address operator, FaultKind kind) external view returns (uint256 amount) {
        uint256 slashable = _slashableStake(operator);
        amount = Math.mulDiv(slashable, _faultParams[kind].slashBps, BPS, Math.Rounding.Ceil);
        CapWindow memory w = _capWindows[operator];
        uint256 remaining = Time.timestamp() < w.end ? w.cap - w.used : _capFor(slashable);
        if (amount > remaining) amount = remaining;
    }

    /// @inheritdoc ISlasher
    /// @dev The rules (docs/slashing.md, "Timing invariants"), with F = `registry.faultWindow()` (largest request
    ///      TTL + largest challenge window + batch window), R = `resolver.maxRulingDelay()` (dispute voting +
    ///      execution delay), V = the `WrongResult` veto window and U = `Staking.unbondingDelay`:
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
    /// @dev Executes `slashId` (status Pending, window passed). Effects first, then Staking, then payouts.
    function _execute(uint256 slashId) private returns (uint256 amount) {
        SlashRequest storage request = _requests[slashId];
        address operator = request.operator;
        FaultParams memory params = request.params;

        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        uint256 slashable = info.activeStake + info.unbondingStake;
        if (slashable == 0) revert SlashRoundsToZero(operator);

        // --- amount: round up, then clamp to what is left of the operator's cap window
        amount = Math.mulDiv(slashable, params.slashBps, BPS, Math.Rounding.Ceil);
        amount = _consumeCap(operator, slashable, amount);

        // --- split
        uint256 toReporter = request.reporter == address(0)
            ? 0
            : Math.mulDiv(amount, params.reporterBps, BPS, Math.Rounding.Floor);
        uint256 toSink = amount - toReporter;
        address sink = treasury;

        // --- effects
        request.status = SlashStatus.Executed;
        totalToReporters += SafeCast.toUint128(toReporter);
        if (sink == address(0)) {
            sink = BURN_ADDRESS;
            totalBurned += toSink;
        } else {
            totalToTreasury += SafeCast.toUint128(toSink);
        }
        emit SlashExecuted(slashId, operator, amount, toReporter, toSink);

        // --- interactions
        uint256 slashed = staking.slash(operator, amount, address(this));
        if (slashed != amount) revert SlashAmountMismatch(amount, slashed);
        if (params.jailDuration != 0) {
            uint48 until = Time.timestamp() + params.jailDuration;
            // never shorten a longer jail term that is already running
            if (!info.jailed || info.jailedUntil < until) staking.jail(operator, until);
        }
        if (toReporter != 0) token.safeTransfer(request.reporter, toReporter);
        if (toSink != 0) token.safeTransfer(sink, toSink);
    }

    /// @dev Opens a new cap window if none is open, clamps `amount` to the remaining cap and records it.
    function _consumeCap(address operator, uint256 slashable, uint256 amount) private returns (uint256) {
        CapWindow storage w = _capWindows[operator];
        if (Time.timestamp() >= w.end) {
            uint48 end = Time.timestamp() + capWindow;
            uint256 cap = _capFor(slashable);
            w.end = end;
            w.used = 0;
            w.cap = SafeCast.toUint128(cap);
            emit CapWindowOpened(operator, end, slashable, cap);
        }
        uint256 used = w.used;
        uint256 remaining = w.cap - used;
        if (remaining == 0) revert SlashCapReached(operator, used, w.cap);
        if (amount > remaining) amount = remaining;
        w.used = SafeCast.toUint128(used + amount);
        return amount;
    }

    /// @dev The cap of a window whose base is `base`, with the current `capBps` (rounded up, so a window
    ///      over a nonzero base always admits at least one wei).
    function _capFor(uint256 base) private view returns (uint256) {
        return Math.mulDiv(base, capBps, BPS, Math.Rounding.Ceil);
    }

    /// @dev Active + unbonding assets of `operator`.
    function _slashableStake(address operator) private view returns (uint256) {
        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        return info.activeStake + info.unbondingStake;
    }

    /// @dev The pending request `slashId`, or a revert.
    function _pending(uint256 slashId) private view returns (SlashRequest storage request) {
        if (slashId == 0 || slashId > slashCount) revert UnknownSlash(slashId);
        request = _requests[slashId];
        if (request.status != SlashStatus.Pending) revert SlashNotPending(slashId, request.status);
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
