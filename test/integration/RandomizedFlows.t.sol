// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {IntegrationBase} from "./IntegrationBase.sol";

/// @notice Random sequences of user, keeper and governance actions on the deployed suite, with the time
///         machine in between. After every step: no token is created or lost, and nothing final changes.
contract RandomizedFlowsTest is IntegrationBase {
    uint256 internal constant STEPS = 24;

    uint256[] internal withdrawals;
    address[] internal withdrawalOwners;
    uint256[] internal completedIds;
    uint256[] internal completedPaid;
    uint256[] internal slashIds;
    uint256 internal refNonce;
    mapping(uint256 slashId => ISlasher.SlashStatus) internal finalStatus;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < 3; ++i) {
            _registerOperator(i, 20_000 ether);
        }
    }

    /// @notice Conservation and finality hold over any sequence of delegations, unstakes, withdrawals,
    ///         objective and subjective slashes, vetoes, executions, unjails and time jumps.
    function testFuzz_RandomActionSequenceConservesTokensAndFinality(uint256 seed) public {
        for (uint256 step; step < STEPS; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            _act(r % 9, r >> 8);
            _assertConservation();
            _assertFinalityUnchanged();
            _recordFinalStatuses();
        }
    }

    function _act(uint256 action, uint256 r) internal {
        address op = operators[r % 3];
        address who = _actor(r >> 8);
        if (action == 0) _tryDelegate(who, op, 1 ether + (r >> 16) % 50_000 ether);
        else if (action == 1) _tryUnstake(who, op, r >> 16);
        else if (action == 2) _tryComplete(r >> 16);
        else if (action == 3) _trySlash(EQUIVOCATION, op);
        else if (action == 4) _trySlash(WRONG_RESULT, op);
        else if (action == 5) _tryExecute(r >> 16);
        else if (action == 6) _tryVeto(r >> 16);
        else if (action == 7) _advance(1 hours + (r >> 16) % 10 days);
        else _tryUnjail(op);
    }

    function _actor(uint256 r) internal view returns (address) {
        uint256 i = r % 4;
        return i < 3 ? delegators[i] : operators[r % 3];
    }

    function _tryDelegate(address who, address op, uint256 assets) internal {
        IStaking.OperatorInfo memory info = s.staking.operatorInfo(op);
        if (info.jailed && who != op) {
            vm.expectRevert(abi.encodeWithSelector(IStaking.OperatorIsJailed.selector, op, info.jailedUntil));
            _delegate(who, op, assets);
            return;
        }
        if (s.staking.previewShares(op, assets) == 0) return; // dust into a wiped pool
        uint256 before = s.staking.operatorStake(op);
        _delegate(who, op, assets);
        assertEq(s.staking.operatorStake(op), before + assets);
    }

    function _tryUnstake(address who, address op, uint256 r) internal {
        uint256 shares = s.staking.sharesOf(op, who);
        if (shares == 0) return;
        shares = 1 + r % shares;
        if (s.staking.previewAssets(op, shares) == 0) return;
        vm.prank(who);
        uint256 id = s.staking.requestUnstake(op, shares);
        withdrawals.push(id);
        withdrawalOwners.push(who);
    }

    function _tryComplete(uint256 r) internal {
        if (withdrawals.length == 0) return;
        uint256 i = r % withdrawals.length;
        uint256 id = withdrawals[i];
        IStaking.Withdrawal memory w = s.staking.withdrawal(id);
        if (w.completed) return;
        if (block.timestamp < w.unlockAt) {
            vm.expectRevert(abi.encodeWithSelector(IStaking.WithdrawalLocked.selector, id, w.unlockAt));
            _complete(w.owner, id);
            return;
        }
        uint256 expected = s.staking.previewWithdrawal(id);
        uint256 before = s.token.balanceOf(w.owner);
        assertEq(_complete(w.owner, id), expected);
        assertEq(s.token.balanceOf(w.owner), before + expected);
        completedIds.push(id);
        completedPaid.push(expected);
    }

    function _trySlash(ISlasher.FaultKind kind, address op) internal {
        bytes32 ref = bytes32(++refNonce);
        (uint256 owed, uint256 payableNow) = s.slasher.previewSlash(op, kind);
        uint256 slashable = _slashable(op);
        vm.prank(address(s.timelock));
        try s.slasher.requestSlash(kind, op, ref, challenger) returns (uint256 id) {
            slashIds.push(id);
            (uint256 o, uint256 paid, uint256 outstanding) = s.slasher.slashAmounts(id);
            assertEq(o, owed, "owed != preview");
            if (kind == EQUIVOCATION) {
                assertEq(_slashable(op), slashable - payableNow, "objective slash not executed at once");
                assertEq(paid + outstanding, owed, "the cap truncated an objective slash");
            } else {
                assertEq(_slashable(op), slashable, "subjective slash executed early");
                assertEq(outstanding, owed);
            }
        } catch (bytes memory err) {
            // Only the documented refusal: nothing left to slash (a full cap defers, it does not refuse).
            assertEq(bytes4(err), ISlasher.SlashRoundsToZero.selector, "unexpected slash revert");
            assertEq(owed, 0);
        }
    }

    function _tryExecute(uint256 r) internal {
        if (slashIds.length == 0) return;
        uint256 id = slashIds[r % slashIds.length];
        ISlasher.SlashRequest memory q = s.slasher.slashRequest(id);
        if (q.status != ISlasher.SlashStatus.Pending && q.status != ISlasher.SlashStatus.PartiallyExecuted) {
            vm.expectRevert(abi.encodeWithSelector(ISlasher.SlashNotPending.selector, id, q.status));
            s.slasher.executeSlash(id);
        } else if (q.status == ISlasher.SlashStatus.Pending && block.timestamp < q.executableAt) {
            vm.expectRevert(abi.encodeWithSelector(ISlasher.VetoWindowOpen.selector, id, q.executableAt));
            s.slasher.executeSlash(id);
        } else {
            // May be refused when the operator has no stake or a deferred remainder finds no room in the cap.
            (, uint256 paidBefore, uint256 outstandingBefore) = s.slasher.slashAmounts(id);
            try s.slasher.executeSlash(id) returns (uint256 amount) {
                (uint256 owed, uint256 paid, uint256 outstanding) = s.slasher.slashAmounts(id);
                assertEq(paid, paidBefore + amount, "installment not booked");
                ISlasher.SlashStatus st = s.slasher.slashRequest(id).status;
                if (st == ISlasher.SlashStatus.PartiallyExecuted) {
                    assertEq(paid + outstanding, owed, "deferred remainder lost");
                } else {
                    assertEq(uint8(st), uint8(ISlasher.SlashStatus.Executed));
                    assertTrue(amount == outstandingBefore || _slashable(q.operator) == 0, "truncated");
                }
            } catch (bytes memory err) {
                bytes4 sel = bytes4(err);
                assertTrue(
                    sel == ISlasher.SlashRoundsToZero.selector || sel == ISlasher.SlashCapReached.selector,
                    "unexpected execute revert"
                );
            }
        }
    }

    function _tryVeto(uint256 r) internal {
        if (slashIds.length == 0) return;
        uint256 id = slashIds[r % slashIds.length];
        ISlasher.SlashRequest memory q = s.slasher.slashRequest(id);
        if (q.status == ISlasher.SlashStatus.Pending && block.timestamp < q.executableAt) {
            _veto(id);
            assertEq(uint8(s.slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Vetoed));
        }
    }

    function _tryUnjail(address op) internal {
        IStaking.OperatorInfo memory info = s.staking.operatorInfo(op);
        if (!info.jailed || block.timestamp < info.jailedUntil) return;
        if (info.selfStake < s.staking.minOperatorStake()) return;
        vm.prank(op);
        s.staking.unjail();
        assertTrue(s.staking.isActiveOperator(op));
    }

    /// @dev Completed withdrawals stay completed; executed and vetoed slashes keep their status; objective
    ///      slashes are executed (in full, or with a deferred remainder) the moment they exist.
    function _assertFinalityUnchanged() internal view {
        for (uint256 i; i < completedIds.length; ++i) {
            assertTrue(s.staking.withdrawal(completedIds[i]).completed, "completed withdrawal reopened");
        }
        for (uint256 i; i < slashIds.length; ++i) {
            ISlasher.SlashRequest memory q = s.slasher.slashRequest(slashIds[i]);
            if (q.kind == EQUIVOCATION) {
                assertTrue(
                    q.status == ISlasher.SlashStatus.Executed
                        || q.status == ISlasher.SlashStatus.PartiallyExecuted,
                    "objective slash not executed at once"
                );
            }
            ISlasher.SlashStatus fin = finalStatus[slashIds[i]];
            if (fin != ISlasher.SlashStatus.None) {
                assertEq(uint8(q.status), uint8(fin), "final slash changed");
            }
        }
    }

    function _recordFinalStatuses() internal {
        for (uint256 i; i < slashIds.length; ++i) {
            ISlasher.SlashStatus st = s.slasher.slashRequest(slashIds[i]).status;
            if (st == ISlasher.SlashStatus.Executed || st == ISlasher.SlashStatus.Vetoed) {
                finalStatus[slashIds[i]] = st;
            }
        }
    }
}
