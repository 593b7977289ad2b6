//! The weights commitment: a Merkle root over the weight rows, so that a referee can be shown one
//! row of one layer (and check one neuron's arithmetic) without the whole model.
//!
//! **Leaf.** One leaf per output row of each layer, in OpenZeppelin `StandardMerkleTree` form:
//!
//! ```text
//! leaf = keccak256(bytes.concat(keccak256(abi.encode(
//!     bytes32 domain,       // keccak256("verinfer.int-mlp.row.v1") = ROW_DOMAIN
//!     uint16  layerCount,   // layers in the model
//!     uint16  layer,        // this row's layer, 0 = the input layer
//!     uint32  row,          // this row's output index in the layer
//!     uint32  inputs,       // the layer's input width (= bytes in `weights`)
//!     uint32  outputs,      // the layer's output width
//!     uint8   kind,         // 1 = dense
//!     uint8   activation,   // 0 = identity, 1 = relu
//!     uint8   shift,        // requantization shift
//!     int8    inputMin,     // the model's input range (every leaf carries it)
//!     int8    inputMax,
//!     int32   bias,         // this row's bias
//!     bytes   weights       // this row's int8 weights, one byte each, input order
//! ))))
//! ```
//!
//! The double hash keeps a leaf from being read as an inner node (64-byte preimage); the domain
//! keeps a row leaf from being read as any other verinfer leaf (attestation batches use the same
//! tree). Every leaf names its layer, row and shape, so a proven leaf says where it sits.
//!
//! **Tree.** OpenZeppelin's: inner node = keccak256 of the sorted pair, the `makeMerkleTree` layout
//! ([`crate::merkle::MerkleTree`]). A proof is checked on chain by `MerkleProof.verify(proof, root,
//! leaf)` and the root rebuilt off chain by `StandardMerkleTree.of(rows, types)`. Sorted pairs lose
//! the leaf's position, which the leaf itself restores (layer, row); a fixed-order tree would need a
//! second encoding the suite does not have.

use alloy::primitives::{keccak256, B256};
use alloy::sol_types::sol_data::{Bytes as SolBytes, FixedBytes, Int, Uint};
use alloy::sol_types::SolType;

use crate::format::KIND_DENSE;
use crate::merkle::{process_proof, MerkleTree};
use crate::IntMlp;

/// `keccak256("verinfer.int-mlp.row.v1")`, the first field of every row leaf.
pub fn row_domain() -> B256 {
    keccak256(b"verinfer.int-mlp.row.v1")
}

/// The Solidity types of a row leaf, in order.
type LeafAbi = (
    FixedBytes<32>,
    Uint<16>,
    Uint<16>,
    Uint<32>,
    Uint<32>,
    Uint<32>,
    Uint<8>,
    Uint<8>,
    Uint<8>,
    Int<8>,
    Int<8>,
    Int<32>,
    SolBytes,
);

/// One weight row with everything its leaf commits to. The default is the all-zero row with no
/// weights, the row of an empty one-step proof ([`crate::moves::step`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowLeaf {
    /// Layers in the model.
    pub layer_count: u16,
    /// The row's layer.
    pub layer: u16,
    /// The row's index in the layer's outputs.
    pub row: u32,
    /// The layer's input width.
    pub inputs: u32,
    /// The layer's output width.
    pub outputs: u32,
    /// Layer kind code (1 = dense).
    pub kind: u8,
    /// Activation code (0 = identity, 1 = relu).
    pub activation: u8,
    /// Requantization shift.
    pub shift: u8,
    /// The model's smallest input value.
    pub input_min: i8,
    /// The model's largest input value.
    pub input_max: i8,
    /// The row's bias.
    pub bias: i32,
    /// The row's weights.
    pub weights: Vec<i8>,
}

impl RowLeaf {
    /// `abi.encode(domain, layerCount, layer, row, inputs, outputs, kind, activation, shift,
    /// inputMin, inputMax, bias, weights)`.
    pub fn abi_encode(&self) -> Vec<u8> {
        let weights: alloy::primitives::Bytes = self.weights.iter().map(|w| *w as u8).collect();
        LeafAbi::abi_encode_params(&(
            row_domain(),
            self.layer_count,
            self.layer,
            self.row,
            self.inputs,
            self.outputs,
            self.kind,
            self.activation,
            self.shift,
            self.input_min,
            self.input_max,
            self.bias,
            weights,
        ))
    }

    /// The leaf: `keccak256(bytes.concat(keccak256(abi_encode)))`.
    pub fn hash(&self) -> B256 {
        keccak256(keccak256(self.abi_encode()))
    }
}

/// A row and its Merkle proof against a model's weights root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProof {
    /// The row.
    pub leaf: RowLeaf,
    /// Sibling hashes from the leaf up (OpenZeppelin `MerkleProof` order).
    pub proof: Vec<B256>,
}

/// A row that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {layer} row {row} does not exist (the model has {layers} layers; that layer, if any, {rows} rows)")]
pub struct NoSuchRow {
    /// Layer asked for.
    pub layer: usize,
    /// Row asked for.
    pub row: usize,
    /// Layers in the model.
    pub layers: usize,
    /// Rows in the layer (0 if the layer does not exist).
    pub rows: usize,
}

/// The leaf of `model`'s row `row` of layer `layer`.
pub fn row_leaf(model: &IntMlp, layer: usize, row: usize) -> Result<RowLeaf, NoSuchRow> {
    let layers = model.layers();
    let missing = || NoSuchRow {
        layer,
        row,
        layers: layers.len(),
        rows: layers.get(layer).map(|l| l.outputs()).unwrap_or(0),
    };
    let l = layers.get(layer).ok_or_else(missing)?;
    let (weights, bias) = l.row(row).zip(l.bias(row)).ok_or_else(missing)?;
    let (input_min, input_max) = model.input_range();
    // Layer counts, indices and widths are bounded by MAX_LAYERS / MAX_WIDTH (checked by IntMlp::new).
    Ok(RowLeaf {
        layer_count: layers.len() as u16,
        layer: layer as u16,
        row: row as u32,
        inputs: l.inputs() as u32,
        outputs: l.outputs() as u32,
        kind: KIND_DENSE,
        activation: l.activation().code(),
        shift: l.shift(),
        input_min,
        input_max,
        bias,
        weights: weights.to_vec(),
    })
}

/// Every row leaf of `model`, layer by layer, row by row.
pub fn row_leaves(model: &IntMlp) -> Vec<B256> {
    model
        .layers()
        .iter()
        .enumerate()
        .flat_map(|(li, l)| (0..l.outputs()).map(move |r| (li, r)))
        .filter_map(|(li, r)| row_leaf(model, li, r).ok())
        .map(|leaf| leaf.hash())
        .collect()
}

/// The Merkle tree over [`row_leaves`].
pub fn weights_tree(model: &IntMlp) -> MerkleTree {
    match MerkleTree::new(row_leaves(model)) {
        Ok(tree) => tree,
        // IntMlp::new admits no model without a layer, nor a layer without a row.
        Err(_) => unreachable!("an IntMlp has at least one weight row"),
    }
}

impl IntMlp {
    /// Row `row` of layer `layer` with its proof against [`IntMlp::weights_root`].
    pub fn row_proof(&self, layer: usize, row: usize) -> Result<RowProof, NoSuchRow> {
        let leaf = row_leaf(self, layer, row)?;
        let proof = weights_tree(self)
            .proof(leaf.hash())
            .map_err(|_| NoSuchRow {
                layer,
                row,
                layers: self.layers().len(),
                rows: 0,
            })?;
        Ok(RowProof { leaf, proof })
    }
}

/// Whether `p` proves its row under `weights_root` (what `MerkleProof.verify` checks on chain, after
/// hashing the leaf from the row's fields). A row whose weights length differs from its declared
/// input width is refused too.
pub fn verify_row(weights_root: B256, p: &RowProof) -> bool {
    p.leaf.weights.len() == p.leaf.inputs as usize
        && process_proof(p.leaf.hash(), &p.proof) == weights_root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> IntMlp {
        IntMlp::builtin().unwrap()
    }

    /// Every row of every layer has a proof that verifies against the root.
    #[test]
    fn every_row_proof_verifies() {
        let m = model();
        let root = m.weights_root();
        let mut n = 0;
        for (li, l) in m.layers().iter().enumerate() {
            for r in 0..l.outputs() {
                let p = m.row_proof(li, r).unwrap();
                assert_eq!((p.leaf.layer, p.leaf.row), (li as u16, r as u32));
                assert_eq!(p.leaf.weights, l.row(r).unwrap());
                assert!(verify_row(root, &p), "layer {li} row {r}");
                n += 1;
            }
        }
        assert_eq!(n, 32 + 16 + 10);
        assert_eq!(row_leaves(&m).len(), n);
    }

    /// A proof stops verifying when anything in its row changes: a weight, the bias, the shift, the
    /// claimed position, or the proof itself.
    #[test]
    fn tampered_row_does_not_verify() {
        let m = model();
        let root = m.weights_root();
        let good = m.row_proof(1, 5).unwrap();
        let tamper: [&dyn Fn(&mut RowProof); 7] = [
            &|p| p.leaf.weights[3] = p.leaf.weights[3].wrapping_add(1),
            &|p| p.leaf.bias += 1,
            &|p| p.leaf.shift += 1,
            &|p| p.leaf.row = 6,
            &|p| p.leaf.layer = 0,
            &|p| p.leaf.weights.push(0),
            &|p| p.proof[0] = B256::repeat_byte(0xab),
        ];
        for (i, t) in tamper.iter().enumerate() {
            let mut p = good.clone();
            t(&mut p);
            assert!(!verify_row(root, &p), "tamper {i} still verifies");
        }
        // a valid proof of another model's row does not verify against this root
        let mut other = m.to_bytes();
        let last = other.len() - 1;
        other[last] ^= 1; // last byte: the output layer's last bias
        let other = IntMlp::from_bytes(&other).unwrap();
        assert_ne!(other.weights_root(), root);
        assert!(!verify_row(root, &other.row_proof(2, 9).unwrap()));
        // an untouched row has the same leaf in both models, and proves under its own model's root
        assert_eq!(
            other.row_proof(2, 0).unwrap().leaf,
            m.row_proof(2, 0).unwrap().leaf
        );
        assert!(verify_row(
            other.weights_root(),
            &other.row_proof(2, 0).unwrap()
        ));
    }

    #[test]
    fn missing_rows_are_typed_errors() {
        let m = model();
        assert_eq!(
            m.row_proof(3, 0),
            Err(NoSuchRow {
                layer: 3,
                row: 0,
                layers: 3,
                rows: 0
            })
        );
        assert_eq!(m.row_proof(2, 10).unwrap_err().rows, 10);
    }

    /// The leaf is `abi.encode` of the documented tuple (Solidity's head/tail layout, no outer offset):
    /// word 0 is the domain, word 12 the offset of `weights`, then its length and bytes.
    #[test]
    fn leaf_encoding_is_solidity_abi_encode() {
        let leaf = row_leaf(&model(), 2, 3).unwrap();
        let enc = leaf.abi_encode();
        assert_eq!(&enc[..32], row_domain().as_slice());
        let word = |i: usize| alloy::primitives::U256::from_be_slice(&enc[32 * i..32 * (i + 1)]);
        assert_eq!(word(1), alloy::primitives::U256::from(3)); // layerCount
        assert_eq!(word(2), alloy::primitives::U256::from(2)); // layer
        assert_eq!(word(3), alloy::primitives::U256::from(3)); // row
        assert_eq!(word(4), alloy::primitives::U256::from(16)); // inputs
        assert_eq!(word(12), alloy::primitives::U256::from(13 * 32)); // offset of weights
        assert_eq!(word(13), alloy::primitives::U256::from(16)); // weights length
        assert_eq!(enc.len(), 32 * 15);
        assert_eq!(leaf.hash(), keccak256(keccak256(&enc)));
    }
}
