// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title IntMlpStep
/// @notice The referee's one-step check for integer MLPs (docs/referee.md, docs/models.md): one output element
///         of one dense layer recomputed on chain, bit-identical to the Rust runtime
///         (`crates/mlp`), from a weight row proven against the model's weights root
///         (`crates/mlp/src/commit.rs`) and an input vector proven against an agreed commitment.
/// @dev Activation commitments. A layer's activation vector (int8 values, one byte each) is committed by
///      `vectorRoot`: a fixed-depth (`LAYER_DEPTH` = 11) binary Merkle tree whose leaves are the vector's
///      32-byte chunks (the last one zero-padded) followed by zero leaves, inner node = keccak256(left ‖ right)
///      (positional, not sorted). A trace is a fixed-depth (`TRACE_DEPTH` = 6) tree of the same shape whose
///      leaf `j` is the vector root of layer `j`'s output, and `ZERO_LAYER_ROOT` (the root of an all-zero
///      layer) after the last layer. Both depths are fixed by the file format's bounds (65,536 outputs, 64
///      layers), so a trace is one depth-17 positional tree over 2^17 chunks, (layer, chunk) in order, zero
///      past each layer's width and past the last layer: every node of an honest trace has a preimage.
library IntMlpStep {
    /// @notice `keccak256("verinfer.int-mlp.row.v1")`, the first field of every row leaf.
    bytes32 internal constant ROW_DOMAIN = keccak256("verinfer.int-mlp.row.v1");
    /// @notice `keccak256(RUNTIME_SPEC)` of `crates/mlp/src/lib.rs`: the models the referee can check.
    bytes32 internal constant RUNTIME_SPEC_HASH = keccak256(
        "verinfer-int-mlp/v1;file=vimlp-v1;input=int8,range-checked,exact-width;acc=int32,wrapping;requant=sar,clamp-int8;act=per-layer(identity|relu);output=int8-logits;weights=merkle-rows-v1"
    );
    /// @notice Depth of a layer's activation tree: 2^11 chunks of 32 elements = 65,536 elements.
    uint256 internal constant LAYER_DEPTH = 11;
    /// @notice Depth of the trace tree over layer roots: 2^6 = 64 layers.
    uint256 internal constant TRACE_DEPTH = 6;
    /// @notice The vector root of an all-zero layer (the trace leaf of a layer past the model's last).
    bytes32 internal constant ZERO_LAYER_ROOT =
        0xf8b13a49e282f609c317a833fb8d976d11517c571d1221a265d25af778ecf892;
    /// @notice Elements per leaf of an activation tree.
    uint256 internal constant CHUNK = 32;
    /// @notice Largest layer width of the file format (and of an activation vector).
    uint256 internal constant MAX_WIDTH = 65_536;
    /// @notice Largest layer count of the file format.
    uint256 internal constant MAX_LAYERS = 64;

    /// @notice One weight row with everything its leaf commits to (field order of the leaf encoding).
    struct Row {
        uint16 layerCount;
        uint16 layer;
        uint32 row;
        uint32 inputs;
        uint32 outputs;
        uint8 kind;
        uint8 activation;
        uint8 shift;
        int8 inputMin;
        int8 inputMax;
        int32 bias;
        bytes weights;
    }

    /// @notice A row whose fields no valid model file can hold (kind, activation, shift, width).
    error MalformedRow();
    /// @notice An input vector whose length is not the row's input width (or is outside the format's bounds).
    error WrongInputWidth(uint256 got, uint256 expected);
    /// @notice A proof with the wrong number of siblings.
    error WrongProofLength(uint256 got, uint256 expected);

    /// @notice The row's leaf: `keccak256(bytes.concat(keccak256(abi.encode(domain, …fields, weights))))`.
    /// @param r The row.
    /// @return The leaf hash, as `commit.rs` computes it.
    function rowLeaf(Row calldata r) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(
                        ROW_DOMAIN,
                        r.layerCount,
                        r.layer,
                        r.row,
                        r.inputs,
                        r.outputs,
                        r.kind,
                        r.activation,
                        r.shift,
                        r.inputMin,
                        r.inputMax,
                        r.bias,
                        r.weights
                    )
                )
            )
        );
    }

    /// @notice Whether `r` is a row of the model whose weights root is `weightsRoot` (sorted-pair proof,
    ///         OpenZeppelin `MerkleProof` order) and is well formed.
    /// @param r The row.
    /// @param proof Sibling hashes from the leaf up.
    /// @param weightsRoot The model's registered `weightsHash`.
    /// @return Whether the proof verifies.
    function verifyRow(Row calldata r, bytes32[] calldata proof, bytes32 weightsRoot)
        internal
        pure
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, weightsRoot, rowLeaf(r));
    }

    /// @notice One output of a dense layer: `acc = bias + Σ w·x` (int32, wrapping), `y = clamp(acc >> shift,
    ///         −128, 127)` (arithmetic shift), then the activation (ReLU: `max(y, 0)`).
    /// @dev Reverts `MalformedRow` on a kind, activation or shift the file format rejects, and
    ///      `WrongInputWidth` unless `x`, the weights and `r.inputs` have the same length.
    /// @param r The row (weights, bias, shift, activation).
    /// @param x The layer's input vector, int8 values one byte each.
    /// @return y The output element.
    function neuron(Row calldata r, bytes calldata x) internal pure returns (int8 y) {
        if (r.kind != 1 || r.activation > 1 || r.shift > 31 || r.weights.length != r.inputs) {
            revert MalformedRow();
        }
        uint256 n = x.length;
        if (n != r.inputs) revert WrongInputWidth(n, r.inputs);
        bytes calldata w = r.weights;
        int256 bias = r.bias;
        uint256 shift = r.shift;
        uint256 relu = r.activation;
        int256 out;
        assembly ("memory-safe") {
            let acc := bias
            let wp := w.offset
            let xp := x.offset
            let full := and(n, not(31))
            let i := 0
            // Whole 32-byte words: one calldataload per operand, bytes taken and sign-extended in place.
            for {} lt(i, full) { i := add(i, 32) } {
                let ww := calldataload(add(wp, i))
                let xw := calldataload(add(xp, i))
                for { let j := 0 } lt(j, 32) { j := add(j, 1) } {
                    acc := add(acc, mul(signextend(0, byte(j, ww)), signextend(0, byte(j, xw))))
                }
            }
            for {} lt(i, n) { i := add(i, 1) } {
                acc := add(
                    acc,
                    mul(
                        signextend(0, byte(0, calldataload(add(wp, i)))),
                        signextend(0, byte(0, calldataload(add(xp, i))))
                    )
                )
            }
            // int32 wrapping: the exact sum modulo 2^32, read as a signed 32-bit value.
            acc := signextend(3, and(acc, 0xffffffff))
            let q := sar(shift, acc)
            if slt(q, sub(0, 128)) { q := sub(0, 128) }
            if sgt(q, 127) { q := 127 }
            if and(relu, slt(q, 0)) { q := 0 }
            out := q
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        y = int8(out); // clamped into [-128, 127] above
    }

    /// @notice The activation commitment of a vector (see the library notes): depth-11 positional tree over
    ///         its 32-byte chunks, zero-padded.
    /// @param v The vector, 1..65,536 bytes.
    /// @return root The root.
    function vectorRoot(bytes calldata v) internal pure returns (bytes32 root) {
        uint256 len = v.length;
        if (len == 0 || len > MAX_WIDTH) revert WrongInputWidth(len, MAX_WIDTH);
        uint256 n = (len + CHUNK - 1) / CHUNK;
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 chunk;
            assembly ("memory-safe") {
                chunk := calldataload(add(v.offset, mul(i, 32)))
            }
            uint256 rest = len - i * CHUNK;
            // The last chunk: keep only the vector's own bytes (calldata after it is not part of it).
            if (rest < CHUNK) chunk &= bytes32(type(uint256).max << ((CHUNK - rest) * 8));
            level[i] = chunk;
        }
        bytes32 zero;
        for (uint256 d; d < LAYER_DEPTH; ++d) {
            uint256 m = (n + 1) / 2;
            for (uint256 i; i < m; ++i) {
                bytes32 right = 2 * i + 1 < n ? level[2 * i + 1] : zero;
                level[i] = hashPair(level[2 * i], right);
            }
            n = m;
            zero = hashPair(zero, zero);
        }
        root = level[0];
    }

    /// @notice The root reached from `leaf` at position `index` with positional siblings (leaf level first).
    /// @param leaf The leaf (or subtree root).
    /// @param index Its position among the nodes of its level.
    /// @param siblings One sibling per level.
    /// @return node The root.
    function rootFrom(bytes32 leaf, uint256 index, bytes32[] calldata siblings)
        internal
        pure
        returns (bytes32 node)
    {
        node = leaf;
        for (uint256 d; d < siblings.length; ++d) {
            node = (index >> d) & 1 == 0 ? hashPair(node, siblings[d]) : hashPair(siblings[d], node);
        }
    }

    /// @notice An inner node: `keccak256(left ‖ right)`.
    /// @param left The left child.
    /// @param right The right child.
    /// @return h The node.
    function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            h := keccak256(0x00, 0x40)
        }
    }
}
