//! The built-in reference model: a small integer MLP that is bit-exact on every machine.
//!
//! Everything is pure integer arithmetic (int8 weights and activations, int32 accumulators, an
//! arithmetic right shift to requantize), so two honest operators always produce identical bytes and
//! therefore identical output hashes. The weights are generated from a fixed seed with a keccak256
//! counter stream, so nothing has to be shipped or downloaded.
//!
//! Identity on chain:
//! * `weightsHash = keccak256(serialized weights)` (see [`IntMlp::serialize_weights`]),
//! * `runtimeSpecHash = keccak256(RUNTIME_SPEC)`,
//! * `modelId = keccak256(abi.encode(weightsHash, runtimeSpecHash))`,
//! * `inputHash = keccak256(input bytes)`, `outputHash = keccak256(output bytes)`.

use alloy::primitives::{keccak256, B256};

/// Canonical runtime specification string; its keccak256 is the model's `runtimeSpecHash`.
pub const RUNTIME_SPEC: &str =
    "verinfer-int8-mlp/v1;dims=64x32x16x8;quant=int8;acc=int32;requant=sar9,8,7;act=relu;fold=wrapping-add-mod64";

/// Seed of the default weights.
pub const DEFAULT_SEED: &[u8] = b"verinfer-int8-mlp/v1/seed/0";

/// Layer widths: input, two hidden layers, output.
pub const DIMS: [usize; 4] = [64, 32, 16, 8];

/// Requantization shift applied to each layer's int32 accumulators.
const REQUANT_SHIFTS: [u32; 3] = [9, 8, 7];

/// One fully connected layer with int8 weights and int32 biases.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Layer {
    inputs: usize,
    outputs: usize,
    /// Row-major `[outputs][inputs]`.
    weights: Vec<i8>,
    biases: Vec<i32>,
}

/// A deterministic integer multi-layer perceptron.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntMlp {
    layers: Vec<Layer>,
}

/// A keccak256 counter-mode byte stream: block `i` is `keccak256(seed || i as u64 big-endian)`.
struct KeccakStream {
    seed: Vec<u8>,
    counter: u64,
    block: [u8; 32],
    pos: usize,
}

impl KeccakStream {
    fn new(seed: &[u8]) -> Self {
        Self {
            seed: seed.to_vec(),
            counter: 0,
            block: [0; 32],
            pos: 32,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.pos == 32 {
            let mut buf = self.seed.clone();
            buf.extend_from_slice(&self.counter.to_be_bytes());
            self.block = keccak256(&buf).0;
            self.counter += 1;
            self.pos = 0;
        }
        let b = self.block[self.pos];
        self.pos += 1;
        b
    }
}

impl IntMlp {
    /// Generates the model from `seed`. Weights are uniform int8; biases are small int32 values in
    /// `[-128, 127]` so that they matter without saturating the accumulator.
    pub fn from_seed(seed: &[u8]) -> Self {
        let mut stream = KeccakStream::new(seed);
        let layers = DIMS
            .windows(2)
            .map(|w| {
                let (inputs, outputs) = (w[0], w[1]);
                let weights = (0..inputs * outputs)
                    .map(|_| stream.next_byte() as i8)
                    .collect();
                let biases = (0..outputs)
                    .map(|_| i32::from(stream.next_byte() as i8))
                    .collect();
                Layer {
                    inputs,
                    outputs,
                    weights,
                    biases,
                }
            })
            .collect();
        Self { layers }
    }

    /// The default model shipped with verinfer (seed [`DEFAULT_SEED`]).
    pub fn default_model() -> Self {
        Self::from_seed(DEFAULT_SEED)
    }

    /// Canonical serialization of the weights: per layer, the int8 weights row-major followed by the
    /// int32 biases big-endian.
    pub fn serialize_weights(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.layers {
            out.extend(l.weights.iter().map(|w| *w as u8));
            for b in &l.biases {
                out.extend_from_slice(&b.to_be_bytes());
            }
        }
        out
    }

    /// `keccak256` of [`Self::serialize_weights`].
    pub fn weights_hash(&self) -> B256 {
        keccak256(self.serialize_weights())
    }

    /// `keccak256(RUNTIME_SPEC)`.
    pub fn runtime_spec_hash() -> B256 {
        keccak256(RUNTIME_SPEC.as_bytes())
    }

    /// `keccak256(abi.encode(weightsHash, runtimeSpecHash))`, the id the registry assigns.
    pub fn model_id(&self) -> B256 {
        model_id(self.weights_hash(), Self::runtime_spec_hash())
    }

    /// Folds arbitrary input bytes into the 64 int8 input features: feature `i % 64` is the wrapping
    /// int8 sum of every byte at positions `i`, `i + 64`, ...
    pub fn features(input: &[u8]) -> Vec<i8> {
        let mut x = vec![0i8; DIMS[0]];
        for (i, b) in input.iter().enumerate() {
            let slot = &mut x[i % DIMS[0]];
            *slot = slot.wrapping_add(*b as i8);
        }
        x
    }

    /// Runs the model. Output bytes are the 8 int8 logits reinterpreted as `u8`.
    pub fn infer(&self, input: &[u8]) -> Vec<u8> {
        let mut x = Self::features(input);
        let last = self.layers.len().saturating_sub(1);
        for (idx, l) in self.layers.iter().enumerate() {
            let mut y = Vec::with_capacity(l.outputs);
            for o in 0..l.outputs {
                let row = &l.weights[o * l.inputs..(o + 1) * l.inputs];
                let acc = row.iter().zip(&x).fold(l.biases[o], |acc, (w, v)| {
                    acc.wrapping_add(i32::from(*w) * i32::from(*v))
                });
                let mut q = (acc >> REQUANT_SHIFTS[idx]).clamp(-128, 127);
                if idx != last {
                    q = q.max(0);
                }
                // Clamped into the i8 range above, so the cast is lossless.
                y.push(q as i8);
            }
            x = y;
        }
        x.into_iter().map(|v| v as u8).collect()
    }
}

/// A decoded output of the built-in model: its logits and the winning class (the first highest logit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// The class with the highest logit (lowest index on ties).
    pub class: usize,
    /// The int8 logits, one per class.
    pub logits: Vec<i8>,
}

impl std::fmt::Display for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "class {} (logits {:?})", self.class, self.logits)
    }
}

impl IntMlp {
    /// Decodes an output of this model (one int8 logit per class); `None` when `output` has another
    /// length, i.e. it is not an output of this model.
    ///
    /// ```
    /// use verinfer_keeper::mlp::IntMlp;
    ///
    /// let m = IntMlp::default_model();
    /// let p = IntMlp::decode(&m.infer(b"hello")).unwrap();
    /// assert_eq!(p.logits.len(), 8);
    /// assert!(p.logits.iter().all(|l| *l <= p.logits[p.class]));
    /// assert!(IntMlp::decode(b"not eight").is_none());
    /// ```
    pub fn decode(output: &[u8]) -> Option<Prediction> {
        if output.len() != DIMS[DIMS.len() - 1] {
            return None;
        }
        let logits: Vec<i8> = output.iter().map(|b| *b as i8).collect();
        let class = logits
            .iter()
            .enumerate()
            .fold(0, |best, (i, l)| if *l > logits[best] { i } else { best });
        Some(Prediction { class, logits })
    }
}

/// `keccak256(abi.encode(weightsHash, runtimeSpecHash))`.
pub fn model_id(weights_hash: B256, runtime_spec_hash: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(weights_hash.as_slice());
    buf[32..].copy_from_slice(runtime_spec_hash.as_slice());
    keccak256(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolValue;

    #[test]
    fn model_id_is_abi_encode_of_hashes() {
        let m = IntMlp::default_model();
        let expected = keccak256((m.weights_hash(), IntMlp::runtime_spec_hash()).abi_encode());
        assert_eq!(m.model_id(), expected);
    }

    #[test]
    fn weights_are_deterministic_and_seed_dependent() {
        assert_eq!(IntMlp::default_model(), IntMlp::from_seed(DEFAULT_SEED));
        assert_ne!(
            IntMlp::from_seed(b"a").weights_hash(),
            IntMlp::from_seed(b"b").weights_hash()
        );
        let expected_len: usize = DIMS.windows(2).map(|w| w[0] * w[1] + 4 * w[1]).sum();
        assert_eq!(
            IntMlp::default_model().serialize_weights().len(),
            expected_len
        );
    }

    /// Golden vector: pins the exact arithmetic so any change to the runtime is caught (a change must
    /// come with a new RUNTIME_SPEC, hence a new model id).
    #[test]
    fn golden_output() {
        let m = IntMlp::default_model();
        let out = m.infer(b"hello verinfer");
        assert_eq!(out.len(), 8);
        let again = m.infer(b"hello verinfer");
        assert_eq!(out, again);
        assert_ne!(m.infer(b"hello verinfer"), m.infer(b"hello verinfeR"));
        assert_eq!(out, GOLDEN_HELLO, "{:?}", out);
    }

    const GOLDEN_HELLO: [u8; 8] = [127, 245, 50, 23, 189, 180, 128, 42];

    proptest::proptest! {
        #[test]
        fn infer_is_pure(input in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let m = IntMlp::default_model();
            proptest::prop_assert_eq!(m.infer(&input), m.infer(&input));
            proptest::prop_assert_eq!(m.infer(&input).len(), DIMS[3]);
        }
    }
}
