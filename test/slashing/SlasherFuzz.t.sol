// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {SlasherTestBase} from "./SlasherTestBase.sol";

contract SlasherFuzzTest is SlasherTestBase {
    /// @notice owed == ceil(slashable * bps) >= 1; the first installment is min(owed, cap) and the rest stays
    ///         owed; the split conserves and the reporter share floors; previewSlash predicts both.
    function testFuzz_AmountRoundsUpClampsAndSplitConserves(
        uint256 active,
        uint256 unbonding,
        uint16 slashBps,
        uint16 reporterBps,
        uint16 capBps
    ) public {
        active = bound(active, 1, 1e30);
        unbonding = bound(unbonding, 0, 1e30);
        slashBps = uint16(bound(slashBps, 1, 5000));
        reporterBps = uint16(bound(reporterBps, 0, 5000));
        capBps = uint16(bound(capBps, 100, 10_000));

        _register(operator, active);
        if (unbonding != 0) {
            uint256 shares = _delegate(delegator, operator, unbonding);
            vm.prank(delegator);
            staking.requestUnstake(operator, shares);
        }
        uint256 slashable = _slashable(operator);
        vm.startPrank(admin);
        slasher.setFaultParams(
            ISlasher.FaultKind.Equivocation,
            ISlasher.FaultParams({
                slashBps: slashBps, reporterBps: reporterBps, vetoWindow: 0, jailDuration: 0
            })
        );
        slasher.setCapBps(capBps);
        vm.stopPrank();

        uint256 owed = _ceilBps(slashable, slashBps);
        uint256 cap = _ceilBps(slashable, capBps);
        uint256 expected = owed > cap ? cap : owed;
        (uint256 previewOwed, uint256 previewNow) = slasher.previewSlash(operator, EQUIVOCATION);
        assertEq(previewOwed, owed, "preview owed");
        assertEq(previewNow, expected, "preview first installment");

        uint256 id = _request(EQUIVOCATION, operator, "f");
        assertGe(expected, 1);
        (uint256 o, uint256 paid, uint256 outstanding) = slasher.slashAmounts(id);
        assertEq(o, owed, "owed frozen at request");
        assertEq(paid, expected, "first installment");
        assertEq(outstanding, owed - expected, "the cap defers, never truncates");
        assertEq(slasher.totalSlashed(), expected);
        assertEq(_slashable(operator), slashable - expected);
        uint256 toReporter = expected * reporterBps / 10_000;
        assertEq(token.balanceOf(reporter), toReporter);
        assertEq(token.balanceOf(treasury), expected - toReporter);
        assertEq(token.balanceOf(address(slasher)), 0);
        assertEq(
            slasher.totalToReporters() + slasher.totalToTreasury() + slasher.totalBurned(),
            slasher.totalSlashed()
        );
    }

    /// @notice Whatever the sequence of slashes in a window, their sum never exceeds the window's cap.
    function testFuzz_WindowSumNeverExceedsCap(uint256 stake, uint16 slashBps, uint16 capBps, uint8 count)
        public
    {
        stake = bound(stake, 1, 1e30);
        slashBps = uint16(bound(slashBps, 1, 5000));
        capBps = uint16(bound(capBps, 100, 10_000));
        count = uint8(bound(count, 1, 30));
        _register(operator, stake);
        vm.startPrank(admin);
        slasher.setFaultParams(
            ISlasher.FaultKind.Equivocation,
            ISlasher.FaultParams({slashBps: slashBps, reporterBps: 0, vetoWindow: 0, jailDuration: 0})
        );
        slasher.setCapBps(capBps);
        vm.stopPrank();
        uint256 cap = _ceilBps(stake, capBps);

        uint256 owedTotal;
        for (uint256 i; i < count; ++i) {
            if (_slashable(operator) == 0) {
                vm.prank(registry);
                vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashRoundsToZero.selector, operator));
                slasher.requestSlash(EQUIVOCATION, operator, bytes32(i), reporter);
            } else {
                // requests on a full cap are still recorded: what the cap holds back stays owed
                (uint256 owed,,) = slasher.slashAmounts(_request(EQUIVOCATION, operator, bytes32(i)));
                owedTotal += owed;
            }
            (uint256 used, uint256 windowCap,) = slasher.capUsage(operator);
            assertEq(windowCap, cap, "no stake added: the base stays the stake at the opening");
            assertLe(used, cap);
            assertEq(slasher.totalSlashed(), used);
        }
        assertEq(stake - _slashable(operator), slasher.totalSlashed());
        assertGe(owedTotal, slasher.totalSlashed());
    }

    /// @notice The amount is frozen at request: stake delegated between the request and the execution(s)
    ///         neither raises nor (through the cap) lowers it; it is collected in full over cap windows.
    function testFuzz_AmountFrozenAtRequest(uint256 stake, uint256 added, uint16 slashBps, uint32 delay)
        public
    {
        stake = bound(stake, 1, 1e30);
        added = bound(added, 0, 1e30);
        slashBps = uint16(bound(slashBps, 1, 5000));
        delay = uint32(bound(delay, 2 days, 60 days));
        _register(operator, stake);
        vm.prank(admin);
        slasher.setFaultParams(
            WRONG_RESULT,
            ISlasher.FaultParams({slashBps: slashBps, reporterBps: 0, vetoWindow: 2 days, jailDuration: 0})
        );
        uint256 id = _request(WRONG_RESULT, operator, "w");
        uint256 owed = _ceilBps(stake, slashBps);
        if (added != 0) _delegate(delegator, operator, added);
        vm.warp(block.timestamp + delay);

        uint256 windows = _collect(id);
        (uint256 o, uint256 paid, uint256 outstanding) = slasher.slashAmounts(id);
        assertEq(o, owed, "owed frozen at request");
        assertEq(paid, owed, "paid in full");
        assertEq(outstanding, 0);
        assertEq(stake + added - _slashable(operator), owed);
        assertLe(windows, _windowsNeeded(slashBps, 3000) + 1);
    }

    /// @notice The exploit, generalised: an operator that pre-opens its cap window with a tiny slash and then
    ///         takes on stake ends up paying exactly what a twin with the same stake and the same fault pays.
    function testFuzz_PreOpenedWindowNeverShrinksASlash(
        uint256 small,
        uint256 large,
        uint16 slashBps,
        uint16 capBps,
        bool subjective
    ) public {
        small = bound(small, 1, 1e24);
        large = bound(large, 0, 1e30);
        slashBps = uint16(bound(slashBps, 1, 5000));
        capBps = uint16(bound(capBps, 100, 10_000));
        ISlasher.FaultKind kind = subjective ? WRONG_RESULT : EQUIVOCATION;
        vm.startPrank(admin);
        slasher.setCapBps(capBps);
        slasher.setFaultParams(
            kind,
            ISlasher.FaultParams({
                slashBps: slashBps, reporterBps: 0, vetoWindow: subjective ? 2 days : 0, jailDuration: 0
            })
        );
        vm.stopPrank();

        _register(operator, small);
        _request(MISSED, operator, "pre-open"); // the friend's tiny report opens the window
        if (large != 0) _delegate(operator, operator, large);
        uint256 stake = _slashable(operator);
        vm.assume(stake != 0);
        address twin = makeAddr("twin");
        _register(twin, stake);

        uint256 a = _request(kind, operator, "fault");
        uint256 b = _request(kind, twin, "fault");
        if (subjective) vm.warp(block.timestamp + 2 days);
        _collect(a);
        _collect(b);
        (uint256 owedA, uint256 paidA,) = slasher.slashAmounts(a);
        (uint256 owedB, uint256 paidB,) = slasher.slashAmounts(b);
        assertEq(owedA, _ceilBps(stake, slashBps));
        assertEq(owedA, owedB, "same stake, same fault, same amount owed");
        assertEq(paidA, owedA, "the attacker pays in full");
        assertEq(paidB, owedB);
    }

    /// @notice Several faults in one window: the cap only spreads their payment over windows; in the end
    ///         every one is paid in full and the stake removed equals the sum owed.
    function testFuzz_DeferralLosesNothing(uint256 stake, uint16 slashBps, uint16 capBps, uint8 count)
        public
    {
        stake = bound(stake, 1e6, 1e30);
        count = uint8(bound(count, 1, 8));
        // count * slashBps <= 10_000 - count keeps the sum owed (each rounded up) within the stake
        slashBps = uint16(bound(slashBps, 1, 10_000 / uint256(count) - 1));
        if (slashBps > 5000) slashBps = 5000;
        capBps = uint16(bound(capBps, 100, 10_000));
        _register(operator, stake);
        vm.startPrank(admin);
        slasher.setCapBps(capBps);
        slasher.setFaultParams(
            EQUIVOCATION,
            ISlasher.FaultParams({slashBps: slashBps, reporterBps: 2500, vetoWindow: 0, jailDuration: 0})
        );
        vm.stopPrank();
        uint256[] memory ids = new uint256[](count);
        uint256 owedTotal;
        for (uint256 i; i < count; ++i) {
            ids[i] = _request(EQUIVOCATION, operator, bytes32(i));
            (uint256 owed,,) = slasher.slashAmounts(ids[i]);
            owedTotal += owed;
        }
        for (uint256 i; i < count; ++i) {
            _collect(ids[i]);
            (uint256 owed, uint256 paid, uint256 outstanding) = slasher.slashAmounts(ids[i]);
            assertEq(paid, owed, "paid in full");
            assertEq(outstanding, 0);
        }
        assertEq(slasher.totalSlashed(), owedTotal, "nothing lost");
        assertEq(stake - _slashable(operator), owedTotal);
        assertEq(token.balanceOf(reporter) + token.balanceOf(treasury), owedTotal);
    }

    /// @notice previewSlash and capUsage predict a request exactly, whatever the window's history: a
    ///         window opened by an earlier slash, stake added or withdrawn inside it.
    function testFuzz_PreviewAndCapUsageMatchExecution(
        uint256 stake,
        uint256 added,
        uint256 withdrawnShares,
        uint16 slashBps,
        uint16 capBps
    ) public {
        stake = bound(stake, 1e6, 1e30);
        added = bound(added, 1, 1e30);
        slashBps = uint16(bound(slashBps, 1, 5000));
        capBps = uint16(bound(capBps, 100, 10_000));
        _register(operator, stake);
        uint256 shares = _delegate(delegator, operator, added);
        vm.startPrank(admin);
        slasher.setCapBps(capBps);
        slasher.setFaultParams(
            EQUIVOCATION,
            ISlasher.FaultParams({slashBps: slashBps, reporterBps: 0, vetoWindow: 0, jailDuration: 0})
        );
        vm.stopPrank();
        staking.setUnbondingDelay(1 days); // after the setter: a 1-day unbonding breaks the timing rules
        _request(EQUIVOCATION, operator, "opens the window");
        withdrawnShares = bound(withdrawnShares, 0, shares);
        if (withdrawnShares != 0) {
            vm.startPrank(delegator);
            uint256 wid = staking.requestUnstake(operator, withdrawnShares);
            vm.warp(block.timestamp + 1 days);
            staking.completeUnstake(wid);
            vm.stopPrank();
        }
        _delegate(makeAddr("late"), operator, added);

        uint256 slashable = _slashable(operator);
        (uint256 usedBefore, uint256 cap,) = slasher.capUsage(operator);
        (uint256 owed, uint256 payableNow) = slasher.previewSlash(operator, EQUIVOCATION);
        uint256 id = _request(EQUIVOCATION, operator, "previewed");
        (uint256 o, uint256 paid,) = slasher.slashAmounts(id);
        assertEq(o, owed, "owed as previewed");
        assertEq(paid, payableNow, "first installment as previewed");
        assertEq(slashable - _slashable(operator), paid);
        (uint256 usedAfter, uint256 capAfter,) = slasher.capUsage(operator);
        assertEq(usedAfter, usedBefore + paid);
        assertEq(capAfter, cap, "the cap capUsage showed is the one applied");
        assertLe(usedAfter, capAfter);
    }

    /// @dev Executes `id` once per cap window until it is final; returns the number of executions.
    function _collect(uint256 id) internal returns (uint256 executions) {
        while (true) {
            ISlasher.SlashStatus st = slasher.slashRequest(id).status;
            if (st != ISlasher.SlashStatus.Pending && st != ISlasher.SlashStatus.PartiallyExecuted) break;
            (uint256 used, uint256 cap, uint48 end) = slasher.capUsage(slasher.slashRequest(id).operator);
            if (end != 0 && used == cap && st == ISlasher.SlashStatus.PartiallyExecuted) vm.warp(end);
            slasher.executeSlash(id);
            ++executions;
            // (a 1 % cap needs ~700 windows to collect 99.9 % of a stake)
            assertLe(executions, 1000, "collection does not terminate");
        }
    }

    /// @dev The least n with (1 - c)^n <= 1 - s (s, c in bps), with the power rounded down.
    function _windowsNeeded(uint256 s, uint256 c) internal pure returns (uint256 n) {
        uint256 left = 1e18;
        uint256 target = 1e18 - s * 1e14;
        while (left > target) {
            left = left * (10_000 - c) / 10_000;
            ++n;
        }
    }

    /// @notice A subjective slash is executable exactly from `executableAt` and vetoable exactly before it.
    function testFuzz_VetoWindowTiming(uint32 vetoWindow, uint32 elapsed, bool tryVeto) public {
        vetoWindow = uint32(bound(vetoWindow, 1 hours, 14 days));
        elapsed = uint32(bound(elapsed, 0, 30 days));
        staking.setUnbondingDelay(30 days); // room for the longest veto window (timing invariant)
        _register(operator, 1000e18);
        vm.prank(admin);
        slasher.setFaultParams(
            ISlasher.FaultKind.WrongResult,
            ISlasher.FaultParams({slashBps: 500, reporterBps: 2000, vetoWindow: vetoWindow, jailDuration: 0})
        );
        uint256 id = _request(WRONG_RESULT, operator, "w");
        uint48 executableAt = uint48(block.timestamp) + vetoWindow;
        vm.warp(block.timestamp + elapsed);

        if (tryVeto) {
            vm.prank(governance);
            if (elapsed < vetoWindow) {
                slasher.vetoSlash(id);
                vm.warp(block.timestamp + 30 days);
                vm.expectRevert(
                    abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Vetoed)
                );
                slasher.executeSlash(id);
                assertEq(slasher.totalSlashed(), 0);
            } else {
                vm.expectRevert(abi.encodeWithSelector(ISlasher.VetoWindowClosed.selector, id, executableAt));
                slasher.vetoSlash(id);
            }
        } else if (elapsed < vetoWindow) {
            vm.expectRevert(abi.encodeWithSelector(ISlasher.VetoWindowOpen.selector, id, executableAt));
            slasher.executeSlash(id);
        } else {
            assertEq(slasher.executeSlash(id), 50e18);
        }
    }

    /// @notice Parameters frozen at request time are the ones applied, whatever changes afterwards.
    function testFuzz_ParamsFrozenAtRequest(
        uint16 newSlashBps,
        uint16 newReporterBps,
        uint32 newVeto,
        uint32 newJail
    ) public {
        newSlashBps = uint16(bound(newSlashBps, 1, 5000));
        newReporterBps = uint16(bound(newReporterBps, 0, 5000));
        newVeto = uint32(bound(newVeto, 1 hours, 14 days));
        staking.setUnbondingDelay(30 days); // room for the longest veto window (timing invariant)
        newJail = uint32(bound(newJail, 0, 30 days));
        _register(operator, 1000e18);
        uint256 id = _request(WRONG_RESULT, operator, "w");
        vm.prank(admin);
        slasher.setFaultParams(
            ISlasher.FaultKind.WrongResult,
            ISlasher.FaultParams({
                slashBps: newSlashBps, reporterBps: newReporterBps, vetoWindow: newVeto, jailDuration: newJail
            })
        );
        vm.warp(block.timestamp + 2 days);
        assertEq(slasher.executeSlash(id), 50e18);
        assertEq(token.balanceOf(reporter), 10e18);
        assertEq(staking.operatorInfo(operator).jailedUntil, block.timestamp + 3 days);
    }

    /// @notice Out-of-bounds parameters always revert; in-bounds ones always stick.
    function testFuzz_FaultParamBounds(uint8 kindSeed, uint16 s, uint16 r, uint32 v, uint32 j) public {
        ISlasher.FaultKind kind = ISlasher.FaultKind(bound(kindSeed, 0, 2));
        bool subjective = kind == ISlasher.FaultKind.WrongResult;
        bool ok = s >= 1 && s <= 5000 && r <= 5000 && j <= 30 days
            && (subjective ? (v >= 1 hours && v <= 14 days) : v == 0);
        ISlasher.FaultParams memory p =
            ISlasher.FaultParams({slashBps: s, reporterBps: r, vetoWindow: v, jailDuration: j});
        vm.prank(admin);
        if (!ok) vm.expectPartialRevert(ISlasher.ParameterOutOfBounds.selector);
        slasher.setFaultParams(kind, p);
        if (ok) assertEq(slasher.faultParams(kind).slashBps, s);
    }
}
