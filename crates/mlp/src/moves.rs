//! The moves a side sends in a referee game (`contracts/referee/Referee.sol`, docs/referee.md), built
//! from its own execution [`Trace`]: `commitTrace` in the commit phase ([`commit_trace`]), `bisect`
//! with the current node's children ([`bisect`]) and the one-step check's `step` ([`step`]). The
//! keeper's referee duty and the simulator's referee scenario both send these calls; which move a
//! side owes in a game's state stays with each of them.

use alloy::primitives::U256;
use verinfer_bindings::referee::{IntMlpStep, Referee};

use crate::commit::RowLeaf;
use crate::trace::{StepData, Trace, TraceError};
use crate::IntMlp;

/// The contract's row struct (`IntMlpStep.Row`) holding `leaf`'s fields, its int8 weights as
/// two's-complement bytes.
pub fn row(leaf: &RowLeaf) -> IntMlpStep::Row {
    IntMlpStep::Row {
        layerCount: leaf.layer_count,
        layer: leaf.layer,
        row: leaf.row,
        inputs: leaf.inputs,
        outputs: leaf.outputs,
        kind: leaf.kind,
        activation: leaf.activation,
        shift: leaf.shift,
        inputMin: leaf.input_min,
        inputMax: leaf.input_max,
        bias: leaf.bias,
        weights: leaf.weights.iter().map(|w| *w as u8).collect(),
    }
}

/// `Referee.commitTrace` of `trace` in game `game`: the trace root, the output, the last layer's
/// proof and a row of the last layer with its proof against `model`'s weights root
/// ([`Trace::commitment`]).
pub fn commit_trace(
    game: U256,
    trace: &Trace,
    model: &IntMlp,
) -> Result<Referee::commitTraceCall, TraceError> {
    let c = trace.commitment(model)?;
    Ok(Referee::commitTraceCall {
        gameId: game,
        traceRoot: c.root,
        output: c.output.into(),
        lastLayerProof: c.last_layer_proof,
        lastRow: row(&c.last_row.leaf),
        rowProof: c.last_row.proof,
    })
}

/// `Referee.bisect` at the game's current node (`depth`, `index`, as `Referee.game` reads them):
/// the node's two children in `trace` ([`Trace::children`]).
pub fn bisect(
    game: U256,
    trace: &Trace,
    depth: u8,
    index: u32,
) -> Result<Referee::bisectCall, TraceError> {
    let (left, right) = trace.children(usize::from(depth), u64::from(index))?;
    Ok(Referee::bisectCall {
        gameId: game,
        left,
        right,
    })
}

/// `Referee.step`, the one-step check of `element` of `layer` from `trace` (the honest trace: the
/// check recomputes the element from it), with [`Trace::step_data`] over `model`; past the last
/// layer the contract reads nothing (the truth is padding, zero) and the proof is empty.
pub fn step(
    game: U256,
    trace: &Trace,
    model: &IntMlp,
    layer: usize,
    element: usize,
) -> Result<Referee::stepCall, TraceError> {
    Ok(Referee::stepCall {
        gameId: game,
        p: step_proof(trace.step_data(model, layer, element)?),
    })
}

/// The contract's `StepProof` of the step data, or the empty proof (an all-zero row, no proofs, no
/// input) when there is none.
fn step_proof(data: Option<StepData>) -> Referee::StepProof {
    match data {
        Some(d) => Referee::StepProof {
            row: row(&d.row.leaf),
            rowProof: d.row.proof,
            input: d.input.into(),
            inputProof: d.input_proof,
        },
        None => Referee::StepProof {
            row: row(&RowLeaf::default()),
            rowProof: Vec::new(),
            input: Default::default(),
            inputProof: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Bytes;

    use super::*;

    fn model() -> IntMlp {
        IntMlp::builtin().unwrap()
    }

    fn trace(model: &IntMlp) -> Trace {
        let input = vec![3u8; model.layers()[0].inputs()];
        Trace::new(model, &input).unwrap()
    }

    /// Every field of the leaf lands in the field of the same name, the weights as two's-complement
    /// bytes (distinct values, so a swapped pair of fields shows).
    #[test]
    fn row_carries_every_field_of_the_leaf() {
        let leaf = RowLeaf {
            layer_count: 3,
            layer: 2,
            row: 7,
            inputs: 64,
            outputs: 10,
            kind: 1,
            activation: 1,
            shift: 9,
            input_min: -128,
            input_max: 127,
            bias: -40_000,
            weights: vec![-1, 0, 1, -128, 127],
        };
        let r = row(&leaf);
        assert_eq!(
            (r.layerCount, r.layer, r.row, r.inputs, r.outputs),
            (3, 2, 7, 64, 10)
        );
        assert_eq!((r.kind, r.activation, r.shift), (1, 1, 9));
        assert_eq!((r.inputMin, r.inputMax, r.bias), (-128, 127, -40_000));
        assert_eq!(r.weights, Bytes::from(vec![0xff, 0x00, 0x01, 0x80, 0x7f]));
    }

    /// `commitTrace` carries the trace's commitment: root, output, last layer proof, last row and
    /// its proof, for the game given.
    #[test]
    fn commit_trace_is_the_traces_commitment() {
        let m = model();
        let t = trace(&m);
        let c = t.commitment(&m).unwrap();
        let call = commit_trace(U256::from(5), &t, &m).unwrap();
        assert_eq!(call.gameId, U256::from(5));
        assert_eq!(call.traceRoot, t.root());
        assert_eq!(call.output, Bytes::from(t.output().to_vec()));
        assert_eq!(call.lastLayerProof, c.last_layer_proof);
        assert_eq!(call.lastRow, row(&c.last_row.leaf));
        assert_eq!(call.rowProof, c.last_row.proof);
    }

    /// `bisect` reveals the children of the node asked for, which hash to that node.
    #[test]
    fn bisect_reveals_the_children_of_the_current_node() {
        let m = model();
        let t = trace(&m);
        let call = bisect(U256::from(5), &t, 3, 5).unwrap();
        assert_eq!(call.gameId, U256::from(5));
        assert_eq!((call.left, call.right), t.children(3, 5).unwrap());
        assert_eq!(
            crate::trace::inner_node(call.left, call.right),
            t.node(3, 5).unwrap()
        );
        assert!(
            bisect(U256::from(5), &t, crate::trace::GAME_DEPTH as u8, 0).is_err(),
            "a leaf has no children"
        );
    }

    /// Within the model the step proof is the trace's step data; past its last layer it is empty
    /// (an all-zero row, no proofs, no input).
    #[test]
    fn step_sends_the_step_data_or_past_the_last_layer_an_empty_proof() {
        let m = model();
        let t = trace(&m);
        let d = t.step_data(&m, 1, 2).unwrap().unwrap();
        let call = step(U256::from(5), &t, &m, 1, 2).unwrap();
        assert_eq!(call.gameId, U256::from(5));
        assert_eq!(call.p.row, row(&d.row.leaf));
        assert_eq!(call.p.rowProof, d.row.proof);
        assert_eq!(call.p.input, Bytes::from(d.input));
        assert_eq!(call.p.inputProof, d.input_proof);

        let past = m.layers().len();
        let empty = step(U256::from(5), &t, &m, past, 0).unwrap().p;
        assert_eq!(empty.row, row(&RowLeaf::default()));
        assert_eq!(
            (
                empty.row.layerCount,
                empty.row.bias,
                empty.row.weights.len()
            ),
            (0, 0, 0)
        );
        assert!(empty.rowProof.is_empty() && empty.inputProof.is_empty() && empty.input.is_empty());
        assert_ne!(empty.row, call.p.row);
    }
}
