// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {MerkleBuilder} from "../registry/utils/MerkleBuilder.sol";
import {Statements} from "../registry/utils/Statements.sol";
import {SecurityBase} from "./SecurityBase.sol";

/// @notice Finding (lower severity): two Merkle leaves of one operator for the same request with different
///         outputs, in one batch or in two, could not be reported. Every pair of conflicting statements (signed
///         attestation or batch leaf, in any combination) is now reportable through one entry point, and ends
///         in an equivocation slash on the real Slasher.
contract LeafVsLeafEquivocationTest is SecurityBase {
    address internal op;
    uint256 internal rid;

    function setUp() public override {
        super.setUp();
        _addOperators(3, 20_000 ether);
        rid = _request(optModel);
        op = s.registry.assignedOperators(rid)[0];
    }

    function _leaf(bytes32 out) internal view returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(op, rid, out))));
    }

    function _commit(bytes32[] memory leaves) internal returns (uint256 batchId) {
        vm.prank(op);
        batchId = s.registry.commitBatch(MerkleBuilder.root(leaves), uint32(leaves.length));
    }

    function _assertSlashedForEquivocation() internal view {
        uint256 id = s.slasher.slashIdOf(op, ISlasher.FaultKind.Equivocation, bytes32(rid));
        assertGt(id, 0, "equivocation slash recorded");
        assertEq(uint8(s.slasher.slashRequest(id).status), uint8(ISlasher.SlashStatus.Executed));
        assertFalse(s.staking.isActiveOperator(op), "jailed");
    }

    function test_ConflictingLeavesInTwoBatchesAreSlashed() public {
        bytes32[] memory a = new bytes32[](2);
        (a[0], a[1]) = (_leaf(OUT_A), keccak256("filler"));
        bytes32[] memory b = new bytes32[](1);
        b[0] = _leaf(OUT_B);
        uint256 batchA = _commit(a);
        uint256 batchB = _commit(b);
        vm.prank(makeAddr("watcher"));
        s.registry
            .reportEquivocation(
                Statements.leaf(_att(rid, op, OUT_A), batchA, MerkleBuilder.proof(a, 0)),
                Statements.leaf(_att(rid, op, OUT_B), batchB, MerkleBuilder.proof(b, 0))
            );
        _assertSlashedForEquivocation();
    }

    function test_ConflictingLeavesInOneBatchAreSlashed() public {
        bytes32[] memory a = new bytes32[](3);
        (a[0], a[1], a[2]) = (_leaf(OUT_A), keccak256("filler"), _leaf(OUT_B));
        uint256 batchId = _commit(a);
        s.registry
            .reportEquivocation(
                Statements.leaf(_att(rid, op, OUT_A), batchId, MerkleBuilder.proof(a, 0)),
                Statements.leaf(_att(rid, op, OUT_B), batchId, MerkleBuilder.proof(a, 2))
            );
        _assertSlashedForEquivocation();
    }

    /// @notice A leaf committed after the batch window, or never revealed, still binds its operator.
    function test_SignedAttestationAgainstAnOldLeafIsSlashed() public {
        bytes32[] memory a = new bytes32[](1);
        a[0] = _leaf(OUT_A);
        uint256 batchId = _commit(a);
        _advance(s.registry.batchWindow() + 1);
        IInferenceRegistry.Attestation memory att = _att(rid, op, OUT_B);
        s.registry
            .reportEquivocation(
                Statements.signed(att, _sign(att)),
                Statements.leaf(_att(rid, op, OUT_A), batchId, new bytes32[](0))
            );
        _assertSlashedForEquivocation();
    }
}
