//! Disputes settled by computation: the scenario's deterministic model is a real integer MLP (the
//! digits classifier of `verinfer-mlp`, registered with its weights root and the integer-MLP runtime
//! spec), so the registry routes its two-output disputes to the `Referee` (docs/referee.md). Each
//! game is played to the end on chain by both sides:
//!
//! - the **honest side** (the watcher as challenger, or the operators that answered correctly) from
//!   the honest execution trace ([`Trace::new`]);
//! - the **cartel** from the dishonest trace whose output it attested ([`lie`]): one element of a
//!   layer altered and propagated through the later layers. It plays every move, or (with
//!   probability `operators.cartel_abandon_rate`) stops moving at a random point and loses by
//!   timeout.
//!
//! Moves: both commits, 17 bisection levels (defender, then challenger), then the honest side's
//! one-step check. Live games advance together, one block per round; when every live game waits on
//! a side that stopped, the clock moves past the deadline and the watcher calls `timeout`.

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolCall,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use verinfer_bindings::{
    referee::Referee,
    types::{GameOutcome, GamePhase},
    InferenceRegistry,
};
use verinfer_mlp::{
    dataset::TestSplit,
    moves,
    trace::{first_difference, Trace, GAME_DEPTH},
    IntMlp,
};

use super::{
    traffic::{Ledger, BLOCK_SECONDS},
    world::World,
    ScenarioError,
};
use crate::decode_logs;

/// The deterministic model the scenario serves: the built-in digits classifier and the inputs its
/// requests carry (the digits test split, valid model inputs).
pub(crate) struct DetModel {
    /// The integer MLP.
    pub mlp: IntMlp,
    /// Valid inputs, requested in turn.
    pub inputs: Vec<Vec<u8>>,
}

impl DetModel {
    /// The built-in classifier and its test split.
    pub fn builtin() -> Result<Self, ScenarioError> {
        Ok(Self {
            mlp: IntMlp::builtin()?,
            inputs: TestSplit::digits()?
                .samples
                .into_iter()
                .map(|s| s.input)
                .collect(),
        })
    }

    /// The input of the deterministic request number `n` (the test split, cycled).
    pub fn input(&self, n: u64) -> &[u8] {
        // TestSplit::digits refuses an empty split.
        let i = (n % self.inputs.len().max(1) as u64) as usize;
        self.inputs.get(i).map(Vec::as_slice).unwrap_or_default()
    }
}

/// One request to the deterministic model: its input and execution traces.
pub(crate) struct Inference {
    /// The honest trace (its output is the correct answer).
    pub honest: Trace,
    /// The cartel's dishonest trace, made the first time a cartel operator answers wrongly.
    pub lie: Option<Lie>,
}

/// A dishonest trace and where it departs from the honest one.
pub(crate) struct Lie {
    /// The trace.
    pub trace: Trace,
    /// Layer of the altered element.
    pub layer: usize,
    /// The altered element.
    pub element: usize,
}

/// A dishonest trace of `honest`: one element of a random layer altered, the later layers recomputed
/// from it (a consistent lie: the one-step check must find it at that element); if the output
/// happens to be unchanged (a ReLU or the requantization swallowed it), one logit of the last layer
/// is altered as well, so the cartel's output differs from the correct one.
pub(crate) fn lie(
    model: &IntMlp,
    honest: &Trace,
    rng: &mut ChaCha8Rng,
) -> Result<Lie, ScenarioError> {
    let layers = model.layers();
    let mut outs: Vec<Vec<u8>> = (0..honest.layer_count())
        .map(|j| {
            honest
                .layer_output(j)
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        })
        .collect();
    let layer = rng.gen_range(0..layers.len());
    let element = rng.gen_range(0..layers[layer].outputs());
    let delta: u8 = rng.gen_range(1..=255);
    outs[layer][element] = outs[layer][element].wrapping_add(delta);
    for j in layer + 1..layers.len() {
        let x: Vec<i8> = outs[j - 1].iter().map(|b| *b as i8).collect();
        let l = &layers[j];
        outs[j] = (0..l.outputs())
            .filter_map(|o| l.neuron(o, &x))
            .map(|v| v as u8)
            .collect();
    }
    let last = outs.len() - 1;
    if outs[last] == honest.output() {
        let e = rng.gen_range(0..outs[last].len());
        outs[last][e] = outs[last][e].wrapping_add(1);
    }
    Ok(Lie {
        trace: Trace::from_outputs(honest.input(), outs)?,
        layer,
        element,
    })
}

/// A side of a game and the trace it plays from.
pub(crate) struct Player {
    /// The account that moves (the challenger, or an operator's owner).
    pub address: Address,
    /// Its trace.
    pub trace: Trace,
    /// Whether the trace is the honest one.
    pub honest: bool,
}

/// How a game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GameEnd {
    /// The one-step check ruled.
    Step,
    /// A side missed its deadline (`timeout`).
    Timeout,
}

/// One referee game as the scenario played it.
#[derive(Debug, Clone, Serialize)]
pub struct GameRecord {
    /// Transactions of the game (commits, bisections, the step or the timeout), both sides.
    pub moves: u64,
    /// Their gas (each transaction's total, intrinsic gas included).
    pub gas: u64,
    /// The largest gas of one of them.
    pub max_move_gas: u64,
    /// How it ended.
    pub ended_by: GameEnd,
    /// The cartel's moves before it stopped (`None`: it played every move it had).
    pub cartel_stopped_after: Option<u32>,
    /// (layer, element) the cartel altered in its trace.
    pub lie_at: Option<(usize, usize)>,
    /// (layer, element) the one-step check recomputed.
    pub checked: Option<(usize, usize)>,
}

/// A game in progress.
pub(crate) struct GameRun {
    /// Game id (the registry's dispute id, ≥ 2^255).
    pub id: U256,
    /// Index of the request in the epoch's list.
    pub request: usize,
    /// Opened by a challenge (`true`) or by an escalation.
    pub challenged: bool,
    players: [Option<Player>; 2],
    cartel_stop: Option<u32>,
    cartel_moves: u32,
    lie_at: Option<(usize, usize)>,
    moves: u64,
    gas: u64,
    max_move_gas: u64,
    checked: Option<(usize, usize)>,
    /// The ending: outcome, ruling and how.
    pub ended: Option<(GameOutcome, B256, GameEnd)>,
}

impl GameRun {
    /// A game over request `request` whose sides are `players` (side 0 defends the registry's leading
    /// output); a dishonest side stops after `cartel_stop` moves if set.
    pub fn new(
        id: U256,
        request: usize,
        challenged: bool,
        players: [Option<Player>; 2],
        cartel_stop: Option<u32>,
        lie_at: Option<(usize, usize)>,
    ) -> Self {
        Self {
            id,
            request,
            challenged,
            players,
            cartel_stop,
            cartel_moves: 0,
            lie_at,
            moves: 0,
            gas: 0,
            max_move_gas: 0,
            checked: None,
            ended: None,
        }
    }

    /// The record of an ended game.
    pub fn record(&self) -> Option<GameRecord> {
        let (_, _, ended_by) = self.ended?;
        Some(GameRecord {
            moves: self.moves,
            gas: self.gas,
            max_move_gas: self.max_move_gas,
            ended_by,
            cartel_stopped_after: self.cartel_stop,
            lie_at: self.lie_at,
            checked: self.checked,
        })
    }

    /// The player of `side` if it still moves.
    fn mover(&self, side: usize) -> Option<&Player> {
        let p = self.players.get(side)?.as_ref()?;
        if !p.honest
            && self
                .cartel_stop
                .is_some_and(|stop| self.cartel_moves >= stop)
        {
            return None;
        }
        Some(p)
    }

    /// The honest player, who runs the one-step check.
    fn honest(&self) -> Option<&Player> {
        self.players.iter().flatten().find(|p| p.honest)
    }

    /// Sends `call` from `from` to the referee as `by`, and books its receipt: its gas, the cartel's
    /// move count, the game's end and the slashes the registry requested when it applied the ruling.
    fn send<C: SolCall>(
        &mut self,
        w: &mut World,
        from: Address,
        call: C,
        by: Move,
        ledger: &mut Ledger,
        slashed: &mut Vec<Address>,
    ) -> Result<(), ScenarioError> {
        let r = w.sim.transact(from, w.c.referee, call)?;
        let logs = &r.logs;
        self.moves += 1;
        self.gas += r.gas_used;
        self.max_move_gas = self.max_move_gas.max(r.gas_used);
        if let Move::Side(side) = by {
            if self.players[side].as_ref().is_some_and(|p| !p.honest) {
                self.cartel_moves += 1;
            }
        }
        if let Some(ev) = decode_logs::<Referee::StepChecked>(logs).first() {
            self.checked = Some((ev.layer.saturating_to(), ev.element.saturating_to()));
        }
        if let Some(ev) = decode_logs::<Referee::GameEnded>(logs).first() {
            let outcome = GameOutcome::of(ev.outcome).unwrap_or(GameOutcome::None);
            let end = if by == Move::Timeout {
                GameEnd::Timeout
            } else {
                GameEnd::Step
            };
            self.ended = Some((outcome, ev.output, end));
        }
        slashed.extend(ledger.record(logs));
        for _ in decode_logs::<InferenceRegistry::SlashRequestFailed>(logs) {
            ledger.refused(1);
        }
        Ok(())
    }
}

/// Who sends a referee transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Move {
    /// A side's commit or bisection.
    Side(usize),
    /// The one-step check (anyone may call it; the honest side does).
    Step,
    /// A timeout (anyone; the watcher does).
    Timeout,
}

/// Plays `games` to their end (see the module doc); the slashes the rulings request are booked in
/// `ledger`, the operators slashed at once in `slashed`.
pub(crate) fn play_games(
    w: &mut World,
    games: &mut [GameRun],
    ledger: &mut Ledger,
    slashed: &mut Vec<Address>,
) -> Result<(), ScenarioError> {
    let referee = w.c.referee;
    loop {
        let mut live = false;
        let mut moved = false;
        let mut latest_deadline = 0u64;
        for g in games.iter_mut().filter(|g| g.ended.is_none()) {
            live = true;
            let s = w
                .sim
                .view(w.watcher, referee, Referee::gameCall { gameId: g.id })?;
            latest_deadline = latest_deadline.max(s.deadline.saturating_to());
            let game_id = g.id;
            match GamePhase::of(s.phase) {
                Some(GamePhase::Commit) => {
                    for side in 0..2 {
                        if !s.root[side].is_zero() || g.ended.is_some() {
                            continue;
                        }
                        let Some(p) = g.mover(side) else { continue };
                        let call = moves::commit_trace(game_id, &p.trace, &w.det.mlp)?;
                        let from = p.address;
                        g.send(w, from, call, Move::Side(side), ledger, slashed)?;
                        moved = true;
                    }
                }
                Some(GamePhase::Bisect) => {
                    let side = usize::from(s.challengerToMove);
                    let Some(p) = g.mover(side) else { continue };
                    let call = moves::bisect(game_id, &p.trace, s.depth, s.index)?;
                    let from = p.address;
                    g.send(w, from, call, Move::Side(side), ledger, slashed)?;
                    moved = true;
                }
                Some(GamePhase::Step) => {
                    let Some(p) = g.honest() else { continue };
                    let leaf = u64::from(s.index);
                    let (layer, element) = first_difference(leaf, s.node[0], s.node[1]).ok_or(
                        ScenarioError::Game {
                            game: game_id,
                            what: "the descent ended at two equal leaves",
                        },
                    )?;
                    let call = moves::step(game_id, &p.trace, &w.det.mlp, layer, element)?;
                    let address = p.address;
                    g.send(w, address, call, Move::Step, ledger, slashed)?;
                    moved = true;
                }
                _ => {
                    return Err(ScenarioError::Game {
                        game: game_id,
                        what: "a live game is in no playable phase",
                    })
                }
            }
        }
        if !live {
            return Ok(());
        }
        if moved {
            w.sim.advance(1, BLOCK_SECONDS);
            continue;
        }
        // Every live game waits on a side that stopped: its deadline passes, anyone ends it.
        let wait = (latest_deadline + 1)
            .saturating_sub(w.sim.timestamp())
            .max(1);
        w.sim.advance(wait.div_ceil(BLOCK_SECONDS), wait);
        for g in games.iter_mut().filter(|g| g.ended.is_none()) {
            let (watcher, id) = (w.watcher, g.id);
            let call = Referee::timeoutCall { gameId: id };
            g.send(w, watcher, call, Move::Timeout, ledger, slashed)?;
        }
    }
}

/// Moves in a game that both sides play to the end: two commits, two per bisection level, the step.
pub const FULL_GAME_MOVES: u64 = 2 + 2 * GAME_DEPTH as u64 + 1;

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// Whatever layer and element the cartel alters, its output differs from the correct one and the
    /// bisection's descent (left when the left children differ) ends at exactly that element.
    #[test]
    fn a_lie_changes_the_output_and_is_first_found_where_it_was_made() {
        let det = DetModel::builtin().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut layers_hit = [false; 3];
        for n in 0..60 {
            let honest = Trace::new(&det.mlp, det.input(n)).unwrap();
            let l = lie(&det.mlp, &honest, &mut rng).unwrap();
            assert_ne!(l.trace.output(), honest.output(), "request {n}");
            let (mut depth, mut index) = (0usize, 0u64);
            while depth < GAME_DEPTH {
                let (hl, _) = honest.children(depth, index).unwrap();
                let (ll, _) = l.trace.children(depth, index).unwrap();
                index = 2 * index + u64::from(hl == ll);
                depth += 1;
            }
            let found = first_difference(
                index,
                honest.node(depth, index).unwrap(),
                l.trace.node(depth, index).unwrap(),
            );
            assert_eq!(found, Some((l.layer, l.element)), "request {n}");
            layers_hit[l.layer] = true;
        }
        assert_eq!(
            layers_hit, [true; 3],
            "lies in every layer of the classifier"
        );
    }
}
