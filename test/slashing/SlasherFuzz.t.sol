// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {SlasherTestBase} from "./SlasherTestBase.sol";

contract SlasherFuzzTest is SlasherTestBase {
    /// @notice amount == min(ceil(slashable * bps), remaining cap) >= 1, split conserves, reporter share floors.
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

        uint256 expected = _ceilBps(slashable, slashBps);
        uint256 cap = _ceilBps(slashable, capBps);
        if (expected > cap) expected = cap;
        assertEq(slasher.previewSlash(operator, EQUIVOCATION), expected);

        _request(EQUIVOCATION, operator, "f");
        assertGe(expected, 1);
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

        for (uint256 i; i < count; ++i) {
            (uint256 used,,) = slasher.capUsage(operator);
            if (i != 0 && (used == cap || _slashable(operator) == 0)) {
                vm.prank(registry);
                vm.expectRevert(); // SlashCapReached or SlashRoundsToZero
                slasher.requestSlash(EQUIVOCATION, operator, bytes32(i), reporter);
            } else {
                _request(EQUIVOCATION, operator, bytes32(i));
            }
            (used,,) = slasher.capUsage(operator);
            assertLe(used, cap);
            assertEq(slasher.totalSlashed(), used);
        }
        assertEq(stake - _slashable(operator), slasher.totalSlashed());
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
