// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Builds sorted-pair Merkle trees (OZ MerkleProof compatible) and proofs in Solidity for tests.
///         An odd node at the end of a layer is carried up unchanged.
library MerkleBuilder {
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory layer = leaves;
        while (layer.length > 1) {
            layer = _up(layer);
        }
        return layer[0];
    }

    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory p) {
        bytes32[] memory tmp = new bytes32[](64);
        uint256 n;
        bytes32[] memory layer = leaves;
        while (layer.length > 1) {
            uint256 sib = index ^ 1;
            if (sib < layer.length) tmp[n++] = layer[sib];
            layer = _up(layer);
            index >>= 1;
        }
        p = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            p[i] = tmp[i];
        }
    }

    function _up(bytes32[] memory layer) private pure returns (bytes32[] memory next) {
        next = new bytes32[]((layer.length + 1) / 2);
        for (uint256 i; i < next.length; ++i) {
            uint256 a = 2 * i;
            if (a + 1 < layer.length) next[i] = _hashPair(layer[a], layer[a + 1]);
            else next[i] = layer[a];
        }
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}
