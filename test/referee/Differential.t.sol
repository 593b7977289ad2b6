// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IntMlpStep} from "../../contracts/referee/lib/IntMlpStep.sol";
import {IntMlpFixture, StepHarness} from "./IntMlpFixture.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Differential test of the one-step check against the Rust runtime: 2,500 pseudo-random rows (widths
///         1..1,100, every shift, both activations, biases at the int32 bounds so the accumulator wraps) derived
///         from keccak256 of their index exactly as `crates/mlp/tests/referee_vectors.rs` derives them; the
///         Rust test commits each row's `Dense::neuron` output and `RowLeaf::hash` to
///         `test/referee/vectors/neuron-vectors.bin` (and fails in CI when the file is stale). Likewise the
///         trace commitments: `trace-vectors.bin` holds the Rust `trace::vector_root` of derived vectors
///         (chunk boundaries up to the widest, 65,536 bytes) and the Rust trace roots of the digits model on
///         test-split samples, compared here with the library's `vectorRoot` and with the fixture's own trace
///         tree.
contract DifferentialTest is Test {
    StepHarness internal h;

    function setUp() public {
        h = new StepHarness();
    }

    function _case(uint32 i) internal pure returns (IntMlpStep.Row memory r, bytes memory x) {
        bytes32 seed = keccak256(abi.encode(uint256(i)));
        uint256 width = 1 + (uint16(bytes2(seed)) % 64);
        if (uint8(seed[2]) < 38) width = 65 + (uint16(bytes2(seed << 24)) % 1036);
        uint8 shift = uint8(seed[5]) % 32;
        uint8 act = uint8(seed[6]) % 2;
        int32 raw = int32(uint32(bytes4(seed << 56)));
        int32 bias;
        uint8 kind = uint8(seed[11]) % 4;
        if (kind == 0) bias = raw >= 0 ? type(int32).max - (raw & 0xffff) : type(int32).min + (raw & 0xffff);
        else if (kind == 1) bias = raw;
        else bias = raw % (1 << 17);
        bytes memory stream;
        for (uint256 k; stream.length < 2 * width; ++k) {
            stream = bytes.concat(stream, keccak256(abi.encode(seed, k)));
        }
        bytes memory w = new bytes(width);
        x = new bytes(width);
        for (uint256 j; j < width; ++j) {
            w[j] = stream[j];
            x[j] = stream[width + j];
        }
        r = IntMlpStep.Row({
            layerCount: 1,
            layer: 0,
            row: 0,
            inputs: uint32(width),
            outputs: 1,
            kind: 1,
            activation: act,
            shift: shift,
            inputMin: -128,
            inputMax: 127,
            bias: bias,
            weights: w
        });
    }

    function test_oneStepMatchesTheRustRuntimeOnEveryVector() public view {
        bytes memory v = vm.readFileBinary("test/referee/vectors/neuron-vectors.bin");
        uint32 count =
            uint32(bytes4(v[0]) | (bytes4(v[1]) >> 8) | (bytes4(v[2]) >> 16) | (bytes4(v[3]) >> 24));
        assertEq(count, 2500);
        assertEq(v.length, 4 + uint256(count) * 33);
        for (uint32 i; i < count; ++i) {
            (IntMlpStep.Row memory r, bytes memory x) = _case(i);
            uint256 at = 4 + uint256(i) * 33;
            int8 expected = int8(uint8(v[at]));
            bytes32 leaf;
            assembly ("memory-safe") {
                leaf := mload(add(add(v, 33), at))
            }
            assertEq(h.neuron(r, x), expected, string.concat("neuron of vector ", vm.toString(i)));
            assertEq(h.rowLeaf(r), leaf, string.concat("leaf of vector ", vm.toString(i)));
        }
    }

    /// @dev Big-endian integer of `len` bytes at `at`.
    function _be(bytes memory v, uint256 at, uint256 len) internal pure returns (uint256 x) {
        for (uint256 i; i < len; ++i) {
            x = (x << 8) | uint8(v[at + i]);
        }
    }

    function _slice(bytes memory v, uint256 at, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) {
            out[i] = v[at + i];
        }
    }

    function _word(bytes memory v, uint256 at) internal pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := mload(add(add(v, 32), at))
        }
    }

    function test_traceCommitmentsMatchTheRustTrace() public view {
        bytes memory v = vm.readFileBinary("test/referee/vectors/trace-vectors.bin");
        uint256 at = 4;
        uint256 vectors = _be(v, 0, 4);
        assertEq(vectors, 9);
        for (uint256 i; i < vectors; ++i) {
            uint256 width = _be(v, at, 4);
            bytes memory x = _slice(v, at + 4, width);
            at += 4 + width;
            assertEq(
                h.vectorRoot(x), _word(v, at), string.concat("vector root of width ", vm.toString(width))
            );
            at += 32;
        }
        IntMlpFixture.Model memory m = IntMlpFixture.parse(vm.readFileBinary("models/digits/digits.vimlp"));
        uint256 samples = _be(v, at, 4);
        assertEq(samples, 5);
        at += 4;
        for (uint256 i; i < samples; ++i) {
            uint256 len = _be(v, at, 2);
            bytes memory input = _slice(v, at + 2, len);
            at += 2 + len;
            bytes32 root = IntMlpFixture.root(IntMlpFixture.forward(m, input));
            assertEq(root, _word(v, at), string.concat("trace root of sample ", vm.toString(i)));
            at += 32;
        }
        assertEq(at, v.length);
    }
}
