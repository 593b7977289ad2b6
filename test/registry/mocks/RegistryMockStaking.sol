// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IOperatorObserver} from "../../../contracts/interfaces/IStakeObservers.sol";

/// @notice Minimal stand-in for Staking (registry tests): the subset of IStaking the registry uses, plus test setters that
///         notify the operator observer the way Staking does.
contract RegistryMockStaking {
    struct Op {
        address signer;
        uint256 stake;
        bool registered;
        bool jailed;
    }

    IERC20 public immutable token;
    IOperatorObserver public observer;
    uint48 public unbondingDelay = 14 days;
    mapping(address operator => Op) public ops;

    constructor(IERC20 token_) {
        token = token_;
    }

    function setObserver(IOperatorObserver observer_) external {
        observer = observer_;
    }

    function setUnbondingDelay(uint48 delay) external {
        unbondingDelay = delay;
    }

    function setOperator(address operator, address signer, uint256 stake) external {
        ops[operator] = Op({signer: signer, stake: stake, registered: true, jailed: false});
        _notify(operator);
    }

    function setStake(address operator, uint256 stake) external {
        ops[operator].stake = stake;
        _notify(operator);
    }

    function setJailed(address operator, bool jailed) external {
        ops[operator].jailed = jailed;
        _notify(operator);
    }

    function setSigner(address operator, address signer) external {
        ops[operator].signer = signer;
    }

    function signerOf(address operator) external view returns (address) {
        return ops[operator].signer;
    }

    function isActiveOperator(address operator) public view returns (bool) {
        Op storage o = ops[operator];
        return o.registered && !o.jailed && o.stake > 0;
    }

    function operatorStake(address operator) external view returns (uint256) {
        return ops[operator].stake;
    }

    function _notify(address operator) private {
        if (address(observer) != address(0)) {
            observer.onOperatorWeightChanged(operator, isActiveOperator(operator) ? ops[operator].stake : 0);
        }
    }
}
