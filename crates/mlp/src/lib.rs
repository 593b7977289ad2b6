//! verinfer-mlp: the integer MLP runtime. A model file ([`format`](mod@format)) loaded into an [`IntMlp`] that is
//! bit-exact on every machine, its weights commitment ([`commit`]) and the digits test split
//! ([`dataset`]), the OpenZeppelin-compatible [`merkle`] tree they use, and the execution
//! [`trace`] the referee bisects, and the [`moves`] a side of a referee game sends from its trace.
//!
//! Everything is integer arithmetic: int8 inputs, weights and activations, int32 accumulators
//! (wrapping adds), and per layer `y = clamp(acc >> shift, -128, 127)` (arithmetic shift), then the
//! layer's activation (identity or ReLU). Two honest operators therefore produce identical bytes and
//! identical output hashes. Dims, shifts and activations come from the file; nothing is hard-coded.
//!
//! The built-in model ([`IntMlp::builtin`]) is the digits classifier trained by
//! `models/digits/train.py`, compiled into the binary from `models/digits/digits.vimlp`.
//!
//! Identity on chain (`docs/models.md`):
//! * `weightsHash` = [`IntMlp::weights_root`], a Merkle root over the weight rows ([`commit`]),
//! * `runtimeSpecHash = keccak256(RUNTIME_SPEC)`,
//! * `modelId = keccak256(abi.encode(weightsHash, runtimeSpecHash))`,
//! * `inputHash = keccak256(input bytes)`, `outputHash = keccak256(output bytes)`.

use std::path::{Path, PathBuf};

use alloy::primitives::{keccak256, B256};

pub mod commit;
pub mod dataset;
pub mod format;
pub mod merkle;
pub mod moves;
pub mod trace;

pub use format::FormatError;

/// Canonical runtime specification string; its keccak256 is the model's `runtimeSpecHash`. It names
/// the file format version, the arithmetic and the weights commitment, so a change to any of them
/// is a new model id.
pub const RUNTIME_SPEC: &str = "verinfer-int-mlp/v1;file=vimlp-v1;input=int8,range-checked,exact-width;acc=int32,wrapping;requant=sar,clamp-int8;act=per-layer(identity|relu);output=int8-logits;weights=merkle-rows-v1";

/// The built-in model's file (`models/digits/digits.vimlp`): the digits classifier.
pub const BUILTIN_MODEL_FILE: &[u8] = include_bytes!("../../../models/digits/digits.vimlp");

/// A layer's activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `y = x` (the output layer's logits).
    Identity,
    /// `y = max(x, 0)`.
    Relu,
}

impl Activation {
    /// The file's code for it.
    pub fn code(self) -> u8 {
        match self {
            Self::Identity => 0,
            Self::Relu => 1,
        }
    }

    /// The activation with file code `code`, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Identity),
            1 => Some(Self::Relu),
            _ => None,
        }
    }
}

/// One dense (fully connected) layer: int8 weights, int32 biases, a requantization shift and an
/// activation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dense {
    inputs: usize,
    outputs: usize,
    shift: u8,
    activation: Activation,
    /// Row-major `[outputs][inputs]`.
    weights: Vec<i8>,
    biases: Vec<i32>,
}

impl Dense {
    /// A layer; the shape is checked when the layer is put into an [`IntMlp`].
    pub fn new(
        inputs: usize,
        outputs: usize,
        shift: u8,
        activation: Activation,
        weights: Vec<i8>,
        biases: Vec<i32>,
    ) -> Self {
        Self {
            inputs,
            outputs,
            shift,
            activation,
            weights,
            biases,
        }
    }

    /// Input width.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Output width (rows).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Requantization shift.
    pub fn shift(&self) -> u8 {
        self.shift
    }

    /// Activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The weights of output `row` (`inputs` values), if the row exists.
    pub fn row(&self, row: usize) -> Option<&[i8]> {
        (row < self.outputs).then(|| &self.weights[row * self.inputs..(row + 1) * self.inputs])
    }

    /// The bias of output `row`, if the row exists.
    pub fn bias(&self, row: usize) -> Option<i32> {
        self.biases.get(row).copied()
    }

    /// One output of the layer on int8 input `x`: the row's accumulator requantized and activated.
    pub fn neuron(&self, row: usize, x: &[i8]) -> Option<i8> {
        let w = self.row(row)?;
        let acc = w.iter().zip(x).fold(self.biases[row], |acc, (w, v)| {
            acc.wrapping_add(i32::from(*w) * i32::from(*v))
        });
        let q = (acc >> self.shift).clamp(-128, 127);
        let q = match self.activation {
            Activation::Identity => q,
            Activation::Relu => q.max(0),
        };
        // Clamped into the i8 range above, so the cast is lossless.
        Some(q as i8)
    }
}

/// Input the model refuses: nothing is computed, so nothing can be attested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The input is not exactly as wide as the model's first layer.
    #[error("input is {got} bytes, the model takes exactly {expected}")]
    WrongSize {
        /// The model's input width.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// A value lies outside the model's input range.
    #[error("input byte {index} is {value}, outside the model's input range {min}..={max}")]
    OutOfRange {
        /// Position.
        index: usize,
        /// Value (as int8).
        value: i8,
        /// Smallest allowed.
        min: i8,
        /// Largest allowed.
        max: i8,
    },
}

/// An output that is not an output of this model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("output is {got} bytes, the model has {expected} classes")]
pub struct OutputError {
    /// The model's output width.
    pub expected: usize,
    /// Bytes given.
    pub got: usize,
}

/// A model file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The file is not a valid model file.
    #[error("model file {path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: FormatError,
    },
}

/// A deterministic integer multi-layer perceptron, as described by a model file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntMlp {
    input_range: (i8, i8),
    layers: Vec<Dense>,
}

impl IntMlp {
    /// A model from its layers; checks the layer count, widths, shapes, shifts and vector lengths.
    pub fn new(input_range: (i8, i8), layers: Vec<Dense>) -> Result<Self, FormatError> {
        if input_range.0 > input_range.1 {
            return Err(FormatError::InputRange {
                min: input_range.0,
                max: input_range.1,
            });
        }
        if layers.is_empty() || layers.len() > format::MAX_LAYERS {
            return Err(FormatError::LayerCount {
                found: layers.len(),
            });
        }
        let mut fed = layers[0].inputs;
        for (i, l) in layers.iter().enumerate() {
            format::check_layer_header(i, fed, l.inputs, l.outputs, l.shift)?;
            for (what, expected, found) in [
                ("weights", l.inputs * l.outputs, l.weights.len()),
                ("biases", l.outputs, l.biases.len()),
            ] {
                if expected != found {
                    return Err(FormatError::Length {
                        layer: i,
                        what,
                        expected,
                        found,
                    });
                }
            }
            fed = l.outputs;
        }
        Ok(Self {
            input_range,
            layers,
        })
    }

    /// Parses a model file ([`format::parse`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        format::parse(bytes)
    }

    /// The model file of this model ([`format::serialize`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        format::serialize(self)
    }

    /// Reads and parses the model file at `path`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|source| LoadError::Format {
            path: path.to_owned(),
            source,
        })
    }

    /// The built-in model: the digits classifier ([`BUILTIN_MODEL_FILE`]).
    pub fn builtin() -> Result<Self, FormatError> {
        Self::from_bytes(BUILTIN_MODEL_FILE)
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// Smallest and largest allowed input value.
    pub fn input_range(&self) -> (i8, i8) {
        self.input_range
    }

    /// Input width in bytes.
    pub fn input_len(&self) -> usize {
        self.layers[0].inputs
    }

    /// Output width in bytes (classes).
    pub fn output_len(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// Checks `input` without running the model.
    pub fn check_input(&self, input: &[u8]) -> Result<(), InputError> {
        if input.len() != self.input_len() {
            return Err(InputError::WrongSize {
                expected: self.input_len(),
                got: input.len(),
            });
        }
        let (min, max) = self.input_range;
        match input
            .iter()
            .enumerate()
            .find(|(_, b)| !(min..=max).contains(&(**b as i8)))
        {
            Some((index, b)) => Err(InputError::OutOfRange {
                index,
                value: *b as i8,
                min,
                max,
            }),
            None => Ok(()),
        }
    }

    /// Runs the model. Input bytes are int8 values; output bytes are the last layer's int8 values
    /// (one logit per class) reinterpreted as `u8`.
    pub fn infer(&self, input: &[u8]) -> Result<Vec<u8>, InputError> {
        let mut layers = self.activations(input)?;
        // IntMlp::new refuses a model without layers.
        Ok(layers.pop().unwrap_or_default())
    }

    /// Runs the model and keeps every layer's output (int8 values as `u8`), first layer first: the
    /// execution trace the referee bisects ([`trace`]).
    pub fn activations(&self, input: &[u8]) -> Result<Vec<Vec<u8>>, InputError> {
        self.check_input(input)?;
        let mut x: Vec<i8> = input.iter().map(|b| *b as i8).collect();
        let mut out = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let y: Vec<i8> = (0..l.outputs).filter_map(|o| l.neuron(o, &x)).collect();
            out.push(y.iter().map(|v| *v as u8).collect());
            x = y;
        }
        Ok(out)
    }

    /// Decodes an output of this model (one int8 logit per class) into the winning class.
    pub fn decode(&self, output: &[u8]) -> Result<Prediction, OutputError> {
        if output.len() != self.output_len() {
            return Err(OutputError {
                expected: self.output_len(),
                got: output.len(),
            });
        }
        Ok(Prediction::of(output))
    }

    /// Runs the model and decodes its output.
    pub fn classify(&self, input: &[u8]) -> Result<Prediction, InputError> {
        Ok(Prediction::of(&self.infer(input)?))
    }

    /// The Merkle root over the weight rows ([`commit`]): the model's on-chain `weightsHash`.
    pub fn weights_root(&self) -> B256 {
        commit::weights_tree(self).root()
    }

    /// `keccak256(RUNTIME_SPEC)`.
    pub fn runtime_spec_hash() -> B256 {
        keccak256(RUNTIME_SPEC.as_bytes())
    }

    /// `keccak256(abi.encode(weightsRoot, runtimeSpecHash))`, the id the registry assigns.
    pub fn model_id(&self) -> B256 {
        model_id(self.weights_root(), Self::runtime_spec_hash())
    }
}

/// A decoded output: its logits and the winning class (the first highest logit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// The class with the highest logit (lowest index on ties).
    pub class: usize,
    /// The int8 logits, one per class.
    pub logits: Vec<i8>,
}

impl Prediction {
    /// The prediction of output bytes (int8 logits).
    fn of(output: &[u8]) -> Self {
        let logits: Vec<i8> = output.iter().map(|b| *b as i8).collect();
        let class = logits
            .iter()
            .enumerate()
            .fold(0, |best, (i, l)| if *l > logits[best] { i } else { best });
        Self { class, logits }
    }
}

impl std::fmt::Display for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "class {} (logits {:?})", self.class, self.logits)
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
    use crate::*;
    use alloy::sol_types::SolValue;

    /// A two-layer model small enough to check by hand.
    fn tiny() -> IntMlp {
        IntMlp::new(
            (0, 16),
            vec![
                Dense::new(2, 2, 1, Activation::Relu, vec![1, 2, -3, 1], vec![1, 0]),
                Dense::new(
                    2,
                    2,
                    0,
                    Activation::Identity,
                    vec![1, 0, -1, 1],
                    vec![0, -5],
                ),
            ],
        )
        .unwrap()
    }

    #[test]
    fn model_id_is_abi_encode_of_weights_root_and_spec_hash() {
        let m = IntMlp::builtin().unwrap();
        let expected = keccak256((m.weights_root(), IntMlp::runtime_spec_hash()).abi_encode());
        assert_eq!(m.model_id(), expected);
        assert!(RUNTIME_SPEC.contains("file=vimlp-v1"));
    }

    /// The arithmetic on a model small enough to do by hand: acc = bias + w.x, `>> shift`, ReLU on the
    /// hidden layer, identity on the output layer.
    #[test]
    fn infer_computes_the_documented_arithmetic() {
        // x = [3, 5]; layer 0: (1 + 3 + 10) >> 1 = 7; (0 - 9 + 5) >> 1 = -2 -> relu 0
        // layer 1: 7 + 0 = 7; -7 + 0 - 5 = -12
        let out = tiny().infer(&[3, 5]).unwrap();
        assert_eq!(out, vec![7, (-12i8) as u8]);
        assert_eq!(tiny().decode(&out).unwrap().class, 0);
    }

    #[test]
    fn accumulators_saturate_to_int8_after_the_shift() {
        let m = IntMlp::new(
            (-128, 127),
            vec![Dense::new(
                2,
                2,
                0,
                Activation::Identity,
                vec![127, 127, -128, -128],
                vec![0, 0],
            )],
        )
        .unwrap();
        assert_eq!(m.infer(&[127, 127]).unwrap(), vec![127, (-128i8) as u8]);
    }

    #[test]
    fn wrong_size_input_is_a_typed_error() {
        let m = IntMlp::builtin().unwrap();
        for len in [0usize, 1, 63, 65, 128] {
            assert_eq!(
                m.infer(&vec![0u8; len]),
                Err(InputError::WrongSize {
                    expected: 64,
                    got: len
                })
            );
        }
        assert!(m.infer(&[0u8; 64]).is_ok());
    }

    #[test]
    fn out_of_range_pixel_is_a_typed_error() {
        let m = IntMlp::builtin().unwrap();
        let mut img = [16u8; 64];
        img[9] = 17;
        assert_eq!(
            m.infer(&img),
            Err(InputError::OutOfRange {
                index: 9,
                value: 17,
                min: 0,
                max: 16
            })
        );
        img[9] = 0xff; // -1 as int8
        assert!(matches!(
            m.infer(&img),
            Err(InputError::OutOfRange { value: -1, .. })
        ));
    }

    #[test]
    fn decode_refuses_an_output_of_another_width() {
        let m = IntMlp::builtin().unwrap();
        assert_eq!(
            m.decode(&[0u8; 8]),
            Err(OutputError {
                expected: 10,
                got: 8
            })
        );
        // ties go to the lowest class
        assert_eq!(m.decode(&[5, 9, 9, 0, 0, 0, 0, 0, 0, 0]).unwrap().class, 1);
    }

    #[test]
    fn builtin_is_the_digits_classifier() {
        let m = IntMlp::builtin().unwrap();
        let dims: Vec<usize> = std::iter::once(m.input_len())
            .chain(m.layers().iter().map(|l| l.outputs()))
            .collect();
        assert_eq!(dims, vec![64, 32, 16, 10]);
        assert_eq!(m.input_range(), (0, 16));
    }

    #[test]
    fn shapes_are_checked_when_built_in_memory() {
        let e = IntMlp::new(
            (0, 1),
            vec![
                Dense::new(2, 2, 0, Activation::Relu, vec![0; 4], vec![0; 2]),
                Dense::new(3, 1, 0, Activation::Identity, vec![0; 3], vec![0]),
            ],
        )
        .unwrap_err();
        assert_eq!(
            e,
            FormatError::ShapeMismatch {
                layer: 1,
                expected: 2,
                inputs: 3
            }
        );
        let e = IntMlp::new(
            (0, 1),
            vec![Dense::new(
                2,
                2,
                0,
                Activation::Relu,
                vec![0; 3],
                vec![0; 2],
            )],
        )
        .unwrap_err();
        assert!(matches!(
            e,
            FormatError::Length {
                what: "weights",
                expected: 4,
                found: 3,
                ..
            }
        ));
        assert!(matches!(
            IntMlp::new((1, 0), vec![]),
            Err(FormatError::InputRange { .. })
        ));
        assert!(matches!(
            IntMlp::new((0, 1), vec![]),
            Err(FormatError::LayerCount { found: 0 })
        ));
    }
}
