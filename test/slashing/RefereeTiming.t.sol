// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IntegrationBase} from "../integration/IntegrationBase.sol";

/// @notice The referee's longest game is part of the timing invariant F + R + V < U, re-checked by every setter.
contract RefereeTimingTest is IntegrationBase {
    function test_LongestGameCountsInTheRulingDelay_UnbondingSetterRefusesToUndercutIt() public {
        uint256 f = s.registry.faultWindow();
        uint256 game = s.referee.maxRulingDelay();
        assertGt(game, s.disputes.maxRulingDelay(), "the game is the longer ruling path at the defaults");
        uint256 v = s.slasher.faultParams(ISlasher.FaultKind.WrongResult).vetoWindow;
        uint256 latest = f + game + v;
        // An unbonding delay that still covers the vote but not the longest game is refused.
        uint48 tooShort = uint48(latest);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.TimingInvariantViolated.selector,
                bytes32("fault+ruling+veto<unbonding"),
                latest,
                latest
            )
        );
        vm.prank(address(s.timelock));
        s.staking.setUnbondingDelay(tooShort);
        vm.prank(address(s.timelock));
        s.staking.setUnbondingDelay(uint48(latest + 1));
    }
}
