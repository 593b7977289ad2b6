// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {GovernanceBase} from "./GovernanceBase.t.sol";

/// @notice The Sybil argument of docs/governance.md, tested: with per-identity pooling and one shared pool
///         for unattested stake, no split of one person's stake (part under its identity, the rest spread
///         over any number of unattested accounts, any delegation pattern) gains more than sqrt(2) < 1.5,
///         in absolute voice and in share of the total.
contract SybilTest is GovernanceBase {
    address internal attacker = makeAddr("attacker");

    function _honest(uint256[3] memory h, uint256 pool) internal {
        for (uint256 i; i < 3; ++i) {
            if (h[i] != 0) _attested(makeAddr(string(abi.encodePacked("honest", i))), h[i]);
        }
        if (pool != 0) _stake(makeAddr("poolie"), pool);
    }

    /// @dev Voice of the attacker when all its stake sits under its identity.
    function _baseline(uint256 x, uint256[3] memory h, uint256 pool)
        internal
        returns (uint256 voice, uint256 total)
    {
        uint256 snap = vm.snapshotState();
        _honest(h, pool);
        _attested(attacker, x);
        voice = qv.getVotes(attacker);
        total = qv.totalVoice();
        vm.revertToState(snap);
    }

    function testFuzz_SplitGainAtMostSqrt2(
        uint256 x,
        uint256 keepBps,
        uint8 k,
        uint256 seed,
        bool delegateAll,
        uint256[3] memory h,
        uint256 pool
    ) public {
        x = bound(x, 1, 1e12);
        keepBps = bound(keepBps, 0, 10_000);
        k = uint8(bound(k, 1, 6));
        for (uint256 i; i < 3; ++i) {
            h[i] = bound(h[i], 0, 1e12);
        }
        pool = bound(pool, 0, 1e12);
        (uint256 v0, uint256 t0) = _baseline(x, h, pool);
        assertEq(v0, _sqrtTokens(x));

        _honest(h, pool);
        uint256 keep = x * keepBps / 10_000;
        if (keep != 0) _attested(attacker, keep);
        uint256 rest = x - keep;
        address[] memory sybils = new address[](k);
        for (uint256 i; i < k; ++i) {
            sybils[i] = makeAddr(string(abi.encodePacked("sybil", i)));
            uint256 part =
                i + 1 == k ? rest : rest * (uint256(keccak256(abi.encode(seed, i))) % 10_000) / 10_000;
            rest -= part;
            if (part != 0) _stake(sybils[i], part);
            if (delegateAll) {
                vm.prank(sybils[i]);
                qv.delegate(attacker);
            }
        }
        uint256 v = qv.getVotes(attacker);
        if (!delegateAll) {
            for (uint256 i; i < k; ++i) {
                v += qv.getVotes(sybils[i]);
            }
        }
        uint256 t = qv.totalVoice();
        // absolute gain <= sqrt(2) (+1 wei rounding per account)
        assertLe(v * v, 2 * v0 * v0 + 4 * (v0 + k + 1), "absolute gain above sqrt2");
        assertLe(v * 1000, v0 * 1500 + 1000 * (k + 1), "absolute gain above 1.5");
        // share gain <= sqrt(2)
        assertLe(v * t0 * 1000, v0 * t * 1500 + t * 1000 * (k + 1), "share gain above 1.5");
    }

    function test_BestSplitHalfIdentityHalfEmptyPoolGivesSqrt2() public {
        (uint256 v0,) = _baseline(10_000, [uint256(0), 0, 0], 0);
        _attested(attacker, 5000);
        address s = makeAddr("sybil");
        _stake(s, 5000);
        vm.prank(s);
        qv.delegate(attacker);
        uint256 v = qv.getVotes(attacker);
        assertEq(v, 2 * _sqrtTokens(5000));
        assertGt(v * 1000, v0 * 1414); // the bound is reached
        assertLt(v * 1000, v0 * 1415);
    }

    function test_SplittingInsideThePoolGainsNothing() public {
        _stake(attacker, 10_000);
        uint256 whole = qv.getVotes(attacker);
        _stake(attacker, 2500);
        for (uint256 i; i < 3; ++i) {
            address s = makeAddr(string(abi.encodePacked("sybil", i)));
            _stake(s, 2500);
            vm.prank(s);
            qv.delegate(attacker);
        }
        assertEq(qv.getVotes(attacker), whole);
    }

    /// @notice The limit of the argument: a Sybil-weak issuer that hands one person several identities
    ///         breaks the bound (k identities give sqrt(k)). Issuers must be Sybil-resistant.
    /// @dev A weak issuer handing one person k identities gives it sqrt(k) times its voice, but only up to
    ///      the per-issuer cap: next to another issuer and a pool, the weak issuer's identities hold at most
    ///      `issuerCapBps` of the total, whatever k is. (With the weak issuer as the ONLY issuer there is no
    ///      cap to apply: see `test_SingleIssuerIsNeverCapped`.)
    function test_Limit_SeveralIdentitiesFromWeakIssuerGiveSqrtK() public {
        // three honest persons, each attested by a different issuer, and a pool holder
        address[3] memory honestIssuers = [issuer, makeAddr("issuerB"), makeAddr("issuerC")];
        ids.approveIssuer(honestIssuers[1]);
        ids.approveIssuer(honestIssuers[2]);
        for (uint256 i; i < 3; ++i) {
            _attestedBy(honestIssuers[i], makeAddr(string.concat("honest", vm.toString(i))), 10_000);
        }
        _stake(makeAddr("poolie"), 10_000);
        address weak = makeAddr("weak");
        ids.approveIssuer(weak);
        uint256 v0 = _sqrtTokens(10_000);
        // a person with 2,500 tokens (one identity: v0 / 2) gets k = 4 identities of 625 tokens: sqrt(4) = 2x,
        // v0, 20% of the total, below the cap
        for (uint256 i; i < 4; ++i) {
            _identityFrom(weak, makeAddr(string.concat("fake", vm.toString(i))), 625);
        }
        assertEq(qv.getVotes(attacker), 2 * (v0 / 2));
        // k = 64 more identities of 2,500 tokens: the uncapped voice would be v0 + 64 * v0 / 2 = 33 v0, 89% of
        // the total; the cap holds the weak issuer's identities at 25% of the total. The pool (v0) is over its
        // own level (sqrt(2) - 1 of the issuer level), so the level M solves M = 0.25 * (3 v0 + M + 0.4142 M).
        for (uint256 i = 4; i < 68; ++i) {
            _identityFrom(weak, makeAddr(string.concat("fake", vm.toString(i))), 2500);
        }
        _mine(1);
        uint256 t = block.number - 1;
        uint256 total = qv.getPastTotalSupply(t);
        uint256 votes = qv.getPastVotes(attacker, t);
        assertLe(votes * 10_000, qv.issuerCapBps() * total);
        assertGt(votes * 10_000, (qv.issuerCapBps() - 10) * total);
        uint256 level = 3 * v0 * 2500 * 10_000 / (10_000 * 10_000 - 2500 * (10_000 + qv.POOL_LEVEL_BPS()));
        assertApproxEqAbs(votes, level, 1);
        // the honest identities keep their full voice (v0 each); the pool counts its level
        (uint256 poolRaw, uint256 poolEff) = qv.poolVoice();
        assertEq(poolRaw, v0);
        assertApproxEqAbs(poolEff, level * qv.POOL_LEVEL_BPS() / 10_000, 1);
        assertEq(total - votes - poolEff, 3 * v0);
    }

    function _identityFrom(address iss, address s, uint256 tokens) internal {
        _attestedBy(iss, s, tokens);
        vm.prank(s);
        qv.delegate(attacker);
    }
}
