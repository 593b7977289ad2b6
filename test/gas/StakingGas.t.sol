// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "forge-std/Test.sol";

import {Staking} from "../../contracts/staking/Staking.sol";
import {VerinferToken} from "../../contracts/token/VerinferToken.sol";

/// @notice Deterministic gas measurements of the single Staking calls (no observers wired, so the numbers are
///         Staking's own cost; the observers add their own).
contract StakingGasTest is Test {
    VerinferToken internal token;
    Staking internal staking;
    address internal admin = makeAddr("admin");
    address internal op = makeAddr("op");
    address internal first = makeAddr("firstDelegator");
    address internal alice = makeAddr("alice");

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new VerinferToken("Verinfer", "VINF", address(this), 0);
        staking = new Staking(token, admin, 100e18, 21 days, 1 days);
        vm.prank(admin);
        staking.wire(makeAddr("slasher"), address(0), address(0));
        address[3] memory users = [op, first, alice];
        for (uint256 i; i < users.length; ++i) {
            token.mint(users[i], 1_000_000e18);
            vm.prank(users[i]);
            token.approve(address(staking), type(uint256).max);
        }
    }

    function _setupOperatorWithDelegator() internal {
        vm.prank(op);
        staking.registerOperator(makeAddr("signer"), 1000e18);
        vm.prank(first);
        staking.delegate(op, 500e18);
        vm.roll(block.number + 1);
    }

    /// @dev Measures like a fresh transaction: every slot cold again.
    function _cool() internal {
        vm.cool(address(staking));
        vm.cool(address(token));
    }

    function test_gas_registerOperator() public {
        address signer = makeAddr("signer");
        _cool();
        vm.prank(op);
        uint256 g = gasleft();
        staking.registerOperator(signer, 1000e18);
        g -= gasleft();
        console.log("gas registerOperator", g);
        assertTrue(staking.isActiveOperator(op));
    }

    function test_gas_stake() public {
        _setupOperatorWithDelegator();
        _cool();
        vm.prank(alice);
        uint256 g = gasleft();
        staking.delegate(op, 250e18);
        g -= gasleft();
        console.log("gas stake (delegate, second delegator)", g);
        assertEq(staking.stakeOf(alice), 250e18);
    }

    function test_gas_requestUnstake() public {
        _setupOperatorWithDelegator();
        uint256 shares = staking.sharesOf(op, first) / 2;
        _cool();
        vm.prank(first);
        uint256 g = gasleft();
        staking.requestUnstake(op, shares);
        g -= gasleft();
        console.log("gas requestUnstake", g);
        assertEq(staking.stakeOf(first), 250e18);
    }

    function test_gas_completeUnstake() public {
        _setupOperatorWithDelegator();
        uint256 shares = staking.sharesOf(op, first) / 2;
        vm.prank(first);
        uint256 id = staking.requestUnstake(op, shares);
        vm.warp(block.timestamp + 21 days);
        _cool();
        vm.prank(first);
        uint256 g = gasleft();
        staking.completeUnstake(id);
        g -= gasleft();
        console.log("gas completeUnstake", g);
        assertTrue(staking.withdrawal(id).completed);
    }
}
