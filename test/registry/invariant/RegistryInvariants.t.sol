// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {RegistryBase} from "../RegistryBase.t.sol";
import {RegistryHandler} from "./RegistryHandler.sol";

/// @notice Registry-wide invariants under random request lifecycles, stake changes and fault reports.
contract RegistryInvariantsTest is RegistryBase {
    RegistryHandler internal handler;

    function setUp() public override {
        super.setUp();
        // A third model with k=5 to exercise larger quorums.
        bytes32 big = registry.registerModel(keccak256("w-big"), keccak256("rt-big"), _detParams(5, 3));
        for (uint256 i; i < ops.length; ++i) {
            vm.prank(ops[i]);
            registry.serveModel(big);
        }
        uint256[] memory pks = new uint256[](ops.length);
        for (uint256 i; i < ops.length; ++i) {
            pks[i] = signerKey[ops[i]];
        }
        bytes32[] memory models = new bytes32[](3);
        models[0] = detModel;
        models[1] = optModel;
        models[2] = big;
        handler = new RegistryHandler(
            registry, staking, slasher, resolver, token, ops, pks, models, client, challenger, treasury
        );
        // Seed one request per model so every run has material to work on.
        for (uint256 i; i < 3; ++i) {
            handler.request(i, 1e18, 1 hours);
        }
        require(handler.ridCount() == 3, "seed requests failed");
        targetContract(address(handler));
    }

    /// @notice A finalized (or expired) request never changes status, result or payees.
    function invariant_FinalizedRequestNeverChanges() public view {
        uint256 n = handler.ridCount();
        for (uint256 i; i < n; ++i) {
            uint256 rid = handler.rids(i);
            if (!handler.snapshotTaken(rid)) continue;
            IInferenceRegistry.RequestView memory v = registry.request(rid);
            assertEq(uint8(v.status), handler.snapStatus(rid), "status changed");
            assertEq(v.output, handler.snapOutput(rid), "output changed");
            assertEq(v.rewardedMask, handler.snapRewarded(rid), "payees changed");
        }
    }

    /// @notice Escrow == fees of unsettled requests + unclaimed credits + bonds of open disputes.
    function invariant_FeesConserved() public view {
        uint256 expected;
        uint256 n = handler.ridCount();
        for (uint256 i; i < n; ++i) {
            IInferenceRegistry.RequestView memory v = registry.request(handler.rids(i));
            if (
                v.status == IInferenceRegistry.RequestStatus.Open
                    || v.status == IInferenceRegistry.RequestStatus.Quorum
                    || v.status == IInferenceRegistry.RequestStatus.Disputed
            ) expected += v.fee;
            if (v.status == IInferenceRegistry.RequestStatus.Disputed) expected += v.bond;
        }
        address[] memory accts = handler.accounts();
        for (uint256 i; i < accts.length; ++i) {
            expected += registry.credits(accts[i]);
        }
        assertEq(token.balanceOf(address(registry)), expected);
    }

    /// @notice Everything ever credited equals the fees and bonds settled: nobody is paid twice.
    function invariant_NobodyPaidTwice() public view {
        uint256 outstanding;
        address[] memory accts = handler.accounts();
        for (uint256 i; i < accts.length; ++i) {
            outstanding += registry.credits(accts[i]);
        }
        assertEq(
            outstanding + handler.ghostClaimed(), handler.ghostSettledFees() + handler.ghostSettledBonds()
        );
    }

    /// @notice No operator is both rewarded for and slashed about the same request.
    function invariant_NoOperatorRewardedAndSlashed() public view {
        uint256 n = slasher.callCount();
        for (uint256 j; j < n; ++j) {
            (, address op, bytes32 ref,) = slasher.calls(j);
            uint256 rid = uint256(ref);
            IInferenceRegistry.RequestView memory v = registry.request(rid);
            address[] memory a = registry.assignedOperators(rid);
            for (uint256 i; i < a.length; ++i) {
                if (a[i] == op) assertEq(v.rewardedMask & (2 ** i), 0, "rewarded and slashed");
            }
        }
    }

    /// @notice Assignment never picks a jailed, zero-weight or non-serving operator.
    function invariant_AssignmentOnlySelectable() public view {
        assertEq(handler.badAssignments(), 0);
    }

    /// @notice Payees always agreed with the recorded result.
    function invariant_PayeesAgreedWithResult() public view {
        uint256 n = handler.ridCount();
        for (uint256 i; i < n; ++i) {
            IInferenceRegistry.RequestView memory v = registry.request(handler.rids(i));
            assertEq(v.rewardedMask & ~v.agreeMask, 0, "payee did not agree");
            assertEq(v.rewardedMask & v.faultedMask, 0, "faulted payee");
        }
    }

    /// @notice Security finding 1: no stake is slashed on a ruling that was not positively decided.
    function invariant_NoSlashWithoutDecision() public view {
        assertEq(handler.ghostSlashesWithoutDecision(), 0);
    }

    /// @notice Security finding 5: a model slot is held only while its operator qualifies. A zero-weight
    ///         operator can always be evicted by anyone; a qualifying one never.
    function invariant_SlotsHeldOnlyWhileQualifying() public view {
        assertEq(handler.ghostEvictedWhileQualifying(), 0, "evicted a qualifying operator");
        assertEq(handler.ghostStuckZeroWeightSlots(), 0, "a zero-weight operator could not be evicted");
    }

    /// @notice The eviction and undecided-ruling actions really run (guards against a vacuous property).
    function test_HandlerEvictsAndAppliesUndecidedRulings() public {
        handler.jail(0, true);
        handler.evict(0, 0);
        assertEq(handler.evictions(), 1, "eviction");
        handler.answer(256, 0, 0); // rids[1], the optimistic request (k = 1), reaches quorum
        handler.challenge(256, 1);
        handler.resolve(0, 4);
        assertEq(handler.undecidedCount(), 1, "undecided ruling");
    }

    /// @notice The handler can drive a request to payout (guards against a vacuous suite).
    function test_HandlerDrivesRequestToPayout() public {
        handler.answer(0, 0, 0);
        handler.answer(0, 1, 0);
        handler.warp(2 hours);
        handler.finalize(0);
        assertEq(handler.finalizedCount(), 1);
    }
}
