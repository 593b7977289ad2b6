// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../../contracts/governance/QuadraticVotes.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {MockStaking} from "../mocks/MockStaking.sol";
import {QuadraticVotesHandler} from "./QuadraticVotesHandler.sol";
import {Test} from "forge-std/Test.sol";

contract QuadraticVotesInvariants is Test {
    QuadraticVotesHandler internal handler;
    QuadraticVotes internal qv;

    function setUp() public {
        vm.roll(10);
        MockStaking staking = new MockStaking();
        IdentityRegistry ids = new IdentityRegistry(address(this));
        qv = new QuadraticVotes(IStaking(address(staking)), address(ids));
        staking.wire(qv);
        ids.wire(qv);
        address issuer = makeAddr("issuer");
        ids.approveIssuer(issuer);
        handler = new QuadraticVotesHandler(staking, ids, qv, issuer);
        targetContract(address(handler));
    }

    /// @notice total voice == Σ per-identity sqrt + sqrt(pool), recomputed from ghost state.
    function invariant_TotalVoiceIsSumOfIdentitySqrtsPlusPoolSqrt() public view {
        assertEq(qv.totalVoice(), handler.expectedTotal());
    }

    /// @notice Delegation never creates or loses voice: Σ delegate votes <= total, short only by the pool's
    ///         per-delegate rounding.
    function invariant_DelegateVotesAddUpToTotal() public view {
        uint256 sum;
        for (uint256 i; i < handler.ACTORS(); ++i) {
            sum += qv.getVotes(handler.actors(i));
        }
        uint256 total = qv.totalVoice();
        assertLe(sum, total);
        assertGe(sum + handler.ACTORS(), total);
    }

    /// @notice Past totals never change once their block is closed.
    function invariant_PastTotalsAreImmutable() public view {
        uint256 n = handler.recordedCount();
        for (uint256 i; i < n; ++i) {
            uint256 b = handler.recordedBlocks(i);
            if (b >= block.number) continue;
            assertEq(qv.getPastTotalSupply(b) + 1, handler.recordedTotal(b));
        }
    }

    /// @notice Each identity's stake equals the sum of its linked accounts' stakes.
    function invariant_IdentityStakeIsSumOfLinkedStakes() public view {
        for (uint256 k; k < handler.IDS(); ++k) {
            uint256 id = handler.identities(k);
            uint256 s;
            for (uint256 i; i < handler.ACTORS(); ++i) {
                if (handler.ghostIdentity(i) == id) s += handler.ghostStake(i);
            }
            assertEq(qv.identityStake(id), s);
        }
    }
}
