// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {Statements} from "../registry/utils/Statements.sol";
import {SecurityBase} from "./SecurityBase.sol";

/// @notice Issue #10, exploit 2: an operator pre-opens its slash-cap window while it is small (a tiny
///         missed-assignment slash reported by a friend), then takes on a large stake; a later
///         equivocation, or a WrongResult it executes itself, used to be clamped to the tiny remaining cap
///         and its fault key consumed. Each test runs the attack on the `DeploySuite` wiring next to a "twin"
///         operator with the same slashable stake and the same faults but no pre-opened window, and proves
///         both lose the same.
contract SlashCapPreOpenTest is SecurityBase {
    /// @dev The model minimum: the attacker starts as small as the registry allows.
    uint256 internal constant SMALL = 10_000 ether;
    /// @dev The stake the attacker takes on after pre-opening its window.
    uint256 internal constant LARGE = 990_000 ether;

    address internal friend = makeAddr("friend");
    address internal attacker;
    address internal twin;

    function setUp() public override {
        super.setUp();
        holders.push(friend);
        bytes32[] memory served = new bytes32[](1);
        served[0] = optModel;
        attacker = _addOperator("attacker", SMALL, served);

        // (1)+(2) the attacker, the only operator of the optimistic model, is assigned a request and lets it
        // lapse; a friend reports the miss: a 0.1 % slash opens the attacker's cap window at 30 % of 10,000.
        uint256 rid = _request(optModel);
        assertEq(s.registry.assignedOperators(rid)[0], attacker);
        _advance(1 hours + 1);
        vm.prank(friend);
        s.registry.reportMissed(rid, attacker);
        assertEq(_slashable(attacker), SMALL - 10 ether, "tiny missed-assignment slash");

        // (3) the attacker takes on a large stake inside the window it opened.
        _delegate(attacker, attacker, LARGE);

        // The twin: the same slashable stake, no slash history.
        twin = _addOperator("twin", _slashable(attacker), new bytes32[](0));
        assertEq(_slashable(twin), _slashable(attacker), "same stake");
    }

    // ------------------------------------------------------------------ the attack, step (4)

    /// @notice An equivocation reported after the attacker pre-opened its window costs it exactly what it
    ///         costs the twin: 10 % of the slashable stake at the report.
    function test_PreOpenedWindowDoesNotShrinkEquivocation() public {
        uint256 stake = _slashable(attacker);
        uint256 rid = _request(optModel);
        uint256 lossAttacker = _equivocate(attacker, rid);
        uint256 lossTwin = _equivocate(twin, rid);

        assertEq(lossAttacker, lossTwin, "pre-opened window shrank the equivocation slash");
        assertEq(lossAttacker, _ceil10pct(stake), "10 % of the stake at the report");
        _assertConservation();
    }

    /// @notice A WrongResult slash that the attacker executes itself right after the veto window (inside
    ///         the window it pre-opened) costs it what it costs the twin: 5 % of the stake at the request.
    function test_PreOpenedWindowDoesNotShrinkSelfExecutedWrongResult() public {
        uint256 stake = _slashable(attacker);
        uint256 idAttacker = _governanceSlash(WRONG_RESULT, attacker, "dispute", challenger);
        uint256 idTwin = _governanceSlash(WRONG_RESULT, twin, "dispute", challenger);
        _advanceTo(s.slasher.slashRequest(idAttacker).executableAt);

        uint256 lossAttacker = _executeAs(attacker, idAttacker);
        uint256 lossTwin = _executeAs(twin, idTwin);

        assertEq(lossAttacker, lossTwin, "pre-opened window shrank the WrongResult slash");
        assertEq(lossAttacker, stake * 500 / 10_000, "5 % of the stake at the request");
        _assertConservation();
    }

    /// @notice The whole measured attack: equivocation, then a self-executed WrongResult. Same stake, same
    ///         faults: the attacker loses exactly what the twin loses.
    function test_PreOpenedWindowAttackSequenceCostsTheSameAsTheTwin() public {
        uint256 before = _slashable(attacker);
        uint256 rid = _request(optModel);
        _equivocate(attacker, rid);
        _equivocate(twin, rid);
        uint256 idAttacker = _governanceSlash(WRONG_RESULT, attacker, "dispute", challenger);
        uint256 idTwin = _governanceSlash(WRONG_RESULT, twin, "dispute", challenger);
        _advanceTo(s.slasher.slashRequest(idAttacker).executableAt);
        _executeAs(attacker, idAttacker);
        _executeAs(twin, idTwin);

        uint256 lossAttacker = before - _slashable(attacker);
        uint256 lossTwin = before - _slashable(twin);
        assertEq(lossAttacker, lossTwin, "the attacker escaped part of its slashes");
        // 10 % of 999,990 = 99,999; then 5 % of the 899,991 left = 44,999.55
        assertEq(lossAttacker, 99_999 ether + 44_999.55 ether);
        _assertConservation();
    }

    /// @notice Neither the order of other slashes nor the timing of the permissionless `executeSlash` shrinks
    ///         it: the attacker queues all its stake for withdrawal, its friend fills the cap with the
    ///         attacker's own equivocations just before the WrongResult becomes executable, and the attacker
    ///         executes the WrongResult itself on the full cap. The WrongResult is deferred, not truncated;
    ///         anyone collects it in full when the next window opens, while the queued stake is still there.
    function test_FullCapAtSelfExecutionOnlyDefersTheWrongResult() public {
        uint256[] memory rids = new uint256[](4);
        for (uint256 i; i < rids.length; ++i) {
            rids[i] = _request(optModel);
        }
        uint256 t0 = block.timestamp;
        uint256 stake = _slashable(attacker);
        uint256 withdrawalId = _unstakeAll(attacker, attacker); // everything queued: U = 21 days
        uint256 id = _governanceSlash(WRONG_RESULT, attacker, "dispute", challenger);
        (uint256 owed,,) = s.slasher.slashAmounts(id);
        assertEq(owed, stake * 500 / 10_000, "5 % of the stake at the request, frozen");

        // the friend burns the attacker's window on its own equivocations (10 % each of what is left)
        uint48 executableAt = s.slasher.slashRequest(id).executableAt;
        _advanceTo(executableAt - 1);
        uint256[] memory eqIds = new uint256[](rids.length);
        for (uint256 i; i < rids.length; ++i) {
            _equivocate(attacker, rids[i]);
            eqIds[i] = s.slasher.slashIdOf(attacker, EQUIVOCATION, bytes32(rids[i]));
        }
        (uint256 used, uint256 cap, uint48 windowEnd) = s.slasher.capUsage(attacker);
        assertEq(used, cap, "cap full");
        assertEq(cap, 300_000 ether, "30 % of (stake taken on + used): the pre-opened window grew");

        // the attacker executes its WrongResult itself, on the full cap: deferred, jailed, nothing lost
        _advanceTo(executableAt);
        assertEq(_executeAs(attacker, id), 0);
        assertEq(uint8(s.slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.PartiallyExecuted));
        (, uint256 paid, uint256 outstanding) = s.slasher.slashAmounts(id);
        assertEq(paid, 0);
        assertEq(outstanding, owed, "the whole fault is still owed");
        vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashCapReached.selector, attacker, used, cap));
        s.slasher.executeSlash(id);

        // next window: a keeper collects every remainder in full, before the queued stake can leave
        _advanceTo(windowEnd);
        assertEq(_executeAs(makeAddr("keeper"), id), owed, "collected in full");
        for (uint256 i; i < eqIds.length; ++i) {
            if (s.slasher.slashRequest(eqIds[i]).status == ISlasher.SlashStatus.PartiallyExecuted) {
                _executeAs(makeAddr("keeper"), eqIds[i]);
            }
            (uint256 eqOwed, uint256 eqPaid, uint256 eqOutstanding) = s.slasher.slashAmounts(eqIds[i]);
            assertEq(eqPaid, eqOwed, "every equivocation paid in full");
            assertEq(eqOutstanding, 0);
        }
        assertLt(block.timestamp, t0 + cfg.unbondingDelay, "collected before the queued stake unlocks");
        (, paid, outstanding) = s.slasher.slashAmounts(id);
        assertEq(paid, owed);
        assertEq(outstanding, 0);

        _advanceTo(t0 + cfg.unbondingDelay);
        _complete(attacker, withdrawalId);
        _assertConservation();
    }

    // ------------------------------------------------------------------ helpers

    /// @dev `op` signs two different outputs for `rid`; the friend reports the pair. Returns the stake lost.
    function _equivocate(address op, uint256 rid) internal returns (uint256 loss) {
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT_A);
        IInferenceRegistry.Attestation memory b = _att(rid, op, OUT_B);
        (bytes memory sigA, bytes memory sigB) = (_sign(a), _sign(b)); // before the prank: `_sign` calls out
        uint256 before = _slashable(op);
        uint256 friendBefore = s.token.balanceOf(friend);
        vm.prank(friend);
        s.registry.reportEquivocation(Statements.signed(a, sigA), Statements.signed(b, sigB));
        loss = before - _slashable(op);
        assertEq(s.token.balanceOf(friend) - friendBefore, loss / 10, "the friend is paid as the reporter");
    }

    /// @dev `who` executes slash `id`. Returns the stake its operator lost.
    function _executeAs(address who, uint256 id) internal returns (uint256 loss) {
        address op = s.slasher.slashRequest(id).operator;
        uint256 before = _slashable(op);
        vm.prank(who);
        s.slasher.executeSlash(id);
        loss = before - _slashable(op);
    }

    function _ceil10pct(uint256 x) internal pure returns (uint256) {
        return (x * 1000 + 9999) / 10_000;
    }
}
