// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {Slasher} from "../../contracts/slashing/Slasher.sol";
import {MockStaking, MockStakingToken} from "../mocks/MockStaking.sol";
import {RegistryTimingStub} from "./mocks/RegistryTimingStub.sol";
import {Test} from "forge-std/Test.sol";

/// @notice The actors every slashing fixture wires the Slasher to (unit tests on MockStaking, the real
///         Staking pair, invariants, reentrancy): one place, so they are the same addresses everywhere.
abstract contract SlasherActors is Test {
    address internal constant BURN = 0x000000000000000000000000000000000000dEaD;

    address internal admin = makeAddr("admin");
    address internal registry = address(new RegistryTimingStub());
    address internal governance = makeAddr("governance");
    address internal treasury = makeAddr("treasury");
    address internal reporter = makeAddr("reporter");
    address internal operator = makeAddr("operator");
    address internal delegator = makeAddr("delegator");
}

/// @notice Shared fixture: token, MockStaking, Slasher wired to `registry` and `governance`.
abstract contract SlasherTestBase is SlasherActors {
    MockStakingToken internal token;
    MockStaking internal staking;
    Slasher internal slasher;

    ISlasher.FaultKind internal constant EQUIVOCATION = ISlasher.FaultKind.Equivocation;
    ISlasher.FaultKind internal constant WRONG_RESULT = ISlasher.FaultKind.WrongResult;
    ISlasher.FaultKind internal constant MISSED = ISlasher.FaultKind.MissedAssignment;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        token = new MockStakingToken();
        staking = new MockStaking(token);
        slasher = new Slasher(IStaking(address(staking)), admin, treasury);
        staking.setSlasher(address(slasher));
        vm.prank(admin);
        slasher.wire(registry, governance);
    }

    function _register(address op, uint256 amount) internal {
        token.mint(op, amount);
        vm.startPrank(op);
        token.approve(address(staking), amount);
        staking.registerOperator(op, amount);
        vm.stopPrank();
    }

    function _delegate(address account, address op, uint256 amount) internal returns (uint256 shares) {
        token.mint(account, amount);
        vm.startPrank(account);
        token.approve(address(staking), amount);
        shares = staking.delegate(op, amount);
        vm.stopPrank();
    }

    function _slashable(address op) internal view returns (uint256) {
        IStaking.OperatorInfo memory info = staking.operatorInfo(op);
        return info.activeStake + info.unbondingStake;
    }

    function _request(ISlasher.FaultKind kind, address op, bytes32 ref) internal returns (uint256 id) {
        vm.prank(registry);
        id = slasher.requestSlash(kind, op, ref, reporter);
    }

    function _ceilBps(uint256 x, uint256 bps) internal pure returns (uint256) {
        return (x * bps + 9999) / 10_000;
    }
}
