// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {Slasher} from "../../../contracts/slashing/Slasher.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {MockStakingToken} from "../../mocks/MockStaking.sol";
import {SlasherActors} from "../SlasherTestBase.sol";

/// @notice Deploys the real Staking + Slasher pair the way the deployment script wires them.
abstract contract SlasherStakingFixture is SlasherActors {
    uint256 internal constant MIN_OPERATOR_STAKE = 1e18;
    uint48 internal constant UNBONDING_DELAY = 14 days;
    uint48 internal constant SIGNER_ROTATION_DELAY = 1 days;

    MockStakingToken internal token;
    Staking internal staking;
    Slasher internal slasher;

    function _deployPair() internal {
        token = new MockStakingToken();
        staking = new Staking(token, admin, MIN_OPERATOR_STAKE, UNBONDING_DELAY, SIGNER_ROTATION_DELAY);
        slasher = new Slasher(IStaking(address(staking)), admin, treasury);
        vm.startPrank(admin);
        staking.wire(address(slasher), address(0), address(0));
        slasher.wire(registry, governance);
        vm.stopPrank();
    }

    /// @dev The pair at a fixed time and block, with `operator` registered on 1000 tokens.
    function _deployPairWithOperator() internal {
        vm.warp(1_700_000_000);
        vm.roll(100);
        _deployPair();
        _register(operator, 1000e18);
    }

    function _register(address op, uint256 amount) internal {
        token.mint(op, amount);
        vm.startPrank(op);
        token.approve(address(staking), amount);
        staking.registerOperator(makeAddr(string.concat("signer-", vm.toString(op))), amount);
        vm.stopPrank();
    }

    function _delegate(address account, address op, uint256 amount) internal returns (uint256 shares) {
        token.mint(account, amount);
        vm.startPrank(account);
        token.approve(address(staking), amount);
        shares = staking.delegate(op, amount);
        vm.stopPrank();
    }
}

contract SlasherStakingIntegrationTest is SlasherStakingFixture {
    function setUp() public {
        _deployPairWithOperator();
    }

    function test_Integration_DefaultVetoWindowIsShorterThanUnbonding() public view {
        assertLt(slasher.faultParams(ISlasher.FaultKind.WrongResult).vetoWindow, staking.unbondingDelay());
    }

    function test_Integration_EquivocationSlashesBothPoolsProRataAndJails() public {
        uint256 shares = _delegate(delegator, operator, 1000e18);
        vm.prank(delegator);
        uint256 wid = staking.requestUnstake(operator, shares);

        vm.expectEmit(true, true, false, true, address(staking));
        emit IStaking.Slashed(operator, 100e18, 100e18, address(slasher));
        vm.prank(registry);
        slasher.requestSlash(ISlasher.FaultKind.Equivocation, operator, "eq", reporter);

        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        assertEq(info.activeStake, 900e18);
        assertEq(info.unbondingStake, 900e18);
        assertTrue(info.jailed);
        assertEq(info.jailedUntil, block.timestamp + 7 days);
        assertFalse(staking.isActiveOperator(operator));
        assertEq(token.balanceOf(reporter), 20e18);
        assertEq(token.balanceOf(treasury), 180e18);

        vm.warp(block.timestamp + UNBONDING_DELAY);
        vm.prank(delegator);
        assertApproxEqAbs(staking.completeUnstake(wid), 900e18, 1, "queued stake took its share of the slash");
    }

    function test_Integration_WrongResultCatchesStakeQueuedAtFaultTime() public {
        // the operator sees the dispute coming and queues everything at once
        uint256 shares = staking.sharesOf(operator, operator);
        vm.prank(operator);
        uint256 wid = staking.requestUnstake(operator, shares);
        vm.prank(registry);
        uint256 id = slasher.requestSlash(ISlasher.FaultKind.WrongResult, operator, "wr", reporter);

        vm.warp(block.timestamp + 2 days); // veto window (2d) < unbonding delay (14d)
        vm.prank(operator);
        vm.expectPartialRevert(IStaking.WithdrawalLocked.selector);
        staking.completeUnstake(wid);
        assertEq(slasher.executeSlash(id), 50e18);

        vm.warp(block.timestamp + UNBONDING_DELAY);
        vm.prank(operator);
        assertApproxEqAbs(staking.completeUnstake(wid), 950e18, 1);
    }

    function test_Integration_VetoedSlashLeavesStakeIntact() public {
        vm.prank(registry);
        uint256 id = slasher.requestSlash(ISlasher.FaultKind.WrongResult, operator, "wr", reporter);
        vm.prank(governance);
        slasher.vetoSlash(id);
        vm.warp(block.timestamp + 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Vetoed)
        );
        slasher.executeSlash(id);
        assertEq(staking.operatorStake(operator), 1000e18);
        assertFalse(staking.operatorInfo(operator).jailed);
    }

    function test_Integration_TinyStakeStillSlashed() public {
        address tiny = makeAddr("tiny");
        vm.prank(admin);
        staking.setMinOperatorStake(1);
        _register(tiny, 1);
        vm.prank(registry);
        slasher.requestSlash(ISlasher.FaultKind.MissedAssignment, tiny, "m", reporter);
        assertEq(staking.operatorInfo(tiny).activeStake, 0);
        assertEq(token.balanceOf(treasury), 1);
        // nothing left: the next report is rejected instead of "slashing" zero
        vm.prank(registry);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashRoundsToZero.selector, tiny));
        slasher.requestSlash(ISlasher.FaultKind.MissedAssignment, tiny, "m2", reporter);
    }

    function test_Integration_JailTermsOnlyGrow() public {
        vm.prank(registry);
        uint256 id = slasher.requestSlash(ISlasher.FaultKind.WrongResult, operator, "wr", reporter);
        vm.prank(registry);
        slasher.requestSlash(ISlasher.FaultKind.Equivocation, operator, "eq", reporter);
        uint48 longTerm = uint48(block.timestamp + 7 days);
        vm.warp(block.timestamp + 2 days);
        slasher.executeSlash(id);
        assertEq(staking.operatorInfo(operator).jailedUntil, longTerm);
    }

    function test_Integration_CapBoundsLossAcrossWindows() public {
        vm.prank(admin);
        slasher.setFaultParams(
            ISlasher.FaultKind.Equivocation,
            ISlasher.FaultParams({slashBps: 5000, reporterBps: 0, vetoWindow: 0, jailDuration: 0})
        );
        // two 50 % faults per window: far more is owed than the cap lets through
        uint256[] memory ids = new uint256[](6);
        for (uint256 w; w < 3; ++w) {
            for (uint256 i; i < 2 * w; ++i) {
                try slasher.executeSlash(ids[i]) {} catch {} // deferred remainders first (anyone may)
            }
            vm.startPrank(registry);
            ids[2 * w] =
                slasher.requestSlash(ISlasher.FaultKind.Equivocation, operator, bytes32(2 * w), address(0));
            ids[2 * w + 1] = slasher.requestSlash(
                ISlasher.FaultKind.Equivocation, operator, bytes32(2 * w + 1), address(0)
            );
            vm.stopPrank();
            vm.warp(block.timestamp + 7 days);
        }
        // the loss per window is bounded by the cap: 1000 * 0.7^3 = 343 left after three windows ...
        assertEq(staking.operatorStake(operator), 343e18);
        assertEq(slasher.totalToTreasury(), 657e18);
        // ... and what the cap held back is still owed, not forgiven
        uint256 outstanding;
        for (uint256 i; i < ids.length; ++i) {
            (,, uint256 o) = slasher.slashAmounts(ids[i]);
            outstanding += o;
        }
        assertGt(outstanding, 0);
    }

    function test_Integration_UnjailAfterTermWhenStillAboveMinimum() public {
        vm.prank(registry);
        slasher.requestSlash(ISlasher.FaultKind.Equivocation, operator, "eq", reporter);
        vm.warp(block.timestamp + 7 days);
        vm.prank(operator);
        staking.unjail();
        assertTrue(staking.isActiveOperator(operator));
    }

    /// @notice Against the real Staking: any stake split, kind and delay gives amount == preview (owed frozen
    ///         at request, with the request's frozen params), pro-rata pools, and a full payout.
    function testFuzz_Integration_SlashMatchesPreviewAndConserves(
        uint256 extra,
        uint256 queued,
        uint8 kindSeed,
        uint32 delay
    ) public {
        extra = bound(extra, 1, 1e27);
        ISlasher.FaultKind kind = ISlasher.FaultKind(bound(kindSeed, 0, 2));
        delay = uint32(bound(delay, 0, 10 days));
        uint256 shares = _delegate(delegator, operator, extra);
        queued = bound(queued, 0, shares);
        if (queued != 0) {
            vm.prank(delegator);
            staking.requestUnstake(operator, queued);
        }
        IStaking.OperatorInfo memory before = staking.operatorInfo(operator);
        uint256 slashable = before.activeStake + before.unbondingStake;
        (uint256 owed, uint256 expected) = slasher.previewSlash(operator, kind);
        assertEq(expected, owed, "default bps are below the cap: no deferral");

        vm.prank(registry);
        uint256 id = slasher.requestSlash(kind, operator, "fuzz", reporter);
        ISlasher.SlashRequest memory r = slasher.slashRequest(id);
        if (r.status == ISlasher.SlashStatus.Pending) {
            vm.warp(block.timestamp + (delay > r.params.vetoWindow ? delay : r.params.vetoWindow));
            slasher.executeSlash(id);
        }
        IStaking.OperatorInfo memory afterInfo = staking.operatorInfo(operator);
        uint256 taken = slashable - afterInfo.activeStake - afterInfo.unbondingStake;
        assertEq(taken, expected, "amount == preview");
        assertGe(taken, 1);
        assertEq(slasher.totalSlashed(), taken);
        assertEq(token.balanceOf(reporter) + token.balanceOf(treasury), taken);
        assertEq(token.balanceOf(address(slasher)), 0);
        // pro rata: each pool loses its share of the slash, up to one wei of rounding
        assertApproxEqAbs(
            before.unbondingStake - afterInfo.unbondingStake, taken * before.unbondingStake / slashable, 1
        );
    }
}
