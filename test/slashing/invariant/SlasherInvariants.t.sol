// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {Slasher} from "../../../contracts/slashing/Slasher.sol";
import {MockStaking, MockStakingToken} from "../../mocks/MockStaking.sol";
import {SlasherActors} from "../SlasherTestBase.sol";
import {SlasherHandler} from "./SlasherHandler.sol";
import {console} from "forge-std/Test.sol";

/// @notice The Slasher invariants, over any IStaking. Subclasses deploy the staking contract.
abstract contract SlasherInvariantsBase is SlasherActors {
    uint256 internal constant INITIAL_SELF_STAKE = 100e18;

    MockStakingToken internal token;
    IStaking internal staking;
    Slasher internal slasher;
    SlasherHandler internal handler;

    /// @dev Deploys `staking` over `token` with `admin`, and makes `slasher_` its slasher.
    function _deployStaking() internal virtual returns (IStaking);

    /// @dev Wires the deployed slasher into the staking contract.
    function _wireStaking(address slasher_) internal virtual;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new MockStakingToken();
        staking = _deployStaking();
        slasher = new Slasher(staking, admin, treasury);
        _wireStaking(address(slasher));
        vm.prank(admin);
        slasher.wire(registry, governance);

        address[] memory ops = new address[](3);
        ops[0] = makeAddr("opA");
        ops[1] = makeAddr("opB");
        ops[2] = makeAddr("opC");
        handler = new SlasherHandler(slasher, staking, token, [registry, governance, admin], treasury, ops);
        for (uint256 i; i < ops.length; ++i) {
            uint256 amount = INITIAL_SELF_STAKE * (i + 1);
            token.mint(ops[i], amount);
            vm.startPrank(ops[i]);
            token.approve(address(staking), amount);
            staking.registerOperator(makeAddr(string.concat("signer", vm.toString(i))), amount);
            vm.stopPrank();
            handler.recordDeposit(amount);
        }
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = SlasherHandler.delegate.selector;
        selectors[1] = SlasherHandler.requestUnstake.selector;
        selectors[2] = SlasherHandler.completeUnstake.selector;
        selectors[3] = SlasherHandler.requestSlash.selector;
        selectors[4] = SlasherHandler.executeSlash.selector;
        selectors[5] = SlasherHandler.vetoSlash.selector;
        selectors[6] = SlasherHandler.setFaultParams.selector;
        selectors[7] = SlasherHandler.setCap.selector;
        selectors[8] = SlasherHandler.toggleSink.selector;
        selectors[9] = SlasherHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Logs how often each handler action succeeded (to see the suite exercises something).
    function afterInvariant() public view {
        bytes32 first = "delegate";
        bytes32[8] memory names = [
            first,
            "requestUnstake",
            "completeUnstake",
            "requestSlash",
            "executeSlash",
            "vetoSlash",
            "setFaultParams",
            "setCap"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log(string(abi.encodePacked(names[i])), handler.calls(names[i]));
        }
        console.log("executions", handler.ghostExecutions());
        console.log("deferred installments", handler.calls("deferred"));
    }

    /// @notice No operator is slashed beyond its per-window cap (checked by the handler's independent model
    ///         and by the contract's own books), and no slash exceeds the operator's slashable stake.
    function invariant_NoSlashExceedsItsWindowCap() public view {
        assertEq(handler.ghostCapViolations(), 0, "cap violated");
        for (uint256 i; i < handler.operatorCount(); ++i) {
            (uint256 used, uint256 cap,) = slasher.capUsage(handler.operators(i));
            assertLe(used, cap, "capUsage used > cap");
        }
    }

    /// @notice Every installment is exactly min(outstanding, slashable stake, room left in the window)
    ///         under an independent model of the cap (base frozen at opening, grown to slashable + used
    ///         inside the window); every request owes exactly ceil(slashable at request * slashBps); no slash
    ///         ends with something unpaid while its operator still has stake.
    function invariant_InstallmentsAreNeverTruncated() public view {
        assertEq(handler.ghostInstallmentErrors(), 0, "an installment differs from the model");
        assertEq(handler.ghostOwedErrors(), 0, "a request froze a wrong amount");
        assertEq(handler.ghostTruncations(), 0, "a slash was truncated instead of deferred");
    }

    /// @notice For every slash request: paid + outstanding == owed while it is unfinished; paid == owed once
    ///         executed (short only by a shortfall, never more); nothing for a vetoed one; owed is the amount
    ///         frozen at request over stake that existed then, and paid is the sum of its installments.
    ///         The installments of all requests add up to everything taken from Staking.
    function invariant_PaidPlusOutstandingIsWhatWasOwed() public view {
        uint256 count = slasher.slashCount();
        uint256 paidTotal;
        for (uint256 id = 1; id <= count; ++id) {
            (uint256 owed, uint256 paid, uint256 outstanding) = slasher.slashAmounts(id);
            ISlasher.SlashStatus status = slasher.slashRequest(id).status;
            assertEq(owed, handler.ghostOwed(id), "owed != frozen at request");
            assertEq(paid, handler.ghostPaid(id), "paid != sum of installments");
            assertLe(paid, owed, "paid more than owed");
            if (status == ISlasher.SlashStatus.Pending || status == ISlasher.SlashStatus.PartiallyExecuted) {
                assertEq(paid + outstanding, owed, "unfinished: paid + outstanding != owed");
            } else {
                assertEq(outstanding, 0, "final slash still owes");
            }
            if (status == ISlasher.SlashStatus.Pending || status == ISlasher.SlashStatus.Vetoed) {
                assertEq(paid, 0, "paid before its first execution");
            }
            paidTotal += paid;
        }
        assertEq(paidTotal, slasher.totalSlashed(), "installments != total slashed");
    }

    /// @notice A vetoed slash stays vetoed forever (never executes).
    function invariant_VetoedSlashNeverExecutes() public view {
        for (uint256 i; i < handler.vetoedCount(); ++i) {
            uint256 id = handler.vetoedIds(i);
            assertEq(uint8(slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Vetoed));
        }
    }

    /// @notice Every slashed wei went to exactly one of reporter / treasury / burn, and the Slasher keeps none.
    function invariant_ExecutedAmountsAreFullyDistributed() public view {
        uint256 total = slasher.totalSlashed();
        assertEq(total, handler.ghostSlashed(), "stake removed != distributed");
        assertEq(handler.ghostAccountingErrors(), 0, "a slash's payout differs from the stake it removed");
        assertEq(
            total, slasher.totalToReporters() + slasher.totalToTreasury() + slasher.totalBurned(), "split"
        );
        assertEq(token.balanceOf(address(slasher)), 0, "slasher holds tokens");
        assertEq(token.balanceOf(treasury), slasher.totalToTreasury(), "treasury balance");
        assertEq(token.balanceOf(BURN), slasher.totalBurned(), "burn balance");
        uint256 paid;
        for (uint256 i; i < handler.reporterCount(); ++i) {
            address r = handler.reporters(i);
            if (r != address(0)) paid += token.balanceOf(r);
        }
        assertEq(paid, slasher.totalToReporters(), "reporter balances");
    }

    /// @notice Token conservation across Staking + Slasher:
    ///         deposited == active + unbonding + withdrawn + burned + treasury + paidToReporters.
    function invariant_TokenConservation() public view {
        uint256 held = handler.totalSlashable();
        assertEq(
            handler.ghostDeposited(),
            held + handler.ghostWithdrawn() + slasher.totalBurned() + slasher.totalToTreasury()
                + slasher.totalToReporters(),
            "conservation"
        );
        assertGe(token.balanceOf(address(staking)), held, "staking under-collateralised");
    }

    /// @notice Slash ids are dense: every id up to slashCount exists and has a non-None status.
    function invariant_SlashIdsAreDense() public view {
        uint256 count = slasher.slashCount();
        if (count != 0) assertTrue(slasher.slashRequest(count).status != ISlasher.SlashStatus.None);
    }
}

/// @notice The invariants against MockStaking.
contract SlasherMockInvariants is SlasherInvariantsBase {
    function _deployStaking() internal override returns (IStaking) {
        return IStaking(address(new MockStaking(token)));
    }

    function _wireStaking(address slasher_) internal override {
        MockStaking(address(staking)).setSlasher(slasher_);
    }

    /// @notice The mock's own books agree with the Slasher's.
    function invariant_MockBooksAgree() public view {
        MockStaking m = MockStaking(address(staking));
        assertEq(m.totalSlashedOut(), slasher.totalSlashed());
        assertEq(m.totalDeposited(), handler.ghostDeposited());
        assertEq(m.totalWithdrawn(), handler.ghostWithdrawn());
        assertEq(token.balanceOf(address(m)), m.totalActive() + m.totalUnbonding());
    }
}
