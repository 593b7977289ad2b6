// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {JurorPool} from "../../contracts/governance/JurorPool.sol";
import {DisputeJury} from "../../contracts/governance/extensions/DisputeJury.sol";
import {SecurityBase} from "../security/SecurityBase.sol";

/// @notice Base of the drafted-jury tests (DisputeJury + JurorPool) on the suite exactly as DeploySuite deploys
///         it: jurors with identities and bonds, a challenged correct result, draws, votes and settlement.
abstract contract DisputeJuryBase is SecurityBase {
    JurorPool internal pool;
    address[] internal jurors;
    /// @dev Votes committed by `_vote` and not yet revealed (revealed by `_revealAll`, which `_resolve` calls).
    address[] internal pendingJurors;
    uint8[] internal pendingOptions;
    uint256[] internal pendingDisputes;
    uint256 internal constant JBOND = 10_000 ether;

    function setUp() public virtual override {
        super.setUp();
        _addOperators(4, 20_000 ether);
        _identity(challenger);
        pool = s.disputes.jurorPool();
        _setJury(3, 3, 0);
        _advance(1 days);
    }

    // ------------------------------------------------------------------ helpers

    function _setJury(uint256 minPool, uint256 size, uint256 appeals) internal {
        DisputeJury.JuryParameters memory p = s.disputes.juryParameters();
        (p.minPoolSize, p.jurySize, p.appealRounds) = (uint16(minPool), uint8(size), uint8(appeals));
        vm.prank(address(s.timelock));
        s.disputes.setJuryParameters(p);
    }

    /// @dev A funded account linked to a new identity, with the pool and the governor (appeals) approved.
    function _attested(string memory name) internal returns (address a) {
        a = makeAddr(name);
        _fund(a);
        _identity(a);
        vm.startPrank(a);
        s.token.approve(address(pool), type(uint256).max);
        s.token.approve(address(s.disputes), type(uint256).max);
        vm.stopPrank();
    }

    function _juror(string memory name, uint256 bond) internal returns (address a) {
        a = _attested(name);
        vm.prank(a);
        pool.joinJury(bond);
        jurors.push(a);
    }

    function _jurors(uint256 n, uint256 bond) internal {
        for (uint256 i; i < n; ++i) {
            _juror(string.concat("juror", vm.toString(jurors.length)), bond);
        }
    }

    /// @dev A correct result (OUT_A from every assigned operator) challenged with a false claim (OUT_B).
    function _dispute() internal returns (uint256 rid, uint256 did) {
        rid = _request(detModel);
        _answerAll(rid, OUT_A);
        vm.prank(challenger);
        did = s.registry.challenge(rid, OUT_B);
    }

    function _option(uint256 did, bytes32 out) internal view returns (uint8) {
        bytes32[] memory opts = s.disputes.options(did);
        for (uint256 i; i < opts.length; ++i) {
            if (opts[i] == out) return uint8(i);
        }
        revert("no such option");
    }

    function _draw(uint256 did) internal returns (address[] memory) {
        vm.roll(block.number + 1);
        s.disputes.draw(did);
        DisputeJury.JuryCase memory c = s.disputes.juryCase(did);
        return pool.draftedJurors(did, c.round);
    }

    /// @dev The salt `_commit` uses for `j` in the current round of `did`.
    function _salt(uint256 did, address j) internal view returns (bytes32) {
        return keccak256(abi.encode("salt", did, s.disputes.juryCase(did).round, j));
    }

    /// @dev `j` commits to `option` in the current round of `did` (salt `_salt`).
    function _commit(uint256 did, address j, uint8 option) internal {
        uint256 r = s.disputes.juryCase(did).round;
        bytes32 h = pool.voteCommitment(option, _salt(did, j), j, did, r);
        vm.prank(j);
        s.disputes.commitVote(did, h);
    }

    /// @dev `j` reveals `option` with its `_salt`.
    function _reveal(uint256 did, address j, uint8 option) internal {
        bytes32 salt = _salt(did, j);
        vm.prank(j);
        s.disputes.revealVote(did, option, salt);
    }

    /// @dev Moves past the commit period of the current round of `did` (into its reveal period).
    function _toReveal(uint256 did) internal {
        DisputeJury.Round memory rd = s.disputes.juryRound(did, s.disputes.juryCase(did).round);
        if (block.timestamp <= rd.commitEnd) _advanceTo(uint256(rd.commitEnd) + 1);
    }

    /// @dev A vote: `j` commits now; the reveal follows in `_resolve` (commit–reveal, docs/governance.md §3).
    function _vote(uint256 did, address j, uint8 option) internal {
        _commit(did, j, option);
        pendingJurors.push(j);
        pendingOptions.push(option);
        pendingDisputes.push(did);
    }

    /// @dev Reveals every vote `_vote` committed on `did` (moving into the reveal period).
    function _revealAll(uint256 did) internal {
        _toReveal(did);
        uint256 kept;
        for (uint256 i; i < pendingJurors.length; ++i) {
            if (pendingDisputes[i] == did) {
                _reveal(did, pendingJurors[i], pendingOptions[i]);
                continue;
            }
            (pendingJurors[kept], pendingOptions[kept], pendingDisputes[kept]) =
            (pendingJurors[i], pendingOptions[i], pendingDisputes[i]);
            ++kept;
        }
        while (pendingJurors.length > kept) {
            pendingJurors.pop();
            pendingOptions.pop();
            pendingDisputes.pop();
        }
    }

    function _resolve(uint256 did) internal {
        if (s.disputes.juryCase(did).drafted) _revealAll(did);
        _advanceTo(uint256(s.disputes.dispute(did).voteEnd) + 1);
        s.disputes.resolve(did);
    }

    function _executeAndSettle(uint256 did) internal {
        _advanceTo(s.disputes.dispute(did).executableAt);
        s.disputes.execute(did);
        s.disputes.settleJury(did);
    }

    function _bondSum() internal view returns (uint256 sum) {
        for (uint256 i; i < jurors.length; ++i) {
            sum += pool.juror(jurors[i]).bond;
        }
    }
}
