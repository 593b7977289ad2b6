// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeGovernor} from "../../contracts/governance/DisputeGovernor.sol";
import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {SecurityBase} from "./SecurityBase.sol";

/// @notice Finding 1 (High): a dispute without quorum slashed honest operators and paid the challenger.
///         The attack: challenge a correct result claiming "no valid result" (bytes32(0)), let the vote miss
///         quorum (or vote for option 0 with the attacker's own stake from another address of its identity),
///         and collect the bond back plus a reporter share while every operator that answered is slashed.
///         These tests run the attack on the suite as DeploySuite deploys it and assert each step now fails.
contract NoQuorumDisputeSlashesHonestOperatorsTest is SecurityBase {
    address internal attackerStake = makeAddr("attacker-stake");

    function setUp() public override {
        super.setUp();
        _addOperators(4, 20_000 ether);
        // The attacker's person: the challenging address and a staked address, both on one identity.
        address[] memory accounts = new address[](2);
        (accounts[0], accounts[1]) = (challenger, attackerStake);
        _identity(accounts);
        _fund(attackerStake);
        _delegate(attackerStake, ops[0], 50_000 ether);
        _advance(1 days);
    }

    /// @dev A request of the deterministic model answered correctly (OUT_A) by every assigned operator.
    function _correctResult() internal returns (uint256 rid) {
        rid = _request(detModel);
        _answerAll(rid, OUT_A);
        assertEq(uint8(s.registry.request(rid).status), uint8(IInferenceRegistry.RequestStatus.Quorum));
    }

    function _slashCount() internal view returns (uint256) {
        return s.slasher.slashCount();
    }

    /// @notice The original attack, step 1: an empty claim is refused outright.
    function test_ChallengeClaimingNoValidResultIsRefused() public {
        uint256 rid = _correctResult();
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidOutputHash.selector, bytes32(0)));
        s.registry.challenge(rid, bytes32(0));
    }

    /// @notice With a concrete (false) claim and no quorum, nothing is decided: the correct result stands, the
    ///         honest operators are paid, not slashed and not jailed, and the attacker loses its bond.
    function test_NoQuorumLeavesResultStandingAndSlashesNobody() public {
        uint256 rid = _correctResult();
        address[] memory assigned = s.registry.assignedOperators(rid);
        uint256 attackerBefore = s.token.balanceOf(challenger);
        uint256[] memory stakeBefore = new uint256[](assigned.length);
        for (uint256 i; i < assigned.length; ++i) {
            stakeBefore[i] = s.staking.operatorStake(assigned[i]);
        }

        vm.prank(challenger);
        uint256 did = s.registry.challenge(rid, OUT_B);
        // The attacker's staked address shares the challenger's identity: barred.
        vm.prank(attackerStake);
        vm.expectRevert(abi.encodeWithSelector(DisputeGovernor.InvolvedVoter.selector, did, attackerStake));
        s.disputes.castVote(did, 0);

        _advanceTo(s.disputes.dispute(did).voteEnd + 1);
        s.disputes.resolve(did);
        assertFalse(s.disputes.dispute(did).decided);
        _advanceTo(s.disputes.dispute(did).executableAt);
        s.disputes.execute(did);

        IInferenceRegistry.RequestView memory v = s.registry.request(rid);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(v.output, OUT_A, "the correct result stands");
        assertEq(_slashCount(), 0, "nobody is slashed without a decision");
        for (uint256 i; i < assigned.length; ++i) {
            assertEq(s.staking.operatorStake(assigned[i]), stakeBefore[i]);
            assertTrue(s.staking.isActiveOperator(assigned[i]), "not jailed");
            assertGt(s.registry.credits(assigned[i]), 0, "paid");
        }
        assertEq(s.registry.credits(challenger), 0);
        assertEq(s.token.balanceOf(challenger), attackerBefore - BOND, "the bond is forfeited");
        // The model can still serve.
        _request(detModel);
        _assertConservation();
    }

    /// @notice A throwaway challenger address with no identity cannot open the dispute at all, so the
    ///         attacker cannot keep its own voice out of the exclusion.
    function test_ThrowawayChallengerIsRefused() public {
        uint256 rid = _correctResult();
        address throwaway = makeAddr("throwaway");
        _fund(throwaway);
        vm.startPrank(throwaway);
        s.token.approve(address(s.registry), type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(DisputeGovernor.ChallengerNotAttested.selector, throwaway));
        s.registry.challenge(rid, OUT_B);
        vm.stopPrank();
    }

    /// @notice The operators' own hot keys cannot vote on a dispute about them, whatever key is current: the
    ///         key in force, and a key whose rotation is pending, on the real Staking.
    function test_InvolvedOperatorsHotKeysAreBarred() public {
        uint256 rid = _correctResult();
        address op = s.registry.assignedOperators(rid)[0];
        address hot = s.staking.signerOf(op);
        address pending = makeAddr("pending-hot");
        vm.prank(op);
        s.staking.rotateSigner(pending);
        vm.prank(challenger);
        uint256 did = s.registry.challenge(rid, OUT_B);
        assertEq(s.staking.signerOf(op), hot, "rotation still pending");
        assertTrue(s.disputes.isInvolved(did, pending));
        assertTrue(s.disputes.isInvolved(did, hot));
        assertTrue(s.disputes.isInvolved(did, op));
        assertTrue(s.disputes.isInvolved(did, attackerStake));
        assertFalse(s.disputes.isInvolved(did, delegators[0]));
    }

    /// @notice A ruling that IS decided (quorum reached) for the challenger's concrete claim still slashes the
    ///         operators that answered otherwise and pays the challenger: the fix removes only the undecided
    ///         path.
    function test_DecidedRulingStillSlashesLosers() public {
        _delegate(delegators[0], ops[1], 200_000 ether); // an uninvolved staker with voice above quorum
        _advance(1 days);
        uint256 rid = _correctResult();
        vm.prank(challenger);
        uint256 did = s.registry.challenge(rid, OUT_B);
        vm.prank(delegators[0]);
        s.disputes.castVote(did, 2); // option 2 = OUT_B, the claim
        _advanceTo(s.disputes.dispute(did).voteEnd + 1);
        assertEq(s.disputes.resolve(did), OUT_B);
        assertTrue(s.disputes.dispute(did).decided);
        _advanceTo(s.disputes.dispute(did).executableAt);
        s.disputes.execute(did);
        assertEq(_slashCount(), 3, "the three operators that answered OUT_A face WrongResult slashes");
        assertEq(s.registry.credits(challenger), BOND);
    }
}
