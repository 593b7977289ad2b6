// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DeliveryBase} from "../DeliveryBase.sol";
import {DeliveryHandler} from "./DeliveryHandler.sol";

/// @notice Delivery invariants under random lifecycles with hostile and well-behaved consumers.
contract DeliveryInvariantsTest is DeliveryBase {
    DeliveryHandler internal handler;

    function setUp() public override {
        super.setUp();
        uint256[] memory pks = new uint256[](ops.length);
        for (uint256 i; i < ops.length; ++i) {
            pks[i] = signerKey[ops[i]];
        }
        handler = new DeliveryHandler(registry, token, slasher, detModel, ops, pks, client, challenger);
        for (uint256 i; i < 4; ++i) {
            handler.request(i, i % 2 == 0, true, 100_000);
        }
        handler.request(0, false, false, 0);
        targetContract(address(handler));
    }

    /// @notice No delivery or retry, whatever its consumer did, ever changed a request's status, a slash, an
    ///         operator's or the client's credits (beyond paying the deliverer and an answered availability bond).
    function invariant_CallbackOutcomeNeverChangesPaymentsStatusOrSlashes() public view {
        assertEq(handler.violations(), 0);
    }

    /// @notice Token balance == escrow (unsettled fees, callback fees, availability bonds) + credits owed.
    function invariant_TokensConserved() public view {
        uint256 credits = registry.credits(client) + registry.credits(challenger) + registry.credits(treasury)
            + registry.credits(handler.keeper());
        for (uint256 i; i < ops.length; ++i) {
            credits += registry.credits(ops[i]);
        }
        assertEq(token.balanceOf(address(registry)), handler.escrowed() + credits);
    }

    /// @notice The handler's actions really reach the registry: a scripted lifecycle through them delivers to a
    ///         failing consumer and a succeeding one (so the invariants above are not vacuous).
    function test_HandlerActionsAreAccepted() public {
        for (uint256 r; r < 4; ++r) {
            for (uint256 o; o < 3; ++o) {
                handler.answer(r, o, true);
            }
        }
        handler.warp(2 hours);
        handler.warp(2 hours);
        for (uint256 r; r < 4; ++r) {
            handler.finalize(r);
            handler.deliver(r, true);
        }
        assertEq(handler.delivered(), 4);
        assertGt(handler.failedCallbacks(), 0);
        assertEq(handler.violations(), 0);
    }
}
