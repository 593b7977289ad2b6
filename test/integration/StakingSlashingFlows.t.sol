// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {DeploySuite} from "../../script/DeploySuite.sol";
import {IntegrationBase} from "./IntegrationBase.sol";

/// @notice Stake lifecycle flows across Staking + Slasher on the deployed suite.
contract StakingSlashingFlowsTest is IntegrationBase {
    address internal op;

    function setUp() public override {
        super.setUp();
        op = operators[0];
        _registerOperator(0, 20_000 ether);
        _delegate(delegators[0], op, 50_000 ether);
        _delegate(delegators[1], op, 30_000 ether);
        _advance(1 days);
    }

    /// @notice register -> delegate -> unbond -> equivocation slash -> the queued withdrawal pays 90 %, and
    ///         the active delegators lose the same fraction.
    function test_EquivocationSlashHitsQueuedWithdrawalsProRata() public {
        uint256 w = _unstakeAll(delegators[0], op);
        assertApproxEqAbs(s.staking.previewWithdrawal(w), 50_000 ether, 1);
        assertEq(_slashable(op), 100_000 ether);

        uint256 reporterBefore = s.token.balanceOf(challenger);
        uint256 id = _governanceSlash(EQUIVOCATION, op, "req-1", challenger);

        // 10 % of active + unbonding, executed immediately; reporter 10 % of it, the rest to the treasury.
        assertEq(uint8(s.slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
        assertEq(_slashable(op), 90_000 ether);
        assertEq(s.token.balanceOf(challenger) - reporterBefore, 1000 ether);
        assertEq(s.slasher.totalToTreasury(), 9000 ether);
        assertApproxEqAbs(s.staking.previewWithdrawal(w), 45_000 ether, 2);
        assertApproxEqAbs(s.staking.previewAssets(op, s.staking.sharesOf(op, delegators[1])), 27_000 ether, 2);
        assertApproxEqAbs(s.staking.selfStakeOf(op), 18_000 ether, 2);

        // The withdrawal stays locked for the full unbonding delay, then pays the slashed amount.
        vm.expectRevert(
            abi.encodeWithSelector(IStaking.WithdrawalLocked.selector, w, s.staking.withdrawal(w).unlockAt)
        );
        _complete(delegators[0], w);
        _advance(cfg.unbondingDelay);
        uint256 before = s.token.balanceOf(delegators[0]);
        uint256 paid = _complete(delegators[0], w);
        assertApproxEqAbs(paid, 45_000 ether, 2);
        assertLe(paid, 45_000 ether); // rounding never favours the withdrawer
        assertEq(s.token.balanceOf(delegators[0]) - before, paid);
        _assertConservation();
    }

    /// @notice A WrongResult slash vetoed by governance inside the window can never execute; nothing is lost.
    function test_SlashVetoedInsideWindowNeverExecutes() public {
        uint256 id = _governanceSlash(WRONG_RESULT, op, "dispute-1", challenger);
        ISlasher.SlashRequest memory r = s.slasher.slashRequest(id);
        assertEq(uint8(r.status), uint8(ISlasher.SlashStatus.Pending));
        assertEq(r.executableAt, block.timestamp + 2 days);

        vm.expectRevert(abi.encodeWithSelector(ISlasher.VetoWindowOpen.selector, id, r.executableAt));
        s.slasher.executeSlash(id);

        _advanceTo(r.executableAt - 1);
        _veto(id);
        _advance(1 days);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Vetoed)
        );
        s.slasher.executeSlash(id);

        assertEq(_slashable(op), 100_000 ether);
        assertFalse(s.staking.operatorInfo(op).jailed);
        assertEq(s.slasher.totalSlashed(), 0);
        _assertConservation();
    }

    /// @notice Once the veto window is over the slash cannot be vetoed; anyone executes it, the reporter is
    ///         paid 20 % and the operator is jailed for 3 days.
    function test_WrongResultExecutesAfterVetoWindowAndPaysReporter() public {
        uint256 id = _governanceSlash(WRONG_RESULT, op, "dispute-2", challenger);
        uint48 executableAt = s.slasher.slashRequest(id).executableAt;
        _advanceTo(executableAt);
        address governance = s.slasher.governance();
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.VetoWindowClosed.selector, id, executableAt));
        s.slasher.vetoSlash(id);

        uint256 before = s.token.balanceOf(challenger);
        vm.prank(makeAddr("keeper"));
        uint256 amount = s.slasher.executeSlash(id);
        assertEq(amount, 5000 ether); // 5 % of 100 000
        assertEq(s.token.balanceOf(challenger) - before, 1000 ether);
        IStaking.OperatorInfo memory info = s.staking.operatorInfo(op);
        assertTrue(info.jailed);
        assertEq(info.jailedUntil, block.timestamp + 3 days);
        _assertConservation();
    }

    /// @notice A jailed operator has no weight and takes no delegations; it can unjail only after its term
    ///         and only with enough self-stake left after the slash.
    function test_JailedOperatorInactiveUntilTermOverAndSelfStakeRestored() public {
        _registerOperator(1, 10_000 ether); // exactly the minimum
        address op1 = operators[1];
        _delegate(delegators[2], op1, 10_000 ether);
        assertEq(s.staking.operatorWeight(op1), 20_000 ether);

        _governanceSlash(EQUIVOCATION, op1, "req-7", challenger);
        uint48 until = s.staking.operatorInfo(op1).jailedUntil;
        assertEq(until, block.timestamp + 7 days);
        assertFalse(s.staking.isActiveOperator(op1));
        assertEq(s.staking.operatorWeight(op1), 0);

        vm.expectRevert(abi.encodeWithSelector(IStaking.OperatorIsJailed.selector, op1, until));
        _delegate(delegators[2], op1, 1 ether);
        vm.prank(op1);
        vm.expectRevert(abi.encodeWithSelector(IStaking.OperatorIsJailed.selector, op1, until));
        s.staking.unjail();

        _advanceTo(until);
        uint256 selfStake = s.staking.selfStakeOf(op1); // 9 000: below the minimum after the slash
        vm.prank(op1);
        vm.expectRevert(
            abi.encodeWithSelector(IStaking.BelowMinimumOperatorStake.selector, selfStake, 10_000 ether)
        );
        s.staking.unjail();

        _delegate(op1, op1, 1001 ether); // the owner may top up while jailed
        vm.prank(op1);
        s.staking.unjail();
        assertTrue(s.staking.isActiveOperator(op1));
        assertEq(s.staking.operatorWeight(op1), s.staking.operatorStake(op1));
    }

    /// @notice Timing invariant end to end: stake queued at the moment of a fault is still in the contract
    ///         when the slowest WrongResult path (TTL + challenge + batch + dispute vote + ruling delay + veto)
    ///         executes.
    function test_SlowestDisputeSlashStillHitsStakeQueuedAtFault() public {
        uint256 t0 = block.timestamp;
        uint256 wSelf = _unstakeAll(op, op);
        uint256 w0 = _unstakeAll(delegators[0], op);
        uint256 w1 = _unstakeAll(delegators[1], op);
        assertEq(s.staking.operatorStake(op), 0);

        _advance(DeploySuite.faultWindow(cfg) + DeploySuite.rulingDelay(cfg));
        uint256 id = _governanceSlash(WRONG_RESULT, op, "slow", challenger);
        _advanceTo(s.slasher.slashRequest(id).executableAt + cfg.executionMargin - 1);
        assertLt(block.timestamp, t0 + cfg.unbondingDelay);
        uint256 amount = s.slasher.executeSlash(id);
        assertEq(amount, 5000 ether);

        _advanceTo(t0 + cfg.unbondingDelay);
        uint256 total = _complete(op, wSelf) + _complete(delegators[0], w0) + _complete(delegators[1], w1);
        assertApproxEqAbs(total, 95_000 ether, 6);
        assertLe(total, 95_000 ether);
        _assertConservation();
    }

    /// @notice Stake that finished unbonding before a slash executes is out of reach; only what is still
    ///         queued or active pays.
    function test_CompletedWithdrawalIsNotHitByLaterSlash() public {
        uint256 w0 = _unstakeAll(delegators[0], op);
        _advance(cfg.unbondingDelay);
        uint256 paid = _complete(delegators[0], w0);
        assertApproxEqAbs(paid, 50_000 ether, 1);

        _governanceSlash(EQUIVOCATION, op, "late", challenger);
        assertEq(s.slasher.totalSlashed(), 5000 ether); // 10 % of the remaining 50 000
        assertEq(s.token.balanceOf(delegators[0]), ACTOR_FUNDS - 50_000 ether + paid);
        _assertConservation();
    }
}
