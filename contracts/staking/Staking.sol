// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC6372} from "@openzeppelin/contracts/interfaces/IERC6372.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

import {ISlasher} from "../interfaces/ISlasher.sol";
import {IAccountStakeObserver, IOperatorObserver} from "../interfaces/IStakeObservers.sol";
import {IStaking} from "../interfaces/IStaking.sol";

/// @title Staking
/// @notice Operator registry and share-based delegation pools of verinfer. Any ERC20 can be the asset.
/// @dev Every operator has an active pool (bonded stake) and an unbonding pool (queued withdrawals); both are
///      ERC4626-style share pools with a virtual offset (`VIRTUAL_SHARES` shares and 1 virtual asset), rounded
///      in the pool's favour. Pool assets are tracked internally (never read from `balanceOf`), so tokens sent
///      to this contract directly are not credited to anybody and cannot move a share price.
///      A slash takes the same fraction of both pools. Accounts' stake is recorded per (account, operator)
///      and checkpointed per block; after a slash the record is stale until `syncStake` (slashing never loops
///      over delegators). A pool whose assets reach zero while shares remain is written off: its worthless
///      shares are cancelled by bumping the pool's epoch, so share prices can never explode.
///      See docs/staking.md.
contract Staking is IStaking, IERC6372, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;
    using SafeCast for uint256;

    // ------------------------------------------------------------------ types

    /// @dev A share pool. `epoch` increases each time the pool is written off (assets 0, shares > 0).
    struct Pool {
        uint256 assets;
        uint224 shares;
        uint32 epoch;
    }

    /// @dev An account's active shares in one operator's pool, valid only while `epoch` equals the pool's.
    struct Position {
        uint224 shares;
        uint32 epoch;
    }

    struct OperatorData {
        bool registered;
        bool jailed;
        uint48 jailedUntil;
        address signer; // last materialised signer; superseded by `pendingSigner` at `signerActivatesAt`
        address pendingSigner;
        uint48 signerActivatesAt;
        Pool active;
        Pool unbonding;
    }

    /// @dev Storage form of `IStaking.Withdrawal` plus the unbonding-pool epoch the shares belong to.
    struct WithdrawalData {
        address owner;
        uint48 unlockAt;
        bool completed;
        uint32 epoch;
        address operator;
        uint128 shares;
    }

    // ------------------------------------------------------------------ constants

    /// @notice Virtual shares of every pool (10 ** decimals offset, offset = 3); with the single virtual asset
    ///         they make inflation attacks and rounding profits impossible.
    uint256 public constant VIRTUAL_SHARES = 1e3;
    /// @notice The virtual asset of every pool.
    uint256 public constant VIRTUAL_ASSETS = 1;

    /// @notice `ParameterChanged` / `ParameterOutOfBounds` name of `minOperatorStake`.
    bytes32 public constant PARAM_MIN_OPERATOR_STAKE = "minOperatorStake";
    /// @notice `ParameterChanged` / `ParameterOutOfBounds` name of `unbondingDelay`.
    bytes32 public constant PARAM_UNBONDING_DELAY = "unbondingDelay";
    /// @notice `ParameterChanged` / `ParameterOutOfBounds` name of `signerRotationDelay`.
    bytes32 public constant PARAM_SIGNER_ROTATION_DELAY = "signerRotationDelay";

    /// @notice Bounds of `minOperatorStake` (token base units; small values allowed for tests).
    uint256 public constant MIN_OPERATOR_STAKE_LOWER = 1;
    uint256 public constant MIN_OPERATOR_STAKE_UPPER = 1e27;
    /// @notice Bounds of `unbondingDelay` (seconds).
    uint48 public constant UNBONDING_DELAY_LOWER = 1 days;
    uint48 public constant UNBONDING_DELAY_UPPER = 90 days;
    /// @notice Bounds of `signerRotationDelay` (seconds).
    uint48 public constant SIGNER_ROTATION_DELAY_LOWER = 1 hours;
    uint48 public constant SIGNER_ROTATION_DELAY_UPPER = 30 days;

    // ------------------------------------------------------------------ events / errors (beyond IStaking)

    /// @notice The one-time wiring of the slasher and the observers.
    event Wired(address indexed slasher, address indexed accountObserver, address indexed operatorObserver);
    /// @notice A pool ran out of assets while shares remained; those worthless shares were cancelled.
    event PoolWrittenOff(address indexed operator, bool indexed unbonding, uint32 newEpoch);

    /// @notice A deposit would mint zero shares (dust into a heavily slashed pool).
    error ZeroShares();

    // ------------------------------------------------------------------ storage

    IERC20 private immutable _token;

    /// @notice The only address allowed to `slash` (and, with the admin, to `jail`).
    address public slasher;
    /// @notice Told about every change of an account's recorded stake; zero = none.
    address public accountObserver;
    /// @notice Told about every change of an operator's selection weight; zero = none.
    address public operatorObserver;
    /// @notice Whether `wire` has been called.
    bool public wired;

    uint256 private _minOperatorStake;
    uint48 private _unbondingDelay;
    uint48 private _signerRotationDelay;

    mapping(address operator => OperatorData) private _operators;
    mapping(address signer => address operator) private _signerClaims;
    mapping(address operator => mapping(address account => Position)) private _positions;
    mapping(address account => mapping(address operator => uint256)) private _recorded;
    mapping(address account => Checkpoints.Trace208) private _accountStake;
    Checkpoints.Trace208 private _totalStake;

    uint256 private _withdrawalCount;
    mapping(uint256 withdrawalId => WithdrawalData) private _withdrawals;
    mapping(address account => uint256[]) private _accountWithdrawals;

    uint256 private _totalActiveAssets;
    uint256 private _totalUnbondingAssets;

    // ------------------------------------------------------------------ construction and wiring

    /// @notice Deploys the staking contract.
    /// @param token_ The staking asset (any ERC20).
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the governance timelock in production).
    /// @param minOperatorStake_ Minimum self-stake of an active operator.
    /// @param unbondingDelay_ Seconds between an unstake request and its completion.
    /// @param signerRotationDelay_ Seconds before a rotated signer takes effect.
    constructor(
        IERC20 token_,
        address admin,
        uint256 minOperatorStake_,
        uint48 unbondingDelay_,
        uint48 signerRotationDelay_
    ) {
        if (address(token_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setMinOperatorStake(minOperatorStake_);
        _setUnbondingDelay(unbondingDelay_);
        _setSignerRotationDelay(signerRotationDelay_);
    }

    /// @notice Sets the slasher and the observers, once. Only the admin.
    /// @param slasher_ The Slasher contract (nonzero).
    /// @param accountObserver_ The account stake observer (governance voice), or zero for none.
    /// @param operatorObserver_ The operator weight observer (registry), or zero for none.
    function wire(address slasher_, address accountObserver_, address operatorObserver_)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (wired) revert AlreadyWired();
        if (slasher_ == address(0)) revert ZeroAddress();
        wired = true;
        slasher = slasher_;
        accountObserver = accountObserver_;
        operatorObserver = operatorObserver_;
        emit Wired(slasher_, accountObserver_, operatorObserver_);
    }

    // ------------------------------------------------------------------ operators

    /// @inheritdoc IStaking
    /// @dev The caller becomes the operator (its id is the caller's address). `signer` must be nonzero and not
    ///      in use by any operator (as current or pending signer); it may equal the caller. The received
    ///      self-stake must be at least `minOperatorStake`. Blocked while paused.
    /// @param signer The hot key that signs attestations.
    /// @param selfStake Tokens pulled from the caller as its initial self-stake.
    /// @return shares Active shares minted to the caller.
    function registerOperator(address signer, uint256 selfStake)
        external
        nonReentrant
        returns (uint256 shares)
    {
        _requireStakingNotPaused();
        OperatorData storage op = _operators[msg.sender];
        if (op.registered) revert AlreadyRegistered(msg.sender);
        if (signer == address(0)) revert ZeroAddress();
        if (_signerInUse(signer)) revert SignerInUse(signer);
        if (selfStake == 0) revert ZeroAmount();
        uint256 minimum = _minOperatorStake;
        if (selfStake < minimum) revert BelowMinimumOperatorStake(selfStake, minimum);

        op.registered = true;
        op.signer = signer;
        _signerClaims[signer] = msg.sender;
        emit OperatorRegistered(msg.sender, signer);

        shares = _pullAndMint(msg.sender, msg.sender, selfStake);
        uint256 own = _selfStake(msg.sender);
        if (own < minimum) revert BelowMinimumOperatorStake(own, minimum); // fee-on-transfer shortfall

        _refreshRecorded(msg.sender, msg.sender);
        _afterOperatorChange(msg.sender);
    }

    /// @inheritdoc IStaking
    /// @dev Replaces any rotation still pending (the replaced pending signer is released). The signer in force
    ///      stays valid until `block.timestamp >= now + signerRotationDelay`, when `newSigner` replaces it
    ///      lazily (no transaction needed). Allowed while jailed (key compromise response).
    /// @param newSigner The new hot key; nonzero and not in use.
    function rotateSigner(address newSigner) external {
        OperatorData storage op = _operators[msg.sender];
        if (!op.registered) revert UnknownOperator(msg.sender);
        if (newSigner == address(0)) revert ZeroAddress();
        if (_signerInUse(newSigner)) revert SignerInUse(newSigner);

        (address current,,) = _resolveSigner(op);
        uint48 activatesAt = uint48(block.timestamp) + _signerRotationDelay;
        op.signer = current;
        op.pendingSigner = newSigner;
        op.signerActivatesAt = activatesAt;
        _signerClaims[newSigner] = msg.sender;
        emit SignerRotationRequested(msg.sender, newSigner, activatesAt);
    }

    /// @inheritdoc IStaking
    function unjail() external nonReentrant {
        OperatorData storage op = _operators[msg.sender];
        if (!op.registered) revert UnknownOperator(msg.sender);
        if (!op.jailed) revert OperatorNotJailed(msg.sender);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < op.jailedUntil) revert OperatorIsJailed(msg.sender, op.jailedUntil);
        uint256 own = _selfStake(msg.sender);
        if (own < _minOperatorStake) revert BelowMinimumOperatorStake(own, _minOperatorStake);
        op.jailed = false;
        emit Unjailed(msg.sender);
        _afterOperatorChange(msg.sender);
    }

    // ------------------------------------------------------------------ delegation

    /// @inheritdoc IStaking
    /// @dev Pulls `assets` with SafeERC20 and credits the balance actually received (fee-on-transfer tokens
    ///      are credited net of the fee). Only the owner may add stake to a jailed operator. Blocked while
    ///      paused.
    /// @param operator The operator to delegate to.
    /// @param assets Tokens to pull from the caller.
    /// @return shares Active shares minted to the caller.
    function delegate(address operator, uint256 assets) external nonReentrant returns (uint256 shares) {
        _requireStakingNotPaused();
        if (assets == 0) revert ZeroAmount();
        OperatorData storage op = _operators[operator];
        if (!op.registered) revert UnknownOperator(operator);
        if (op.jailed && msg.sender != operator) revert OperatorIsJailed(operator, op.jailedUntil);

        shares = _pullAndMint(msg.sender, operator, assets);
        _refreshRecorded(msg.sender, operator);
        _afterOperatorChange(operator);
    }

    /// @inheritdoc IStaking
    /// @dev Burns `shares` active shares for assets at the current rate (rounded down), moves the assets into
    ///      the unbonding pool (shares rounded down) and queues a withdrawal unlocking after the current
    ///      `unbondingDelay`. Works while paused or jailed.
    /// @param operator The operator whose pool the shares are in.
    /// @param shares Active shares to unstake.
    /// @return withdrawalId The id of the queued withdrawal.
    function requestUnstake(address operator, uint256 shares)
        external
        nonReentrant
        returns (uint256 withdrawalId)
    {
        if (shares == 0) revert ZeroAmount();
        OperatorData storage op = _operators[operator];
        if (!op.registered) revert UnknownOperator(operator);
        uint256 available = _sharesOf(operator, msg.sender);
        if (shares > available) revert InsufficientShares(shares, available);

        Pool storage active = op.active;
        uint256 assets = _toAssets(active, shares);
        _positions[operator][msg.sender].shares = (available - shares).toUint224();
        active.shares -= shares.toUint224();
        active.assets -= assets;
        _totalActiveAssets -= assets;
        _writeOffIfEmpty(active, operator, false);

        Pool storage unbonding = op.unbonding;
        uint256 unbondingShares = _toShares(unbonding, assets);
        unbonding.assets += assets;
        unbonding.shares += unbondingShares.toUint224();
        _totalUnbondingAssets += assets;

        withdrawalId = ++_withdrawalCount;
        uint48 unlockAt = uint48(block.timestamp) + _unbondingDelay;
        _withdrawals[withdrawalId] = WithdrawalData({
            owner: msg.sender,
            unlockAt: unlockAt,
            completed: false,
            epoch: unbonding.epoch,
            operator: operator,
            shares: unbondingShares.toUint128()
        });
        _accountWithdrawals[msg.sender].push(withdrawalId);
        emit UnstakeRequested(withdrawalId, msg.sender, operator, assets, unlockAt);

        _refreshRecorded(msg.sender, operator);
        _afterOperatorChange(operator);
    }

    /// @inheritdoc IStaking
    /// @dev Only the withdrawal's owner, at or after `unlockAt`. Pays the withdrawal's unbonding shares at the
    ///      pool's current rate (rounded down), so slashes that hit while it was queued are reflected. Works
    ///      while paused.
    /// @param withdrawalId The withdrawal to complete.
    /// @return assets Tokens transferred to the owner.
    function completeUnstake(uint256 withdrawalId) external nonReentrant returns (uint256 assets) {
        WithdrawalData storage w = _withdrawals[withdrawalId];
        if (w.owner == address(0)) revert UnknownWithdrawal(withdrawalId);
        if (w.owner != msg.sender) revert NotWithdrawalOwner(msg.sender, withdrawalId);
        if (w.completed) revert WithdrawalAlreadyCompleted(withdrawalId);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < w.unlockAt) revert WithdrawalLocked(withdrawalId, w.unlockAt);

        w.completed = true;
        address operator = w.operator;
        Pool storage unbonding = _operators[operator].unbonding;
        if (w.epoch == unbonding.epoch) {
            uint128 shares = w.shares;
            assets = _toAssets(unbonding, shares);
            unbonding.shares -= shares;
            unbonding.assets -= assets;
            _totalUnbondingAssets -= assets;
            _writeOffIfEmpty(unbonding, operator, true);
        }
        emit UnstakeCompleted(withdrawalId, msg.sender, assets);
        if (assets != 0) _token.safeTransfer(msg.sender, assets);
    }

    /// @inheritdoc IStaking
    /// @dev Permissionless. Emits `AccountStakeSynced` and calls the account observer only when the recorded
    ///      value changes.
    /// @param account The delegator (or operator owner) to re-record.
    /// @param operator The operator whose pool is valued.
    function syncStake(address account, address operator) external nonReentrant {
        if (!_operators[operator].registered) revert UnknownOperator(operator);
        _refreshRecorded(account, operator);
    }

    /// @notice Re-announces `operator`'s selection weight to the operator observer. Permissionless; needed
    ///         after `minOperatorStake` changes (which can flip operators' activity without touching them).
    /// @param operator The operator to announce.
    function syncOperator(address operator) external nonReentrant {
        if (!_operators[operator].registered) revert UnknownOperator(operator);
        _afterOperatorChange(operator);
    }

    // ------------------------------------------------------------------ privileged

    /// @inheritdoc IStaking
    /// @dev `fromUnbonding = floor(amount * unbonding / total)` and `fromActive = amount - fromUnbonding`, so the
    ///      total is exactly `amount` and neither part exceeds its pool. Delegators' records stay stale until
    ///      `syncStake`. Works while paused.
    /// @param operator The operator to slash.
    /// @param amount Tokens to take; at most active + unbonding assets.
    /// @param to Recipient of the slashed tokens (nonzero).
    /// @return slashed Always `amount`.
    function slash(address operator, uint256 amount, address to)
        external
        nonReentrant
        returns (uint256 slashed)
    {
        if (msg.sender != slasher) revert UnauthorizedCaller(msg.sender);
        if (amount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        OperatorData storage op = _operators[operator];
        if (!op.registered) revert UnknownOperator(operator);

        uint256 activeAssets = op.active.assets;
        uint256 unbondingAssets = op.unbonding.assets;
        uint256 available = activeAssets + unbondingAssets;
        if (amount > available) revert SlashExceedsStake(amount, available);

        uint256 fromUnbonding = Math.mulDiv(amount, unbondingAssets, available);
        uint256 fromActive = amount - fromUnbonding;
        op.active.assets = activeAssets - fromActive;
        op.unbonding.assets = unbondingAssets - fromUnbonding;
        _totalActiveAssets -= fromActive;
        _totalUnbondingAssets -= fromUnbonding;
        _writeOffIfEmpty(op.active, operator, false);
        _writeOffIfEmpty(op.unbonding, operator, true);
        emit Slashed(operator, fromActive, fromUnbonding, to);

        _token.safeTransfer(to, amount);
        _afterOperatorChange(operator);
        return amount;
    }

    /// @inheritdoc IStaking
    /// @dev Only the slasher or the admin. Extends the jail: `jailedUntil = max(jailedUntil, until)`. The
    ///      operator stays jailed until it calls `unjail` after that time.
    /// @param operator The operator to jail.
    /// @param until Earliest timestamp at which the operator may unjail itself.
    function jail(address operator, uint48 until) external nonReentrant {
        if (msg.sender != slasher && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert UnauthorizedCaller(msg.sender);
        }
        OperatorData storage op = _operators[operator];
        if (!op.registered) revert UnknownOperator(operator);
        uint48 newUntil = until > op.jailedUntil ? until : op.jailedUntil;
        op.jailed = true;
        op.jailedUntil = newUntil;
        emit Jailed(operator, newUntil);
        _afterOperatorChange(operator);
    }

    /// @notice Pauses `registerOperator` and `delegate`. Only the admin.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Lifts the pause. Only the admin.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @notice Sets the minimum self-stake of an active operator, within the hard-coded bounds. Only the admin.
    /// @dev Does not notify the operator observer (no loops): call `syncOperator` for affected operators.
    /// @param value The new minimum.
    function setMinOperatorStake(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinOperatorStake(value);
    }

    /// @notice Sets the unbonding delay for future unstake requests, within bounds. Only the admin.
    /// @param value The new delay in seconds.
    function setUnbondingDelay(uint48 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setUnbondingDelay(value);
        _checkTiming();
    }

    /// @notice Sets the signer rotation delay for future rotations, within bounds. Only the admin.
    /// @param value The new delay in seconds.
    function setSignerRotationDelay(uint48 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSignerRotationDelay(value);
        _checkTiming();
    }

    /// @dev Re-checks the cross-contract timing invariants once the slasher is wired (ISlasher.checkTiming).
    function _checkTiming() private view {
        if (slasher != address(0)) ISlasher(slasher).checkTiming();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStaking
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IStaking
    /// @return The current block number (ERC-6372).
    function clock() public view override(IStaking, IERC6372) returns (uint48) {
        return uint48(block.number);
    }

    /// @notice The ERC-6372 clock mode.
    /// @return The string "mode=blocknumber".
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=blocknumber";
    }

    /// @inheritdoc IStaking
    /// @param operator The operator.
    /// @return info The operator's record with the signer resolved at the current time.
    function operatorInfo(address operator) external view returns (OperatorInfo memory info) {
        OperatorData storage op = _operators[operator];
        (address current, address pending, uint48 activatesAt) = _resolveSigner(op);
        info = OperatorInfo({
            registered: op.registered,
            jailed: op.jailed,
            signer: current,
            pendingSigner: pending,
            signerActivatesAt: activatesAt,
            jailedUntil: op.jailedUntil,
            activeStake: op.active.assets,
            unbondingStake: op.unbonding.assets,
            selfStake: _selfStake(operator)
        });
    }

    /// @inheritdoc IStaking
    /// @param operator The operator.
    /// @return The signer in force now (zero if unregistered).
    function signerOf(address operator) external view returns (address) {
        (address current,,) = _resolveSigner(_operators[operator]);
        return current;
    }

    /// @notice The operator whose signer in force is `signer` (a pending signer does not count).
    /// @param signer The hot key.
    /// @return The operator, or zero.
    function operatorOfSigner(address signer) external view returns (address) {
        address operator = _signerClaims[signer];
        if (operator == address(0)) return address(0);
        (address current,,) = _resolveSigner(_operators[operator]);
        return current == signer ? operator : address(0);
    }

    /// @inheritdoc IStaking
    function signerClaimant(address signer) external view returns (address) {
        return _signerClaims[signer];
    }

    /// @notice Whether `signer` is the current or pending signer of some operator (and so cannot be claimed).
    /// @param signer The hot key.
    /// @return True when in use.
    function isSignerInUse(address signer) external view returns (bool) {
        return _signerInUse(signer);
    }

    /// @inheritdoc IStaking
    /// @param operator The operator.
    /// @return True when registered, not jailed and its self-stake is at least `minOperatorStake`.
    function isActiveOperator(address operator) public view returns (bool) {
        OperatorData storage op = _operators[operator];
        return op.registered && !op.jailed && _selfStake(operator) >= _minOperatorStake;
    }

    /// @notice The selection weight reported to the operator observer.
    /// @param operator The operator.
    /// @return The active stake if the operator is active, else zero.
    function operatorWeight(address operator) public view returns (uint256) {
        return isActiveOperator(operator) ? _operators[operator].active.assets : 0;
    }

    /// @inheritdoc IStaking
    /// @param operator The operator.
    /// @return Assets in the operator's active pool.
    function operatorStake(address operator) external view returns (uint256) {
        return _operators[operator].active.assets;
    }

    /// @notice The operator owner's own active stake at the current rate.
    /// @param operator The operator.
    /// @return The self-stake in assets.
    function selfStakeOf(address operator) external view returns (uint256) {
        return _selfStake(operator);
    }

    /// @notice An operator's active pool.
    /// @param operator The operator.
    /// @return assets Assets in the pool.
    /// @return shares Shares outstanding.
    /// @return epoch Write-off epoch of the pool.
    function activePool(address operator)
        external
        view
        returns (uint256 assets, uint256 shares, uint32 epoch)
    {
        Pool storage p = _operators[operator].active;
        return (p.assets, p.shares, p.epoch);
    }

    /// @notice An operator's unbonding pool.
    /// @param operator The operator.
    /// @return assets Assets in the pool.
    /// @return shares Shares outstanding.
    /// @return epoch Write-off epoch of the pool.
    function unbondingPool(address operator)
        external
        view
        returns (uint256 assets, uint256 shares, uint32 epoch)
    {
        Pool storage p = _operators[operator].unbonding;
        return (p.assets, p.shares, p.epoch);
    }

    /// @inheritdoc IStaking
    /// @param operator The operator.
    /// @param account The account.
    /// @return The account's active shares in the operator's pool.
    function sharesOf(address operator, address account) external view returns (uint256) {
        return _sharesOf(operator, account);
    }

    /// @inheritdoc IStaking
    /// @param operator The operator.
    /// @param shares Active shares.
    /// @return Their asset value at the current rate (rounded down).
    function previewAssets(address operator, uint256 shares) external view returns (uint256) {
        return _toAssets(_operators[operator].active, shares);
    }

    /// @notice Active shares `assets` would mint now (rounded down).
    /// @param operator The operator.
    /// @param assets Tokens to delegate (net of any transfer fee).
    /// @return The shares.
    function previewShares(address operator, uint256 assets) external view returns (uint256) {
        return _toShares(_operators[operator].active, assets);
    }

    /// @notice What completing `withdrawalId` would pay now (zero if completed or written off).
    /// @param withdrawalId The withdrawal.
    /// @return The assets.
    function previewWithdrawal(uint256 withdrawalId) external view returns (uint256) {
        WithdrawalData storage w = _withdrawals[withdrawalId];
        Pool storage unbonding = _operators[w.operator].unbonding;
        if (w.owner == address(0) || w.completed || w.epoch != unbonding.epoch) return 0;
        return _toAssets(unbonding, w.shares);
    }

    /// @notice The value of `account`'s shares with `operator` as last recorded (what `stakeOf` sums).
    /// @param account The account.
    /// @param operator The operator.
    /// @return The recorded assets.
    function recordedStake(address account, address operator) external view returns (uint256) {
        return _recorded[account][operator];
    }

    /// @inheritdoc IStaking
    /// @param account The account.
    /// @return The account's recorded active stake summed over operators.
    function stakeOf(address account) external view returns (uint256) {
        return _accountStake[account].latest();
    }

    /// @inheritdoc IStaking
    /// @param account The account.
    /// @param timepoint A past block number.
    /// @return The account's recorded stake at the end of block `timepoint`.
    function getPastStake(address account, uint256 timepoint) external view returns (uint256) {
        return _accountStake[account].upperLookupRecent(_pastTimepoint(timepoint));
    }

    /// @inheritdoc IStaking
    /// @return The sum of all recorded stakes.
    function totalActiveStake() external view returns (uint256) {
        return _totalStake.latest();
    }

    /// @inheritdoc IStaking
    /// @param timepoint A past block number.
    /// @return The sum of all recorded stakes at the end of block `timepoint`.
    function getPastTotalStake(uint256 timepoint) external view returns (uint256) {
        return _totalStake.upperLookupRecent(_pastTimepoint(timepoint));
    }

    /// @notice Assets in all active pools.
    /// @return The sum.
    function totalActiveAssets() external view returns (uint256) {
        return _totalActiveAssets;
    }

    /// @notice Assets in all unbonding pools.
    /// @return The sum.
    function totalUnbondingAssets() external view returns (uint256) {
        return _totalUnbondingAssets;
    }

    /// @inheritdoc IStaking
    /// @param withdrawalId The withdrawal.
    /// @return The withdrawal (all zero when unknown).
    function withdrawal(uint256 withdrawalId) external view returns (Withdrawal memory) {
        WithdrawalData storage w = _withdrawals[withdrawalId];
        return Withdrawal({
            owner: w.owner,
            operator: w.operator,
            shares: w.shares,
            unlockAt: w.unlockAt,
            completed: w.completed
        });
    }

    /// @notice The number of withdrawals ever queued (ids are 1..withdrawalCount).
    /// @return The count.
    function withdrawalCount() external view returns (uint256) {
        return _withdrawalCount;
    }

    /// @notice The number of withdrawals `account` has queued.
    /// @param account The account.
    /// @return The count.
    function withdrawalCountOf(address account) external view returns (uint256) {
        return _accountWithdrawals[account].length;
    }

    /// @notice The id of `account`'s `index`-th withdrawal (in request order).
    /// @param account The account.
    /// @param index Index below `withdrawalCountOf(account)`.
    /// @return The withdrawal id.
    function withdrawalIdOf(address account, uint256 index) external view returns (uint256) {
        return _accountWithdrawals[account][index];
    }

    /// @inheritdoc IStaking
    /// @return The current unbonding delay in seconds.
    function unbondingDelay() external view returns (uint48) {
        return _unbondingDelay;
    }

    /// @notice The current signer rotation delay.
    /// @return Seconds.
    function signerRotationDelay() external view returns (uint48) {
        return _signerRotationDelay;
    }

    /// @inheritdoc IStaking
    /// @return The current minimum self-stake.
    function minOperatorStake() external view returns (uint256) {
        return _minOperatorStake;
    }

    // ------------------------------------------------------------------ hooks

    /// @dev Single place where account stake changes leave the contract.
    function _afterAccountStakeChange(address account, uint256 oldStake, uint256 newStake) internal virtual {
        address observer = accountObserver;
        if (observer != address(0)) {
            IAccountStakeObserver(observer).onAccountStakeChanged(account, oldStake, newStake);
        }
    }

    /// @dev Single place where operator weight changes leave the contract.
    function _afterOperatorChange(address operator) internal virtual {
        address observer = operatorObserver;
        if (observer != address(0)) {
            IOperatorObserver(observer).onOperatorWeightChanged(operator, operatorWeight(operator));
        }
    }

    // ------------------------------------------------------------------ internals

    function _requireStakingNotPaused() private view {
        if (paused()) revert StakingPaused();
    }

    /// @dev Pulls `assets` from `account`, credits the received amount to `operator`'s active pool.
    function _pullAndMint(address account, address operator, uint256 assets)
        private
        returns (uint256 shares)
    {
        uint256 balanceBefore = _token.balanceOf(address(this));
        _token.safeTransferFrom(account, address(this), assets);
        uint256 received = _token.balanceOf(address(this)) - balanceBefore;
        if (received < 1) revert ZeroAmount(); // `< 1`, not `== 0`: slither's balance strict-equality check

        Pool storage active = _operators[operator].active;
        shares = _toShares(active, received);
        if (shares < 1) revert ZeroShares(); // defensive: unreachable while pools stay above 1e-3 asset/share
        active.assets += received;
        active.shares += shares.toUint224();
        _totalActiveAssets += received;

        Position storage pos = _positions[operator][account];
        uint256 held = pos.epoch != active.epoch ? 0 : pos.shares;
        pos.shares = (held + shares).toUint224();
        pos.epoch = active.epoch;
        emit Delegated(account, operator, received, shares);
    }

    /// @dev Re-values `account`'s shares with `operator`; on change updates the records, the checkpoints and
    ///      tells the account observer.
    function _refreshRecorded(address account, address operator) private {
        uint256 newValue = _toAssets(_operators[operator].active, _sharesOf(operator, account));
        uint256 oldValue = _recorded[account][operator];
        if (newValue == oldValue) return;
        _recorded[account][operator] = newValue;

        (uint256 oldTotal, uint256 newTotal) = _pushDelta(_accountStake[account], oldValue, newValue);
        _pushDelta(_totalStake, oldValue, newValue);
        emit AccountStakeSynced(account, operator, oldValue, newValue);
        _afterAccountStakeChange(account, oldTotal, newTotal);
    }

    /// @dev Checkpoints `latest - removed + added` at the current block.
    function _pushDelta(Checkpoints.Trace208 storage trace, uint256 removed, uint256 added)
        private
        returns (uint256 oldTotal, uint256 newTotal)
    {
        uint256 latest = trace.latest();
        (oldTotal, newTotal) = trace.push(clock(), (latest - removed + added).toUint208());
    }

    /// @dev Cancels worthless shares of a pool left with no assets (lossless: they redeem to zero).
    function _writeOffIfEmpty(Pool storage pool, address operator, bool unbonding) private {
        if (pool.assets == 0 && pool.shares != 0) {
            pool.shares = 0;
            uint32 epoch = pool.epoch + 1;
            pool.epoch = epoch;
            emit PoolWrittenOff(operator, unbonding, epoch);
        }
    }

    function _setMinOperatorStake(uint256 value) private {
        if (value < MIN_OPERATOR_STAKE_LOWER || value > MIN_OPERATOR_STAKE_UPPER) {
            revert ParameterOutOfBounds(
                PARAM_MIN_OPERATOR_STAKE, value, MIN_OPERATOR_STAKE_LOWER, MIN_OPERATOR_STAKE_UPPER
            );
        }
        emit ParameterChanged(PARAM_MIN_OPERATOR_STAKE, _minOperatorStake, value);
        _minOperatorStake = value;
    }

    function _setUnbondingDelay(uint48 value) private {
        if (value < UNBONDING_DELAY_LOWER || value > UNBONDING_DELAY_UPPER) {
            revert ParameterOutOfBounds(
                PARAM_UNBONDING_DELAY, value, UNBONDING_DELAY_LOWER, UNBONDING_DELAY_UPPER
            );
        }
        emit ParameterChanged(PARAM_UNBONDING_DELAY, _unbondingDelay, value);
        _unbondingDelay = value;
    }

    function _setSignerRotationDelay(uint48 value) private {
        if (value < SIGNER_ROTATION_DELAY_LOWER || value > SIGNER_ROTATION_DELAY_UPPER) {
            revert ParameterOutOfBounds(
                PARAM_SIGNER_ROTATION_DELAY, value, SIGNER_ROTATION_DELAY_LOWER, SIGNER_ROTATION_DELAY_UPPER
            );
        }
        emit ParameterChanged(PARAM_SIGNER_ROTATION_DELAY, _signerRotationDelay, value);
        _signerRotationDelay = value;
    }

    function _pastTimepoint(uint256 timepoint) private view returns (uint48) {
        uint48 now_ = clock();
        if (timepoint >= now_) revert FutureLookup(timepoint, now_);
        return timepoint.toUint48();
    }

    function _sharesOf(address operator, address account) private view returns (uint256) {
        Position storage pos = _positions[operator][account];
        return pos.epoch != _operators[operator].active.epoch ? 0 : pos.shares;
    }

    function _selfStake(address operator) private view returns (uint256) {
        return _toAssets(_operators[operator].active, _sharesOf(operator, operator));
    }

    function _resolveSigner(OperatorData storage op)
        private
        view
        returns (address current, address pending, uint48 activatesAt)
    {
        current = op.signer;
        pending = op.pendingSigner;
        activatesAt = op.signerActivatesAt;
        // forge-lint: disable-next-line(block-timestamp)
        if (pending != address(0) && block.timestamp >= activatesAt) {
            current = pending;
            pending = address(0);
            activatesAt = 0;
        }
    }

    function _signerInUse(address signer) private view returns (bool) {
        address operator = _signerClaims[signer];
        if (operator == address(0)) return false;
        (address current, address pending,) = _resolveSigner(_operators[operator]);
        return current == signer || pending == signer;
    }

    function _toShares(Pool storage pool, uint256 assets) private view returns (uint256) {
        return Math.mulDiv(assets, uint256(pool.shares) + VIRTUAL_SHARES, pool.assets + VIRTUAL_ASSETS);
    }

    function _toAssets(Pool storage pool, uint256 shares) private view returns (uint256) {
        return Math.mulDiv(shares, pool.assets + VIRTUAL_ASSETS, uint256(pool.shares) + VIRTUAL_SHARES);
    }
}
