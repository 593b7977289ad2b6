// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../../contracts/governance/QuadraticVotes.sol";
import {MockStaking} from "../mocks/MockStaking.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Drives stake changes, identity links/unlinks and delegations; keeps ghost copies of every stake
///         and link so the invariants can recompute the voice from scratch.
contract QuadraticVotesHandler is Test {
    uint256 public constant ACTORS = 8;
    uint256 public constant IDS = 3;

    MockStaking public staking;
    IdentityRegistry public ids;
    QuadraticVotes public qv;
    address public issuer;

    address[ACTORS] public actors;
    uint256[IDS] public identities;
    uint256[ACTORS] public ghostStake;
    uint256[ACTORS] public ghostIdentity;

    uint256[] public recordedBlocks;
    mapping(uint256 blockNumber => uint256) public recordedTotal;

    constructor(MockStaking staking_, IdentityRegistry ids_, QuadraticVotes qv_, address issuer_) {
        staking = staking_;
        ids = ids_;
        qv = qv_;
        issuer = issuer_;
        for (uint256 i; i < ACTORS; ++i) {
            actors[i] = makeAddr(string(abi.encodePacked("actor", i)));
        }
        for (uint256 i; i < IDS; ++i) {
            vm.prank(issuer);
            identities[i] = ids.createIdentity();
        }
    }

    function setStake(uint256 a, uint256 amount) external {
        a = bound(a, 0, ACTORS - 1);
        amount = bound(amount, 0, 1e30);
        staking.setStake(actors[a], amount);
        ghostStake[a] = amount;
    }

    function link(uint256 a, uint256 idIdx) external {
        a = bound(a, 0, ACTORS - 1);
        if (ghostIdentity[a] != 0) return;
        uint256 id = identities[bound(idIdx, 0, IDS - 1)];
        vm.prank(issuer);
        ids.offerLink(actors[a], id);
        vm.prank(actors[a]);
        ids.acceptLink(id);
        ghostIdentity[a] = id;
    }

    function unlink(uint256 a) external {
        a = bound(a, 0, ACTORS - 1);
        if (ghostIdentity[a] == 0) return;
        vm.prank(actors[a]);
        ids.unlink(actors[a]);
        ghostIdentity[a] = 0;
    }

    function delegate(uint256 a, uint256 to) external {
        a = bound(a, 0, ACTORS - 1);
        to = bound(to, 0, ACTORS - 1);
        vm.prank(actors[a]);
        qv.delegate(actors[to]);
    }

    function advance(uint256 blocks) external {
        // record the total of the block being closed, then move on
        if (recordedTotal[block.number] == 0) recordedBlocks.push(block.number);
        recordedTotal[block.number] = expectedTotal() + 1; // +1 so zero totals are recorded too
        vm.roll(block.number + bound(blocks, 1, 5));
    }

    /// @notice Σ over identities sqrt(Σ linked stakes) + sqrt(Σ unattested stakes), from ghost state.
    function expectedTotal() public view returns (uint256 total) {
        uint256 pool;
        for (uint256 i; i < ACTORS; ++i) {
            if (ghostIdentity[i] == 0) pool += ghostStake[i];
        }
        total = Math.sqrt(pool);
        for (uint256 k; k < IDS; ++k) {
            uint256 s;
            for (uint256 i; i < ACTORS; ++i) {
                if (ghostIdentity[i] == identities[k]) s += ghostStake[i];
            }
            total += Math.sqrt(s);
        }
    }

    function recordedCount() external view returns (uint256) {
        return recordedBlocks.length;
    }
}
