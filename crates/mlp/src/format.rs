//! The integer MLP file format, version 1 (`docs/models.md` has the byte layout).
//!
//! Everything is big-endian. A file is a header followed by its layers, and nothing else:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `VIMLP\0\r\n` (`56 49 4d 4c 50 00 0d 0a`, [`MAGIC`]) |
//! | 2 | format version, `u16` ([`FORMAT_VERSION`]) |
//! | 2 | layer count `L`, `u16`, `1..=`[`MAX_LAYERS`] |
//! | 4 | input width, `u32` |
//! | 1 + 1 | smallest and largest allowed input value, `i8` each |
//!
//! then per layer:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | kind: `1` = dense (the only kind of version 1) |
//! | 1 | activation: `0` = identity, `1` = ReLU |
//! | 1 | requantization shift, `0..=31` |
//! | 1 | reserved, must be `0` |
//! | 4 + 4 | inputs, outputs, `u32` each, `1..=`[`MAX_WIDTH`]; inputs = previous layer's outputs |
//! | outputs × inputs | int8 weights, row-major (`[output][input]`) |
//! | 4 × outputs | int32 biases |

use crate::{Activation, Dense, IntMlp};

/// The file's first eight bytes.
pub const MAGIC: [u8; 8] = *b"VIMLP\0\r\n";
/// The format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Most layers a file may have.
pub const MAX_LAYERS: usize = 64;
/// Widest layer (inputs or outputs) a file may have.
pub const MAX_WIDTH: usize = 1 << 16;
/// Layer kind code of a dense (fully connected) layer.
pub const KIND_DENSE: u8 = 1;

/// Why bytes are not a valid model file. Each names where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The file does not start with [`MAGIC`].
    #[error("not a verinfer integer MLP file: magic is {found:02x?}, expected {MAGIC:02x?}")]
    BadMagic {
        /// The first bytes found (fewer than eight if the file is shorter).
        found: Vec<u8>,
    },
    /// The format version is not [`FORMAT_VERSION`].
    #[error(
        "unsupported model file version {found} (this runtime reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u16,
    },
    /// The file ends inside a field.
    #[error(
        "truncated model file: {what} needs {needed} bytes at offset {offset}, {available} left"
    )]
    Truncated {
        /// The field being read.
        what: String,
        /// Where it starts.
        offset: usize,
        /// Its size.
        needed: usize,
        /// Bytes left in the file.
        available: usize,
    },
    /// Bytes follow the last layer.
    #[error("{extra} unexpected bytes after the last layer")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The layer count is 0 or above [`MAX_LAYERS`].
    #[error("layer count {found} not in 1..={MAX_LAYERS}")]
    LayerCount {
        /// Count in the file.
        found: usize,
    },
    /// The input range is empty (`min > max`).
    #[error("input range {min}..={max} is empty")]
    InputRange {
        /// Smallest allowed input value.
        min: i8,
        /// Largest allowed input value.
        max: i8,
    },
    /// A layer kind this version does not know.
    #[error("layer {layer}: unknown layer kind {kind} (version {FORMAT_VERSION} knows 1 = dense)")]
    UnknownLayerKind {
        /// Layer index.
        layer: usize,
        /// Kind code.
        kind: u8,
    },
    /// An activation this version does not know.
    #[error("layer {layer}: unknown activation {code} (0 = identity, 1 = relu)")]
    UnknownActivation {
        /// Layer index.
        layer: usize,
        /// Activation code.
        code: u8,
    },
    /// A shift above 31 (an int32 accumulator has nothing left).
    #[error("layer {layer}: requantization shift {shift} not in 0..=31")]
    Shift {
        /// Layer index.
        layer: usize,
        /// Shift.
        shift: u8,
    },
    /// The reserved byte of a layer header is not zero.
    #[error("layer {layer}: reserved byte is {value}, must be 0")]
    Reserved {
        /// Layer index.
        layer: usize,
        /// Value found.
        value: u8,
    },
    /// A width is 0 or above [`MAX_WIDTH`].
    #[error("layer {layer}: {what} = {value} not in 1..={MAX_WIDTH}")]
    Width {
        /// Layer index.
        layer: usize,
        /// `inputs` or `outputs`.
        what: &'static str,
        /// Value.
        value: usize,
    },
    /// A layer's inputs differ from the previous layer's outputs (or the input width, for layer 0).
    #[error("layer {layer}: takes {inputs} inputs but is fed {expected}")]
    ShapeMismatch {
        /// Layer index.
        layer: usize,
        /// What the previous layer (or the header) provides.
        expected: usize,
        /// What this layer declares.
        inputs: usize,
    },
    /// A layer's weight or bias vector has the wrong length (only when built in memory).
    #[error("layer {layer}: {what} has {found} values, the shape needs {expected}")]
    Length {
        /// Layer index.
        layer: usize,
        /// `weights` or `biases`.
        what: &'static str,
        /// Values needed.
        expected: usize,
        /// Values given.
        found: usize,
    },
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: impl Fn() -> String) -> Result<&'a [u8], FormatError> {
        let available = self.bytes.len() - self.pos;
        if n > available {
            return Err(FormatError::Truncated {
                what: what(),
                offset: self.pos,
                needed: n,
                available,
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: impl Fn() -> String) -> Result<[u8; N], FormatError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
}

/// Parses a model file. Strict: every field is checked and nothing may follow the last layer.
pub fn parse(bytes: &[u8]) -> Result<IntMlp, FormatError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(FormatError::BadMagic {
            found: bytes[..bytes.len().min(MAGIC.len())].to_vec(),
        });
    }
    let mut r = Reader {
        bytes,
        pos: MAGIC.len(),
    };
    let version = u16::from_be_bytes(r.array(|| "format version".into())?);
    if version != FORMAT_VERSION {
        return Err(FormatError::UnsupportedVersion { found: version });
    }
    let count = usize::from(u16::from_be_bytes(r.array(|| "layer count".into())?));
    if count == 0 || count > MAX_LAYERS {
        return Err(FormatError::LayerCount { found: count });
    }
    let input_width = u32::from_be_bytes(r.array(|| "input width".into())?) as usize;
    let [min, max] = r.array(|| "input range".into())?;
    let input_range = (min as i8, max as i8);
    let mut fed = input_width;
    let mut layers = Vec::with_capacity(count);
    for layer in 0..count {
        let [kind, act, shift, reserved] = r.array(|| format!("layer {layer} header"))?;
        let inputs = u32::from_be_bytes(r.array(|| format!("layer {layer} inputs"))?) as usize;
        let outputs = u32::from_be_bytes(r.array(|| format!("layer {layer} outputs"))?) as usize;
        if kind != KIND_DENSE {
            return Err(FormatError::UnknownLayerKind { layer, kind });
        }
        let activation = Activation::from_code(act)
            .ok_or(FormatError::UnknownActivation { layer, code: act })?;
        if reserved != 0 {
            return Err(FormatError::Reserved {
                layer,
                value: reserved,
            });
        }
        check_layer_header(layer, fed, inputs, outputs, shift)?;
        let weights = r
            .take(inputs * outputs, || format!("layer {layer} weights"))?
            .iter()
            .map(|b| *b as i8)
            .collect();
        let biases = r
            .take(4 * outputs, || format!("layer {layer} biases"))?
            .chunks_exact(4)
            .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        layers.push(Dense {
            inputs,
            outputs,
            shift,
            activation,
            weights,
            biases,
        });
        fed = outputs;
    }
    if r.pos != bytes.len() {
        return Err(FormatError::TrailingBytes {
            extra: bytes.len() - r.pos,
        });
    }
    IntMlp::new(input_range, layers)
}

/// Checks one layer's widths and shift against what it is fed.
pub(super) fn check_layer_header(
    layer: usize,
    fed: usize,
    inputs: usize,
    outputs: usize,
    shift: u8,
) -> Result<(), FormatError> {
    for (what, value) in [("inputs", inputs), ("outputs", outputs)] {
        if value == 0 || value > MAX_WIDTH {
            return Err(FormatError::Width { layer, what, value });
        }
    }
    if inputs != fed {
        return Err(FormatError::ShapeMismatch {
            layer,
            expected: fed,
            inputs,
        });
    }
    if shift > 31 {
        return Err(FormatError::Shift { layer, shift });
    }
    Ok(())
}

/// Writes `model` in the format [`parse`] reads (`parse(&serialize(m)) == m`).
pub fn serialize(model: &IntMlp) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        20 + model
            .layers
            .iter()
            .map(|l| 12 + l.weights.len() + 4 * l.biases.len())
            .sum::<usize>(),
    );
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    // `IntMlp::new` keeps the count <= MAX_LAYERS and widths <= MAX_WIDTH, so these fit.
    out.extend_from_slice(&(model.layers.len() as u16).to_be_bytes());
    out.extend_from_slice(&(model.input_len() as u32).to_be_bytes());
    out.push(model.input_range.0 as u8);
    out.push(model.input_range.1 as u8);
    for l in &model.layers {
        out.extend_from_slice(&[KIND_DENSE, l.activation.code(), l.shift, 0]);
        out.extend_from_slice(&(l.inputs as u32).to_be_bytes());
        out.extend_from_slice(&(l.outputs as u32).to_be_bytes());
        out.extend(l.weights.iter().map(|w| *w as u8));
        for b in &l.biases {
            out.extend_from_slice(&b.to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BUILTIN_MODEL_FILE;
    use proptest::prelude::*;

    /// Offset of layer 0's header in a file.
    const L0: usize = 18;

    fn builtin_bytes() -> Vec<u8> {
        BUILTIN_MODEL_FILE.to_vec()
    }

    #[test]
    fn builtin_file_round_trips_byte_for_byte() {
        let m = parse(BUILTIN_MODEL_FILE).unwrap();
        assert_eq!(serialize(&m), BUILTIN_MODEL_FILE);
    }

    #[test]
    fn bad_magic_is_refused() {
        let mut b = builtin_bytes();
        b[0] = b'X';
        assert!(matches!(parse(&b), Err(FormatError::BadMagic { .. })));
        assert!(matches!(parse(b"VIM"), Err(FormatError::BadMagic { found }) if found == b"VIM"));
        assert!(matches!(parse(&[]), Err(FormatError::BadMagic { .. })));
    }

    #[test]
    fn other_versions_are_refused() {
        let mut b = builtin_bytes();
        b[8..10].copy_from_slice(&2u16.to_be_bytes());
        assert_eq!(parse(&b), Err(FormatError::UnsupportedVersion { found: 2 }));
    }

    /// Every proper prefix of a valid file is refused as truncated (or, shorter than the magic, as
    /// not a model file); none panics.
    #[test]
    fn every_truncation_is_refused() {
        let b = builtin_bytes();
        for n in 0..b.len() {
            match parse(&b[..n]) {
                Err(FormatError::Truncated { .. }) => assert!(n >= MAGIC.len()),
                Err(FormatError::BadMagic { .. }) => assert!(n < MAGIC.len()),
                other => panic!("prefix of {n} bytes: {other:?}"),
            }
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut b = builtin_bytes();
        b.extend_from_slice(&[0, 0, 0]);
        assert_eq!(parse(&b), Err(FormatError::TrailingBytes { extra: 3 }));
    }

    #[test]
    fn unknown_layer_kind_is_refused() {
        let mut b = builtin_bytes();
        b[L0] = 2;
        assert_eq!(
            parse(&b),
            Err(FormatError::UnknownLayerKind { layer: 0, kind: 2 })
        );
    }

    #[test]
    fn unknown_activation_reserved_and_shift_are_refused() {
        let mut b = builtin_bytes();
        b[L0 + 1] = 7;
        assert_eq!(
            parse(&b),
            Err(FormatError::UnknownActivation { layer: 0, code: 7 })
        );
        let mut b = builtin_bytes();
        b[L0 + 2] = 32;
        assert_eq!(
            parse(&b),
            Err(FormatError::Shift {
                layer: 0,
                shift: 32
            })
        );
        let mut b = builtin_bytes();
        b[L0 + 3] = 1;
        assert_eq!(parse(&b), Err(FormatError::Reserved { layer: 0, value: 1 }));
    }

    #[test]
    fn wrong_shapes_are_refused() {
        // the header says 63 inputs, layer 0 takes 64
        let mut b = builtin_bytes();
        b[12..16].copy_from_slice(&63u32.to_be_bytes());
        assert_eq!(
            parse(&b),
            Err(FormatError::ShapeMismatch {
                layer: 0,
                expected: 63,
                inputs: 64
            })
        );
        // layer 1 declares 33 inputs, layer 0 has 32 outputs
        let l1 = L0 + 12 + 64 * 32 + 4 * 32;
        let mut b = builtin_bytes();
        assert_eq!(&b[l1 + 4..l1 + 8], &32u32.to_be_bytes());
        b[l1 + 4..l1 + 8].copy_from_slice(&33u32.to_be_bytes());
        assert_eq!(
            parse(&b),
            Err(FormatError::ShapeMismatch {
                layer: 1,
                expected: 32,
                inputs: 33
            })
        );
        // zero width
        let mut b = builtin_bytes();
        b[L0 + 8..L0 + 12].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(
            parse(&b),
            Err(FormatError::Width {
                layer: 0,
                what: "outputs",
                value: 0
            })
        );
        // zero layers, empty input range
        let mut b = builtin_bytes();
        b[10..12].copy_from_slice(&0u16.to_be_bytes());
        assert_eq!(parse(&b), Err(FormatError::LayerCount { found: 0 }));
        let mut b = builtin_bytes();
        b[16] = 17;
        assert_eq!(parse(&b), Err(FormatError::InputRange { min: 17, max: 16 }));
    }

    fn arb_model() -> impl Strategy<Value = IntMlp> {
        (
            prop::collection::vec(1usize..9, 2..5),
            any::<i8>(),
            any::<i8>(),
        )
            .prop_flat_map(|(dims, a, b)| {
                let layers: Vec<_> = dims
                    .windows(2)
                    .map(|w| {
                        let (i, o) = (w[0], w[1]);
                        (
                            prop::collection::vec(any::<i8>(), i * o),
                            prop::collection::vec(any::<i32>(), o),
                            0u8..32,
                            any::<bool>(),
                        )
                            .prop_map(move |(wts, bs, shift, relu)| {
                                let act = if relu {
                                    Activation::Relu
                                } else {
                                    Activation::Identity
                                };
                                Dense::new(i, o, shift, act, wts, bs)
                            })
                    })
                    .collect();
                (layers, Just((a.min(b), a.max(b))))
            })
            .prop_map(|(layers, range)| IntMlp::new(range, layers).unwrap())
    }

    proptest! {
        /// Any model survives serialize -> parse unchanged, and so do its id and outputs.
        #[test]
        fn format_round_trips(m in arb_model()) {
            let bytes = serialize(&m);
            let back = parse(&bytes).unwrap();
            prop_assert_eq!(back.model_id(), m.model_id());
            prop_assert_eq!(&back, &m);
            prop_assert_eq!(serialize(&back), bytes);
        }

        /// Arbitrary bytes never panic the parser, and whatever parses re-serializes to itself.
        #[test]
        fn parse_is_total_and_canonical(tail in prop::collection::vec(any::<u8>(), 0..200)) {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&1u16.to_be_bytes());
            b.extend_from_slice(&tail);
            if let Ok(m) = parse(&b) {
                prop_assert_eq!(serialize(&m), b);
            }
        }
    }
}
