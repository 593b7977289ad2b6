// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {RegistryBase} from "./RegistryBase.t.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Merkle result batches: commit, reveal, challenge, leaf equivocation; random trees.
contract RegistryBatchesTest is RegistryBase {
    bytes32 internal constant X = keccak256("X");
    bytes32 internal constant Y = keccak256("Y");

    /// @dev A batch by `op` with its answer `out` to `rid` plus `extra` filler leaves; returns id and proof.
    function _commitWith(address op, uint256 rid, bytes32 out, uint256 extra)
        internal
        returns (uint256 batchId, bytes32[] memory proof)
    {
        bytes32[] memory leaves = new bytes32[](extra + 1);
        for (uint256 i; i < extra; ++i) {
            leaves[i] = _leaf(op, 10_000 + i, keccak256(abi.encode(i)));
        }
        leaves[extra] = _leaf(op, rid, out);
        vm.prank(op);
        batchId = registry.commitBatch(MerkleBuilder.root(leaves), uint32(leaves.length));
        proof = MerkleBuilder.proof(leaves, extra);
    }

    function test_CommitBatchStoresRoot() public {
        vm.prank(ops[0]);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.BatchCommitted(1, ops[0], X, 256);
        uint256 id = registry.commitBatch(X, 256);
        IInferenceRegistry.Batch memory b = registry.batch(id);
        assertEq(b.operator, ops[0]);
        assertEq(b.root, X);
        assertEq(b.count, 256);
        assertEq(b.committedAt, block.timestamp);
    }

    function test_RevertWhen_InvalidBatch() public {
        vm.startPrank(ops[0]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidBatch.selector, bytes32(0), 1));
        registry.commitBatch(bytes32(0), 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidBatch.selector, X, 0));
        registry.commitBatch(X, 0);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidBatch.selector, X, 65_537));
        registry.commitBatch(X, 65_537);
        vm.stopPrank();
    }

    function test_CommitBatchForBySignerOrOwnerOnly() public {
        address hot = staking.signerOf(ops[0]);
        vm.prank(hot);
        uint256 id = registry.commitBatchFor(ops[0], X, 4);
        assertEq(registry.batch(id).operator, ops[0]);
        vm.prank(ops[0]);
        registry.commitBatchFor(ops[0], X, 4);
        vm.prank(client);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.NotOperatorOrSigner.selector, client, ops[0])
        );
        registry.commitBatchFor(ops[0], X, 4);
    }

    function test_RevealedLeafCountsAsAnswer() public {
        uint256 rid = _request(detModel);
        address a0 = registry.assignedOperators(rid)[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(a0, rid, X, 5);
        vm.prank(makeAddr("anyone"));
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.AnswerRecorded(rid, a0, X);
        registry.revealBatchResult(bid, rid, X, proof);
        _answer(rid, 1, X); // mixed with a signed attestation
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Quorum));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.AlreadyAnswered.selector, rid, a0));
        registry.revealBatchResult(bid, rid, X, proof);
    }

    function test_RevertWhen_RevealBadLeaf() public {
        uint256 rid = _request(detModel);
        address a0 = registry.assignedOperators(rid)[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(a0, rid, X, 3);
        vm.expectRevert(IInferenceRegistry.InvalidProof.selector);
        registry.revealBatchResult(bid, rid, Y, proof);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownBatch.selector, 9));
        registry.revealBatchResult(9, rid, X, proof);
        uint256 closes = block.timestamp + registry.batchWindow();
        vm.warp(closes + 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.BatchWindowClosed.selector, bid, closes));
        registry.revealBatchResult(bid, rid, X, proof);
    }

    function test_RevertWhen_RevealLeafOfUnassignedOperator() public {
        uint256 rid = _request(detModel);
        address outsider;
        for (uint256 i; i < ops.length; ++i) {
            if (!_isAssigned(rid, ops[i])) outsider = ops[i];
        }
        (uint256 bid, bytes32[] memory proof) = _commitWith(outsider, rid, X, 2);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotAssigned.selector, rid, outsider));
        registry.revealBatchResult(bid, rid, X, proof);
    }

    function test_ChallengeLeafRevealsAndDisputes() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(op, rid, X, 7);
        vm.prank(challenger);
        uint256 did = registry.challengeLeaf(bid, rid, X, proof, Y);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Disputed));
        (bool answered, bytes32 out) = registry.answerOf(rid, op);
        assertTrue(answered);
        assertEq(out, X);
        resolver.resolve(did, Y);
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.WrongResult, op, bytes32(rid)));
    }

    function test_ChallengeLeafOfAlreadyRevealedAnswer() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(op, rid, X, 1);
        registry.revealBatchResult(bid, rid, X, proof);
        vm.prank(challenger);
        registry.challengeLeaf(bid, rid, X, proof, Y);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Disputed));
    }

    function test_RevertWhen_ChallengeLeafOfUnassignedOperator() public {
        uint256 rid = _request(optModel);
        address outsider = registry.assignedOperators(rid)[0] == ops[0] ? ops[1] : ops[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(outsider, rid, X, 1);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotAssigned.selector, rid, outsider));
        registry.challengeLeaf(bid, rid, X, proof, Y);
    }

    function test_LeafEquivocationSlashes() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(op, rid, Y, 4);
        IInferenceRegistry.Attestation memory a = _att(rid, op, X);
        bytes memory sig = _sign(a, signerKey[op]);
        registry.reportLeafEquivocation(a, sig, bid, Y, proof);
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.Equivocation, op, bytes32(rid)));
    }

    function test_RevertWhen_LeafEquivocationInvalid() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(op, rid, Y, 4);
        IInferenceRegistry.Attestation memory a = _att(rid, op, X);
        bytes memory sig = _sign(a, signerKey[op]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownBatch.selector, 5));
        registry.reportLeafEquivocation(a, sig, 5, Y, proof);
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportLeafEquivocation(a, sig, bid, X, proof);
        IInferenceRegistry.Attestation memory other = _att(rid, ops[0] == op ? ops[1] : ops[0], X);
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportLeafEquivocation(other, sig, bid, Y, proof);
        vm.expectRevert(IInferenceRegistry.InvalidProof.selector);
        registry.reportLeafEquivocation(a, sig, bid, keccak256("not in tree"), proof);
    }

    /// @dev Random trees of 1..300 leaves: every leaf's proof verifies; a tampered proof does not.
    function testFuzz_RandomTreesAndProofs(uint256 seed, uint16 size, uint16 pick) public {
        uint256 n = bound(size, 1, 300);
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        uint256 idx = bound(pick, 0, n - 1);
        bytes32 out = keccak256(abi.encode(seed, "out"));
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] =
                _leaf(op, uint256(keccak256(abi.encode(seed, i))), keccak256(abi.encode(seed, i, "o")));
        }
        leaves[idx] = _leaf(op, rid, out);
        vm.prank(op);
        uint256 bid = registry.commitBatch(MerkleBuilder.root(leaves), SafeCast.toUint32(n));
        bytes32[] memory proof = MerkleBuilder.proof(leaves, idx);
        if (proof.length > 0) {
            bytes32[] memory bad = new bytes32[](proof.length);
            for (uint256 i; i < proof.length; ++i) {
                bad[i] = proof[i];
            }
            uint256 j = seed % proof.length;
            bad[j] = bad[j] ^ bytes32(uint256(1) << (seed % 256));
            vm.expectRevert(IInferenceRegistry.InvalidProof.selector);
            registry.revealBatchResult(bid, rid, out, bad);
        }
        vm.expectRevert(IInferenceRegistry.InvalidProof.selector);
        registry.revealBatchResult(bid, rid, keccak256("wrong"), proof);
        registry.revealBatchResult(bid, rid, out, proof);
        (bool answered, bytes32 got) = registry.answerOf(rid, op);
        assertTrue(answered);
        assertEq(got, out);
    }
}
