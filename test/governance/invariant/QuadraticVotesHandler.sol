// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../../contracts/governance/QuadraticVotes.sol";
import {VotesStakingStub} from "../mocks/VotesStakingStub.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Drives stake changes, identity links/unlinks and delegations of honest actors, and the moves of
///         a rogue issuer with a stakeless puppet account (linking the puppet into honest identities,
///         unlinking honest accounts, racing an honest account into a shared identity, re-delegating).
///         Keeps ghost copies of every stake, link and delegatee, updated only by the honest actors' own
///         calls, so the invariants can recompute the voice from scratch and check that nothing the issuer
///         does moves an honest actor's voice.
contract QuadraticVotesHandler is Test {
    uint256 public constant ACTORS = 8;
    uint256 public constant IDS = 3;

    VotesStakingStub public staking;
    IdentityRegistry public ids;
    QuadraticVotes public qv;
    address public issuer;
    address public puppet = makeAddr("puppet");

    address[ACTORS] public actors;
    uint256[IDS] public identities;
    uint256[ACTORS] public ghostStake;
    uint256[ACTORS] public ghostIdentity;
    /// @dev The delegatee each actor chose while unattested (zero = itself).
    address[ACTORS] public ghostOwnDelegate;
    /// @dev Fresh identity offered to an actor and not yet accepted or declined.
    uint256[ACTORS] public pendingFresh;
    mapping(uint256 identityId => address) public ghostIdentityDelegate;

    /// @dev Times the puppet ended up in an identity together with an honest actor, or an honest account
    ///      was unlinked by the issuer. Must stay zero.
    uint256 public breaches;
    /// @dev The last identity the puppet emptied by leaving it.
    uint256 public lastPuppetIdentity;

    uint256[] public recordedBlocks;
    mapping(uint256 blockNumber => uint256) public recordedTotal;
    mapping(uint256 blockNumber => uint256) public recordedVoices;

    constructor(VotesStakingStub staking_, IdentityRegistry ids_, QuadraticVotes qv_, address issuer_) {
        staking = staking_;
        ids = ids_;
        qv = qv_;
        issuer = issuer_;
        for (uint256 i; i < ACTORS; ++i) {
            actors[i] = makeAddr(string(abi.encodePacked("actor", i)));
        }
        for (uint256 i; i < IDS; ++i) {
            identities[i] = _create();
        }
    }

    // ------------------------------------------------------------------ honest actors

    function setStake(uint256 a, uint256 amount) external {
        a = bound(a, 0, ACTORS - 1);
        amount = bound(amount, 0, 1e30);
        staking.setStake(actors[a], amount);
        ghostStake[a] = amount;
    }

    /// @notice Links actor `a` to one of the honest identities: a member consents (if it has accounts),
    ///         the issuer offers, the actor accepts. A closed identity is replaced by a fresh one.
    function link(uint256 a, uint256 idIdx) external {
        a = bound(a, 0, ACTORS - 1);
        if (ghostIdentity[a] != 0 || pendingFresh[a] != 0) return;
        idIdx = bound(idIdx, 0, IDS - 1);
        if (ids.isClosed(identities[idIdx])) identities[idIdx] = _create();
        uint256 id = identities[idIdx];
        if (ids.accountCount(id) != 0) {
            (bool found, uint256 m) = _memberOf(id);
            if (!found) return; // only the puppet is in it: honest actors do not join
            vm.prank(actors[m]);
            ids.consentToLink(actors[a]);
        }
        vm.prank(issuer);
        ids.offerLink(actors[a], id);
        _waitLinkCooldown(a);
        vm.prank(actors[a]);
        ids.acceptLink(id);
        _joined(a, id);
    }

    /// @dev An actor that left an identity waits out the link cooldown before it accepts a new link.
    function _waitLinkCooldown(uint256 a) private {
        uint256 ready = ids.linkReadyAt(actors[a]);
        if (ready > block.number) vm.roll(ready);
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
        address d = actors[bound(to, 0, ACTORS - 1)];
        vm.prank(actors[a]);
        qv.delegate(d);
        if (ghostIdentity[a] != 0) ghostIdentityDelegate[ghostIdentity[a]] = d;
        else ghostOwnDelegate[a] = d;
    }

    /// @notice The issuer offers actor `a` a fresh identity; the actor accepts later (`acceptFresh`).
    function offerFresh(uint256 a) external {
        a = bound(a, 0, ACTORS - 1);
        if (ghostIdentity[a] != 0 || pendingFresh[a] != 0) return;
        uint256 id = _create();
        vm.prank(issuer);
        ids.offerLink(actors[a], id);
        pendingFresh[a] = id;
    }

    /// @notice Actor `a` accepts the fresh identity it was offered (declines it if that fails).
    function acceptFresh(uint256 a) external {
        a = bound(a, 0, ACTORS - 1);
        uint256 id = pendingFresh[a];
        if (id == 0) return;
        pendingFresh[a] = 0;
        _waitLinkCooldown(a);
        vm.prank(actors[a]);
        try ids.acceptLink(id) {
            if (ids.identityOf(puppet) == id) ++breaches;
            // an account accepting a fresh identity expects to be its first account, with its own delegatee
            ghostIdentityDelegate[id] = _own(a);
            ghostIdentity[a] = id;
        } catch {
            vm.prank(actors[a]);
            ids.declineLink(id);
        }
    }

    // ------------------------------------------------------------------ rogue issuer and its puppet

    /// @notice The issuer links its puppet into identity `idIdx` (offer + accept, no member's consent).
    function rogueJoin(uint256 idIdx) external {
        uint256 id = identities[bound(idIdx, 0, IDS - 1)];
        _roguePuppetInto(id);
    }

    /// @notice The issuer races its puppet into the fresh identity offered to actor `a`, and the puppet
    ///         consents to the actor joining it.
    function rogueRace(uint256 a) external {
        a = bound(a, 0, ACTORS - 1);
        uint256 id = pendingFresh[a];
        if (id == 0) return;
        _roguePuppetInto(id);
        if (ids.identityOf(puppet) == id) {
            vm.prank(puppet);
            ids.consentToLink(actors[a]);
        }
    }

    /// @notice The issuer tries to unlink actor `a`.
    function rogueUnlink(uint256 a) external {
        a = bound(a, 0, ACTORS - 1);
        if (ghostIdentity[a] == 0) return;
        vm.prank(issuer);
        try ids.unlink(actors[a]) {
            ++breaches;
            ghostIdentity[a] = 0;
        } catch {}
    }

    /// @notice The puppet re-delegates whatever it controls to itself.
    function rogueDelegate() external {
        vm.prank(puppet);
        qv.delegate(puppet);
        uint256 id = ids.identityOf(puppet);
        if (id == 0) return;
        // the ghost follows the puppet only in an identity of its own (no honest account in it)
        (bool shared,) = _memberOf(id);
        if (!shared) ghostIdentityDelegate[id] = puppet;
    }

    /// @notice The puppet leaves its identity (closing it).
    function rogueLeave() external {
        uint256 id = ids.identityOf(puppet);
        if (id == 0) return;
        vm.prank(puppet);
        ids.unlink(puppet);
        if (ids.accountCount(id) == 0) lastPuppetIdentity = id;
    }

    /// @notice The issuer offers actor `a`, as if fresh, the identity its puppet used (and delegated) and left.
    function rogueRecycle(uint256 a) external {
        a = bound(a, 0, ACTORS - 1);
        uint256 id = lastPuppetIdentity;
        if (id == 0 || ghostIdentity[a] != 0 || pendingFresh[a] != 0) return;
        vm.prank(issuer);
        try ids.offerLink(actors[a], id) {
            pendingFresh[a] = id;
        } catch {}
    }

    function _roguePuppetInto(uint256 id) internal {
        if (ids.identityOf(puppet) != 0) return;
        (bool pending,) = ids.linkOffer(puppet, id);
        if (!pending) {
            vm.prank(issuer);
            try ids.offerLink(puppet, id) {}
            catch {
                return;
            }
        }
        bool hadHonest = ids.accountCount(id) != 0;
        vm.prank(puppet);
        try ids.acceptLink(id) {
            if (hadHonest) ++breaches;
            if (ghostIdentityDelegate[id] == address(0)) ghostIdentityDelegate[id] = puppet;
        } catch {
            vm.prank(puppet);
            ids.declineLink(id);
        }
    }

    // ------------------------------------------------------------------ time

    function advance(uint256 blocks) external {
        // record the total of the block being closed, then move on
        if (recordedTotal[block.number] == 0) recordedBlocks.push(block.number);
        recordedTotal[block.number] = expectedTotal() + 1; // +1 so zero totals are recorded too
        recordedVoices[block.number] = expectedVoiceCount();
        vm.roll(block.number + bound(blocks, 1, 5));
    }

    // ------------------------------------------------------------------ ghost views

    /// @notice The delegatee actor `i`'s voice must have, from the honest actors' own calls only.
    function expectedDelegate(uint256 i) public view returns (address d) {
        uint256 id = ghostIdentity[i];
        if (id != 0) return ghostIdentityDelegate[id];
        d = _own(i);
    }

    /// @notice Σ over identities sqrt(Σ linked stakes) + sqrt(Σ unattested stakes), from ghost state (the
    ///         puppet is stakeless).
    function expectedTotal() public view returns (uint256 total) {
        uint256 pool;
        for (uint256 i; i < ACTORS; ++i) {
            uint256 id = ghostIdentity[i];
            if (id == 0) {
                pool += ghostStake[i];
                continue;
            }
            if (_firstOf(i, id)) total += Math.sqrt(ghostStakeOf(id));
        }
        total += Math.sqrt(pool);
    }

    /// @notice The identities holding ghost stake, plus one when some unattested actor holds stake (the
    ///         puppet is stakeless).
    function expectedVoiceCount() public view returns (uint256 n) {
        bool pool;
        for (uint256 i; i < ACTORS; ++i) {
            uint256 id = ghostIdentity[i];
            if (id == 0) {
                if (ghostStake[i] != 0) pool = true;
            } else if (_firstOf(i, id) && Math.sqrt(ghostStakeOf(id)) != 0) {
                ++n;
            }
        }
        if (pool) ++n;
    }

    /// @notice Σ ghost stakes of the actors linked to `id`.
    function ghostStakeOf(uint256 id) public view returns (uint256 s) {
        for (uint256 i; i < ACTORS; ++i) {
            if (ghostIdentity[i] == id) s += ghostStake[i];
        }
    }

    function recordedCount() external view returns (uint256) {
        return recordedBlocks.length;
    }

    // ------------------------------------------------------------------ internals

    function _create() internal returns (uint256 id) {
        vm.prank(issuer);
        id = ids.createIdentity();
    }

    function _joined(uint256 a, uint256 id) internal {
        if (ghostIdentityDelegate[id] == address(0)) {
            // the first account gives the identity its own (unattested) delegatee
            ghostIdentityDelegate[id] = _own(a);
        }
        ghostIdentity[a] = id;
    }

    function _own(uint256 a) internal view returns (address) {
        return ghostOwnDelegate[a] == address(0) ? actors[a] : ghostOwnDelegate[a];
    }

    function _memberOf(uint256 id) internal view returns (bool found, uint256 m) {
        for (uint256 i; i < ACTORS; ++i) {
            if (ghostIdentity[i] == id) return (true, i);
        }
    }

    function _firstOf(uint256 i, uint256 id) internal view returns (bool) {
        for (uint256 j; j < i; ++j) {
            if (ghostIdentity[j] == id) return false;
        }
        return true;
    }
}
