//! Differential vectors for the referee's one-step check (`contracts/referee/lib/IntMlpStep.sol`):
//! thousands of pseudo-random rows run through the Rust runtime (`Dense::neuron`) and hashed as row
//! leaves (`commit::RowLeaf::hash`). The rows are derived from keccak256 of their index, so the forge
//! test `test/referee/Differential.t.sol` re-derives the same rows and compares the Solidity results
//! with the committed file `test/referee/vectors/neuron-vectors.bin` that this test checks (and, with
//! `VERINFER_WRITE_VECTORS=1`, writes).

use alloy::primitives::{keccak256, B256, U256};
use verinfer_mlp::commit::RowLeaf;
use verinfer_mlp::dataset::TestSplit;
use verinfer_mlp::trace::{vector_root, Trace};
use verinfer_mlp::{Activation, Dense, IntMlp};

/// Rows in the file.
const COUNT: u32 = 2_500;

/// One derived row: width, shift, activation, bias, weights, input.
struct Case {
    shift: u8,
    activation: u8,
    bias: i32,
    weights: Vec<i8>,
    x: Vec<i8>,
}

/// keccak256 of a 32-byte big-endian integer.
fn h(v: U256) -> B256 {
    keccak256(v.to_be_bytes::<32>())
}

/// The row of index `i`, derived exactly as `Differential.t.sol` derives it.
fn case(i: u32) -> Case {
    let seed = h(U256::from(i));
    let s = seed.as_slice();
    let small = 1 + (u16::from_be_bytes([s[0], s[1]]) % 64) as usize;
    let width = if s[2] < 38 {
        65 + (u16::from_be_bytes([s[3], s[4]]) % 1036) as usize
    } else {
        small
    };
    let shift = s[5] % 32;
    let activation = s[6] % 2;
    let raw = i32::from_be_bytes([s[7], s[8], s[9], s[10]]);
    // A quarter of the rows carry a bias next to an int32 bound (so the accumulator wraps), a quarter
    // a full-range one, half a realistic one.
    let bias = match s[11] % 4 {
        0 if raw >= 0 => i32::MAX - (raw & 0xffff),
        0 => i32::MIN + (raw & 0xffff),
        1 => raw,
        _ => raw % (1 << 17),
    };
    let mut stream = Vec::with_capacity(2 * width + 32);
    let mut k = 0u64;
    while stream.len() < 2 * width {
        let mut pre = seed.to_vec();
        pre.extend_from_slice(&U256::from(k).to_be_bytes::<32>());
        stream.extend_from_slice(keccak256(&pre).as_slice());
        k += 1;
    }
    let weights = stream[..width].iter().map(|b| *b as i8).collect();
    let x = stream[width..2 * width].iter().map(|b| *b as i8).collect();
    Case {
        shift,
        activation,
        bias,
        weights,
        x,
    }
}

fn vectors() -> Vec<u8> {
    let mut out = COUNT.to_be_bytes().to_vec();
    for i in 0..COUNT {
        let c = case(i);
        let width = c.weights.len();
        let act = Activation::from_code(c.activation).expect("0 or 1");
        let layer = Dense::new(width, 1, c.shift, act, c.weights.clone(), vec![c.bias]);
        let y = layer.neuron(0, &c.x).expect("row 0 exists");
        out.push(y as u8);
        let leaf = RowLeaf {
            layer_count: 1,
            layer: 0,
            row: 0,
            inputs: width as u32,
            outputs: 1,
            kind: 1,
            activation: c.activation,
            shift: c.shift,
            input_min: -128,
            input_max: 127,
            bias: c.bias,
            weights: c.weights,
        };
        out.extend_from_slice(leaf.hash().as_slice());
    }
    out
}

#[test]
fn committed_referee_vectors_are_the_rust_runtimes_results() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test/referee/vectors/neuron-vectors.bin");
    let fresh = vectors();
    if std::env::var("VERINFER_WRITE_VECTORS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write vectors");
    }
    let committed = std::fs::read(&path).expect("test/referee/vectors/neuron-vectors.bin");
    assert!(
        committed == fresh,
        "{} is stale: regenerate with VERINFER_WRITE_VECTORS=1 cargo test -p verinfer-mlp --test referee_vectors",
        path.display()
    );
}

#[test]
fn vectors_cover_wrapping_saturation_and_both_activations() {
    let mut wrapped = 0;
    let mut saturated = 0;
    let mut relu = 0;
    for i in 0..COUNT {
        let c = case(i);
        let exact: i64 = i64::from(c.bias)
            + c.weights
                .iter()
                .zip(&c.x)
                .map(|(w, v)| i64::from(*w) * i64::from(*v))
                .sum::<i64>();
        if exact != i64::from(exact as i32) {
            wrapped += 1;
        }
        let q = i64::from(exact as i32) >> c.shift;
        if !(-128..=127).contains(&q) {
            saturated += 1;
        }
        relu += usize::from(c.activation == 1);
    }
    assert!(wrapped > 10, "{wrapped} rows wrap the int32 accumulator");
    assert!(saturated > 100, "{saturated} rows saturate");
    assert!(relu > 1_000, "{relu} ReLU rows");
}

/// Widths of the vector-commitment cases: chunk boundaries, a two-level vector, the widest.
const VECTOR_WIDTHS: [usize; 9] = [1, 31, 32, 33, 64, 100, 1_000, 2_048, 65_536];
/// Digits test-split samples whose whole trace root is pinned.
const TRACE_SAMPLES: usize = 5;

/// `width` keccak-derived bytes (the stream `keccak256(width ‖ k)`, k = 0, 1, …).
fn derived_vector(width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width + 32);
    let mut k = 0u64;
    while out.len() < width {
        let mut pre = U256::from(width).to_be_bytes::<32>().to_vec();
        pre.extend_from_slice(&U256::from(k).to_be_bytes::<32>());
        out.extend_from_slice(keccak256(&pre).as_slice());
        k += 1;
    }
    out.truncate(width);
    out
}

/// `u32 n, n × (u32 width, bytes, bytes32 vectorRoot)`, then `u32 m, m × (u16 len, input, bytes32
/// traceRoot)` of the built-in digits model on the first test-split samples.
fn trace_vectors() -> Vec<u8> {
    let mut out = (VECTOR_WIDTHS.len() as u32).to_be_bytes().to_vec();
    for w in VECTOR_WIDTHS {
        let v = derived_vector(w);
        out.extend_from_slice(&(w as u32).to_be_bytes());
        out.extend_from_slice(&v);
        out.extend_from_slice(vector_root(&v).expect("in range").as_slice());
    }
    let model = IntMlp::builtin().expect("built-in model");
    let split = TestSplit::digits().expect("digits split");
    out.extend_from_slice(&(TRACE_SAMPLES as u32).to_be_bytes());
    for s in split.samples.iter().take(TRACE_SAMPLES) {
        let t = Trace::new(&model, &s.input).expect("valid input");
        out.extend_from_slice(&(s.input.len() as u16).to_be_bytes());
        out.extend_from_slice(&s.input);
        out.extend_from_slice(t.root().as_slice());
    }
    out
}

/// The committed trace vectors (checked against the Solidity library's `vectorRoot` and the test
/// fixture's independent trace tree by `Differential.t.sol`) are what the Rust trace computes.
#[test]
fn committed_trace_vectors_are_the_rust_traces() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test/referee/vectors/trace-vectors.bin");
    let fresh = trace_vectors();
    if std::env::var("VERINFER_WRITE_VECTORS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write vectors");
    }
    let committed = std::fs::read(&path).expect("test/referee/vectors/trace-vectors.bin");
    assert!(
        committed == fresh,
        "{} is stale: regenerate with VERINFER_WRITE_VECTORS=1 cargo test -p verinfer-mlp --test referee_vectors",
        path.display()
    );
}
