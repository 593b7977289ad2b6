// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {SecurityBase} from "./SecurityBase.sol";

/// @notice Finding (lower severity): the timing invariants were checked only at deployment and in
///         `registerModel`; `setUnbondingDelay`, `setBatchWindow`, `setFaultParams` and
///         `DisputeGovernor.setVotingPeriod` could break them later. Now every setter that changes a window
///         re-checks every rule it takes part in (`Slasher.checkTiming`):
///         1. F + R + V < U   (F = request TTL + largest challenge window + batch window,
///                             R = the longest ruling: max(dispute voting period + ruling delay, the
///                             referee's longest game), V = WrongResult veto window, U = unbonding delay);
///         2. F <= signer rotation delay.
///         Each test lowers the unbonding delay to 5 days first (allowed: the default rules still hold) and
///         then tries to break a rule through one setter, as the timelock.
contract TimingInvariantSettersTest is SecurityBase {
    bytes32 internal constant RULE_UNBONDING = "fault+ruling+veto<unbonding";
    bytes32 internal constant RULE_ROTATION = "faultWindow<=signerRotation";

    /// @dev F with the base models (1 h challenge windows): 1 d TTL + 1 h + 1 h batch window.
    uint256 internal constant F = 1 days + 2 hours;
    /// @dev The vote's ruling delay with the defaults: 18 h voting + 12 h timelock.
    uint256 internal constant R_VOTE = 30 hours;
    /// @dev R with the defaults: the referee's longest game (36 one-hour moves + 1 s) outlasts the vote.
    uint256 internal constant R = 36 hours + 1;
    uint256 internal constant V = 2 days;
    uint48 internal constant U = 5 days;

    function setUp() public override {
        super.setUp();
        vm.prank(address(s.timelock));
        s.staking.setUnbondingDelay(U);
    }

    function _expectViolation(bytes32 rule, uint256 lhs, uint256 rhs) internal {
        vm.expectRevert(abi.encodeWithSelector(ISlasher.TimingInvariantViolated.selector, rule, lhs, rhs));
    }

    function test_DeployedSuiteSatisfiesTheRules() public view {
        s.slasher.checkTiming();
        assertEq(s.registry.faultWindow(), F);
        assertEq(s.disputes.maxRulingDelay(), R_VOTE);
        assertEq(s.referee.maxRulingDelay(), R);
    }

    function test_RevertWhen_UnbondingDelayLoweredBelowTheFaultPath() public {
        vm.prank(address(s.timelock));
        _expectViolation(RULE_UNBONDING, F + R + V, F + R + V);
        s.staking.setUnbondingDelay(uint48(F + R + V));
    }

    function test_RevertWhen_SignerRotationShorterThanTheFaultWindow() public {
        vm.prank(address(s.timelock));
        _expectViolation(RULE_ROTATION, F, 1 days);
        s.staking.setSignerRotationDelay(1 days);
    }

    function test_RevertWhen_BatchWindowWidensTheFaultWindowTooFar() public {
        vm.prank(address(s.timelock));
        _expectViolation(RULE_UNBONDING, 1 days + 1 hours + 1 days + R + V, U);
        s.registry.setBatchWindow(1 days);
    }

    function test_RevertWhen_ModelChallengeWindowWidensTheFaultWindowTooFar() public {
        IInferenceRegistry.ModelParams memory p =
            _modelParams(IInferenceRegistry.VerificationMode.Optimistic, 1, 1);
        p.challengeWindow = 1 days;
        vm.prank(address(s.timelock));
        _expectViolation(RULE_UNBONDING, 1 days + 1 days + 1 hours + R + V, U);
        s.registry.registerModel(keccak256("slow"), keccak256("runtime"), p);
    }

    function test_RevertWhen_VetoWindowLengthened() public {
        ISlasher.FaultParams memory p = s.slasher.faultParams(ISlasher.FaultKind.WrongResult);
        p.vetoWindow = 3 days;
        vm.prank(address(s.timelock));
        _expectViolation(RULE_UNBONDING, F + R + 3 days, U);
        s.slasher.setFaultParams(ISlasher.FaultKind.WrongResult, p);
    }

    function test_RevertWhen_DisputeVotingLengthened() public {
        vm.prank(address(s.timelock));
        _expectViolation(RULE_UNBONDING, F + 2 days + 12 hours + V, U);
        s.disputes.setVotingPeriod(2 days);
    }

    /// @notice Changes that keep every rule are accepted, in any order.
    function test_SettersAcceptChangesThatKeepTheRules() public {
        vm.startPrank(address(s.timelock));
        s.disputes.setVotingPeriod(12 hours);
        s.registry.setBatchWindow(2 hours);
        s.staking.setSignerRotationDelay(2 days);
        s.staking.setUnbondingDelay(21 days);
        vm.stopPrank();
        s.slasher.checkTiming();
    }
}
