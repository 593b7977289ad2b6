// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {Slasher} from "../../contracts/slashing/Slasher.sol";
import {MockStaking} from "../mocks/MockStaking.sol";
import {SlasherActors} from "./SlasherTestBase.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @notice A token with a transfer hook that re-enters the Slasher when paying `hookTarget`.
contract ReentrantToken is ERC20 {
    Slasher public slasher;
    address public hookTarget;
    bytes public payload;

    constructor() ERC20("Hook", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(Slasher slasher_, address target, bytes calldata payload_) external {
        slasher = slasher_;
        hookTarget = target;
        payload = payload_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (to == hookTarget && hookTarget != address(0)) {
            (bool ok, bytes memory ret) = address(slasher).call(payload);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }
}

contract SlasherReentrancyTest is SlasherActors {
    ReentrantToken internal token;
    MockStaking internal staking;
    Slasher internal slasher;

    function setUp() public {
        token = new ReentrantToken();
        staking = new MockStaking(IERC20(address(token)));
        slasher = new Slasher(IStaking(address(staking)), admin, treasury);
        staking.setSlasher(address(slasher));
        vm.prank(admin);
        slasher.wire(registry, governance);
        token.mint(operator, 1000e18);
        vm.startPrank(operator);
        token.approve(address(staking), 1000e18);
        staking.registerOperator(operator, 1000e18);
        vm.stopPrank();
    }

    function test_RevertWhen_PayoutReentersExecuteSlash() public {
        vm.prank(registry);
        uint256 pending = slasher.requestSlash(ISlasher.FaultKind.WrongResult, operator, "w", reporter);
        vm.warp(block.timestamp + 2 days);
        token.arm(slasher, reporter, abi.encodeCall(Slasher.executeSlash, (pending)));
        vm.prank(registry);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        slasher.requestSlash(ISlasher.FaultKind.Equivocation, operator, "e", reporter);
    }

    function test_RevertWhen_PayoutReentersRequestSlash() public {
        // even an authorised caller cannot nest a slash inside a payout
        token.arm(
            slasher,
            reporter,
            abi.encodeCall(
                Slasher.requestSlash, (ISlasher.FaultKind.MissedAssignment, operator, "m", reporter)
            )
        );
        vm.prank(registry);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        slasher.requestSlash(ISlasher.FaultKind.Equivocation, operator, "e", reporter);
    }
}
