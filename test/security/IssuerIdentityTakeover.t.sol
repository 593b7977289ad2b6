// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../contracts/governance/IdentityRegistry.sol";
import {GovernorDelegateOverrides} from "../../contracts/governance/extensions/GovernorDelegateOverrides.sol";
import {GovernanceSecurityBase} from "./GovernanceSecurityBase.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Issue #10, exploit 4: an approved issuer linked a stakeless puppet into a victim's identity
///         (offering the link to its own puppet, which accepted), let the puppet re-delegate the identity's
///         voice and cast the identity's single override vote first. The victim's votes fell to 0 and the
///         puppet got all of them. Now joining an identity that has accounts needs one of them to consent,
///         the issuer cannot unlink anybody, an offer goes stale once somebody else joins, and an emptied
///         identity is closed: nothing the issuer does moves, redirects or spends the victim's voice.
contract IssuerIdentityTakeoverTest is GovernanceSecurityBase {
    address internal victim;
    uint256 internal victimId;
    address internal puppet = makeAddr("puppet"); // the issuer's own, stakeless
    address internal bystander = makeAddr("bystander"); // staked, unattested: offered an identity later

    function setUp() public override {
        super.setUp();
        _addVoters(10); // 10 x 2e11 + pool: nobody is at the delegate cap
        victim = voters[1];
        victimId = s.identity.identityOf(victim);
        _fund(bystander);
        _delegate(bystander, operators[0], VOTER_STAKE);
        vm.roll(block.number + 2);
    }

    function _offer(address account, uint256 id) internal {
        vm.prank(issuer);
        s.identity.offerLink(account, id);
    }

    function _proposal() internal returns (uint256 id) {
        id = _proposeAs(voters[0], makeAddr("grantee"), 1 ether, "", "grant");
        _openVoting(id);
    }

    /// @dev The measured attack, step by step: each step fails and the victim keeps its votes and its
    ///      override.
    function test_IssuerCannotTakeOverAnIdentitysVoice() public {
        uint256 before = s.votes.getVotes(victim);
        assertEq(before, VOTER_VOICE);

        // (1) the issuer offers its puppet a link into the victim's identity; the puppet accepts
        _offer(puppet, victimId);
        vm.prank(puppet);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkNotConsented.selector, puppet, victimId));
        s.identity.acceptLink(victimId);

        // (2) the puppet re-delegates: it only moves its own (empty) voice
        vm.prank(puppet);
        s.votes.delegate(puppet);
        assertEq(s.votes.delegates(victim), victim);

        // (3) the puppet casts the identity's override first: it has nothing to override
        uint256 id = _proposal();
        vm.prank(puppet);
        vm.expectRevert(abi.encodeWithSelector(GovernorDelegateOverrides.NothingToOverride.selector, puppet));
        s.governor.castOverrideVote(id, 0, "");

        assertEq(s.votes.getVotes(victim), before);
        assertEq(s.votes.getVotes(puppet), 0);
        vm.prank(victim);
        assertEq(s.governor.castVote(id, 1), before);
        assertFalse(s.governor.hasOverridden(id, bytes32(victimId | (uint256(1) << 255))));
    }

    function test_RevertWhen_IssuerUnlinksTheVictim() public {
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.UnauthorizedUnlink.selector, issuer, victim));
        s.identity.unlink(victim);
        assertEq(s.identity.identityOf(victim), victimId);
        assertEq(s.votes.getVotes(victim), VOTER_VOICE);
    }

    /// @dev The race: the bystander is offered a fresh identity; the puppet takes it first and consents to
    ///      the bystander. The bystander's acceptance (already on its way) fails instead of joining an
    ///      identity the puppet controls, and the issuer cannot renew the offer under it.
    function test_IssuerCannotRaceAPuppetIntoAnIdentityOfferedAsFresh() public {
        uint256 voice = s.votes.getVotes(bystander);
        vm.prank(issuer);
        uint256 fresh = s.identity.createIdentity();
        _offer(bystander, fresh);
        _offer(puppet, fresh);
        vm.prank(puppet);
        s.identity.acceptLink(fresh);
        vm.prank(puppet);
        s.identity.consentToLink(bystander);
        vm.prank(puppet);
        s.votes.delegate(puppet);

        vm.prank(issuer);
        vm.expectRevert(
            abi.encodeWithSelector(IdentityRegistry.LinkAlreadyOffered.selector, bystander, fresh)
        );
        s.identity.offerLink(bystander, fresh);
        vm.prank(bystander);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityChangedSinceOffer.selector, fresh));
        s.identity.acceptLink(fresh);

        assertEq(s.identity.identityOf(bystander), 0);
        assertEq(s.votes.delegates(bystander), bystander);
        assertEq(s.votes.getVotes(bystander), voice);
        assertEq(s.votes.getVotes(puppet), 0);
    }

    /// @dev The puppet uses an identity, delegates it to the issuer and leaves; the identity is closed, so it
    ///      cannot be handed to the bystander with that delegatee pre-set.
    function test_IssuerCannotHandOutAnIdentityPreDelegatedToItself() public {
        vm.prank(issuer);
        uint256 used = s.identity.createIdentity();
        _offer(puppet, used);
        vm.prank(puppet);
        s.identity.acceptLink(used);
        vm.prank(puppet);
        s.votes.delegate(issuer);
        vm.prank(puppet);
        s.identity.unlink(puppet);
        assertTrue(s.identity.isClosed(used));

        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.ClosedIdentity.selector, used));
        s.identity.offerLink(bystander, used);
        assertEq(s.votes.getVotes(issuer), 0);
    }

    /// @dev The legitimate path still works: the victim adds its own second account by consenting to it;
    ///      the identity's voice stays with the victim's delegatee and grows with the new stake.
    function test_MemberConsentLetsTheVictimAddItsOwnAccount() public {
        address second = makeAddr("victim-2");
        _fund(second);
        vm.prank(victim);
        s.identity.consentToLink(second);
        _offer(second, victimId);
        vm.prank(second);
        s.identity.acceptLink(victimId);
        _delegate(second, operators[0], VOTER_STAKE);
        assertEq(s.identity.identityOf(second), victimId);
        assertEq(s.votes.delegates(second), victim);
        assertEq(s.votes.getVotes(victim), Math.sqrt(2 * VOTER_STAKE));
    }

    /// @dev A whale's several accounts in one identity, linked the way the simulator must now do it: for
    ///      each later account a linked account consents, then the issuer offers and the account accepts.
    function test_SeveralAccountsOfOnePersonLinkThroughMemberConsent() public {
        address[] memory accounts = new address[](3);
        for (uint256 i; i < 3; ++i) {
            accounts[i] = makeAddr(string.concat("whale-", vm.toString(i)));
        }
        uint256 id = _identity(accounts);
        assertEq(s.identity.accountCount(id), 3);
        for (uint256 i; i < 3; ++i) {
            assertEq(s.identity.identityOf(accounts[i]), id);
            assertEq(s.votes.delegates(accounts[i]), accounts[0]);
        }
    }
}
