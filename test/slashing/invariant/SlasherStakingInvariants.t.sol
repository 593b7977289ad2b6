// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {SlasherInvariantsBase} from "./SlasherInvariants.t.sol";

/// @notice The Slasher invariants against the real Staking, including token conservation across both.
contract SlasherStakingInvariants is SlasherInvariantsBase {
    function _deployStaking() internal override returns (IStaking) {
        return IStaking(address(new Staking(token, admin, 1e18, 14 days, 1 days)));
    }

    function _wireStaking(address slasher_) internal override {
        vm.prank(admin);
        Staking(address(staking)).wire(slasher_, address(0), address(0));
    }

    /// @notice Staking holds exactly the assets of the operators' pools (slashes leave no stranded tokens).
    /// @dev `totalActiveStake` is the *recorded* (checkpointed) total, stale until `syncStake` after a slash,
    ///      so it is not compared here.
    function invariant_StakingBalanceMatchesPools() public view {
        uint256 unbonding;
        uint256 active;
        for (uint256 i; i < handler.operatorCount(); ++i) {
            IStaking.OperatorInfo memory info = staking.operatorInfo(handler.operators(i));
            active += info.activeStake;
            unbonding += info.unbondingStake;
        }
        assertEq(token.balanceOf(address(staking)), active + unbonding);
    }
}
