// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {DeploySuite} from "../../../script/DeploySuite.sol";
import {SecurityBase} from "../SecurityBase.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Governance (the timelock) changes windows in any order, with any values inside their bounds.
contract TimingSetterHandler is Test {
    DeploySuite.Suite internal s;
    address internal tl;
    uint256 public accepted;
    uint256 public refused;
    uint256 internal models;

    constructor(DeploySuite.Suite memory suite) {
        s = suite;
        tl = address(suite.timelock);
    }

    function _tally(bool ok) internal {
        if (ok) ++accepted;
        else ++refused;
    }

    function setUnbondingDelay(uint256 v) external {
        vm.prank(tl);
        try s.staking.setUnbondingDelay(uint48(bound(v, 1 days, 90 days))) {
            _tally(true);
        } catch {
            _tally(false);
        }
    }

    function setSignerRotationDelay(uint256 v) external {
        vm.prank(tl);
        try s.staking.setSignerRotationDelay(uint48(bound(v, 1 hours, 30 days))) {
            _tally(true);
        } catch {
            _tally(false);
        }
    }

    function setBatchWindow(uint256 v) external {
        vm.prank(tl);
        try s.registry.setBatchWindow(uint32(bound(v, 10 minutes, 7 days))) {
            _tally(true);
        } catch {
            _tally(false);
        }
    }

    function setVetoWindow(uint256 v) external {
        ISlasher.FaultParams memory p = s.slasher.faultParams(ISlasher.FaultKind.WrongResult);
        p.vetoWindow = uint32(bound(v, 1 hours, 14 days));
        vm.prank(tl);
        try s.slasher.setFaultParams(ISlasher.FaultKind.WrongResult, p) {
            _tally(true);
        } catch {
            _tally(false);
        }
    }

    function setDisputeVotingPeriod(uint256 v) external {
        vm.prank(tl);
        try s.disputes.setVotingPeriod(bound(v, 10 minutes, 14 days)) {
            _tally(true);
        } catch {
            _tally(false);
        }
    }

    function registerModel(uint256 window) external {
        IInferenceRegistry.ModelParams memory p = IInferenceRegistry.ModelParams({
            mode: IInferenceRegistry.VerificationMode.Optimistic,
            k: 1,
            q: 1,
            challengeWindow: uint32(bound(window, 10 minutes, 7 days)),
            minStake: 1 ether,
            challengeBond: 1 ether,
            minFee: 1
        });
        vm.prank(tl);
        try s.registry.registerModel(bytes32(++models), keccak256("runtime"), p) {
            _tally(true);
        } catch {
            _tally(false);
        }
    }
}

/// @notice Property of finding "timing invariants after deployment": whatever sequence of window changes
///         governance makes, the cross-contract timing rules hold afterwards (every setter re-checks them).
contract TimingInvariantsTest is SecurityBase {
    TimingSetterHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new TimingSetterHandler(s);
        targetContract(address(handler));
    }

    function invariant_TimingRulesAlwaysHold() public view {
        s.slasher.checkTiming();
    }

    /// @dev The run explored both sides: some changes were accepted and some refused.
    function afterInvariant() external view {
        assertGt(handler.accepted() + handler.refused(), 0);
    }
}
