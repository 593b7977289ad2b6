// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IIdentityObserver, IdentityRegistry} from "../../contracts/governance/IdentityRegistry.sol";
import {GovernanceBase} from "./GovernanceBase.t.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

contract IdentityRegistryTest is GovernanceBase {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal issuer2 = makeAddr("issuer2");
    bytes32 internal constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    function test_IssuerCreatesIdentityAndAccountAccepts() public {
        uint256 id = _newIdentity();
        assertEq(id, 1);
        assertEq(ids.issuerOf(id), issuer);
        vm.prank(issuer);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.LinkOffered(alice, id, issuer);
        ids.offerLink(alice, id);
        (bool pending, bool current) = ids.linkOffer(alice, id);
        assertTrue(pending && current);
        vm.prank(alice);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.AccountLinked(alice, id);
        ids.acceptLink(id);
        assertEq(ids.identityOf(alice), id);
        assertEq(ids.accountCount(id), 1);
        (pending,) = ids.linkOffer(alice, id);
        assertFalse(pending);
        assertEq(qv.identityOf(alice), id);
    }

    function test_RevertWhen_NonAdminApprovesIssuer() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, bytes32(0)
            )
        );
        ids.approveIssuer(alice);
    }

    function test_RevertWhen_ApproveZeroIssuer() public {
        vm.expectRevert(IdentityRegistry.ZeroAddress.selector);
        ids.approveIssuer(address(0));
    }

    function test_RevertWhen_NonIssuerCreatesIdentity() public {
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, ISSUER_ROLE
            )
        );
        ids.createIdentity();
    }

    function test_RevertWhen_OfferUnknownIdentity() public {
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.UnknownIdentity.selector, 7));
        ids.offerLink(alice, 7);
    }

    function test_RevertWhen_OfferZeroAccount() public {
        uint256 id = _newIdentity();
        vm.prank(issuer);
        vm.expectRevert(IdentityRegistry.ZeroAddress.selector);
        ids.offerLink(address(0), id);
    }

    function test_RevertWhen_IssuerOffersAnotherIssuersIdentity() public {
        uint256 id = _newIdentity();
        ids.approveIssuer(issuer2);
        vm.prank(issuer2);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.NotIdentityIssuer.selector, issuer2, id));
        ids.offerLink(alice, id);
    }

    function test_RevertWhen_AcceptWithoutOffer() public {
        uint256 id = _newIdentity();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.NoPendingLink.selector, alice, id));
        ids.acceptLink(id);
    }

    function test_RevertWhen_AcceptWhileLinked() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        uint256 id2 = _newIdentity();
        vm.prank(issuer);
        ids.offerLink(alice, id2);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.AccountAlreadyLinked.selector, alice, id));
        ids.acceptLink(id2);
    }

    function test_RevertWhen_AcceptOfferOfRevokedIssuer() public {
        uint256 id = _newIdentity();
        vm.prank(issuer);
        ids.offerLink(alice, id);
        ids.revokeIssuer(issuer);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, issuer, ISSUER_ROLE
            )
        );
        ids.acceptLink(id);
    }

    function test_AccountAndAdminCanUnlink() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        _link(bob, id);
        vm.prank(alice);
        ids.unlink(alice);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.AccountUnlinked(bob, id, address(this));
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.IdentityClosed(id);
        ids.unlink(bob);
        assertEq(ids.accountCount(id), 0);
        assertEq(qv.identityOf(bob), 0);
        assertTrue(ids.isClosed(id));
    }

    function test_RevertWhen_IssuerUnlinksAnAccountOfItsIdentity() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.UnauthorizedUnlink.selector, issuer, alice));
        ids.unlink(alice);
        assertEq(ids.identityOf(alice), id);
    }

    // ------------------------------------------------------------------ joining an identity with accounts

    function _offer(address account, uint256 id) internal {
        vm.prank(issuer);
        ids.offerLink(account, id);
    }

    function _accept(address account, uint256 id) internal {
        vm.prank(account);
        ids.acceptLink(id);
    }

    function test_RevertWhen_JoiningIdentityWithAccountsWithoutConsent() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        _offer(bob, id);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkNotConsented.selector, bob, id));
        ids.acceptLink(id);
    }

    function test_MembersConsentLetsAccountJoinAndIsConsumed() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(alice);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.LinkConsented(id, bob, alice);
        ids.consentToLink(bob);
        assertEq(ids.linkConsent(id, bob), alice);
        _offer(bob, id);
        _accept(bob, id);
        assertEq(ids.identityOf(bob), id);
        assertEq(ids.accountCount(id), 2);
        assertEq(ids.linkConsent(id, bob), address(0));
    }

    function test_RevertWhen_ConsentingMemberLeftBeforeAccept() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        address carol = makeAddr("carol");
        _link(carol, id);
        vm.prank(alice);
        ids.consentToLink(bob);
        _offer(bob, id);
        vm.prank(alice);
        ids.unlink(alice);
        assertEq(ids.linkConsent(id, bob), address(0));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkNotConsented.selector, bob, id));
        ids.acceptLink(id);
    }

    function test_WithdrawnConsentNoLongerLetsAccountJoin() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(alice);
        ids.consentToLink(bob);
        vm.prank(alice);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.LinkConsentWithdrawn(id, bob, alice);
        ids.withdrawLinkConsent(bob);
        _offer(bob, id);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkNotConsented.selector, bob, id));
        ids.acceptLink(id);
    }

    function test_RevertWhen_WithdrawingConsentThatDoesNotExist() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.NoLinkConsent.selector, bob, id));
        ids.withdrawLinkConsent(bob);
    }

    function test_RevertWhen_UnlinkedAccountConsentsOrWithdraws() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.AccountNotLinked.selector, alice));
        ids.consentToLink(bob);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.AccountNotLinked.selector, alice));
        ids.withdrawLinkConsent(bob);
    }

    function test_RevertWhen_ConsentToZeroAccount() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(alice);
        vm.expectRevert(IdentityRegistry.ZeroAddress.selector);
        ids.consentToLink(address(0));
    }

    // ------------------------------------------------------------------ offers

    function test_RevertWhen_AcceptingAfterSomebodyElseJoined() public {
        uint256 id = _newIdentity();
        _offer(alice, id); // alice is offered an empty identity
        _link(bob, id); // bob joins first
        vm.prank(bob);
        ids.consentToLink(alice);
        (bool pending, bool current) = ids.linkOffer(alice, id);
        assertTrue(pending);
        assertFalse(current);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.IdentityChangedSinceOffer.selector, id));
        ids.acceptLink(id);
        // declining and a fresh offer (made with bob in the identity) go through
        vm.prank(alice);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.LinkDeclined(alice, id);
        ids.declineLink(id);
        _offer(alice, id);
        _accept(alice, id);
        assertEq(ids.accountCount(id), 2);
    }

    function test_RevertWhen_IssuerRenewsPendingOffer() public {
        uint256 id = _newIdentity();
        _offer(alice, id);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkAlreadyOffered.selector, alice, id));
        ids.offerLink(alice, id);
    }

    function test_RevertWhen_DecliningWithoutOffer() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.NoPendingLink.selector, alice, 1));
        ids.declineLink(1);
    }

    function test_OffersOfDifferentIssuersDoNotOverwriteEachOther() public {
        uint256 id = _newIdentity();
        ids.approveIssuer(issuer2);
        vm.prank(issuer2);
        uint256 id2 = ids.createIdentity();
        _offer(alice, id);
        vm.prank(issuer2);
        ids.offerLink(alice, id2);
        _accept(alice, id);
        assertEq(ids.identityOf(alice), id);
    }

    function test_RevertWhen_JoiningClosedIdentity() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(alice);
        ids.consentToLink(bob);
        _offer(bob, id); // made while alice is linked
        vm.prank(alice);
        ids.unlink(alice); // last account leaves: closed
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.ClosedIdentity.selector, id));
        ids.acceptLink(id);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.ClosedIdentity.selector, id));
        ids.offerLink(makeAddr("carol"), id);
    }

    /// @dev A closed identity keeps its last delegatee in QuadraticVotes; closing stops a newcomer from
    ///      inheriting it (an issuer could otherwise hand a victim an identity pre-delegated to itself).
    function test_NewcomerNeverInheritsDelegateeOfEmptiedIdentity() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(alice);
        qv.delegate(issuer);
        vm.prank(alice);
        ids.unlink(alice);
        vm.prank(issuer);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.ClosedIdentity.selector, id));
        ids.offerLink(bob, id);
        uint256 fresh = _newIdentity();
        _link(bob, fresh);
        assertEq(qv.delegates(bob), bob);
    }

    function test_RevertWhen_StrangerUnlinks() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.UnauthorizedUnlink.selector, bob, alice));
        ids.unlink(alice);
    }

    function test_RevertWhen_UnlinkUnlinked() public {
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.AccountNotLinked.selector, alice));
        ids.unlink(alice);
    }

    function test_RevertWhen_WireTwiceOrZero() public {
        vm.expectRevert(IdentityRegistry.AlreadyWired.selector);
        ids.wire(IIdentityObserver(address(1)));
        IdentityRegistry fresh = new IdentityRegistry(address(this));
        vm.expectRevert(IdentityRegistry.ZeroAddress.selector);
        fresh.wire(IIdentityObserver(address(0)));
    }

    function test_RevertWhen_ZeroAdmin() public {
        vm.expectRevert(IdentityRegistry.ZeroAddress.selector);
        new IdentityRegistry(address(0));
    }

    function test_RevokedIssuerCannotCreate() public {
        ids.revokeIssuer(issuer);
        vm.prank(issuer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, issuer, ISSUER_ROLE
            )
        );
        ids.createIdentity();
    }
}
