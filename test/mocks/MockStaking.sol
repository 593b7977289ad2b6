// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @notice Freely mintable ERC20 for slasher tests.
contract MockStakingToken is ERC20 {
    constructor() ERC20("Mock Stake", "MSTK") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @title MockStaking
/// @notice A small but faithful IStaking for testing the Slasher before the real Staking exists:
///         per-operator active and unbonding share pools (virtual offset 1), queued withdrawals that stay
///         slashable, pro-rata slashing of both pools, jailing. Checkpoints and observers are not modelled.
contract MockStaking is IStaking {
    using SafeERC20 for IERC20;

    struct Pool {
        uint256 assets;
        uint256 shares;
    }

    struct Operator {
        bool registered;
        bool jailed;
        address signer;
        uint48 jailedUntil;
    }

    IERC20 private immutable _token;
    address public slasher;
    address public governance;
    uint48 public unbondingDelay = 14 days;
    uint48 public signerRotationDelay = 30 days;
    /// @inheritdoc IStaking
    mapping(address signer => address operator) public signerClaimant;
    uint256 public minOperatorStake = 1;
    /// @notice Test knob: `slash` reports this much less than it was asked for (a broken Staking).
    uint256 public slashShortfall;

    mapping(address => Operator) private _operators;
    mapping(address => Pool) public activePool;
    mapping(address => Pool) public unbondingPool;
    mapping(address operator => mapping(address account => uint256)) private _shares;
    Withdrawal[] private _withdrawals;

    // conservation bookkeeping
    uint256 public totalDeposited;
    uint256 public totalWithdrawn;
    uint256 public totalSlashedOut;
    uint256 public totalActive;
    uint256 public totalUnbonding;

    constructor(IERC20 token_) {
        _token = token_;
        governance = msg.sender;
    }

    /// @notice Test wiring.
    function setSlasher(address slasher_) external {
        slasher = slasher_;
    }

    /// @notice Test knob.
    function setSlashShortfall(uint256 shortfall) external {
        slashShortfall = shortfall;
    }

    /// @notice Test knob.
    function setUnbondingDelay(uint48 delay) external {
        unbondingDelay = delay;
    }

    // ------------------------------------------------------------------ operators
    function registerOperator(address signer, uint256 selfStake) external returns (uint256 shares) {
        if (_operators[msg.sender].registered) revert AlreadyRegistered(msg.sender);
        if (selfStake < minOperatorStake) revert BelowMinimumOperatorStake(selfStake, minOperatorStake);
        _operators[msg.sender] = Operator({registered: true, jailed: false, signer: signer, jailedUntil: 0});
        signerClaimant[signer] = msg.sender;
        emit OperatorRegistered(msg.sender, signer);
        shares = _delegate(msg.sender, selfStake);
    }

    function rotateSigner(address newSigner) external {
        if (!_operators[msg.sender].registered) revert UnknownOperator(msg.sender);
        _operators[msg.sender].signer = newSigner;
        signerClaimant[newSigner] = msg.sender;
        emit SignerRotationRequested(msg.sender, newSigner, Time.timestamp());
    }

    function unjail() external {
        Operator storage op = _operators[msg.sender];
        if (!op.jailed) revert OperatorNotJailed(msg.sender);
        if (Time.timestamp() < op.jailedUntil) revert OperatorIsJailed(msg.sender, op.jailedUntil);
        op.jailed = false;
        emit Unjailed(msg.sender);
    }

    // ------------------------------------------------------------------ delegation
    function delegate(address operator, uint256 assets) external returns (uint256 shares) {
        if (!_operators[operator].registered) revert UnknownOperator(operator);
        shares = _delegate(operator, assets);
    }

    function _delegate(address operator, uint256 assets) private returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        Pool storage p = activePool[operator];
        shares = Math.mulDiv(assets, p.shares + 1, p.assets + 1);
        if (shares == 0) revert ZeroAmount();
        p.assets += assets;
        p.shares += shares;
        _shares[operator][msg.sender] += shares;
        totalDeposited += assets;
        totalActive += assets;
        _token.safeTransferFrom(msg.sender, address(this), assets);
        emit Delegated(msg.sender, operator, assets, shares);
    }

    function requestUnstake(address operator, uint256 shares) external returns (uint256 withdrawalId) {
        if (shares == 0) revert ZeroAmount();
        uint256 available = _shares[operator][msg.sender];
        if (shares > available) revert InsufficientShares(shares, available);
        Pool storage a = activePool[operator];
        uint256 assets = Math.mulDiv(shares, a.assets + 1, a.shares + 1);
        if (assets > a.assets) assets = a.assets;
        _shares[operator][msg.sender] = available - shares;
        a.shares -= shares;
        a.assets -= assets;
        totalActive -= assets;

        Pool storage u = unbondingPool[operator];
        uint256 uShares = Math.mulDiv(assets, u.shares + 1, u.assets + 1);
        u.assets += assets;
        u.shares += uShares;
        totalUnbonding += assets;

        uint48 unlockAt = Time.timestamp() + unbondingDelay;
        withdrawalId = _withdrawals.length;
        _withdrawals.push(
            Withdrawal({
                owner: msg.sender,
                operator: operator,
                shares: SafeCast.toUint128(uShares),
                unlockAt: unlockAt,
                completed: false
            })
        );
        emit UnstakeRequested(withdrawalId, msg.sender, operator, assets, unlockAt);
    }

    function completeUnstake(uint256 withdrawalId) external returns (uint256 assets) {
        if (withdrawalId >= _withdrawals.length) revert UnknownWithdrawal(withdrawalId);
        Withdrawal storage w = _withdrawals[withdrawalId];
        if (w.owner != msg.sender) revert NotWithdrawalOwner(msg.sender, withdrawalId);
        if (w.completed) revert WithdrawalAlreadyCompleted(withdrawalId);
        if (Time.timestamp() < w.unlockAt) revert WithdrawalLocked(withdrawalId, w.unlockAt);
        Pool storage u = unbondingPool[w.operator];
        assets = Math.mulDiv(w.shares, u.assets + 1, u.shares + 1);
        if (assets > u.assets) assets = u.assets;
        w.completed = true;
        u.shares -= w.shares;
        u.assets -= assets;
        totalUnbonding -= assets;
        totalWithdrawn += assets;
        _token.safeTransfer(msg.sender, assets);
        emit UnstakeCompleted(withdrawalId, msg.sender, assets);
    }

    function syncStake(address, address) external {}

    // ------------------------------------------------------------------ privileged
    function slash(address operator, uint256 amount, address to) external returns (uint256 slashed) {
        if (msg.sender != slasher) revert UnauthorizedCaller(msg.sender);
        if (amount == 0) revert ZeroAmount();
        Pool storage a = activePool[operator];
        Pool storage u = unbondingPool[operator];
        uint256 total = a.assets + u.assets;
        if (amount > total) revert SlashExceedsStake(amount, total);
        uint256 fromActive = Math.mulDiv(amount, a.assets, total);
        uint256 fromUnbonding = amount - fromActive;
        a.assets -= fromActive;
        u.assets -= fromUnbonding;
        totalActive -= fromActive;
        totalUnbonding -= fromUnbonding;
        totalSlashedOut += amount;
        _token.safeTransfer(to, amount);
        emit Slashed(operator, fromActive, fromUnbonding, to);
        return amount - slashShortfall;
    }

    function jail(address operator, uint48 until) external {
        if (msg.sender != slasher && msg.sender != governance) revert UnauthorizedCaller(msg.sender);
        Operator storage op = _operators[operator];
        if (!op.registered) revert UnknownOperator(operator);
        op.jailed = true;
        op.jailedUntil = until; // overwrites: the Slasher must not shorten a running term
        emit Jailed(operator, until);
    }

    // ------------------------------------------------------------------ views
    function token() external view returns (IERC20) {
        return _token;
    }

    function clock() external view returns (uint48) {
        return uint48(block.number);
    }

    function operatorInfo(address operator) external view returns (OperatorInfo memory info) {
        Operator memory op = _operators[operator];
        info.registered = op.registered;
        info.jailed = op.jailed;
        info.signer = op.signer;
        info.jailedUntil = op.jailedUntil;
        info.activeStake = activePool[operator].assets;
        info.unbondingStake = unbondingPool[operator].assets;
        info.selfStake = previewAssets(operator, _shares[operator][operator]);
    }

    function signerOf(address operator) external view returns (address) {
        return _operators[operator].signer;
    }

    function isActiveOperator(address operator) external view returns (bool) {
        Operator memory op = _operators[operator];
        return op.registered && !op.jailed;
    }

    function operatorStake(address operator) external view returns (uint256) {
        return activePool[operator].assets;
    }

    function sharesOf(address operator, address account) external view returns (uint256) {
        return _shares[operator][account];
    }

    function previewAssets(address operator, uint256 shares) public view returns (uint256) {
        Pool memory a = activePool[operator];
        uint256 assets = Math.mulDiv(shares, a.assets + 1, a.shares + 1);
        return assets > a.assets ? a.assets : assets;
    }

    function stakeOf(address) external pure returns (uint256) {
        return 0;
    }

    function getPastStake(address, uint256) external pure returns (uint256) {
        return 0;
    }

    function totalActiveStake() external view returns (uint256) {
        return totalActive;
    }

    function getPastTotalStake(uint256) external pure returns (uint256) {
        return 0;
    }

    function withdrawal(uint256 withdrawalId) external view returns (Withdrawal memory) {
        return _withdrawals[withdrawalId];
    }

    function withdrawalCount() external view returns (uint256) {
        return _withdrawals.length;
    }
}
