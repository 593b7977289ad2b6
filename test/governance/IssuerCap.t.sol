// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../contracts/governance/QuadraticVotes.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {GovernanceBase} from "./GovernanceBase.t.sol";

/// @notice The per-issuer voice cap, O(1) issuer revocation and the link cooldown (issue #17, section 3).
contract IssuerCapTest is GovernanceBase {
    address internal captured = makeAddr("captured");
    address internal honest2 = makeAddr("honest2");
    address internal whale = makeAddr("whale");
    address internal poolHolder = makeAddr("poolHolder");
    address internal honestA = makeAddr("honestA");
    address internal honestB = makeAddr("honestB");
    address[3] internal honestIssuers;

    /// @dev Three honest issuers (slots 0..2); the captured one, when approved, takes slot 3.
    function setUp() public override {
        super.setUp();
        ids.approveIssuer(honestA);
        ids.approveIssuer(honestB);
        honestIssuers = [issuer, honestA, honestB];
    }

    // ------------------------------------------------------------------ helpers

    function _slot(address iss) internal view returns (uint256 slot) {
        bool assigned;
        (assigned, slot) = qv.issuerSlotOf(iss);
        assertTrue(assigned, "issuer holds a slot");
    }

    function _effective(address iss) internal view returns (uint256 eff) {
        (,,, eff) = qv.issuerVoice(_slot(iss));
    }

    function _raw(address iss) internal view returns (uint256 raw) {
        (,, raw,) = qv.issuerVoice(_slot(iss));
    }

    /// @dev The captured issuer hands `k` identities to one person, each with `tokens`, all delegated to
    ///      `attacker`.
    function _capture(address attacker, uint256 k, uint256 tokens) internal {
        for (uint256 i; i < k; ++i) {
            address s = makeAddr(string.concat("sybil", vm.toString(i)));
            _attestedBy(captured, s, tokens);
            vm.prank(s);
            qv.delegate(attacker);
        }
    }

    /// @dev Honest world: `n` identities with 10,000 tokens each, spread over the three honest issuers, plus
    ///      a pool holder.
    function _honestWorld(uint256 n, uint256 poolTokens) internal {
        for (uint256 i; i < n; ++i) {
            _attestedBy(honestIssuers[i % 3], makeAddr(string.concat("honest", vm.toString(i))), 10_000);
        }
        if (poolTokens != 0) _stake(poolHolder, poolTokens);
    }

    // ------------------------------------------------------------------ the cap

    function test_CapBoundsCapturedIssuerShareAt64Identities() public {
        ids.approveIssuer(captured);
        _honestWorld(8, 10_000);
        address attacker = makeAddr("attacker");
        _capture(attacker, 64, 10_000);
        _mine(1);
        uint256 total = qv.getPastTotalSupply(block.number - 1);
        // without the cap: 64 * sqrt(10,000 tokens) = 64e11 against 9e11 for everybody else (88%)
        assertEq(_raw(captured), 64 * _sqrtTokens(10_000));
        uint256 eff = _effective(captured);
        assertLe(eff * 10_000, qv.issuerCapBps() * total + 10_000, "captured issuer within the cap");
        assertGe(eff * 10_000, (qv.issuerCapBps() - 1) * total, "the cap binds at its level");
        // the attacker, delegate of all 64 identities, gets exactly the issuer's effective voice (rounding)
        uint256 votes = qv.getPastVotes(attacker, block.number - 1);
        assertApproxEqAbs(votes, eff, 1);
        // the honest issuers are untouched
        assertEq(_effective(issuer), 3 * _sqrtTokens(10_000));
        assertEq(_effective(honestB), 2 * _sqrtTokens(10_000));
    }

    function test_DelegateReceivesIssuerShareScaledByCap() public {
        ids.approveIssuer(captured);
        _honestWorld(4, 40_000);
        address d1 = makeAddr("d1");
        address d2 = makeAddr("d2");
        // d1 gets 3 of the captured identities, d2 one
        for (uint256 i; i < 4; ++i) {
            address s = makeAddr(string.concat("c", vm.toString(i)));
            _attestedBy(captured, s, 90_000);
            vm.prank(s);
            qv.delegate(i < 3 ? d1 : d2);
        }
        _mine(1);
        uint256 t = block.number - 1;
        (uint256 raw, uint256 eff) = qv.getPastIssuerVoice(_slot(captured), t);
        assertLt(eff, raw, "captured issuer is capped");
        uint256 v = _sqrtTokens(90_000);
        assertEq(qv.getPastVotes(d1, t), 3 * v * eff / raw);
        assertEq(qv.getPastVotes(d2, t), v * eff / raw);
        // the override voice of one captured identity is scaled the same way
        (,, uint256 holderVoice) = qv.getPastHolder(makeAddr("c0"), t);
        assertEq(holderVoice, v * eff / raw);
    }

    function test_SingleIssuerIsNeverCapped() public {
        for (uint256 i; i < 6; ++i) {
            _attested(makeAddr(string.concat("honest", vm.toString(i))), 10_000);
        }
        _mine(1);
        assertEq(qv.getPastTotalSupply(block.number - 1), 6 * _sqrtTokens(10_000));
        assertEq(_effective(issuer), _raw(issuer));
    }

    function test_WhenEveryIssuerIsOverTheCapSharesAreEqual() public {
        ids.approveIssuer(captured);
        _attested(whale, 10_000); // honest issuer: 1e11
        _capture(makeAddr("attacker"), 9, 10_000); // captured: 9e11, no pool
        _mine(1);
        // two issuers cannot both stay under 25% without a pool: both are cut to the smaller one's voice
        assertEq(_effective(captured), _sqrtTokens(10_000));
        assertEq(_effective(issuer), _sqrtTokens(10_000));
        assertEq(qv.getPastTotalSupply(block.number - 1), 2 * _sqrtTokens(10_000));
    }

    function test_PoolGrowthLiftsTheCapLevelAtTheNextBlockOnly() public {
        ids.approveIssuer(captured);
        _honestWorld(3, 100);
        _capture(makeAddr("attacker"), 16, 10_000);
        _mine(1);
        uint256 t0 = block.number - 1;
        (, uint256 eff0) = qv.getPastIssuerVoice(_slot(captured), t0);
        uint256 total0 = qv.getPastTotalSupply(t0);
        _stake(poolHolder, 1600); // the pool grows and stays under its own level
        _mine(1);
        (, uint256 eff1) = qv.getPastIssuerVoice(_slot(captured), block.number - 1);
        assertGt(eff1, eff0, "a bigger total lifts the cap level");
        (uint256 poolRaw, uint256 poolEff) = qv.poolVoice();
        assertEq(poolEff, poolRaw, "the pool is under its level");
        // the earlier timepoint is unchanged
        (, uint256 eff0Again) = qv.getPastIssuerVoice(_slot(captured), t0);
        assertEq(eff0Again, eff0);
        assertEq(qv.getPastTotalSupply(t0), total0);
    }

    /// @dev A (delegate, slot) value written while its slot was never capped since the previous one keeps no
    ///      history (the value is read only where the slot is capped or revoked); past votes must still be
    ///      exact at every block across cap and uncap transitions.
    function test_PastVotesStayExactAcrossCapAndUncapOfTheDelegatesSlot() public {
        _attestedBy(honestA, makeAddr("a"), 10_000);
        _attestedBy(honestB, makeAddr("b"), 10_000);
        _stake(poolHolder, 1000);
        address v = makeAddr("v");
        _attestedBy(issuer, v, 100);
        address d = makeAddr("d");
        vm.prank(v);
        qv.delegate(d);
        // stake of v per block: uncapped, uncapped, capped, capped, uncapped, uncapped, capped, uncapped
        uint256[8] memory steps = [uint256(200), 300, 1_000_000, 1_200_000, 300, 400, 2_000_000, 500];
        uint256[8] memory blocks;
        uint256[8] memory votes;
        uint256[8] memory totals;
        bool[8] memory capped;
        for (uint256 i; i < 8; ++i) {
            _mine(1);
            _stake(v, steps[i]);
            blocks[i] = block.number;
            votes[i] = qv.getVotes(d);
            totals[i] = qv.totalVoice();
            capped[i] = _effective(issuer) < _raw(issuer);
        }
        assertTrue(capped[2] && capped[3] && capped[6], "the steps cap the slot");
        assertFalse(capped[0] || capped[1] || capped[4] || capped[5] || capped[7], "and uncap it");
        // the slot stops being capped without a write to the delegate's value (the cap is raised), then the
        // value changes: the value of the capped block must survive
        _mine(1);
        _stake(v, 40_000);
        assertLt(_effective(issuer), _raw(issuer), "capped at 25%");
        (uint256 bCapped, uint256 vCapped) = (block.number, qv.getVotes(d));
        _mine(1);
        qv.setIssuerCapBps(5000);
        assertEq(_effective(issuer), _raw(issuer), "uncapped at 50%");
        _mine(1);
        _stake(v, 50_000);
        assertEq(_effective(issuer), _raw(issuer), "still uncapped");
        (uint256 bLast, uint256 vLast) = (block.number, qv.getVotes(d));
        _mine(1);
        for (uint256 i; i < 8; ++i) {
            assertEq(qv.getPastVotes(d, blocks[i]), votes[i], "past votes unchanged");
            assertEq(qv.getPastTotalSupply(blocks[i]), totals[i], "past totals unchanged");
        }
        assertEq(qv.getPastVotes(d, bCapped), vCapped, "the capped block's value survives the uncap");
        assertEq(qv.getPastVotes(d, bLast), vLast);
    }

    /// @dev A flash-loan-sized pool deposit lifts the level only until the pool reaches its own level
    ///      (sqrt(2) - 1 of it): with three honest identities of v0 the level tops out at
    ///      M = 0.25 * 3 v0 / (1 - 0.25 * 1.4142) (the captured issuer and the pool cut), whatever the deposit.
    function test_PoolDepositLiftsTheCapLevelOnlyUpToThePoolLevel() public {
        ids.approveIssuer(captured);
        _honestWorld(3, 100);
        _capture(makeAddr("attacker"), 16, 10_000);
        _stake(poolHolder, 1_000_000);
        _mine(1);
        uint256 v0 = _sqrtTokens(10_000);
        uint256 top = 3 * v0 * 2500 * 10_000 / (10_000 * 10_000 - 2500 * (10_000 + qv.POOL_LEVEL_BPS()));
        assertApproxEqAbs(_effective(captured), top, 1);
        _stake(poolHolder, 100_000_000);
        _mine(1);
        assertApproxEqAbs(_effective(captured), top, 1, "a bigger deposit does not lift it further");
        (uint256 poolRaw, uint256 poolEff) = qv.poolVoice();
        assertEq(poolRaw, _sqrtTokens(100_000_000));
        assertApproxEqAbs(poolEff, top * qv.POOL_LEVEL_BPS() / 10_000, 1);
        uint256 total = qv.getPastTotalSupply(block.number - 1);
        assertEq(total, 3 * v0 + _effective(captured) + poolEff);
        assertEq(qv.getVotes(poolHolder), poolEff, "the pool's accounts share its effective voice");
    }

    /// @dev The route of issue #17: a holder whose one identity is cut by the cap moves stake into
    ///      unattested accounts. The pool is capped at sqrt(2) - 1 of the issuer level, so identity + pool hold
    ///      at most sqrt(2) of what the capped identity held (share of the total); before, the pool was
    ///      uncapped and the same move gained about 3x.
    function test_MovingStakeIntoTheUnattestedPoolGainsACappedHolderNoVoiceBeyondTheBound() public {
        ids.approveIssuer(captured);
        _honestWorld(6, 5000);
        _capture(makeAddr("attacker"), 16, 10_000);
        address holder = makeAddr("holder");
        uint256 x = 4_000_000;
        uint256 id = _attestedBy(issuer, holder, x);
        _mine(1);
        assertLt(_effective(issuer), _raw(issuer), "the holder's issuer is capped");
        (uint256 v0, uint256 t0) = (qv.getVotes(holder), qv.totalVoice());
        // keep a quarter under the identity, move the rest into three unattested accounts
        _stake(holder, x / 4);
        for (uint256 i; i < 3; ++i) {
            _stake(makeAddr(string.concat("holderPool", vm.toString(i))), x / 4);
        }
        _mine(1);
        assertEq(qv.identityOf(holder), id);
        uint256 v1 = qv.getVotes(holder);
        for (uint256 i; i < 3; ++i) {
            v1 += qv.getVotes(makeAddr(string.concat("holderPool", vm.toString(i))));
        }
        uint256 t1 = qv.totalVoice();
        // share gain v1/t1 over v0/t0 at most sqrt(2) (1.41422)
        assertLe(v1 * t0 * 100_000, 141_422 * v0 * t1, "share gain <= sqrt(2)");
        (uint256 poolRaw, uint256 poolEff) = qv.poolVoice();
        assertLt(poolEff, poolRaw, "the pool is cut to its level");
    }

    function test_SetIssuerCapBpsRecheckpointsTheLevel() public {
        ids.approveIssuer(captured);
        _honestWorld(4, 10_000);
        _capture(makeAddr("attacker"), 32, 10_000);
        _mine(1);
        uint256 t0 = block.number - 1;
        uint256 before = _effective(captured);
        vm.expectEmit(address(qv));
        emit QuadraticVotes.IssuerCapSet(2500, 2000);
        qv.setIssuerCapBps(2000);
        assertLt(_effective(captured), before);
        _mine(1);
        uint256 total = qv.getPastTotalSupply(block.number - 1);
        assertLe(_effective(captured) * 10_000, 2000 * total);
        (, uint256 effT0) = qv.getPastIssuerVoice(_slot(captured), t0);
        assertEq(effT0, before, "the past keeps the old level");
    }

    function test_RevertWhen_IssuerCapOutOfBounds() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                QuadraticVotes.ParameterOutOfBounds.selector, bytes32("issuerCapBps"), 499, 500, 5000
            )
        );
        qv.setIssuerCapBps(499);
        vm.expectRevert(
            abi.encodeWithSelector(
                QuadraticVotes.ParameterOutOfBounds.selector, bytes32("issuerCapBps"), 5001, 500, 5000
            )
        );
        qv.setIssuerCapBps(5001);
    }

    function test_RevertWhen_NonAdminSetsIssuerCap() public {
        vm.prank(whale);
        vm.expectRevert(abi.encodeWithSelector(QuadraticVotes.UnauthorizedCaller.selector, whale));
        qv.setIssuerCapBps(1000);
    }

    function test_RevertWhen_IssuerHooksNotFromRegistry() public {
        vm.expectRevert(abi.encodeWithSelector(QuadraticVotes.UnauthorizedCaller.selector, address(this)));
        qv.onIssuerApproved(captured);
        vm.expectRevert(abi.encodeWithSelector(QuadraticVotes.UnauthorizedCaller.selector, address(this)));
        qv.onIssuerRevoked(issuer);
    }

    function test_RevertWhen_MoreThan16Issuers() public {
        for (uint256 i = 3; i < 16; ++i) {
            ids.approveIssuer(makeAddr(string.concat("iss", vm.toString(i))));
        }
        vm.expectRevert(QuadraticVotes.TooManyIssuers.selector);
        ids.approveIssuer(makeAddr("iss16"));
        // a revocation frees a slot
        ids.revokeIssuer(makeAddr("iss3"));
        ids.approveIssuer(makeAddr("iss16"));
        assertEq(_slot(makeAddr("iss16")), 3);
    }

    function test_RevertWhen_IssuerRenounces() public {
        bytes32 role = ids.ISSUER_ROLE();
        vm.prank(issuer);
        vm.expectRevert(IdentityRegistry.IssuerCannotRenounce.selector);
        ids.renounceRole(role, issuer);
    }

    function test_RevertWhen_ApprovingAnIssuerBeforeTheObserverIsWired() public {
        IdentityRegistry fresh = new IdentityRegistry(address(this));
        vm.expectRevert(IdentityRegistry.NotWired.selector);
        fresh.approveIssuer(captured);
    }

    function test_RevertWhen_IdentityOfAnIssuerWithoutSlotIsLinked() public {
        // a QuadraticVotes whose "registry" is this test: the issuer of identity 1 never took a slot
        QuadraticVotes lone = new QuadraticVotes(IStaking(address(staking)), address(this));
        vm.mockCall(address(this), abi.encodeCall(IdentityRegistry.issuerOf, (1)), abi.encode(captured));
        vm.expectRevert(abi.encodeWithSelector(QuadraticVotes.IssuerWithoutSlot.selector, captured));
        lone.onIdentityChanged(whale, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(QuadraticVotes.IssuerWithoutSlot.selector, captured));
        lone.onIssuerRevoked(captured);
    }

    function test_RevokeRoleDirectlyAlsoSilencesTheIssuer() public {
        ids.approveIssuer(captured);
        _honestWorld(3, 10_000);
        address attacker = makeAddr("attacker");
        _capture(attacker, 2, 10_000);
        bytes32 role = ids.ISSUER_ROLE();
        vm.expectEmit(address(ids));
        emit IdentityRegistry.IssuerRevoked(captured, 1);
        ids.revokeRole(role, captured);
        _mine(1);
        assertEq(qv.getPastVotes(attacker, block.number - 1), 0);
        (bool assigned,) = qv.issuerSlotOf(captured);
        assertFalse(assigned);
    }

    function test_GrantRoleDirectlyAlsoTakesASlot() public {
        ids.grantRole(ids.ISSUER_ROLE(), honest2);
        assertEq(_slot(honest2), 3);
        assertEq(ids.issuerTerm(honest2), 1);
    }

    // ------------------------------------------------------------------ revocation

    function test_RevokeIssuerZeroesAllItsVoiceInOneCall() public {
        ids.approveIssuer(captured);
        _honestWorld(3, 10_000); // one identity per honest issuer: none of them over the cap
        address attacker = makeAddr("attacker");
        _capture(attacker, 20, 10_000);
        _mine(1);
        uint256 tBefore = block.number - 1;
        uint256 votesBefore = qv.getPastVotes(attacker, tBefore);
        uint256 totalBefore = qv.getPastTotalSupply(tBefore);
        assertGt(votesBefore, 0);

        vm.expectEmit(address(qv));
        emit QuadraticVotes.IssuerVoiceRevoked(captured, 3, 0);
        ids.revokeIssuer(captured);
        _mine(1);
        uint256 t = block.number - 1;
        assertEq(qv.getPastVotes(attacker, t), 0, "delegate of the revoked identities");
        (,, uint256 holderVoice) = qv.getPastHolder(makeAddr("sybil0"), t);
        assertEq(holderVoice, 0, "override voice of a revoked identity");
        assertEq(qv.getPastTotalSupply(t), 3 * _sqrtTokens(10_000) + _sqrtTokens(10_000));
        // the past is unchanged
        assertEq(qv.getPastVotes(attacker, tBefore), votesBefore);
        assertEq(qv.getPastTotalSupply(tBefore), totalBefore);
        // later stake changes and delegations of revoked identities move nothing
        _stake(makeAddr("sybil1"), 1_000_000);
        vm.prank(makeAddr("sybil2"));
        qv.delegate(makeAddr("other"));
        _mine(1);
        assertEq(qv.getPastVotes(attacker, block.number - 1), 0);
        assertEq(qv.getPastVotes(makeAddr("other"), block.number - 1), 0);
        assertEq(qv.getPastTotalSupply(block.number - 1), 4 * _sqrtTokens(10_000));
        // an account of a revoked identity may unlink: its stake rejoins the pool at once
        vm.prank(makeAddr("sybil1"));
        ids.unlink(makeAddr("sybil1"));
        _mine(1);
        assertEq(qv.getPastTotalSupply(block.number - 1), 3 * _sqrtTokens(10_000) + _sqrtTokens(1_010_000));
    }

    function _revokeGas(uint256 identities) internal returns (uint256 gasUsed) {
        ids.approveIssuer(captured);
        _honestWorld(2, 10_000);
        _capture(makeAddr("attacker"), identities, 10_000);
        _mine(1);
        uint256 g = gasleft();
        ids.revokeIssuer(captured);
        gasUsed = g - gasleft();
    }

    function test_RevocationGasIsIndependentOfIdentityCount() public {
        uint256 snap = vm.snapshotState();
        uint256 gas1 = _revokeGas(1);
        vm.revertToState(snap);
        uint256 gas50 = _revokeGas(50);
        emit log_named_uint("revokeIssuer gas, 1 identity", gas1);
        emit log_named_uint("revokeIssuer gas, 50 identities", gas50);
        assertEq(gas50, gas1);
    }

    function test_ReapprovedIssuerStartsANewTermAndItsOldIdentitiesStayDead() public {
        ids.approveIssuer(captured);
        _honestWorld(2, 10_000);
        uint256 oldId = _attestedBy(captured, makeAddr("sybil0"), 10_000);
        vm.prank(captured);
        uint256 unused = ids.createIdentity();
        ids.revokeIssuer(captured);
        ids.approveIssuer(captured);
        assertEq(ids.issuerTerm(captured), 2);
        assertTrue(ids.isRevoked(oldId));
        (bool linked, uint256 slot, uint256 gen) = qv.identitySlot(oldId);
        assertTrue(linked);
        (, uint256 slotGen,,) = qv.issuerVoice(slot);
        assertEq(gen, 0);
        assertEq(slotGen, 1, "the slot moved to a new generation");
        // an identity of the old term can never be linked again
        vm.prank(captured);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.RevokedIdentity.selector, unused));
        ids.offerLink(whale, unused);
        // the old identity's stake still counts zero
        _stake(makeAddr("sybil0"), 50_000);
        _mine(1);
        assertEq(qv.getPastVotes(makeAddr("sybil0"), block.number - 1), 0);
        // a new identity of the new term has voice
        _attestedBy(captured, whale, 10_000);
        _mine(1);
        assertEq(qv.getPastVotes(whale, block.number - 1), _sqrtTokens(10_000));
    }

    /// @dev A delegate still holding a revoked generation's value in a slot that goes to a new issuer counts
    ///      only the new issuer's voice; the old value is replaced when the new one arrives.
    function test_SlotReusedByANewIssuerDoesNotReviveTheOldVoiceOfADelegate() public {
        ids.approveIssuer(captured);
        _honestWorld(3, 10_000);
        address attacker = makeAddr("attacker");
        _capture(attacker, 2, 10_000);
        ids.revokeIssuer(captured);
        ids.approveIssuer(honest2);
        assertEq(_slot(honest2), 3, "the revoked slot is reused");
        _mine(1);
        uint256 tGap = block.number - 1;
        assertEq(qv.getPastVotes(attacker, tGap), 0);
        address newcomer = makeAddr("newcomer");
        _attestedBy(honest2, newcomer, 2500);
        vm.prank(newcomer);
        qv.delegate(attacker);
        _mine(1);
        assertEq(qv.getPastVotes(attacker, block.number - 1), _sqrtTokens(2500));
        (uint256 attestedVoice,) = qv.delegateComponents(attacker);
        assertEq(attestedVoice, _sqrtTokens(2500));
        assertEq(qv.getPastVotes(attacker, tGap), 0, "the past is unchanged");
        // the newcomer leaves: the attacker is back to zero
        vm.prank(newcomer);
        qv.delegate(newcomer);
        _mine(1);
        assertEq(qv.getPastVotes(attacker, block.number - 1), 0);
    }

    function test_RevertWhen_AcceptingAnOfferOfARevokedTerm() public {
        ids.approveIssuer(captured);
        vm.prank(captured);
        uint256 id = ids.createIdentity();
        vm.prank(captured);
        ids.offerLink(whale, id);
        ids.revokeIssuer(captured);
        ids.approveIssuer(captured);
        vm.prank(whale);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.RevokedIdentity.selector, id));
        ids.acceptLink(id);
    }

    // ------------------------------------------------------------------ link cooldown

    function test_RevertWhen_LinkBeforeCooldownAfterOwnUnlink() public {
        _attested(whale, 100);
        vm.prank(whale);
        ids.unlink(whale);
        uint256 ready = block.number + ids.linkCooldown();
        assertEq(ids.linkReadyAt(whale), ready);
        uint256 y = _newIdentity();
        vm.prank(issuer);
        ids.offerLink(whale, y);
        vm.roll(ready - 1);
        vm.prank(whale);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkCooldownActive.selector, whale, ready));
        ids.acceptLink(y);
        vm.roll(ready);
        vm.prank(whale);
        ids.acceptLink(y);
        assertEq(ids.identityOf(whale), y);
    }

    function test_RevertWhen_LinkBeforeCooldownAfterAdminUnlink() public {
        _attested(whale, 100);
        ids.unlink(whale); // the admin
        uint256 y = _newIdentity();
        vm.prank(issuer);
        ids.offerLink(whale, y);
        uint256 ready = block.number + ids.linkCooldown();
        vm.prank(whale);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkCooldownActive.selector, whale, ready));
        ids.acceptLink(y);
    }

    /// @dev The hop the cooldown stops: an account leaves identity X (its delegate has voted on proposal 1
    ///      with it) and would join identity Y so that Y's delegate votes with the same stake on proposal 2,
    ///      whose snapshot falls between the unlink and the link.
    function test_CooldownStopsVoiceHoppingBetweenIdentitiesAroundASnapshot() public {
        address dx = makeAddr("dx");
        address dy = makeAddr("dy");
        uint256 x = _attested(whale, 10_000);
        vm.prank(whale);
        qv.delegate(dx);
        address yMember = makeAddr("yMember");
        uint256 y = _attested(yMember, 1);
        vm.prank(yMember);
        qv.delegate(dy);
        _mine(1);
        uint256 t1 = block.number - 1; // snapshot of proposal 1: whale's voice is with dx
        assertEq(qv.getPastVotes(dx, t1), _sqrtTokens(10_000));

        vm.prank(whale);
        ids.unlink(whale);
        assertEq(ids.identityOf(whale), 0);
        _mine(1);
        uint256 t2 = block.number; // proposal 2's snapshot, after the unlink
        vm.prank(yMember);
        ids.consentToLink(whale);
        vm.prank(issuer);
        ids.offerLink(whale, y);
        uint256 ready = ids.linkReadyAt(whale);
        vm.prank(whale);
        vm.expectRevert(abi.encodeWithSelector(IdentityRegistry.LinkCooldownActive.selector, whale, ready));
        ids.acceptLink(y);
        _mine(1);
        // at proposal 2's snapshot the stake sits in the pool, not with Y's delegate
        assertEq(qv.getPastVotes(dy, t2), _sqrtTokens(1));
        assertEq(qv.getPastVotes(dx, t2), 0);
        assertEq(qv.getPastVotes(whale, t2), _sqrtTokens(10_000));
        assertTrue(ids.isClosed(x));
    }

    function test_SetLinkCooldownBoundsAndEvent() public {
        vm.expectEmit(address(ids));
        emit IdentityRegistry.LinkCooldownSet(ids.DEFAULT_LINK_COOLDOWN(), 10);
        ids.setLinkCooldown(10);
        assertEq(ids.linkCooldown(), 10);
        vm.expectRevert(
            abi.encodeWithSelector(
                IdentityRegistry.ParameterOutOfBounds.selector, bytes32("linkCooldown"), 0, 1, 216_000
            )
        );
        ids.setLinkCooldown(0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IdentityRegistry.ParameterOutOfBounds.selector, bytes32("linkCooldown"), 216_001, 1, 216_000
            )
        );
        ids.setLinkCooldown(216_001);
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Random issuers (2..6), identities per issuer, stakes and pool, with a captured issuer minting up
    ///      to 64 identities for one person: every issuer's effective voice is within the cap (or, when every
    ///      live issuer is over it, all hold equal shares), the totals add up and delegates' votes never
    ///      exceed the total.
    function testFuzz_IssuerShareNeverExceedsCap(
        uint8 nIssuers,
        uint8 nSybils,
        uint256 seed,
        uint256 poolTokens,
        uint16 capBps
    ) public {
        nIssuers = uint8(bound(nIssuers, 1, 5));
        nSybils = uint8(bound(nSybils, 1, 64));
        poolTokens = bound(poolTokens, 0, 10_000_000);
        qv.setIssuerCapBps(bound(capBps, 500, 5000));
        address[] memory issuers = new address[](nIssuers + 1);
        issuers[0] = issuer;
        for (uint256 i = 1; i <= nIssuers; ++i) {
            issuers[i] = makeAddr(string.concat("fiss", vm.toString(i)));
            ids.approveIssuer(issuers[i]);
        }
        for (uint256 i; i <= nIssuers; ++i) {
            uint256 n = uint256(keccak256(abi.encode(seed, i))) % 4 + 1;
            for (uint256 j; j < n; ++j) {
                uint256 tokens = uint256(keccak256(abi.encode(seed, i, j))) % 1_000_000 + 1;
                _attestedBy(
                    issuers[i], makeAddr(string.concat("h", vm.toString(i), "_", vm.toString(j))), tokens
                );
            }
        }
        ids.approveIssuer(captured);
        address attacker = makeAddr("attacker");
        _capture(attacker, nSybils, uint256(keccak256(abi.encode(seed, "sybil"))) % 1_000_000 + 1);
        if (poolTokens != 0) _stake(poolHolder, poolTokens);
        _mine(1);
        uint256 t = block.number - 1;
        uint256 total = qv.getPastTotalSupply(t);
        (uint256 attestedEff, uint256 su) = qv.totalComponents();
        (uint256 poolRaw, uint256 poolEff) = qv.poolVoice();
        assertEq(poolRaw, _sqrt(su));
        assertLe(poolEff, poolRaw);
        assertEq(total, attestedEff + poolEff);

        uint256 cap = qv.issuerCapBps();
        uint256 sumEff;
        uint256 minRaw = type(uint256).max;
        bool anyOver;
        for (uint256 s; s < 16; ++s) {
            (uint256 raw, uint256 eff) = qv.getPastIssuerVoice(s, t);
            sumEff += eff;
            if (raw == 0) continue;
            if (raw < minRaw) minRaw = raw;
            // rounding: the level is floored, so at most 1 unit per issuer over the exact bound
            if (eff * 10_000 > cap * total + 16 * 10_000) anyOver = true;
        }
        assertEq(sumEff, attestedEff, "effective voices add up to the attested total");
        if (poolEff < poolRaw) {
            // a cut pool holds at most POOL_LEVEL_BPS of the issuer bound (rounding: a unit per source)
            assertLe(poolEff * 1e8, qv.POOL_LEVEL_BPS() * cap * total + 17 * 1e8, "pool within its level");
            assertFalse(anyOver, "the pool is cut only while the issuer cap is met");
        }
        if (anyOver) {
            // only allowed when every live issuer is cut: then all hold the smallest issuer's voice
            for (uint256 s; s < 16; ++s) {
                (uint256 raw, uint256 eff) = qv.getPastIssuerVoice(s, t);
                if (raw != 0) assertEq(eff, minRaw, "equal shares when every issuer is cut");
            }
        }
        // the captured issuer's person gets no more than its issuer's effective voice
        (, uint256 capturedEff) = qv.getPastIssuerVoice(_slot(captured), t);
        assertLe(qv.getPastVotes(attacker, t), capturedEff);
        assertLe(qv.getPastVotes(attacker, t) + qv.getPastVotes(poolHolder, t), total);
    }
}
