// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {SlasherStakingFixture} from "../slashing/integration/SlasherStaking.t.sol";
import {console} from "forge-std/Test.sol";

/// @notice Deterministic single-call gas measurements of the Slasher's hot paths, against the real Staking.
contract SlasherGasTest is SlasherStakingFixture {
    function setUp() public {
        _deployPairWithOperator();
        uint256 shares = _delegate(delegator, operator, 1000e18);
        vm.prank(delegator);
        staking.requestUnstake(operator, shares / 2); // both pools non-empty, as in production
    }

    /// @dev Measurements that follow setup in the same transaction cool the touched storage first, so they
    ///      price cold accesses as a real transaction would.
    function _coolAll() internal {
        vm.cool(address(slasher));
        vm.cool(address(staking));
        vm.cool(address(token));
    }

    /// @notice requestSlash(Equivocation): request + immediate execution (opens a cap window, jails, pays
    ///         reporter and treasury).
    function test_gas_slash_equivocation() public {
        vm.prank(registry);
        uint256 g = gasleft();
        slasher.requestSlash(ISlasher.FaultKind.Equivocation, operator, "ref", reporter);
        g -= gasleft();
        console.log("requestSlash(Equivocation) gas", g);
        assertEq(slasher.totalSlashed(), 200e18);
    }

    /// @notice requestSlash(WrongResult): records a pending request.
    function test_gas_requestSlash_wrongResult() public {
        vm.prank(registry);
        uint256 g = gasleft();
        slasher.requestSlash(ISlasher.FaultKind.WrongResult, operator, "ref", reporter);
        g -= gasleft();
        console.log("requestSlash(WrongResult) gas", g);
        assertEq(slasher.slashCount(), 1);
    }

    /// @notice executeSlash of a pending WrongResult after its veto window.
    function test_gas_executeSlash() public {
        vm.prank(registry);
        uint256 id = slasher.requestSlash(ISlasher.FaultKind.WrongResult, operator, "ref", reporter);
        vm.warp(block.timestamp + 2 days);
        _coolAll();
        uint256 g = gasleft();
        slasher.executeSlash(id);
        g -= gasleft();
        console.log("executeSlash(WrongResult) gas", g);
        assertEq(slasher.totalSlashed(), 100e18);
    }

    /// @notice vetoSlash of a pending WrongResult.
    function test_gas_vetoSlash() public {
        vm.prank(registry);
        uint256 id = slasher.requestSlash(ISlasher.FaultKind.WrongResult, operator, "ref", reporter);
        _coolAll();
        vm.prank(governance);
        uint256 g = gasleft();
        slasher.vetoSlash(id);
        g -= gasleft();
        console.log("vetoSlash gas", g);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Vetoed));
    }
}
