// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../../contracts/governance/QuadraticVotes.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {VotesStakingStub} from "../mocks/VotesStakingStub.sol";
import {QuadraticVotesHandler} from "./QuadraticVotesHandler.sol";
import {Test} from "forge-std/Test.sol";

contract QuadraticVotesInvariants is Test {
    QuadraticVotesHandler internal handler;
    QuadraticVotes internal qv;
    IdentityRegistry internal ids;

    function setUp() public {
        vm.roll(10);
        VotesStakingStub staking = new VotesStakingStub();
        ids = new IdentityRegistry(address(this));
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

    /// @notice The voice count of every closed block is the number of identities with voice plus one for a
    ///         non-empty pool, recomputed from ghost state; delegation and the issuer's moves never change it.
    function invariant_VoiceCountIsIdentitiesWithVoicePlusThePool() public view {
        uint256 n = handler.recordedCount();
        for (uint256 i; i < n; ++i) {
            uint256 b = handler.recordedBlocks(i);
            if (b >= block.number) continue;
            assertEq(qv.getPastVoiceCount(b), handler.recordedVoices(b));
        }
    }

    /// @notice Each identity's stake equals the sum of its linked accounts' stakes.
    function invariant_IdentityStakeIsSumOfLinkedStakes() public view {
        for (uint256 k; k < handler.IDS(); ++k) {
            uint256 id = handler.identities(k);
            assertEq(qv.identityStake(id), handler.ghostStakeOf(id));
        }
        for (uint256 i; i < handler.ACTORS(); ++i) {
            uint256 id = handler.ghostIdentity(i);
            if (id != 0) assertEq(qv.identityStake(id), handler.ghostStakeOf(id));
        }
    }

    /// @notice The voice of every honest account goes where its own identity's accounts (or, unattested,
    ///         the account itself) last delegated it: no issuer action and no puppet account ever
    ///         redirects it.
    function invariant_DelegateeChangesOnlyByTheHoldersOwnAccounts() public view {
        for (uint256 i; i < handler.ACTORS(); ++i) {
            assertEq(qv.delegates(handler.actors(i)), handler.expectedDelegate(i));
        }
    }

    /// @notice The issuer never unlinks an honest account, and its puppet never shares an identity with
    ///         one (neither by joining it nor by racing an account that was offered a fresh identity).
    function invariant_IssuerNeverMovesOrSharesAnHonestIdentity() public view {
        assertEq(handler.breaches(), 0);
        for (uint256 i; i < handler.ACTORS(); ++i) {
            address a = handler.actors(i);
            assertEq(ids.identityOf(a), handler.ghostIdentity(i));
            uint256 p = ids.identityOf(handler.puppet());
            if (p != 0) assertTrue(handler.ghostIdentity(i) != p);
        }
    }
}
