// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Referee} from "../../contracts/referee/Referee.sol";
import {IntMlpStep} from "../../contracts/referee/lib/IntMlpStep.sol";

/// @notice Exposes the one-step library on calldata, as the referee uses it.
contract StepHarness {
    function neuron(IntMlpStep.Row calldata r, bytes calldata x) external pure returns (int8) {
        return IntMlpStep.neuron(r, x);
    }

    function rowLeaf(IntMlpStep.Row calldata r) external pure returns (bytes32) {
        return IntMlpStep.rowLeaf(r);
    }

    function verifyRow(IntMlpStep.Row calldata r, bytes32[] calldata proof, bytes32 root)
        external
        pure
        returns (bool)
    {
        return IntMlpStep.verifyRow(r, proof, root);
    }

    function vectorRoot(bytes calldata v) external pure returns (bytes32) {
        return IntMlpStep.vectorRoot(v);
    }
}

/// @notice Test-side integer MLPs, written independently of the library: the VIMLP v1 parser, the reference
///         arithmetic (plain Solidity), the weights tree (OpenZeppelin `makeMerkleTree` layout, as
///         `crates/mlp/src/commit.rs`), traces and every proof a game needs.
library IntMlpFixture {
    struct Layer {
        uint8 activation;
        uint8 shift;
        uint32 inputs;
        uint32 outputs;
        bytes weights; // row-major [output][input], int8
        int32[] biases;
    }

    struct Model {
        int8 inputMin;
        int8 inputMax;
        Layer[] layers;
    }

    /// @notice A side's trace: every layer's output vector (int8 bytes).
    struct Trace {
        bytes[] acts;
    }

    // ------------------------------------------------------------------ model files

    function parse(bytes memory f) internal pure returns (Model memory m) {
        uint256 p = 12;
        uint256 layerCount = _be(f, 10, 2);
        m.inputMin = int8(uint8(f[16]));
        m.inputMax = int8(uint8(f[17]));
        p = 18;
        m.layers = new Layer[](layerCount);
        for (uint256 l; l < layerCount; ++l) {
            Layer memory L;
            L.activation = uint8(f[p + 1]);
            L.shift = uint8(f[p + 2]);
            L.inputs = uint32(_be(f, p + 4, 4));
            L.outputs = uint32(_be(f, p + 8, 4));
            p += 12;
            uint256 n = uint256(L.inputs) * L.outputs;
            L.weights = new bytes(n);
            for (uint256 i; i < n; ++i) {
                L.weights[i] = f[p + i];
            }
            p += n;
            L.biases = new int32[](L.outputs);
            for (uint256 o; o < L.outputs; ++o) {
                L.biases[o] = int32(uint32(_be(f, p, 4)));
                p += 4;
            }
            m.layers[l] = L;
        }
        require(p == f.length, "trailing bytes");
    }

    function _be(bytes memory f, uint256 at, uint256 len) private pure returns (uint256 v) {
        for (uint256 i; i < len; ++i) {
            v = (v << 8) | uint8(f[at + i]);
        }
    }

    /// @notice A pseudo-random model: `widths[0]` inputs, then one dense layer per further width.
    function generate(uint256 seed, uint32[] memory widths, uint8[] memory shifts)
        internal
        pure
        returns (Model memory m)
    {
        m.inputMin = -128;
        m.inputMax = 127;
        m.layers = new Layer[](widths.length - 1);
        for (uint256 l; l + 1 < widths.length; ++l) {
            Layer memory L;
            L.activation = l + 2 == widths.length ? 0 : 1;
            L.shift = shifts[l];
            L.inputs = widths[l];
            L.outputs = widths[l + 1];
            uint256 n = uint256(L.inputs) * L.outputs;
            bytes memory wts = new bytes(n + 32);
            bytes32 h = keccak256(abi.encode(seed, l));
            for (uint256 i; i < n; i += 32) {
                h = keccak256(abi.encode(h));
                assembly ("memory-safe") {
                    mstore(add(add(wts, 32), i), h)
                }
            }
            assembly ("memory-safe") {
                mstore(wts, n)
            }
            L.weights = wts;
            L.biases = new int32[](L.outputs);
            for (uint256 o; o < L.outputs; ++o) {
                L.biases[o] = int32(int256(uint256(keccak256(abi.encode(seed, l, o))) % 200_001) - 100_000);
            }
            m.layers[l] = L;
        }
    }

    /// @notice The large generated model of the scale tests: 1024 → 1024 → 16 (a 1024×1024 layer).
    function large() internal pure returns (Model memory) {
        uint32[] memory w = new uint32[](3);
        (w[0], w[1], w[2]) = (1024, 1024, 16);
        uint8[] memory s = new uint8[](2);
        (s[0], s[1]) = (12, 11);
        return generate(1024, w, s);
    }

    function row(Model memory m, uint256 l, uint256 r) internal pure returns (IntMlpStep.Row memory row_) {
        Layer memory L = m.layers[l];
        bytes memory w = new bytes(L.inputs);
        bytes memory all = L.weights;
        uint256 from = r * L.inputs;
        for (uint256 i; i < L.inputs; i += 32) {
            // Whole words; the last one is masked to the row's bytes and stays inside `w`'s allocation.
            bytes32 word;
            assembly ("memory-safe") {
                word := mload(add(add(all, 32), add(from, i)))
            }
            uint256 rest = L.inputs - i;
            if (rest < 32) word &= bytes32(type(uint256).max << ((32 - rest) * 8));
            assembly ("memory-safe") {
                mstore(add(add(w, 32), i), word)
            }
        }
        row_ = IntMlpStep.Row({
            layerCount: uint16(m.layers.length),
            layer: uint16(l),
            row: uint32(r),
            inputs: L.inputs,
            outputs: L.outputs,
            kind: 1,
            activation: L.activation,
            shift: L.shift,
            inputMin: m.inputMin,
            inputMax: m.inputMax,
            bias: L.biases[r],
            weights: w
        });
    }

    function leafOf(IntMlpStep.Row memory r) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(
                        IntMlpStep.ROW_DOMAIN,
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

    // ------------------------------------------------------------------ reference arithmetic

    function neuronRef(IntMlpStep.Row memory r, bytes memory x) internal pure returns (int8) {
        int256 acc = r.bias;
        unchecked {
            for (uint256 i; i < x.length; ++i) {
                acc += int256(int8(uint8(r.weights[i]))) * int256(int8(uint8(x[i])));
            }
        }
        int256 a32 = int256(int32(acc)); // int32 wrapping
        int256 q = a32 >> r.shift;
        if (q < -128) q = -128;
        if (q > 127) q = 127;
        if (r.activation == 1 && q < 0) q = 0;
        return int8(q);
    }

    function forward(Model memory m, bytes memory input) internal pure returns (Trace memory t) {
        t.acts = new bytes[](m.layers.length);
        bytes memory x = input;
        for (uint256 l; l < m.layers.length; ++l) {
            Layer memory L = m.layers[l];
            bytes memory y = new bytes(L.outputs);
            for (uint256 o; o < L.outputs; ++o) {
                int256 acc = L.biases[o];
                bytes memory wts = L.weights;
                uint256 base = o * L.inputs;
                uint256 n = L.inputs;
                // Plain byte loop in assembly (memory reads, sign extension), independent of the library's.
                assembly ("memory-safe") {
                    let wp := add(add(wts, 32), base)
                    let xp := add(x, 32)
                    for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                        let wv := signextend(0, byte(0, mload(add(wp, i))))
                        let xv := signextend(0, byte(0, mload(add(xp, i))))
                        acc := add(acc, mul(wv, xv))
                    }
                }
                int256 q = int256(int32(acc)) >> L.shift;
                if (q < -128) q = -128;
                if (q > 127) q = 127;
                if (L.activation == 1 && q < 0) q = 0;
                y[o] = bytes1(uint8(int8(q)));
            }
            t.acts[l] = y;
            x = y;
        }
    }

    /// @notice Recomputes the layers after `from` from the trace's (possibly altered) layer `from`.
    function propagate(Model memory m, Trace memory t, uint256 from) internal pure {
        for (uint256 l = from + 1; l < m.layers.length; ++l) {
            Model memory one;
            one.layers = new Layer[](1);
            one.layers[0] = m.layers[l];
            t.acts[l] = forward(one, t.acts[l - 1]).acts[0];
        }
    }

    // ------------------------------------------------------------------ weights tree (OZ makeMerkleTree)

    function weightsTree(Model memory m) internal pure returns (bytes32[] memory tree) {
        uint256 n;
        for (uint256 l; l < m.layers.length; ++l) {
            n += m.layers[l].outputs;
        }
        bytes32[] memory leaves = new bytes32[](n);
        uint256 k;
        for (uint256 l; l < m.layers.length; ++l) {
            for (uint256 r; r < m.layers[l].outputs; ++r) {
                leaves[k++] = leafOf(row(m, l, r));
            }
        }
        _sort(leaves, 0, int256(n) - 1);
        tree = new bytes32[](2 * n - 1);
        for (uint256 i; i < n; ++i) {
            tree[tree.length - 1 - i] = leaves[i];
        }
        for (uint256 i = n - 1; i > 0; --i) {
            tree[i - 1] = _sortedPair(tree[2 * i - 1], tree[2 * i]);
        }
    }

    function rowProof(bytes32[] memory tree, bytes32 leaf) internal pure returns (bytes32[] memory proof) {
        uint256 j = type(uint256).max;
        for (uint256 i; i < tree.length; ++i) {
            if (tree[i] == leaf && 2 * i + 1 >= tree.length) {
                j = i;
                break;
            }
        }
        require(j != type(uint256).max, "leaf not in tree");
        bytes32[] memory tmp = new bytes32[](64);
        uint256 d;
        while (j > 0) {
            tmp[d++] = tree[j % 2 == 1 ? j + 1 : j - 1];
            j = (j - 1) / 2;
        }
        proof = new bytes32[](d);
        for (uint256 i; i < d; ++i) {
            proof[i] = tmp[i];
        }
    }

    function _sortedPair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _sort(bytes32[] memory a, int256 lo, int256 hi) private pure {
        if (lo >= hi) return;
        bytes32 pivot = a[uint256(lo + (hi - lo) / 2)];
        int256 i = lo;
        int256 j = hi;
        while (i <= j) {
            while (a[uint256(i)] < pivot) ++i;
            while (a[uint256(j)] > pivot) --j;
            if (i <= j) {
                (a[uint256(i)], a[uint256(j)]) = (a[uint256(j)], a[uint256(i)]);
                ++i;
                --j;
            }
        }
        if (lo < j) _sort(a, lo, j);
        if (i < hi) _sort(a, i, hi);
    }

    // ------------------------------------------------------------------ traces (depth-17 positional tree)

    function zero(uint256 height) internal pure returns (bytes32 z) {
        for (uint256 i; i < height; ++i) {
            z = keccak256(abi.encode(z, z));
        }
    }

    /// @notice Node of the trace tree at `depth` (0 = root, 17 = chunk leaves) and `index`.
    function node(Trace memory t, uint256 depth, uint256 index) internal pure returns (bytes32) {
        uint256 height = 17 - depth;
        // First chunk-leaf index covered by the node, and its layer.
        uint256 first = index << height;
        uint256 layer = first >> 11;
        if (height >= 11) {
            // Whole layers: past the trace, an all-zero subtree.
            if (layer >= t.acts.length) return zero(height);
        } else if (layer >= t.acts.length || (first & 2047) * 32 >= t.acts[layer].length) {
            return zero(height);
        }
        if (height == 0) {
            bytes memory v = t.acts[layer];
            uint256 at = (index & 2047) * 32;
            bytes32 chunk;
            for (uint256 i; i < 32 && at + i < v.length; ++i) {
                chunk |= bytes32(v[at + i]) >> (8 * i);
            }
            return chunk;
        }
        return keccak256(abi.encode(node(t, depth + 1, 2 * index), node(t, depth + 1, 2 * index + 1)));
    }

    function root(Trace memory t) internal pure returns (bytes32) {
        return node(t, 0, 0);
    }

    /// @notice The `TRACE_DEPTH` positional siblings of layer `layer`'s root.
    function layerProof(Trace memory t, uint256 layer) internal pure returns (bytes32[] memory proof) {
        proof = new bytes32[](6);
        for (uint256 d; d < 6; ++d) {
            uint256 idx = (layer >> d) ^ 1;
            proof[d] = node(t, 6 - d, idx);
        }
    }

    /// @notice The children of the node at (`depth`, `index`).
    function children(Trace memory t, uint256 depth, uint256 index) internal pure returns (bytes32, bytes32) {
        return (node(t, depth + 1, 2 * index), node(t, depth + 1, 2 * index + 1));
    }

    /// @notice Copies a trace (so a liar's can be altered).
    function copy(Trace memory t) internal pure returns (Trace memory c) {
        c.acts = new bytes[](t.acts.length);
        for (uint256 l; l < t.acts.length; ++l) {
            c.acts[l] = bytes.concat(t.acts[l]);
        }
    }

    /// @notice The step data for (layer, element) with the honest model and trace (`input` = request input).
    function stepProof(
        Model memory m,
        bytes32[] memory tree,
        Trace memory agreed,
        bytes memory input,
        uint256 layer,
        uint256 element
    ) internal pure returns (Referee.StepProof memory p) {
        if (layer >= m.layers.length) return p;
        uint256 r = element < m.layers[layer].outputs ? element : 0;
        p.row = row(m, layer, r);
        p.rowProof = rowProof(tree, leafOf(p.row));
        if (layer == 0) {
            p.input = input;
        } else {
            p.input = agreed.acts[layer - 1];
            p.inputProof = layerProof(agreed, layer - 1);
        }
    }
}
