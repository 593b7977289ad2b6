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
        assertEq(ids.pendingLink(alice), id);
        vm.prank(alice);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.AccountLinked(alice, id);
        ids.acceptLink(id);
        assertEq(ids.identityOf(alice), id);
        assertEq(ids.accountCount(id), 1);
        assertEq(ids.pendingLink(alice), 0);
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

    function test_AccountIssuerAndAdminCanUnlink() public {
        uint256 id = _newIdentity();
        _link(alice, id);
        _link(bob, id);
        address third = makeAddr("third");
        _link(third, id);
        vm.prank(alice);
        ids.unlink(alice);
        vm.prank(issuer);
        ids.unlink(bob);
        vm.expectEmit(true, true, true, true, address(ids));
        emit IdentityRegistry.AccountUnlinked(third, id, address(this));
        ids.unlink(third);
        assertEq(ids.accountCount(id), 0);
        assertEq(qv.identityOf(third), 0);
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
