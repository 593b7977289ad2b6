//! The execution trace the referee bisects (`contracts/referee/lib/IntMlpStep.sol`, docs/referee.md),
//! computed bit for bit as the contract checks it.
//!
//! * **Vector commitment** ([`vector_root`]): a positional binary tree of fixed depth
//!   [`LAYER_DEPTH`] whose leaves are the vector's 32-byte chunks (the last one zero-padded), then
//!   all-zero leaves up to [`MAX_WIDTH`] bytes. Inner node = `keccak256(left ‖ right)`
//!   ([`inner_node`]; positional, unlike the sorted pairs of [`crate::merkle`]).
//! * **Trace** ([`Trace`]): a positional tree of depth [`TRACE_DEPTH`] over the 64 layer slots; slot
//!   `j` holds the vector root of layer `j`'s output, slots past the last layer the root of an
//!   all-zero layer. Together: one tree of depth [`GAME_DEPTH`] over `(layer, chunk)` leaves, whose
//!   every node the owner of an honest trace can reveal ([`Trace::node`], [`Trace::children`]).
//! * **Proofs**: [`Trace::layer_proof`] (a layer's root up to the trace root, what `commitTrace` and
//!   the one-step check verify) and [`Trace::step_data`] (the row, the layer input and its proof for
//!   the one-step check of one element).

use alloy::primitives::{keccak256, B256};

use crate::commit::{NoSuchRow, RowProof};
use crate::{InputError, IntMlp};

/// Bytes per leaf of a vector commitment.
pub const CHUNK: usize = 32;
/// Depth of a vector commitment (2^11 chunks of 32 bytes = [`MAX_WIDTH`]).
pub const LAYER_DEPTH: usize = 11;
/// Depth of the tree over layer slots (2^6 = [`MAX_LAYERS`]).
pub const TRACE_DEPTH: usize = 6;
/// Depth of the whole trace tree: the referee's bisection levels.
pub const GAME_DEPTH: usize = TRACE_DEPTH + LAYER_DEPTH;
/// The widest vector a commitment holds.
pub const MAX_WIDTH: usize = CHUNK << LAYER_DEPTH;
/// Layer slots of a trace.
pub const MAX_LAYERS: usize = 1 << TRACE_DEPTH;

/// An inner node of the positional trees: `keccak256(left ‖ right)` (`IntMlpStep.hashPair`).
pub fn inner_node(left: B256, right: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left.as_slice());
    buf[32..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// Roots of all-zero subtrees: `zero_roots()[h]` is the root of a subtree of height `h`.
fn zero_roots() -> [B256; GAME_DEPTH + 1] {
    let mut z = [B256::ZERO; GAME_DEPTH + 1];
    for h in 1..=GAME_DEPTH {
        z[h] = inner_node(z[h - 1], z[h - 1]);
    }
    z
}

/// A vector the commitment cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a committed vector holds 1..={MAX_WIDTH} bytes, got {0}")]
pub struct WidthError(pub usize);

/// The commitment tree of one vector: every level from the chunk leaves (level 0) to the root.
#[derive(Clone, Debug)]
struct VectorTree {
    /// `levels[h]` holds the nodes of height `h` that cover some of the vector's bytes; nodes further
    /// right are all-zero subtrees.
    levels: Vec<Vec<B256>>,
}

impl VectorTree {
    fn new(v: &[u8], zeros: &[B256]) -> Result<Self, WidthError> {
        if v.is_empty() || v.len() > MAX_WIDTH {
            return Err(WidthError(v.len()));
        }
        let leaves: Vec<B256> = v
            .chunks(CHUNK)
            .map(|c| {
                let mut chunk = [0u8; CHUNK];
                chunk[..c.len()].copy_from_slice(c);
                B256::from(chunk)
            })
            .collect();
        let mut levels = vec![leaves];
        for h in 0..LAYER_DEPTH {
            let below = &levels[h];
            let next = below
                .chunks(2)
                .map(|p| inner_node(p[0], p.get(1).copied().unwrap_or(zeros[h])))
                .collect();
            levels.push(next);
        }
        Ok(Self { levels })
    }

    fn root(&self) -> B256 {
        self.levels[LAYER_DEPTH][0]
    }

    /// The node of height `h` at `index` (an all-zero subtree past the vector).
    fn node(&self, h: usize, index: usize, zeros: &[B256]) -> B256 {
        self.levels[h].get(index).copied().unwrap_or(zeros[h])
    }
}

/// The commitment of a vector (`IntMlpStep.vectorRoot`).
pub fn vector_root(v: &[u8]) -> Result<B256, WidthError> {
    Ok(VectorTree::new(v, &zero_roots())?.root())
}

/// A position the trace tree does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// A depth past the leaves, or an index past the level's width.
    #[error(
        "the trace tree has no node at depth {depth}, index {index} (depths 0..={GAME_DEPTH})"
    )]
    NoSuchNode {
        /// Depth asked for (0 = the root).
        depth: usize,
        /// Index asked for.
        index: u64,
    },
    /// A layer slot past [`MAX_LAYERS`].
    #[error("layer {0} is past the trace's {MAX_LAYERS} slots")]
    NoSuchLayer(usize),
    /// The model has no such row (the one-step data needs one).
    #[error(transparent)]
    Row(#[from] NoSuchRow),
}

/// One layer's output vector.
#[derive(Clone, Debug)]
struct LayerTrace {
    output: Vec<u8>,
    tree: VectorTree,
}

/// The execution trace of one inference: every layer's output and the trees over them.
#[derive(Clone, Debug)]
pub struct Trace {
    input: Vec<u8>,
    layers: Vec<LayerTrace>,
    /// `top[h]`: nodes of height `h` of the tree over the 64 layer slots (`top[0]` = layer roots).
    top: Vec<Vec<B256>>,
    zeros: [B256; GAME_DEPTH + 1],
}

impl Trace {
    /// Runs `model` on `input`, keeping every layer's output, and builds the trace tree.
    pub fn new(model: &IntMlp, input: &[u8]) -> Result<Self, InputError> {
        let outputs = model.activations(input)?;
        let zeros = zero_roots();
        let mut layers = Vec::with_capacity(outputs.len());
        for output in outputs {
            // IntMlp::new bounds every width to 1..=MAX_WIDTH and the layer count to MAX_LAYERS.
            let tree = match VectorTree::new(&output, &zeros) {
                Ok(t) => t,
                Err(e) => unreachable!("an IntMlp's layer widths are in range: {e}"),
            };
            layers.push(LayerTrace { output, tree });
        }
        Ok(Self::assemble(input.to_vec(), layers, zeros))
    }

    /// A trace over given layer outputs (e.g. a dishonest one, in tests and simulations). Each
    /// output must hold 1..=[`MAX_WIDTH`] bytes and there may be at most [`MAX_LAYERS`].
    pub fn from_outputs(input: &[u8], outputs: Vec<Vec<u8>>) -> Result<Self, TraceError> {
        if outputs.len() > MAX_LAYERS || outputs.is_empty() {
            return Err(TraceError::NoSuchLayer(outputs.len()));
        }
        let zeros = zero_roots();
        let mut layers = Vec::with_capacity(outputs.len());
        for (j, output) in outputs.into_iter().enumerate() {
            let tree = VectorTree::new(&output, &zeros).map_err(|_| TraceError::NoSuchLayer(j))?;
            layers.push(LayerTrace { output, tree });
        }
        Ok(Self::assemble(input.to_vec(), layers, zeros))
    }

    fn assemble(input: Vec<u8>, layers: Vec<LayerTrace>, zeros: [B256; GAME_DEPTH + 1]) -> Self {
        let slots: Vec<B256> = (0..MAX_LAYERS)
            .map(|j| {
                layers
                    .get(j)
                    .map(|l| l.tree.root())
                    .unwrap_or(zeros[LAYER_DEPTH])
            })
            .collect();
        let mut top = vec![slots];
        for h in 0..TRACE_DEPTH {
            let next = top[h].chunks(2).map(|p| inner_node(p[0], p[1])).collect();
            top.push(next);
        }
        Self {
            input,
            layers,
            top,
            zeros,
        }
    }

    /// The trace root a side commits.
    pub fn root(&self) -> B256 {
        self.top[TRACE_DEPTH][0]
    }

    /// The request input the trace starts from.
    pub fn input(&self) -> &[u8] {
        &self.input
    }

    /// Layers in the trace.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// The output of layer `layer` (the last layer's is the model's output).
    pub fn layer_output(&self, layer: usize) -> Option<&[u8]> {
        self.layers.get(layer).map(|l| l.output.as_slice())
    }

    /// The model's output: the last layer's vector.
    pub fn output(&self) -> &[u8] {
        // A trace has at least one layer (IntMlp::new and from_outputs refuse none).
        self.layers
            .last()
            .map(|l| l.output.as_slice())
            .unwrap_or_default()
    }

    /// The node at `depth` (0 = root, [`GAME_DEPTH`] = the chunk leaves) and `index` (left to
    /// right within the level): the value a side reveals in the bisection.
    pub fn node(&self, depth: usize, index: u64) -> Result<B256, TraceError> {
        if depth > GAME_DEPTH || index >= 1u64 << depth {
            return Err(TraceError::NoSuchNode { depth, index });
        }
        if depth <= TRACE_DEPTH {
            return Ok(self.top[TRACE_DEPTH - depth][index as usize]);
        }
        let local = depth - TRACE_DEPTH;
        let layer = (index >> local) as usize;
        let within = (index & ((1u64 << local) - 1)) as usize;
        let h = LAYER_DEPTH - local;
        Ok(match self.layers.get(layer) {
            Some(l) => l.tree.node(h, within, &self.zeros),
            None => self.zeros[h],
        })
    }

    /// The two children of the node at (`depth`, `index`): what `Referee.bisect` takes.
    pub fn children(&self, depth: usize, index: u64) -> Result<(B256, B256), TraceError> {
        if depth >= GAME_DEPTH {
            return Err(TraceError::NoSuchNode { depth, index });
        }
        Ok((
            self.node(depth + 1, 2 * index)?,
            self.node(depth + 1, 2 * index + 1)?,
        ))
    }

    /// The [`TRACE_DEPTH`] positional siblings of layer slot `layer`, leaf level first: its proof
    /// against [`Trace::root`].
    pub fn layer_proof(&self, layer: usize) -> Result<Vec<B256>, TraceError> {
        if layer >= MAX_LAYERS {
            return Err(TraceError::NoSuchLayer(layer));
        }
        Ok((0..TRACE_DEPTH)
            .map(|h| self.top[h][(layer >> h) ^ 1])
            .collect())
    }

    /// Element `element` of layer `layer` as the trace commits it (0 past the layer's width or the
    /// last layer: padding).
    pub fn element(&self, layer: usize, element: usize) -> i8 {
        self.layers
            .get(layer)
            .and_then(|l| l.output.get(element))
            .map(|b| *b as i8)
            .unwrap_or(0)
    }

    /// Everything `commitTrace` takes besides the root: the output, the last layer's proof and a
    /// row of the last layer (row 0) with its proof against `model`'s weights root.
    pub fn commitment(&self, model: &IntMlp) -> Result<Commitment, TraceError> {
        let last = self.layers.len() - 1;
        Ok(Commitment {
            root: self.root(),
            output: self.output().to_vec(),
            last_layer_proof: self.layer_proof(last)?,
            last_row: model.row_proof(last, 0)?,
        })
    }

    /// The data of the one-step check of `element` of `layer` (`Referee.StepProof`), from this
    /// (honest) trace: the element's row with its proof, the layer's input (the request input for
    /// layer 0, else the previous layer's output) and, past layer 0, that input's proof. Past the
    /// layer's width any row of the layer serves (the truth is padding); past the last layer the
    /// contract reads nothing, and the data is empty.
    pub fn step_data(
        &self,
        model: &IntMlp,
        layer: usize,
        element: usize,
    ) -> Result<Option<StepData>, TraceError> {
        let Some(l) = model.layers().get(layer) else {
            return Ok(None);
        };
        let row = if element < l.outputs() { element } else { 0 };
        let (input, input_proof) = if layer == 0 {
            (self.input.clone(), Vec::new())
        } else {
            let prev = self
                .layer_output(layer - 1)
                .ok_or(TraceError::NoSuchLayer(layer - 1))?;
            (prev.to_vec(), self.layer_proof(layer - 1)?)
        };
        Ok(Some(StepData {
            row: model.row_proof(layer, row)?,
            input,
            input_proof,
        }))
    }
}

/// What a side commits (`Referee.commitTrace`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// The trace root.
    pub root: B256,
    /// The output bytes (their keccak256 is the side's attested output hash).
    pub output: Vec<u8>,
    /// The [`TRACE_DEPTH`] siblings of the last layer's slot.
    pub last_layer_proof: Vec<B256>,
    /// A row of the last layer with its proof against the weights root.
    pub last_row: RowProof,
}

/// The data of the one-step check (`Referee.StepProof`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepData {
    /// The element's weight row and its proof.
    pub row: RowProof,
    /// The layer's input vector.
    pub input: Vec<u8>,
    /// Layer > 0: the [`TRACE_DEPTH`] siblings of the previous layer's slot.
    pub input_proof: Vec<B256>,
}

/// Where two chunk leaves first differ: the element (`32 × chunk + byte`) of the leaf's layer.
/// `None` if the leaves are equal.
pub fn first_difference(leaf_index: u64, a: B256, b: B256) -> Option<(usize, usize)> {
    let byte = a.iter().zip(b.iter()).position(|(x, y)| x != y)?;
    let layer = (leaf_index >> LAYER_DEPTH) as usize;
    let chunk = (leaf_index & ((1u64 << LAYER_DEPTH) - 1)) as usize;
    Some((layer, chunk * CHUNK + byte))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Dense};

    fn model() -> IntMlp {
        IntMlp::builtin().unwrap()
    }

    fn input(m: &IntMlp) -> Vec<u8> {
        (0..m.input_len()).map(|i| (i % 17) as u8).collect()
    }

    /// The vector root of an all-zero layer is the zero subtree of height 11, whatever its width.
    #[test]
    fn an_all_zero_vector_commits_to_the_zero_subtree() {
        let z = zero_roots();
        assert_eq!(vector_root(&[0u8; 1]).unwrap(), z[LAYER_DEPTH]);
        assert_eq!(vector_root(&vec![0u8; MAX_WIDTH]).unwrap(), z[LAYER_DEPTH]);
        assert_eq!(vector_root(&[]), Err(WidthError(0)));
        assert_eq!(
            vector_root(&vec![0u8; MAX_WIDTH + 1]),
            Err(WidthError(MAX_WIDTH + 1))
        );
    }

    /// A vector's root is its chunk leaves hashed up positionally with zero subtrees on the right.
    #[test]
    fn vector_root_is_the_positional_tree_of_padded_chunks() {
        let v: Vec<u8> = (1..=40).collect();
        let z = zero_roots();
        let mut c0 = [0u8; 32];
        c0.copy_from_slice(&v[..32]);
        let mut c1 = [0u8; 32];
        c1[..8].copy_from_slice(&v[32..]);
        let mut node = inner_node(B256::from(c0), B256::from(c1));
        for zero in z.iter().take(LAYER_DEPTH).skip(1) {
            node = inner_node(node, *zero);
        }
        assert_eq!(vector_root(&v).unwrap(), node);
    }

    /// Every node is the hash of its two children, from the root down to the chunk leaves, and the
    /// leaves are the layers' bytes.
    #[test]
    fn every_node_is_the_hash_of_its_children() {
        let m = model();
        let t = Trace::new(&m, &input(&m)).unwrap();
        assert_eq!(t.node(0, 0).unwrap(), t.root());
        // Walk the left edge and every layer's first chunks.
        for depth in 0..GAME_DEPTH {
            for index in [0u64, 1, (1u64 << depth) - 1] {
                if index >= 1u64 << depth {
                    continue;
                }
                let (l, r) = t.children(depth, index).unwrap();
                assert_eq!(
                    inner_node(l, r),
                    t.node(depth, index).unwrap(),
                    "{depth}/{index}"
                );
            }
        }
        for j in 0..t.layer_count() {
            let leaf = t.node(GAME_DEPTH, (j as u64) << LAYER_DEPTH).unwrap();
            let out = t.layer_output(j).unwrap();
            let n = out.len().min(CHUNK);
            assert_eq!(&leaf.as_slice()[..n], &out[..n]);
            assert_eq!(
                t.node(TRACE_DEPTH, j as u64).unwrap(),
                vector_root(out).unwrap()
            );
        }
        assert!(t.node(GAME_DEPTH + 1, 0).is_err());
        assert!(t.node(3, 8).is_err());
    }

    /// A layer proof leads from the layer's vector root to the trace root (what the contract checks).
    #[test]
    fn layer_proofs_reach_the_root() {
        let m = model();
        let t = Trace::new(&m, &input(&m)).unwrap();
        for j in 0..MAX_LAYERS {
            let proof = t.layer_proof(j).unwrap();
            let mut node = t.node(TRACE_DEPTH, j as u64).unwrap();
            for (h, sib) in proof.iter().enumerate() {
                node = if (j >> h) & 1 == 0 {
                    inner_node(node, *sib)
                } else {
                    inner_node(*sib, node)
                };
            }
            assert_eq!(node, t.root(), "layer {j}");
        }
        assert_eq!(t.layer_proof(MAX_LAYERS), Err(TraceError::NoSuchLayer(64)));
    }

    /// The trace's output is the model's output, and the step data's row recomputes the element.
    #[test]
    fn the_step_data_recomputes_every_element_of_the_honest_trace() {
        let m = model();
        let x = input(&m);
        let t = Trace::new(&m, &x).unwrap();
        assert_eq!(t.output(), m.infer(&x).unwrap().as_slice());
        for (j, l) in m.layers().iter().enumerate() {
            for e in 0..l.outputs() {
                let s = t.step_data(&m, j, e).unwrap().unwrap();
                assert!(crate::commit::verify_row(m.weights_root(), &s.row));
                let xs: Vec<i8> = s.input.iter().map(|b| *b as i8).collect();
                assert_eq!(
                    l.neuron(s.row.leaf.row as usize, &xs),
                    Some(t.element(j, e))
                );
            }
        }
        assert_eq!(t.step_data(&m, m.layers().len(), 0).unwrap(), None);
    }

    /// Two traces that differ in one element first differ, going left, at that element's leaf.
    #[test]
    fn a_lie_is_found_at_its_element_by_descending_left() {
        let m = IntMlp::new(
            (-128, 127),
            vec![
                Dense::new(
                    4,
                    70,
                    0,
                    Activation::Identity,
                    (0..280).map(|i| (i % 3) as i8 - 1).collect(),
                    vec![0; 70],
                ),
                Dense::new(
                    70,
                    2,
                    2,
                    Activation::Relu,
                    (0..140).map(|i| (i % 5) as i8 - 2).collect(),
                    vec![1; 2],
                ),
            ],
        )
        .unwrap();
        let x = vec![1u8, 2, 3, 4];
        let honest = Trace::new(&m, &x).unwrap();
        let mut outs: Vec<Vec<u8>> = (0..2)
            .map(|j| honest.layer_output(j).unwrap().to_vec())
            .collect();
        outs[0][65] ^= 0x40;
        let liar = Trace::from_outputs(&x, outs).unwrap();
        let (mut depth, mut index) = (0usize, 0u64);
        while depth < GAME_DEPTH {
            let (hl, hr) = honest.children(depth, index).unwrap();
            let (ll, lr) = liar.children(depth, index).unwrap();
            assert!(hl != ll || hr != lr);
            index = 2 * index + u64::from(hl == ll);
            depth += 1;
        }
        let (a, b) = (
            honest.node(depth, index).unwrap(),
            liar.node(depth, index).unwrap(),
        );
        assert_eq!(first_difference(index, a, b), Some((0, 65)));
        assert_eq!(first_difference(index, a, a), None);
    }
}
