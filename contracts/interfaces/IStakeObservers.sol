// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IAccountStakeObserver
/// @notice Told by `Staking` whenever an account's recorded active stake changes (governance voice).
interface IAccountStakeObserver {
    /// @notice `account`'s recorded active stake moved from `oldStake` to `newStake` in this block.
    function onAccountStakeChanged(address account, uint256 oldStake, uint256 newStake) external;
}

/// @title IOperatorObserver
/// @notice Told by `Staking` whenever an operator's selection weight changes (registry sum trees).
interface IOperatorObserver {
    /// @notice `operator`'s weight is now `weight`: its active stake, or zero when it is not an active
    ///         operator (jailed, below the minimum self-stake).
    function onOperatorWeightChanged(address operator, uint256 weight) external;
}
