// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {RegistryBase} from "./RegistryBase.t.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {Statements} from "./utils/Statements.sol";

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
        registry.reportEquivocation(Statements.signed(a, sig), Statements.leaf(_att(rid, op, Y), bid, proof));
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.Equivocation, op, bytes32(rid)));
    }

    function test_RevertWhen_LeafEquivocationInvalid() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(op, rid, Y, 4);
        IInferenceRegistry.Attestation memory a = _att(rid, op, X);
        IInferenceRegistry.Statement memory signedX = Statements.signed(a, _sign(a, signerKey[op]));
        IInferenceRegistry.Statement memory unknownBatch = Statements.leaf(_att(rid, op, Y), 5, proof);
        IInferenceRegistry.Statement memory leafX = Statements.leaf(_att(rid, op, X), bid, proof);
        IInferenceRegistry.Statement memory notInTree =
            Statements.leaf(_att(rid, op, keccak256("no")), bid, proof);

        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownBatch.selector, 5));
        registry.reportEquivocation(signedX, unknownBatch);
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector); // same output
        registry.reportEquivocation(signedX, leafX);
        vm.expectRevert(IInferenceRegistry.InvalidProof.selector);
        registry.reportEquivocation(signedX, notInTree);
    }

    function test_RevertWhen_LeafEquivocationNamesAnotherOperator() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        address other = ops[0] == op ? ops[1] : ops[0];
        (uint256 bid, bytes32[] memory proof) = _commitWith(op, rid, Y, 4);
        IInferenceRegistry.Attestation memory otherX = _att(rid, other, X);
        IInferenceRegistry.Statement memory otherSignedX =
            Statements.signed(otherX, _sign(otherX, signerKey[other]));
        IInferenceRegistry.Statement memory leafY = Statements.leaf(_att(rid, op, Y), bid, proof);
        IInferenceRegistry.Statement memory otherLeafY = Statements.leaf(_att(rid, other, Y), bid, proof);

        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector); // another operator's attestation
        registry.reportEquivocation(otherSignedX, leafY);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownBatch.selector, bid)); // not its batch
        registry.reportEquivocation(otherSignedX, otherLeafY);
    }

    /// @notice Two leaves of one operator answering one request differently, in two batches, are an
    ///         equivocation (no signature involved: each batch root is the operator's own commitment).
    function test_LeafVsLeafEquivocationAcrossBatchesSlashes() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        (uint256 b1, bytes32[] memory p1) = _commitWith(op, rid, X, 3);
        (uint256 b2, bytes32[] memory p2) = _commitWith(op, rid, Y, 5);
        registry.reportEquivocation(
            Statements.leaf(_att(rid, op, X), b1, p1), Statements.leaf(_att(rid, op, Y), b2, p2)
        );
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.Equivocation, op, bytes32(rid)));
    }

    /// @notice Two conflicting leaves inside ONE batch are reportable too.
    function test_LeafVsLeafEquivocationInOneBatchSlashes() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        bytes32[] memory leaves = new bytes32[](3);
        leaves[0] = _leaf(op, rid, X);
        leaves[1] = _leaf(op, 77, X);
        leaves[2] = _leaf(op, rid, Y);
        vm.prank(op);
        uint256 bid = registry.commitBatch(MerkleBuilder.root(leaves), 3);
        registry.reportEquivocation(
            Statements.leaf(_att(rid, op, X), bid, MerkleBuilder.proof(leaves, 0)),
            Statements.leaf(_att(rid, op, Y), bid, MerkleBuilder.proof(leaves, 2))
        );
        assertTrue(slasher.wasSlashed(ISlasher.FaultKind.Equivocation, op, bytes32(rid)));
    }

    function test_RevertWhen_LeafVsLeafNotConflicting() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        (uint256 b1, bytes32[] memory p1) = _commitWith(op, rid, X, 2);
        (uint256 b2, bytes32[] memory p2) = _commitWith(op, rid, X, 4);
        IInferenceRegistry.Statement memory first = Statements.leaf(_att(rid, op, X), b1, p1);
        IInferenceRegistry.Statement memory sameOutput = Statements.leaf(_att(rid, op, X), b2, p2);
        IInferenceRegistry.Statement memory notInBatch = Statements.leaf(_att(rid, op, Y), b2, p2);
        IInferenceRegistry.Statement memory otherRequest = Statements.leaf(_att(rid + 1, op, Y), b2, p2);

        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportEquivocation(first, sameOutput);
        vm.expectRevert(IInferenceRegistry.InvalidProof.selector);
        registry.reportEquivocation(first, notInBatch);
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportEquivocation(first, otherRequest);
        assertFalse(slasher.wasSlashed(ISlasher.FaultKind.Equivocation, op, bytes32(rid)));
    }

    function test_RevertWhen_LeafVsLeafOfTwoOperators() public {
        uint256 rid = _request(optModel);
        address op = registry.assignedOperators(rid)[0];
        address other = ops[0] == op ? ops[1] : ops[0];
        (uint256 b1, bytes32[] memory p1) = _commitWith(op, rid, X, 2);
        (uint256 b3, bytes32[] memory p3) = _commitWith(other, rid, Y, 2);
        IInferenceRegistry.Statement memory first = Statements.leaf(_att(rid, op, X), b1, p1);
        IInferenceRegistry.Statement memory otherOperator = Statements.leaf(_att(rid, other, Y), b3, p3);
        vm.expectRevert(IInferenceRegistry.NotEquivocation.selector);
        registry.reportEquivocation(first, otherOperator);
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
