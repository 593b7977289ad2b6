// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {Slasher} from "../../contracts/slashing/Slasher.sol";
import {MockStaking} from "../mocks/MockStaking.sol";
import {SlasherTestBase} from "./SlasherTestBase.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract SlasherTest is SlasherTestBase {
    uint256 internal constant STAKE = 1000e18;
    bytes32 internal constant REF = keccak256("request-1");

    bytes32 internal constant P_SLASH_BPS = "slashBps";
    bytes32 internal constant P_REPORTER_BPS = "reporterBps";
    bytes32 internal constant P_VETO_WINDOW = "vetoWindow";
    bytes32 internal constant P_JAIL_DURATION = "jailDuration";
    bytes32 internal constant P_CAP_BPS = "capBps";
    bytes32 internal constant P_CAP_WINDOW = "capWindow";

    bytes32 internal adminRole;

    function setUp() public override {
        super.setUp();
        adminRole = slasher.DEFAULT_ADMIN_ROLE();
        _register(operator, STAKE);
    }

    function _params(uint16 slashBps, uint16 reporterBps, uint32 vetoWindow, uint32 jailDuration)
        internal
        pure
        returns (ISlasher.FaultParams memory)
    {
        return ISlasher.FaultParams({
            slashBps: slashBps, reporterBps: reporterBps, vetoWindow: vetoWindow, jailDuration: jailDuration
        });
    }

    function _assertAmounts(uint256 id, uint256 owed, uint256 paid, uint256 outstanding) internal view {
        (uint256 o, uint256 p, uint256 out) = slasher.slashAmounts(id);
        assertEq(o, owed, "owed");
        assertEq(p, paid, "paid");
        assertEq(out, outstanding, "outstanding");
    }

    function _assertPreview(address op, ISlasher.FaultKind kind, uint256 owed, uint256 payableNow)
        internal
        view
    {
        (uint256 o, uint256 n) = slasher.previewSlash(op, kind);
        assertEq(o, owed, "preview owed");
        assertEq(n, payableNow, "preview payableNow");
    }

    function _assertParams(ISlasher.FaultParams memory p, uint16 s, uint16 r, uint32 v, uint32 j)
        internal
        pure
    {
        assertEq(p.slashBps, s, "slashBps");
        assertEq(p.reporterBps, r, "reporterBps");
        assertEq(p.vetoWindow, v, "vetoWindow");
        assertEq(p.jailDuration, j, "jailDuration");
    }

    // ================================================================ constructor
    function test_Constructor_SetsDefaults() public view {
        assertEq(address(slasher.staking()), address(staking));
        assertEq(address(slasher.token()), address(token));
        assertTrue(slasher.hasRole(adminRole, admin));
        assertEq(slasher.treasury(), treasury);
        assertEq(slasher.capBps(), 3000);
        assertEq(slasher.capWindow(), 7 days);
        assertEq(slasher.slashCount(), 0);
        _assertParams(slasher.faultParams(EQUIVOCATION), 1000, 1000, 0, 7 days);
        _assertParams(slasher.faultParams(WRONG_RESULT), 500, 2000, 2 days, 3 days);
        _assertParams(slasher.faultParams(MISSED), 10, 500, 0, 0);
    }

    function test_RevertWhen_ConstructorZeroStaking() public {
        vm.expectRevert(Slasher.ZeroAddress.selector);
        new Slasher(IStaking(address(0)), admin, treasury);
    }

    function test_RevertWhen_ConstructorZeroAdmin() public {
        vm.expectRevert(Slasher.ZeroAddress.selector);
        new Slasher(IStaking(address(staking)), address(0), treasury);
    }

    function test_Constructor_ZeroTreasuryMeansBurn() public {
        vm.expectEmit(false, false, false, true);
        emit ISlasher.SinkChanged(address(0));
        Slasher s = new Slasher(IStaking(address(staking)), admin, address(0));
        assertEq(s.treasury(), address(0));
    }

    // ================================================================ wire
    function test_Wire_SetsCallersOnce() public {
        Slasher s = new Slasher(IStaking(address(staking)), admin, treasury);
        vm.expectEmit(true, true, false, false, address(s));
        emit Slasher.Wired(registry, governance);
        vm.prank(admin);
        s.wire(registry, governance);
        assertEq(s.registry(), registry);
        assertEq(s.governance(), governance);
    }

    function test_RevertWhen_WireCalledTwice() public {
        vm.prank(admin);
        vm.expectRevert(Slasher.AlreadyWired.selector);
        slasher.wire(registry, governance);
    }

    function test_RevertWhen_WireByNonAdmin() public {
        Slasher s = new Slasher(IStaking(address(staking)), admin, treasury);
        vm.prank(registry);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, registry, adminRole
            )
        );
        s.wire(registry, governance);
    }

    function test_RevertWhen_WireZeroAddress() public {
        Slasher s = new Slasher(IStaking(address(staking)), admin, treasury);
        vm.startPrank(admin);
        vm.expectRevert(Slasher.ZeroAddress.selector);
        s.wire(address(0), governance);
        vm.expectRevert(Slasher.ZeroAddress.selector);
        s.wire(registry, address(0));
        vm.stopPrank();
    }

    function test_RevertWhen_RequestBeforeWire() public {
        Slasher s = new Slasher(IStaking(address(staking)), admin, treasury);
        vm.prank(registry);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.UnauthorizedCaller.selector, registry));
        s.requestSlash(EQUIVOCATION, operator, REF, reporter);
    }

    // ================================================================ setFaultParams
    function test_SetFaultParams_UpdatesAndEmits() public {
        ISlasher.FaultParams memory p = _params(2000, 0, 0, 30 days);
        vm.expectEmit(true, false, false, true, address(slasher));
        emit ISlasher.FaultParamsChanged(EQUIVOCATION, p);
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, p);
        _assertParams(slasher.faultParams(EQUIVOCATION), 2000, 0, 0, 30 days);
    }

    function test_SetFaultParams_AcceptsBoundaryValues() public {
        staking.setUnbondingDelay(30 days); // room for the longest veto window (timing invariant)
        vm.startPrank(admin);
        slasher.setFaultParams(WRONG_RESULT, _params(1, 5000, 1 hours, 0));
        _assertParams(slasher.faultParams(WRONG_RESULT), 1, 5000, 1 hours, 0);
        slasher.setFaultParams(WRONG_RESULT, _params(5000, 0, 14 days, 30 days));
        _assertParams(slasher.faultParams(WRONG_RESULT), 5000, 0, 14 days, 30 days);
        slasher.setFaultParams(MISSED, _params(1, 0, 0, 0));
        vm.stopPrank();
    }

    function test_RevertWhen_SetFaultParamsByNonAdmin() public {
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, governance, adminRole
            )
        );
        slasher.setFaultParams(EQUIVOCATION, _params(1000, 1000, 0, 0));
    }

    function test_RevertWhen_SlashBpsZero() public {
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_SLASH_BPS, 0, 1, 5000)
        );
        slasher.setFaultParams(EQUIVOCATION, _params(0, 1000, 0, 0));
    }

    function test_RevertWhen_SlashBpsAboveMax() public {
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_SLASH_BPS, 5001, 1, 5000)
        );
        slasher.setFaultParams(WRONG_RESULT, _params(5001, 1000, 2 days, 0));
    }

    function test_RevertWhen_ReporterBpsAboveMax() public {
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_REPORTER_BPS, 5001, 0, 5000)
        );
        slasher.setFaultParams(MISSED, _params(10, 5001, 0, 0));
    }

    function test_RevertWhen_ObjectiveKindHasVetoWindow() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_VETO_WINDOW, 1, 0, 0)
        );
        slasher.setFaultParams(EQUIVOCATION, _params(1000, 1000, 1, 0));
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_VETO_WINDOW, 2 days, 0, 0)
        );
        slasher.setFaultParams(MISSED, _params(10, 500, 2 days, 0));
        vm.stopPrank();
    }

    function test_RevertWhen_WrongResultVetoWindowTooShort() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_VETO_WINDOW, 0, 1 hours, 14 days)
        );
        slasher.setFaultParams(WRONG_RESULT, _params(500, 2000, 0, 0));
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.ParameterOutOfBounds.selector, P_VETO_WINDOW, 1 hours - 1, 1 hours, 14 days
            )
        );
        slasher.setFaultParams(WRONG_RESULT, _params(500, 2000, 1 hours - 1, 0));
        vm.stopPrank();
    }

    function test_RevertWhen_WrongResultVetoWindowTooLong() public {
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.ParameterOutOfBounds.selector, P_VETO_WINDOW, 14 days + 1, 1 hours, 14 days
            )
        );
        slasher.setFaultParams(WRONG_RESULT, _params(500, 2000, 14 days + 1, 0));
    }

    function test_RevertWhen_JailDurationAboveMax() public {
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.ParameterOutOfBounds.selector, P_JAIL_DURATION, 30 days + 1, 0, 30 days
            )
        );
        slasher.setFaultParams(EQUIVOCATION, _params(1000, 1000, 0, 30 days + 1));
    }

    // ================================================================ treasury and cap setters
    function test_SetTreasury_UpdatesAndEmits() public {
        address t2 = makeAddr("t2");
        vm.expectEmit(true, false, false, false, address(slasher));
        emit ISlasher.SinkChanged(t2);
        vm.prank(admin);
        slasher.setTreasury(t2);
        assertEq(slasher.treasury(), t2);
    }

    function test_RevertWhen_SetTreasuryByNonAdmin() public {
        vm.prank(registry);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, registry, adminRole
            )
        );
        slasher.setTreasury(address(0));
    }

    function test_SetCapBps_UpdatesAndEmits() public {
        vm.expectEmit(false, false, false, true, address(slasher));
        emit Slasher.CapBpsChanged(3000, 100);
        vm.prank(admin);
        slasher.setCapBps(100);
        assertEq(slasher.capBps(), 100);
        vm.prank(admin);
        slasher.setCapBps(10_000);
        assertEq(slasher.capBps(), 10_000);
    }

    function test_RevertWhen_CapBpsOutOfBounds() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_CAP_BPS, 99, 100, 10_000)
        );
        slasher.setCapBps(99);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.ParameterOutOfBounds.selector, P_CAP_BPS, 10_001, 100, 10_000)
        );
        slasher.setCapBps(10_001);
        vm.stopPrank();
    }

    function test_RevertWhen_SetCapBpsByNonAdmin() public {
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, governance, adminRole
            )
        );
        slasher.setCapBps(1000);
    }

    function test_SetCapWindow_UpdatesAndEmits() public {
        vm.expectEmit(false, false, false, true, address(slasher));
        emit Slasher.CapWindowChanged(7 days, 1 days);
        vm.prank(admin);
        slasher.setCapWindow(1 days);
        assertEq(slasher.capWindow(), 1 days);
        vm.prank(admin);
        slasher.setCapWindow(30 days);
        assertEq(slasher.capWindow(), 30 days);
    }

    function test_RevertWhen_CapWindowOutOfBounds() public {
        vm.startPrank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.ParameterOutOfBounds.selector, P_CAP_WINDOW, 1 days - 1, 1 days, 30 days
            )
        );
        slasher.setCapWindow(1 days - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.ParameterOutOfBounds.selector, P_CAP_WINDOW, 30 days + 1, 1 days, 30 days
            )
        );
        slasher.setCapWindow(30 days + 1);
        vm.stopPrank();
    }

    function test_RevertWhen_SetCapWindowByNonAdmin() public {
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, operator, adminRole
            )
        );
        slasher.setCapWindow(1 days);
    }

    // ================================================================ requestSlash
    function test_RevertWhen_RequestSlashByUnauthorizedCaller() public {
        address[3] memory callers = [admin, operator, reporter];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(ISlasher.UnauthorizedCaller.selector, callers[i]));
            slasher.requestSlash(EQUIVOCATION, operator, REF, reporter);
        }
    }

    function test_RequestSlash_EquivocationExecutesImmediately() public {
        uint256 amount = 100e18; // 10% of 1000e18
        uint256 toReporter = 10e18; // 10% of the amount
        vm.expectEmit(true, true, true, true, address(slasher));
        emit ISlasher.SlashRequested(1, operator, EQUIVOCATION, REF, uint48(block.timestamp));
        vm.expectEmit(true, true, false, true, address(slasher));
        emit ISlasher.SlashOwed(1, operator, STAKE, amount);
        vm.expectEmit(true, true, false, true, address(slasher));
        emit ISlasher.SlashExecuted(1, operator, amount, toReporter, amount - toReporter);
        uint256 id = _request(EQUIVOCATION, operator, REF);
        _assertAmounts(id, amount, amount, 0);

        assertEq(id, 1);
        assertEq(slasher.slashCount(), 1);
        ISlasher.SlashRequest memory r = slasher.slashRequest(id);
        assertEq(uint8(r.status), uint8(ISlasher.SlashStatus.Executed));
        assertEq(r.operator, operator);
        assertEq(r.reporter, reporter);
        assertEq(uint8(r.kind), uint8(EQUIVOCATION));
        assertEq(r.ref, REF);
        assertEq(r.executableAt, block.timestamp);
        assertEq(_slashable(operator), STAKE - amount);
        assertEq(token.balanceOf(reporter), toReporter);
        assertEq(token.balanceOf(treasury), amount - toReporter);
        assertEq(token.balanceOf(address(slasher)), 0);
        assertEq(slasher.totalSlashed(), amount);
        assertEq(slasher.totalToReporters(), toReporter);
        assertEq(slasher.totalToTreasury(), amount - toReporter);
        assertEq(slasher.totalBurned(), 0);
        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        assertTrue(info.jailed);
        assertEq(info.jailedUntil, block.timestamp + 7 days);
    }

    function test_RequestSlash_GovernanceMayRequest() public {
        vm.prank(governance);
        uint256 id = slasher.requestSlash(MISSED, operator, REF, address(0));
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
    }

    function test_RequestSlash_MissedAssignmentSmallPenaltyNoJail() public {
        _request(MISSED, operator, REF);
        assertEq(_slashable(operator), STAKE - 1e18); // 0.1%
        assertEq(token.balanceOf(reporter), 0.05e18); // 5% of 1e18
        assertFalse(staking.operatorInfo(operator).jailed);
    }

    function test_RequestSlash_WrongResultBecomesPending() public {
        uint48 executableAt = uint48(block.timestamp + 2 days);
        vm.expectEmit(true, true, true, true, address(slasher));
        emit ISlasher.SlashRequested(1, operator, WRONG_RESULT, REF, executableAt);
        uint256 id = _request(WRONG_RESULT, operator, REF);
        ISlasher.SlashRequest memory r = slasher.slashRequest(id);
        assertEq(uint8(r.status), uint8(ISlasher.SlashStatus.Pending));
        assertEq(r.executableAt, executableAt);
        _assertParams(r.params, 500, 2000, 2 days, 3 days);
        assertEq(_slashable(operator), STAKE, "nothing slashed yet");
        _assertAmounts(id, 50e18, 0, 50e18);
    }

    function test_RevertWhen_SameFaultSlashedTwice() public {
        _request(EQUIVOCATION, operator, REF);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.AlreadySlashed.selector, operator, EQUIVOCATION, REF));
        slasher.requestSlash(EQUIVOCATION, operator, REF, reporter);
    }

    function test_RevertWhen_PendingFaultRequestedAgain() public {
        _request(WRONG_RESULT, operator, REF);
        vm.prank(registry);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.AlreadySlashed.selector, operator, WRONG_RESULT, REF));
        slasher.requestSlash(WRONG_RESULT, operator, REF, address(0));
    }

    function test_RevertWhen_VetoedFaultRequestedAgain() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.prank(governance);
        slasher.vetoSlash(id);
        vm.prank(registry);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.AlreadySlashed.selector, operator, WRONG_RESULT, REF));
        slasher.requestSlash(WRONG_RESULT, operator, REF, reporter);
    }

    function test_RequestSlash_DistinctRefKindOrOperatorAreDistinctFaults() public {
        address op2 = makeAddr("op2");
        _register(op2, STAKE);
        uint256 a = _request(EQUIVOCATION, operator, REF);
        uint256 b = _request(EQUIVOCATION, operator, keccak256("request-2"));
        uint256 c = _request(MISSED, operator, REF);
        uint256 d = _request(EQUIVOCATION, op2, REF);
        assertEq(a, 1);
        assertEq(b, 2);
        assertEq(c, 3);
        assertEq(d, 4);
        assertEq(slasher.slashIdOf(operator, EQUIVOCATION, REF), 1);
        assertEq(slasher.slashIdOf(operator, MISSED, REF), 3);
        assertEq(slasher.slashIdOf(op2, WRONG_RESULT, REF), 0);
    }

    function test_RevertWhen_ObjectiveSlashOfZeroStake() public {
        address nobody = makeAddr("nobody");
        vm.prank(registry);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashRoundsToZero.selector, nobody));
        slasher.requestSlash(EQUIVOCATION, nobody, REF, reporter);
        // the revert rolled back the request: the fault is still reportable
        assertEq(slasher.slashCount(), 0);
        assertEq(slasher.slashIdOf(nobody, EQUIVOCATION, REF), 0);
    }

    function test_RevertWhen_SubjectiveSlashOfZeroStake() public {
        address nobody = makeAddr("nobody");
        vm.prank(registry);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashRoundsToZero.selector, nobody));
        slasher.requestSlash(WRONG_RESULT, nobody, REF, reporter);
        assertEq(slasher.slashIdOf(nobody, WRONG_RESULT, REF), 0, "nothing owed: the fault stays reportable");
    }

    function test_ObjectiveSlashOnFullCap_IsRecordedJailedAndDeferred() public {
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(5000, 0, 0, 7 days));
        uint256 a = _request(EQUIVOCATION, operator, "a"); // owes 500e18, the 300e18 cap takes 300e18
        assertEq(_slashable(operator), 700e18);
        _assertAmounts(a, 500e18, 300e18, 200e18);
        assertEq(uint8(slasher.slashRequest(a).status), uint8(ISlasher.SlashStatus.PartiallyExecuted));

        // a second fault on the full cap is still recorded (owing 50 % of 700e18), with nothing moved now
        vm.expectEmit(true, true, false, true, address(slasher));
        emit ISlasher.SlashDeferred(2, operator, 350e18);
        uint256 b = _request(EQUIVOCATION, operator, "b");
        _assertAmounts(b, 350e18, 0, 350e18);
        assertEq(uint8(slasher.slashRequest(b).status), uint8(ISlasher.SlashStatus.PartiallyExecuted));
        assertEq(_slashable(operator), 700e18);
        assertEq(slasher.totalSlashed(), 300e18);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashCapReached.selector, operator, 300e18, 300e18));
        slasher.executeSlash(b);
    }

    // ================================================================ rounding
    function test_TinyStakeStillSlashesOneWei() public {
        address tiny = makeAddr("tiny");
        _register(tiny, 1);
        uint256 id = _request(MISSED, tiny, REF); // 0.1% of 1 wei rounds up to 1 wei
        assertEq(_slashable(tiny), 0);
        assertEq(slasher.totalSlashed(), 1);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
        assertEq(token.balanceOf(treasury), 1); // reporter share floors to 0
        assertEq(token.balanceOf(reporter), 0);
    }

    function test_AmountRoundsUp() public {
        address op2 = makeAddr("op2");
        _register(op2, 10_001); // 0.1% = 10.001 -> 11
        _request(MISSED, op2, REF);
        assertEq(slasher.totalSlashed(), 11);
        assertEq(_slashable(op2), 9990);
    }

    // ================================================================ cap
    function test_CapClampsAcrossSlashesInAWindow() public {
        // cap = 30% of 1000e18 = 300e18; equivocations take 10% of the current slashable stake
        _request(EQUIVOCATION, operator, "1"); // 100
        _request(EQUIVOCATION, operator, "2"); // 90
        _request(EQUIVOCATION, operator, "3"); // 81
        (uint256 used, uint256 cap, uint48 end) = slasher.capUsage(operator);
        assertEq(used, 271e18);
        assertEq(cap, 300e18);
        assertEq(end, block.timestamp + 7 days);
        uint256 id4 = _request(EQUIVOCATION, operator, "4"); // owes 72.9: 29 now, 43.9 deferred
        _assertAmounts(id4, 72.9e18, 29e18, 43.9e18);
        (used,,) = slasher.capUsage(operator);
        assertEq(used, 300e18);
        assertEq(_slashable(operator), 700e18);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashCapReached.selector, operator, 300e18, 300e18));
        slasher.executeSlash(id4);
        uint256 id5 = _request(MISSED, operator, "5"); // recorded, owes 0.7: all of it deferred
        _assertAmounts(id5, 0.7e18, 0, 0.7e18);
        assertEq(_slashable(operator), 700e18);
    }

    function test_CapResetsInTheNextWindow() public {
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(5000, 0, 0, 0));
        uint256 id = _request(EQUIVOCATION, operator, "1"); // owes 500: 300 now (the cap), 200 deferred
        assertEq(_slashable(operator), 700e18);
        vm.warp(block.timestamp + 7 days - 1);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashCapReached.selector, operator, 300e18, 300e18));
        slasher.executeSlash(id);

        vm.warp(block.timestamp + 1); // window over: new base 700e18, cap 210e18
        address anyone = makeAddr("anyone");
        vm.expectEmit(true, false, false, true, address(slasher));
        emit Slasher.CapWindowOpened(operator, uint48(block.timestamp + 7 days), 700e18, 210e18);
        vm.prank(anyone);
        assertEq(slasher.executeSlash(id), 200e18, "the deferred remainder, in full");
        _assertAmounts(id, 500e18, 500e18, 0);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
        (uint256 used, uint256 cap, uint48 end) = slasher.capUsage(operator);
        assertEq(used, 200e18);
        assertEq(cap, 210e18);
        assertEq(end, block.timestamp + 7 days);
        assertEq(_slashable(operator), 500e18);
    }

    function test_DeferredRemainderIsCollectedOverWindowsInFull() public {
        vm.startPrank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(5000, 1000, 0, 0));
        slasher.setCapBps(1000); // 10 % per window
        vm.stopPrank();
        uint256 id = _request(EQUIVOCATION, operator, "1"); // owes 500e18; the first window takes 100e18
        _assertAmounts(id, 500e18, 100e18, 400e18);

        // each later window opens over the stake left and takes 10 % of it, until the 500e18 are paid
        uint256 windows = 1;
        while (uint8(slasher.slashRequest(id).status) == uint8(ISlasher.SlashStatus.PartiallyExecuted)) {
            (,, uint48 end) = slasher.capUsage(operator);
            vm.warp(end);
            (, uint256 paid, uint256 outstanding) = slasher.slashAmounts(id);
            uint256 expected = _ceilBps(STAKE - paid, 1000);
            if (expected > outstanding) expected = outstanding;
            vm.prank(makeAddr("anyone"));
            assertEq(slasher.executeSlash(id), expected, "installment = min(outstanding, window cap)");
            ++windows;
        }
        // 100 + 90 + 81 + 72.9 + 65.61 + 59.049 = 468.559, the 7th window takes the last 31.441
        assertEq(windows, 7);
        _assertAmounts(id, 500e18, 500e18, 0);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
        assertEq(slasher.totalSlashed(), 500e18, "nothing lost to the cap");
        assertEq(_slashable(operator), 500e18);
        // the reporter share is floored per installment: at most one wei less than on the whole
        assertApproxEqAbs(token.balanceOf(reporter), 50e18, windows);
        assertEq(token.balanceOf(reporter) + token.balanceOf(treasury), 500e18);
    }

    function test_CapBaseGrowsWithStakeTakenOnInsideTheWindow() public {
        _request(MISSED, operator, "1"); // opens the window over 1000e18: cap 300e18, used 1e18
        _delegate(delegator, operator, 9001e18); // slashable 10_000e18
        (uint256 used, uint256 cap,) = slasher.capUsage(operator);
        assertEq(used, 1e18);
        assertEq(cap, 3000.3e18, "30 % of (slashable now + used)");

        vm.expectEmit(true, false, false, true, address(slasher));
        emit Slasher.CapWindowRaised(operator, 10_001e18, 3000.3e18);
        uint256 id = _request(EQUIVOCATION, operator, "2"); // 10 % of 10_000e18, not clamped to 299e18
        _assertAmounts(id, 1000e18, 1000e18, 0);
        (used,,) = slasher.capUsage(operator);
        assertEq(used, 1001e18);
    }

    function test_CapBaseNeverShrinksInsideTheWindow() public {
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(5000, 0, 0, 0));
        staking.setUnbondingDelay(1 days); // after the setter: a 1-day unbonding breaks the timing rules
        uint256 shares = _delegate(delegator, operator, 1000e18);
        _request(MISSED, operator, "1"); // opens the window over 2000e18: cap 600e18, used 2e18
        vm.prank(delegator);
        uint256 wid = staking.requestUnstake(operator, shares);
        vm.warp(block.timestamp + 1 days);
        vm.prank(delegator);
        staking.completeUnstake(wid); // 999e18 leave
        (, uint256 cap,) = slasher.capUsage(operator);
        assertEq(cap, 600e18, "withdrawals do not lower the open window's cap");
        uint256 id = _request(EQUIVOCATION, operator, "2"); // owes 500e18 of the 999e18 left
        _assertAmounts(id, 499.5e18, 499.5e18, 0);
    }

    function test_CapUsageWithoutOpenWindowPreviewsNextCap() public view {
        (uint256 used, uint256 cap, uint48 end) = slasher.capUsage(operator);
        assertEq(used, 0);
        assertEq(cap, 300e18);
        assertEq(end, 0);
    }

    function test_CapChangesApplyOnlyToLaterWindows() public {
        _request(EQUIVOCATION, operator, "1"); // opens window: cap 300, 7 days
        vm.startPrank(admin);
        slasher.setCapBps(100);
        slasher.setCapWindow(1 days);
        vm.stopPrank();
        (uint256 used, uint256 cap, uint48 end) = slasher.capUsage(operator);
        assertEq(used, 100e18);
        assertEq(cap, 300e18, "open window keeps its cap");
        assertEq(end, block.timestamp + 7 days, "open window keeps its length");
        _request(EQUIVOCATION, operator, "2"); // 90e18 fits in the old cap, not in a 1% cap
        vm.warp(block.timestamp + 7 days);
        uint256 id = _request(EQUIVOCATION, operator, "3"); // new window: base 810, cap 1% = 8.1
        (used, cap, end) = slasher.capUsage(operator);
        assertEq(cap, 8.1e18);
        assertEq(used, 8.1e18);
        assertEq(end, block.timestamp + 1 days);
        _assertAmounts(id, 81e18, 8.1e18, 72.9e18); // the rest waits for the next 1-day windows
    }

    // ================================================================ executeSlash
    function test_RevertWhen_ExecuteInsideVetoWindow() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        uint48 executableAt = uint48(block.timestamp + 2 days);
        vm.warp(executableAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.VetoWindowOpen.selector, id, executableAt));
        slasher.executeSlash(id);
    }

    function test_ExecuteSlash_AnyoneAfterWindow() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.warp(block.timestamp + 2 days);
        vm.expectEmit(true, true, false, true, address(slasher));
        emit ISlasher.SlashExecuted(id, operator, 50e18, 10e18, 40e18);
        vm.prank(makeAddr("keeper"));
        uint256 amount = slasher.executeSlash(id);
        assertEq(amount, 50e18);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
        assertEq(token.balanceOf(reporter), 10e18);
        assertEq(token.balanceOf(treasury), 40e18);
        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        assertTrue(info.jailed);
        assertEq(info.jailedUntil, block.timestamp + 3 days);
    }

    function test_ExecuteSlash_AmountFrozenAtRequest_StakeAddedLater() public {
        uint256 id = _request(WRONG_RESULT, operator, REF); // owes 5 % of 1000e18
        _delegate(delegator, operator, 1000e18);
        vm.warp(block.timestamp + 2 days);
        assertEq(slasher.executeSlash(id), 50e18, "stake delegated after the request is not charged");
        _assertAmounts(id, 50e18, 50e18, 0);
    }

    function test_ExecuteSlash_AmountFrozenAtRequest_OtherSlashesInBetween() public {
        uint256 id = _request(WRONG_RESULT, operator, REF); // owes 5 % of 1000e18
        _request(EQUIVOCATION, operator, "e"); // takes 100e18 first
        vm.warp(block.timestamp + 2 days);
        assertEq(slasher.executeSlash(id), 50e18, "an earlier execution does not shrink it");
    }

    function test_RevertWhen_ExecuteUnknownSlash() public {
        vm.expectRevert(abi.encodeWithSelector(ISlasher.UnknownSlash.selector, 0));
        slasher.executeSlash(0);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.UnknownSlash.selector, 1));
        slasher.executeSlash(1);
    }

    function test_RevertWhen_ExecuteTwice() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.warp(block.timestamp + 2 days);
        slasher.executeSlash(id);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Executed)
        );
        slasher.executeSlash(id);
    }

    function test_RevertWhen_ExecuteObjectiveSlashAgain() public {
        uint256 id = _request(EQUIVOCATION, operator, REF);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Executed)
        );
        slasher.executeSlash(id);
    }

    function test_RevertWhen_ExecuteWithZeroSlashableStake_StaysPending() public {
        uint256 shares = staking.sharesOf(operator, operator);
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.prank(operator);
        uint256 wid = staking.requestUnstake(operator, shares);
        vm.warp(block.timestamp + 14 days); // unbonding (14d) outlasts the veto window (2d) ...
        vm.prank(operator);
        staking.completeUnstake(wid); // ... but nobody executed in time
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashRoundsToZero.selector, operator));
        slasher.executeSlash(id);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Pending));
        _assertAmounts(id, 50e18, 0, 50e18);
        // stake comes back: the pending slash still owes its 50e18, collected at the cap's pace
        _delegate(delegator, operator, 100e18);
        assertEq(slasher.executeSlash(id), 30e18); // a window over 100e18 admits 30e18
        _assertAmounts(id, 50e18, 30e18, 20e18);
    }

    function test_InstallmentTakingTheLastStakeEndsTheSlashWithAShortfall() public {
        staking.setUnbondingDelay(1 days);
        uint256 id = _request(WRONG_RESULT, operator, REF); // owes 50e18
        _request(MISSED, operator, "m"); // opens the window over 1000e18: cap 300e18, used 1e18
        uint256 shares = staking.sharesOf(operator, operator);
        vm.startPrank(operator);
        uint256 wid = staking.requestUnstake(operator, shares - 9e18); // all but ~9e18 leave after 1 day
        vm.warp(block.timestamp + 2 days);
        staking.completeUnstake(wid);
        vm.stopPrank();
        uint256 left = _slashable(operator);
        assertLt(left, 50e18);

        vm.expectEmit(true, true, false, true, address(slasher));
        emit ISlasher.SlashShortfall(id, operator, 50e18 - left);
        assertEq(slasher.executeSlash(id), left);
        assertEq(_slashable(operator), 0);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
        _assertAmounts(id, 50e18, left, 0);
    }

    function test_PendingSlashOnFullCap_JailsNowAndPaysInTheNextWindow() public {
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(3000, 0, 0, 0));
        uint256 id = _request(WRONG_RESULT, operator, REF); // owes 50e18
        _request(EQUIVOCATION, operator, "e"); // uses the whole 300e18 cap
        vm.warp(block.timestamp + 2 days);

        vm.expectEmit(true, true, false, true, address(slasher));
        emit ISlasher.SlashDeferred(id, operator, 50e18);
        assertEq(slasher.executeSlash(id), 0, "first execution on a full cap moves nothing");
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.PartiallyExecuted));
        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        assertTrue(info.jailed, "but jails at once");
        assertEq(info.jailedUntil, block.timestamp + 3 days);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashCapReached.selector, operator, 300e18, 300e18));
        slasher.executeSlash(id);

        vm.warp(block.timestamp + 5 days);
        assertEq(slasher.executeSlash(id), 50e18, "5 % of the 1000e18 at request, not of the 700e18 left");
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
    }

    function test_JailOnlyOnTheFirstInstallment() public {
        vm.startPrank(admin);
        slasher.setFaultParams(WRONG_RESULT, _params(5000, 0, 2 days, 3 days));
        vm.stopPrank();
        uint256 id = _request(WRONG_RESULT, operator, REF); // owes 500e18
        vm.warp(block.timestamp + 2 days);
        assertEq(slasher.executeSlash(id), 300e18);
        uint48 until = uint48(block.timestamp + 3 days);
        assertEq(staking.operatorInfo(operator).jailedUntil, until);
        vm.warp(block.timestamp + 7 days);
        vm.prank(operator);
        staking.unjail();
        assertEq(slasher.executeSlash(id), 200e18);
        assertFalse(staking.operatorInfo(operator).jailed, "a later installment does not jail again");
    }

    function test_RevertWhen_VetoPartiallyExecutedSlash() public {
        vm.prank(admin);
        slasher.setFaultParams(WRONG_RESULT, _params(5000, 0, 2 days, 0));
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.warp(block.timestamp + 2 days);
        slasher.executeSlash(id);
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.PartiallyExecuted
            )
        );
        slasher.vetoSlash(id);
    }

    function test_SlashHitsQueuedWithdrawalsProRata() public {
        uint256 shares = _delegate(delegator, operator, 1000e18);
        vm.prank(delegator);
        uint256 wid = staking.requestUnstake(operator, shares);
        assertEq(staking.operatorInfo(operator).unbondingStake, 1000e18);
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.warp(block.timestamp + 2 days);
        slasher.executeSlash(id); // 5% of 2000 = 100, 50 from each pool
        IStaking.OperatorInfo memory info = staking.operatorInfo(operator);
        assertEq(info.activeStake, 950e18);
        assertEq(info.unbondingStake, 950e18);
        vm.warp(block.timestamp + 14 days);
        vm.prank(delegator);
        assertApproxEqAbs(staking.completeUnstake(wid), 950e18, 1);
    }

    // ================================================================ vetoSlash
    function test_VetoSlash_InsideWindowBlocksExecutionForever() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.warp(block.timestamp + 2 days - 1);
        vm.expectEmit(true, false, false, false, address(slasher));
        emit ISlasher.SlashVetoed(id);
        vm.prank(governance);
        slasher.vetoSlash(id);
        assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Vetoed));
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Vetoed)
        );
        slasher.executeSlash(id);
        assertEq(_slashable(operator), STAKE);
        assertEq(slasher.totalSlashed(), 0);
    }

    function test_RevertWhen_VetoByNonGovernance() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        address[3] memory callers = [registry, admin, operator];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(ISlasher.UnauthorizedCaller.selector, callers[i]));
            slasher.vetoSlash(id);
        }
    }

    function test_RevertWhen_VetoAfterWindow() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        uint48 executableAt = uint48(block.timestamp + 2 days);
        vm.warp(executableAt);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.VetoWindowClosed.selector, id, executableAt));
        slasher.vetoSlash(id);
    }

    function test_RevertWhen_VetoObjectiveSlash() public {
        uint256 id = _request(EQUIVOCATION, operator, REF);
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Executed)
        );
        slasher.vetoSlash(id);
    }

    function test_RevertWhen_VetoTwice() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.startPrank(governance);
        slasher.vetoSlash(id);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, ISlasher.SlashStatus.Vetoed)
        );
        slasher.vetoSlash(id);
        vm.stopPrank();
    }

    function test_RevertWhen_VetoUnknownSlash() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.UnknownSlash.selector, 7));
        slasher.vetoSlash(7);
    }

    // ================================================================ non-retroactivity
    function test_ParamChangeIsNotRetroactive() public {
        staking.setUnbondingDelay(30 days); // room for the longest veto window (timing invariant)
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.prank(admin);
        slasher.setFaultParams(WRONG_RESULT, _params(5000, 0, 14 days, 30 days));
        // executable at the OLD window, slashes with the OLD bps, pays the OLD reporter share, jails OLD term
        vm.warp(block.timestamp + 2 days);
        assertEq(slasher.executeSlash(id), 50e18);
        assertEq(token.balanceOf(reporter), 10e18);
        assertEq(staking.operatorInfo(operator).jailedUntil, block.timestamp + 3 days);
        // a request made after the change uses the new params
        uint256 id2 = _request(WRONG_RESULT, operator, "new");
        _assertParams(slasher.slashRequest(id2).params, 5000, 0, 14 days, 30 days);
        assertEq(slasher.slashRequest(id2).executableAt, block.timestamp + 14 days);
    }

    // ================================================================ sinks and reporters
    function test_NoReporterSendsEverythingToTreasury() public {
        vm.prank(registry);
        slasher.requestSlash(EQUIVOCATION, operator, REF, address(0));
        assertEq(token.balanceOf(treasury), 100e18);
        assertEq(slasher.totalToReporters(), 0);
        assertEq(slasher.totalToTreasury(), 100e18);
    }

    function test_BurnWhenNoTreasury() public {
        vm.prank(admin);
        slasher.setTreasury(address(0));
        _request(EQUIVOCATION, operator, REF);
        assertEq(token.balanceOf(BURN), 90e18);
        assertEq(token.balanceOf(reporter), 10e18);
        assertEq(slasher.totalBurned(), 90e18);
        assertEq(slasher.totalToTreasury(), 0);
    }

    function test_SinkIsReadAtExecution() public {
        uint256 id = _request(WRONG_RESULT, operator, REF);
        vm.prank(admin);
        slasher.setTreasury(address(0));
        vm.warp(block.timestamp + 2 days);
        slasher.executeSlash(id);
        assertEq(token.balanceOf(BURN), 40e18);
        assertEq(token.balanceOf(treasury), 0);
    }

    function test_ReporterShareAtMaxBound() public {
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(1000, 5000, 0, 0));
        _request(EQUIVOCATION, operator, REF);
        assertEq(token.balanceOf(reporter), 50e18);
        assertEq(token.balanceOf(treasury), 50e18);
    }

    function test_ReporterShareRoundsDown() public {
        address op2 = makeAddr("op2");
        _register(op2, 1999); // 10% -> 199.9 -> 200; reporter 10% of 200 = 20
        _request(EQUIVOCATION, op2, REF);
        address op3 = makeAddr("op3");
        _register(op3, 1099); // 10% -> 109.9 -> 110; reporter 11 (exact)
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(1000, 1500, 0, 0)); // 15% of 110 = 16.5 -> 16
        _request(EQUIVOCATION, op3, REF);
        assertEq(token.balanceOf(reporter), 20 + 16);
        assertEq(token.balanceOf(treasury), 180 + 94);
    }

    // ================================================================ jail
    function test_JailIsNeverShortened() public {
        uint256 id = _request(WRONG_RESULT, operator, REF); // 3 day jail, pending
        _request(EQUIVOCATION, operator, "e"); // jailed 7 days from now
        uint48 longTerm = uint48(block.timestamp + 7 days);
        vm.warp(block.timestamp + 2 days);
        slasher.executeSlash(id); // would jail until now + 3 days < longTerm
        assertEq(staking.operatorInfo(operator).jailedUntil, longTerm);
    }

    function test_JailIsExtended() public {
        _request(EQUIVOCATION, operator, "e");
        vm.warp(block.timestamp + 5 days);
        _request(EQUIVOCATION, operator, "f");
        assertEq(staking.operatorInfo(operator).jailedUntil, block.timestamp + 7 days);
    }

    // ================================================================ views
    function test_RevertWhen_SlashRequestUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(ISlasher.UnknownSlash.selector, 0));
        slasher.slashRequest(0);
        vm.expectRevert(abi.encodeWithSelector(ISlasher.UnknownSlash.selector, 1));
        slasher.slashRequest(1);
    }

    function test_PreviewSlash_MatchesRequestAndFirstInstallment() public {
        _assertPreview(operator, EQUIVOCATION, 100e18, 100e18);
        _assertPreview(operator, MISSED, 1e18, 1e18);
        vm.prank(admin);
        slasher.setFaultParams(EQUIVOCATION, _params(5000, 0, 0, 0));
        _assertPreview(operator, EQUIVOCATION, 500e18, 300e18); // the cap defers 200e18
        uint256 id = _request(EQUIVOCATION, operator, "a");
        _assertAmounts(id, 500e18, 300e18, 200e18);
        _assertPreview(operator, MISSED, 0.7e18, 0); // owed in full, nothing moves now
        _assertPreview(makeAddr("nobody"), MISSED, 0, 0);
        // stake taken on inside the window raises the cap, and the preview follows
        _delegate(delegator, operator, 1300e18); // slashable 2000e18, base 2300e18 -> cap 690e18
        _assertPreview(operator, EQUIVOCATION, 1000e18, 390e18);
    }

    function test_SlashAmounts_PerStatus() public {
        vm.expectRevert(abi.encodeWithSelector(ISlasher.UnknownSlash.selector, 1));
        slasher.slashAmounts(1);
        uint256 pending = _request(WRONG_RESULT, operator, REF);
        _assertAmounts(pending, 50e18, 0, 50e18);
        uint256 vetoed = _request(WRONG_RESULT, operator, "v");
        vm.prank(governance);
        slasher.vetoSlash(vetoed);
        _assertAmounts(vetoed, 50e18, 0, 0); // nothing owed any more
        uint256 executed = _request(MISSED, operator, "m");
        _assertAmounts(executed, 1e18, 1e18, 0);
    }

    function test_FaultKeyIsDistinctPerField() public view {
        bytes32 k = slasher.faultKey(operator, EQUIVOCATION, REF);
        assertTrue(k != slasher.faultKey(operator, MISSED, REF));
        assertTrue(k != slasher.faultKey(operator, EQUIVOCATION, bytes32(uint256(REF) + 1)));
        assertTrue(k != slasher.faultKey(reporter, EQUIVOCATION, REF));
    }

    // ================================================================ broken staking
    function test_RevertWhen_StakingSlashesLessThanAsked() public {
        staking.setSlashShortfall(1);
        vm.prank(registry);
        vm.expectRevert(abi.encodeWithSelector(Slasher.SlashAmountMismatch.selector, 100e18, 100e18 - 1));
        slasher.requestSlash(EQUIVOCATION, operator, REF, reporter);
    }

    function test_MockStakingRejectsOtherSlashers() public {
        vm.expectRevert(abi.encodeWithSelector(IStaking.UnauthorizedCaller.selector, address(this)));
        MockStaking(address(staking)).slash(operator, 1, address(this));
    }
}
