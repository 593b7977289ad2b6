// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {VerinferToken} from "../../../contracts/token/VerinferToken.sol";
import {MockAccountObserver, MockOperatorObserver} from "../../mocks/MockStakeObservers.sol";
import {StakingHandler} from "./StakingHandler.sol";

contract StakingInvariantsTest is Test {
    Staking internal staking;
    VerinferToken internal token;
    StakingHandler internal handler;
    MockOperatorObserver internal operatorObs;
    MockAccountObserver internal accountObs;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(1000);
        address admin = makeAddr("admin");
        token = new VerinferToken("Verinfer", "VINF", address(this), 0);
        staking = new Staking(token, admin, 10e18, 21 days, 1 days);
        handler = new StakingHandler(staking, token, makeAddr("sink"));
        token.transferOwnership(address(handler));
        operatorObs = new MockOperatorObserver();
        accountObs = new MockAccountObserver();
        vm.startPrank(admin);
        staking.wire(address(handler), address(accountObs), address(operatorObs));
        staking.grantRole(staking.DEFAULT_ADMIN_ROLE(), address(handler)); // lets the handler jail too
        vm.stopPrank();

        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = StakingHandler.registerOperator.selector;
        selectors[1] = StakingHandler.delegate.selector;
        selectors[2] = StakingHandler.requestUnstake.selector;
        selectors[3] = StakingHandler.completeUnstake.selector;
        selectors[4] = StakingHandler.slash.selector;
        selectors[5] = StakingHandler.jail.selector;
        selectors[6] = StakingHandler.unjail.selector;
        selectors[7] = StakingHandler.syncStake.selector;
        selectors[8] = StakingHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// The contract holds exactly the assets of all pools.
    function invariant_TokenBalanceEqualsPools() public view {
        assertEq(
            token.balanceOf(address(staking)), staking.totalActiveAssets() + staking.totalUnbondingAssets()
        );
    }

    /// Every token deposited is staked, queued, slashed out or withdrawn.
    function invariant_TokenConservation() public view {
        assertEq(
            handler.ghostDeposited(),
            staking.totalActiveAssets() + staking.totalUnbondingAssets() + handler.ghostSlashedOut()
                + handler.ghostWithdrawn()
        );
    }

    /// Pool totals add up, shares match the holders' positions and the queued withdrawals, and no pool has
    /// shares without assets (the write-off rule).
    function invariant_PoolsAreConsistent() public view {
        address[] memory ops = handler.operators();
        uint256 sumActive;
        uint256 sumUnbonding;
        for (uint256 i; i < ops.length; ++i) {
            sumActive += _checkActivePool(ops[i]);
            sumUnbonding += _checkUnbondingPool(ops[i]);
        }
        assertEq(sumActive, staking.totalActiveAssets());
        assertEq(sumUnbonding, staking.totalUnbondingAssets());
    }

    function _checkActivePool(address op) internal view returns (uint256 assets) {
        address[] memory actors = handler.actors();
        uint256 shares;
        (assets, shares,) = staking.activePool(op);
        if (shares != 0) assertGt(assets, 0, "active shares without assets");
        uint256 held;
        uint256 claimable;
        for (uint256 j; j < actors.length; ++j) {
            uint256 s = staking.sharesOf(op, actors[j]);
            held += s;
            claimable += staking.previewAssets(op, s);
        }
        assertEq(held, shares, "active shares == positions");
        assertLe(claimable, assets, "holders never claim more than the active pool");
    }

    function _checkUnbondingPool(address op) internal view returns (uint256 assets) {
        uint256[] memory ids = handler.withdrawalIds();
        uint256 shares;
        uint32 epoch;
        (assets, shares, epoch) = staking.unbondingPool(op);
        if (shares != 0) assertGt(assets, 0, "unbonding shares without assets");
        uint256 queued;
        uint256 queuedClaim;
        for (uint256 k; k < ids.length; ++k) {
            IStaking.Withdrawal memory w = staking.withdrawal(ids[k]);
            if (w.operator != op || w.completed || handler.ghostWithdrawalEpoch(ids[k]) != epoch) continue;
            queued += w.shares;
            queuedClaim += staking.previewWithdrawal(ids[k]);
        }
        assertEq(queued, shares, "unbonding shares == open withdrawals");
        assertLe(queuedClaim, assets, "withdrawals never claim more than the unbonding pool");
    }

    /// Nothing was ever withdrawn before its unlock time, and nothing unlocked ever failed to withdraw.
    function invariant_NoWithdrawalBeforeUnlock() public view {
        assertEq(handler.ghostEarlyWithdrawals(), 0);
        assertEq(handler.ghostLateFailures(), 0);
    }

    /// Withdrawn + slashed never exceeds deposits: rounding never creates value.
    function invariant_NoRoundingProfit() public view {
        assertLe(handler.ghostWithdrawn() + handler.ghostSlashedOut(), handler.ghostDeposited());
    }

    /// After syncing every (account, operator), each account's checkpointed stake is the value of its
    /// shares, and the total checkpoint is the sum over accounts.
    function invariant_CheckpointsAgreeAfterSync() public {
        address[] memory ops = handler.operators();
        address[] memory actors = handler.actors();
        uint256 total;
        for (uint256 j; j < actors.length; ++j) {
            uint256 expected;
            for (uint256 i; i < ops.length; ++i) {
                if (!staking.operatorInfo(ops[i]).registered) continue;
                staking.syncStake(actors[j], ops[i]);
                uint256 value = staking.previewAssets(ops[i], staking.sharesOf(ops[i], actors[j]));
                assertEq(staking.recordedStake(actors[j], ops[i]), value);
                expected += value;
            }
            assertEq(staking.stakeOf(actors[j]), expected, "stakeOf after sync");
            total += expected;
        }
        assertEq(staking.totalActiveStake(), total, "total after sync");
    }

    /// Historical lookups return exactly what the ghost recorded at the end of each past block.
    function invariant_PastStakeMatchesGhosts() public view {
        uint256[] memory blocks = handler.snapBlocks();
        address[] memory actors = handler.actors();
        uint256 start = blocks.length > 40 ? blocks.length - 40 : 0;
        for (uint256 k = start; k < blocks.length; ++k) {
            uint256 b = blocks[k];
            if (b >= block.number) continue;
            for (uint256 j; j < actors.length; ++j) {
                assertEq(staking.getPastStake(actors[j], b), handler.ghostStakeAt(actors[j], b), "past stake");
            }
            assertEq(staking.getPastTotalStake(b), handler.ghostTotalAt(b), "past total");
        }
    }

    /// The operator observer always holds each operator's current weight.
    function invariant_ObserverWeightsAreCurrent() public view {
        address[] memory ops = handler.operators();
        for (uint256 i; i < ops.length; ++i) {
            if (!staking.operatorInfo(ops[i]).registered) continue;
            assertEq(operatorObs.weightOf(ops[i]), staking.operatorWeight(ops[i]));
        }
    }

    /// The account observer was told every change, in order: each notification starts where the previous
    /// one for that account ended, and the last one equals the current record.
    function invariant_AccountObserverChainIsConsistent() public view {
        assertEq(accountObs.brokenChains(), 0);
        address[] memory actors = handler.actors();
        for (uint256 j; j < actors.length; ++j) {
            assertEq(accountObs.lastStake(actors[j]), staking.stakeOf(actors[j]));
        }
    }
}
