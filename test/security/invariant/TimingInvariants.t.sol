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

    /// @dev Governance (the timelock) calls `target` with `data`; counts whether the setter accepted it.
    function _asGovernance(address target, bytes memory data) internal {
        vm.prank(tl);
        (bool ok,) = target.call(data);
        if (ok) ++accepted;
        else ++refused;
    }

    function setUnbondingDelay(uint256 v) external {
        uint48 value = uint48(bound(v, 1 days, 90 days));
        _asGovernance(address(s.staking), abi.encodeCall(s.staking.setUnbondingDelay, (value)));
    }

    function setSignerRotationDelay(uint256 v) external {
        uint48 value = uint48(bound(v, 1 hours, 30 days));
        _asGovernance(address(s.staking), abi.encodeCall(s.staking.setSignerRotationDelay, (value)));
    }

    function setBatchWindow(uint256 v) external {
        uint32 value = uint32(bound(v, 10 minutes, 7 days));
        _asGovernance(address(s.registry), abi.encodeCall(s.registry.setBatchWindow, (value)));
    }

    function setVetoWindow(uint256 v) external {
        ISlasher.FaultParams memory p = s.slasher.faultParams(ISlasher.FaultKind.WrongResult);
        p.vetoWindow = uint32(bound(v, 1 hours, 14 days));
        _asGovernance(
            address(s.slasher), abi.encodeCall(s.slasher.setFaultParams, (ISlasher.FaultKind.WrongResult, p))
        );
    }

    function setDisputeVotingPeriod(uint256 v) external {
        uint256 value = bound(v, 10 minutes, 14 days);
        _asGovernance(address(s.disputes), abi.encodeCall(s.disputes.setVotingPeriod, (value)));
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
        _asGovernance(
            address(s.registry),
            abi.encodeCall(s.registry.registerModel, (bytes32(++models), keccak256("runtime"), p))
        );
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

    /// @notice The handler's setters really reach the contracts: a change that keeps the rules is accepted,
    ///         one that breaks them is refused (guards against a vacuous invariant).
    function test_HandlerChangesAreAcceptedOrRefusedByTheRules() public {
        handler.setBatchWindow(0); // 10 minutes: keeps the rules
        assertEq(handler.accepted(), 1);
        handler.setUnbondingDelay(0); // 1 day: shorter than the fault path
        assertEq(handler.refused(), 1);
        s.slasher.checkTiming();
    }
}
