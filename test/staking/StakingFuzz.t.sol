// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {StakingTestBase} from "./StakingTestBase.sol";

contract StakingFuzzTest is StakingTestBase {
    uint256 internal constant MAX = 1e27;

    function setUp() public override {
        super.setUp();
        _fund(alice, MAX * 3);
        _fund(bob, MAX * 3);
        _fund(op1, MAX * 3);
    }

    /// A full deposit -> unstake -> withdraw cycle never returns more than was deposited and loses at most
    /// a couple of wei, whatever other holders did to the share price before.
    function testFuzz_DelegateUnstakeCycleNeverProfits(uint256 opStake, uint256 noise, uint256 amount)
        public
    {
        opStake = bound(opStake, MIN_STAKE, MAX);
        noise = bound(noise, 1, MAX);
        amount = bound(amount, 1, MAX);
        _register(op1, signer1, opStake);
        // bob moves the rate off its initial value with rounding-losing partial unstakes
        uint256 bobShares = _delegate(bob, op1, noise);
        _unstake(bob, op1, bobShares / 3 + 1);

        uint256 before = token.balanceOf(alice);
        uint256 shares = _delegate(alice, op1, amount);
        uint256 id = _unstake(alice, op1, shares);
        vm.warp(block.timestamp + UNBONDING);
        uint256 received = _complete(alice, id);
        assertEq(token.balanceOf(alice), before - amount + received);
        assertLe(received, amount);
        assertGe(received + 2, amount);
    }

    /// Splitting an exit into many partial unstakes never beats a single exit.
    function testFuzz_PartialUnstakesNeverProfit(uint256 amount, uint256 seed) public {
        amount = bound(amount, 1, MAX);
        _register(op1, signer1, MIN_STAKE);
        uint256 shares = _delegate(alice, op1, amount);
        uint256 total;
        uint256 left = shares;
        for (uint256 i; i < 5 && left > 0; ++i) {
            uint256 part = i == 4 ? left : bound(uint256(keccak256(abi.encode(seed, i))), 1, left);
            uint256 id = _unstake(alice, op1, part);
            left -= part;
            vm.warp(block.timestamp + UNBONDING);
            total += _complete(alice, id);
        }
        if (left > 0) {
            uint256 id = _unstake(alice, op1, left);
            vm.warp(block.timestamp + UNBONDING);
            total += _complete(alice, id);
        }
        assertLe(total, amount);
    }

    /// A slash takes exactly `amount`, split pro rata, and every delegator and queued withdrawal loses the
    /// same fraction (up to rounding).
    function testFuzz_SlashIsProRataAcrossDelegatorsAndQueuedWithdrawals(
        uint256 opStake,
        uint256 a,
        uint256 b,
        uint256 queuedPart,
        uint256 slashBps
    ) public {
        opStake = bound(opStake, MIN_STAKE, MAX);
        a = bound(a, 1, MAX);
        b = bound(b, 1e6, MAX);
        _register(op1, signer1, opStake);
        _delegate(alice, op1, a);
        uint256 bobShares = _delegate(bob, op1, b);
        uint256 id = _unstake(bob, op1, bound(queuedPart, 1, bobShares));

        uint256 active = staking.operatorStake(op1);
        uint256 unbonding = staking.operatorInfo(op1).unbondingStake;
        uint256 available = active + unbonding;
        uint256 amount = Math.max(1, available * bound(slashBps, 1, 10_000) / 10_000);

        uint256 aliceBefore = _value(op1, alice);
        uint256 opBefore = _value(op1, op1);
        uint256 queuedBefore = staking.previewWithdrawal(id);
        uint256 sinkBefore = token.balanceOf(sink);

        _slash(op1, amount);

        uint256 activeAfter = staking.operatorStake(op1);
        uint256 unbondingAfter = staking.operatorInfo(op1).unbondingStake;
        assertEq(active + unbonding - activeAfter - unbondingAfter, amount, "exact amount");
        assertEq(token.balanceOf(sink) - sinkBefore, amount);
        assertEq(unbonding - unbondingAfter, amount * unbonding / available, "unbonding part");

        uint256 keep = available - amount;
        assertApproxEqAbs(_value(op1, alice), aliceBefore * keep / available, 3, "alice pro rata");
        assertApproxEqAbs(_value(op1, op1), opBefore * keep / available, 3, "operator pro rata");
        assertApproxEqAbs(
            staking.previewWithdrawal(id), queuedBefore * keep / available, 3, "queued pro rata"
        );
        assertLe(_value(op1, alice), aliceBefore);

        vm.warp(block.timestamp + UNBONDING);
        uint256 preview = staking.previewWithdrawal(id);
        assertEq(_complete(bob, id), preview, "pays the slashed value");
    }

    /// A withdrawal can never complete before its unlock time, and always can at or after it.
    function testFuzz_WithdrawalUnlocksExactlyAtDelay(uint48 delay, uint48 wait) public {
        delay = uint48(bound(delay, 1 days, 90 days));
        wait = uint48(bound(wait, 0, 100 days));
        vm.prank(admin);
        staking.setUnbondingDelay(delay);
        _register(op1, signer1, MIN_STAKE);
        uint256 id = _unstake(op1, op1, staking.sharesOf(op1, op1));
        uint48 unlockAt = uint48(block.timestamp) + delay;
        vm.warp(block.timestamp + wait);
        if (wait < delay) {
            vm.expectRevert(abi.encodeWithSelector(IStaking.WithdrawalLocked.selector, id, unlockAt));
            _complete(op1, id);
        } else {
            assertEq(_complete(op1, id), MIN_STAKE);
        }
    }

    /// The old signer stays in force until exactly `signerRotationDelay` later.
    function testFuzz_SignerRotationTiming(uint48 delay, uint48 wait) public {
        delay = uint48(bound(delay, 1 hours, 30 days));
        wait = uint48(bound(wait, 0, 31 days));
        vm.prank(admin);
        staking.setSignerRotationDelay(delay);
        _register(op1, signer1, MIN_STAKE);
        vm.prank(op1);
        staking.rotateSigner(signer2);
        vm.warp(block.timestamp + wait);
        assertEq(staking.signerOf(op1), wait < delay ? signer1 : signer2);
        assertEq(staking.operatorOfSigner(signer1), wait < delay ? op1 : address(0));
    }

    /// Any actor's recorded stake equals the value of its shares right after it acts, and the total is the
    /// sum of the records.
    function testFuzz_RecordsFollowActions(uint256 a, uint256 b, uint256 unstakeFrac) public {
        a = bound(a, 1, MAX);
        b = bound(b, 1, MAX);
        _register(op1, signer1, MIN_STAKE);
        _register(op2, signer2, MIN_STAKE);
        _delegate(alice, op1, a);
        _delegate(alice, op2, b);
        uint256 shares = staking.sharesOf(op2, alice);
        _unstake(alice, op2, bound(unstakeFrac, 1, shares));
        assertEq(staking.stakeOf(alice), _value(op1, alice) + _value(op2, alice));
        assertEq(
            staking.totalActiveStake(), staking.stakeOf(alice) + staking.stakeOf(op1) + staking.stakeOf(op2)
        );
    }
}
