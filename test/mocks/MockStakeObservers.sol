// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountStakeObserver, IOperatorObserver} from "../../contracts/interfaces/IStakeObservers.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";

/// @notice Records every account-stake notification and what `stakeOf` said during the call.
contract MockAccountObserver is IAccountStakeObserver {
    struct Call {
        address account;
        uint256 oldStake;
        uint256 newStake;
        uint256 stakeOfDuringCall; // proves the hook runs after the state update
    }

    Call[] internal _calls;
    /// @notice The last `newStake` told for each account (what a delta-tracking observer would hold).
    mapping(address account => uint256) public lastStake;
    /// @notice Notifications whose `oldStake` did not match the previous `newStake` (must stay 0).
    uint256 public brokenChains;

    function onAccountStakeChanged(address account, uint256 oldStake, uint256 newStake) external {
        _calls.push(Call(account, oldStake, newStake, IStaking(msg.sender).stakeOf(account)));
        if (oldStake != lastStake[account]) brokenChains++;
        lastStake[account] = newStake;
    }

    function callCount() external view returns (uint256) {
        return _calls.length;
    }

    function callAt(uint256 i) external view returns (Call memory) {
        return _calls[i];
    }

    function lastCall() external view returns (Call memory) {
        return _calls[_calls.length - 1];
    }
}

/// @notice Records every operator-weight notification and the operator stake seen during the call.
contract MockOperatorObserver is IOperatorObserver {
    struct Call {
        address operator;
        uint256 weight;
        bool activeDuringCall;
    }

    Call[] internal _calls;
    mapping(address operator => uint256) public weightOf;

    function onOperatorWeightChanged(address operator, uint256 weight) external {
        _calls.push(Call(operator, weight, IStaking(msg.sender).isActiveOperator(operator)));
        weightOf[operator] = weight;
    }

    function callCount() external view returns (uint256) {
        return _calls.length;
    }

    function lastCall() external view returns (Call memory) {
        return _calls[_calls.length - 1];
    }
}
