// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IStaking
/// @notice Operator registry and share-based delegation pools for verinfer.
/// @dev An operator is identified by its cold owner address (the address that registered it). The hot
///      `signer` key signs attestations and may be rotated with a delay. Every operator has two share
///      pools: the active pool (bonded stake, selection weight, voting power) and the unbonding pool
///      (queued withdrawals). A slash hits both pools pro rata, so queued stake stays slashable until it
///      is withdrawn. Checkpoints are keyed by block number (ERC-6372 `mode=blocknumber`).
interface IStaking {
    // ------------------------------------------------------------------ types
    /// @notice A queued withdrawal: `shares` of the operator's unbonding pool, claimable at `unlockAt`.
    struct Withdrawal {
        address owner;
        address operator;
        uint128 shares;
        uint48 unlockAt;
        bool completed;
    }

    /// @notice The public record of an operator.
    struct OperatorInfo {
        bool registered;
        bool jailed;
        address signer; // the signer in force now
        address pendingSigner; // zero when no rotation is pending
        uint48 signerActivatesAt; // when `pendingSigner` replaces `signer`
        uint48 jailedUntil; // earliest unjail time while jailed
        uint256 activeStake; // assets in the active pool (self + delegated)
        uint256 unbondingStake; // assets in the unbonding pool (still slashable)
        uint256 selfStake; // asset value of the owner's own active shares
    }

    // ------------------------------------------------------------------ events
    event OperatorRegistered(address indexed operator, address indexed signer);
    event SignerRotationRequested(address indexed operator, address indexed newSigner, uint48 activatesAt);
    event Delegated(address indexed account, address indexed operator, uint256 assets, uint256 shares);
    event UnstakeRequested(
        uint256 indexed withdrawalId,
        address indexed account,
        address indexed operator,
        uint256 assets,
        uint48 unlockAt
    );
    event UnstakeCompleted(uint256 indexed withdrawalId, address indexed account, uint256 assets);
    event Slashed(address indexed operator, uint256 fromActive, uint256 fromUnbonding, address indexed to);
    event Jailed(address indexed operator, uint48 until);
    event Unjailed(address indexed operator);
    event AccountStakeSynced(
        address indexed account, address indexed operator, uint256 oldValue, uint256 newValue
    );
    event ParameterChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);

    // ------------------------------------------------------------------ errors
    error ZeroAmount();
    error ZeroAddress();
    error AlreadyRegistered(address operator);
    error UnknownOperator(address operator);
    error NotOperatorOwner(address caller, address operator);
    error BelowMinimumOperatorStake(uint256 selfStake, uint256 minimum);
    error InsufficientShares(uint256 requested, uint256 available);
    error UnknownWithdrawal(uint256 withdrawalId);
    error NotWithdrawalOwner(address caller, uint256 withdrawalId);
    error WithdrawalLocked(uint256 withdrawalId, uint48 unlockAt);
    error WithdrawalAlreadyCompleted(uint256 withdrawalId);
    error OperatorIsJailed(address operator, uint48 until);
    error OperatorNotJailed(address operator);
    error StakingPaused();
    error UnauthorizedCaller(address caller);
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);
    error AlreadyWired();
    error FutureLookup(uint256 timepoint, uint48 clock);
    error SlashExceedsStake(uint256 amount, uint256 available);
    error SignerInUse(address signer);

    // ------------------------------------------------------------------ operators
    /// @notice Registers `msg.sender` as an operator with hot key `signer` and an initial self-stake.
    function registerOperator(address signer, uint256 selfStake) external returns (uint256 shares);

    /// @notice Starts a rotation of the hot key; it takes effect after `signerRotationDelay`.
    function rotateSigner(address newSigner) external;

    /// @notice Unjails the caller's operator once its jail term is over and its self-stake meets the minimum.
    function unjail() external;

    // ------------------------------------------------------------------ delegation
    /// @notice Delegates `assets` of the staking token to `operator` (self-stake when the caller is its owner).
    function delegate(address operator, uint256 assets) external returns (uint256 shares);

    /// @notice Moves `shares` of the caller's active position into the unbonding queue.
    function requestUnstake(address operator, uint256 shares) external returns (uint256 withdrawalId);

    /// @notice Withdraws a queued withdrawal after its unlock time, at the unbonding pool's current rate.
    function completeUnstake(uint256 withdrawalId) external returns (uint256 assets);

    /// @notice Re-records `account`'s stake with `operator` at the pool's current rate (after a slash).
    function syncStake(address account, address operator) external;

    // ------------------------------------------------------------------ privileged
    /// @notice Removes `amount` of `operator`'s stake, pro rata from the active and unbonding pools,
    ///         and transfers it to `to`. Only the Slasher.
    function slash(address operator, uint256 amount, address to) external returns (uint256 slashed);

    /// @notice Jails `operator` until `until`. Only the Slasher or governance.
    function jail(address operator, uint48 until) external;

    // ------------------------------------------------------------------ views
    function token() external view returns (IERC20);
    function clock() external view returns (uint48);
    function operatorInfo(address operator) external view returns (OperatorInfo memory);
    function signerOf(address operator) external view returns (address);
    /// @notice Registered, not jailed, self-stake at or above the minimum.
    function isActiveOperator(address operator) external view returns (bool);
    function operatorStake(address operator) external view returns (uint256);
    function sharesOf(address operator, address account) external view returns (uint256);
    function previewAssets(address operator, uint256 shares) external view returns (uint256);
    /// @notice The account's recorded active stake summed over operators (what governance reads).
    function stakeOf(address account) external view returns (uint256);
    function getPastStake(address account, uint256 timepoint) external view returns (uint256);
    function totalActiveStake() external view returns (uint256);
    function getPastTotalStake(uint256 timepoint) external view returns (uint256);
    function withdrawal(uint256 withdrawalId) external view returns (Withdrawal memory);
    function unbondingDelay() external view returns (uint48);
    function signerRotationDelay() external view returns (uint48);
    function minOperatorStake() external view returns (uint256);
    /// @notice The operator that most recently claimed `signer` as its current, pending or (rotated-out)
    ///         former hot key; zero if none ever did. Used to bar an operator's keys from disputes about it.
    function signerClaimant(address signer) external view returns (address);
}
