//! The referee duty: plays the on-chain referee's games (`contracts/referee/Referee.sol`,
//! docs/referee.md) that this keeper is a party to, every move from its own recomputation.
//!
//! - **Which games.** The registry's `DisputeOpened` with a game id (ids from `2^255`, the referee's
//!   `GAME_ID_BASE`) is the referee's `GameOpened` for the same request. The keeper reads the game
//!   (`Referee.game`) and remembers it (journal table `games`: game → request, side) if it plays a side: side 0 (the
//!   defended output) or side 1 (the other output) as an assigned operator that attested it, or
//!   side 1 as the bonded challenger (its sending key opened the challenge).
//! - **Its own recomputation.** The trace it plays is [`Trace::new`] over the model it serves in
//!   process and the request's input, built once per game and kept in memory (rebuilt after a
//!   restart: it is a pure function of model and input). The keeper plays only if the trace's output
//!   is its side's output.
//! - **Decide from the state, not from the events.** Each collect-and-decide round reads
//!   `Referee.game(id)` (the state every event — `TraceCommitted`, `Bisected`, `StepDue`,
//!   `GameEnded` — changes) and the chain's clock, and journals the move it owes:
//!   `commitTrace` in the commit phase until its side committed, `bisect` with its children of the
//!   current node on its turn, `step` with the one-step data in the step phase (only when the step
//!   rules for its side: the one-step check is the truth, and anyone may call it), `timeout` once the
//!   deadline passed and the timeout does not rule against its side. A finished game is forgotten.
//! - **Crash safety.** Every move is an [`IntentKind::RefereeMove`] intent keyed by game, move, depth
//!   and side (`referee_move:<game>:bisect:<depth>:<side>:<operator>`, …): a keeper restarted from
//!   its journal re-reads the game, finds the same move owed (same key: nothing new) or the next one,
//!   so it neither repeats nor skips a move. A move another party of the same side made first
//!   reverts at estimation and is abandoned, as every action no longer possible.

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::sol_types::SolCall;
use verinfer_bindings::Referee;
use verinfer_mlp::moves;
use verinfer_mlp::trace::{first_difference, inner_node, Trace, CHUNK};
use verinfer_mlp::IntMlp;

use super::{rpc_err, Keeper, KeeperError};
use crate::config::Misbehaviour;
use crate::store::{GameRecord as GameInfo, Intent, IntentKind, IntentStatus};

/// The referee's first game id (`Referee.GAME_ID_BASE` = 2^255): dispute ids from here are games.
pub const GAME_ID_BASE: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);

/// `Referee.Phase`.
mod phase {
    pub const COMMIT: u8 = 1;
    pub const BISECT: u8 = 2;
    pub const STEP: u8 = 3;
    pub const DONE: u8 = 4;
}

/// The traces a keeper plays a game with: the one it plays (its answer's) and the honest one (the
/// truth the one-step check will find). The same for an honest keeper.
#[derive(Clone, Debug)]
pub(super) struct GameTraces {
    played: Trace,
    honest: Trace,
}

/// The wrong output a [`Misbehaviour::WrongResult`] keeper attests (every byte flipped by `0x5a`).
pub(super) fn wrong_output(output: &mut [u8]) {
    output.iter_mut().for_each(|b| *b ^= 0x5a);
}

/// The move a side owes in a game's current state, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Move {
    Commit,
    Bisect { depth: u8, index: u32 },
    Step { layer: usize, element: usize },
    Timeout,
}

impl Move {
    /// The part of the move's journal key after the game: one key per move, depth and side.
    fn tag(&self, side: u8) -> String {
        match self {
            Self::Commit => format!("commit:{side}"),
            Self::Bisect { depth, .. } => format!("bisect:{depth}:{side}"),
            Self::Step { .. } => "step".into(),
            Self::Timeout => "timeout".into(),
        }
    }
}

/// Who wins if `timeout` is called in `g`'s state (`Referee.timeout`): `Some(side)`, or `None` for
/// "no decision" (nobody committed).
fn timeout_winner(g: &Referee::Game) -> Option<u8> {
    match g.phase {
        phase::COMMIT => {
            if g.root[0] != B256::ZERO {
                Some(0)
            } else if g.root[1] != B256::ZERO {
                Some(1)
            } else {
                None
            }
        }
        phase::BISECT => Some(if g.challengerToMove { 0 } else { 1 }),
        _ => Some(1),
    }
}

/// The move `side` owes in `g` at chain time `now`, given whether it would win the one-step check.
fn owed(g: &Referee::Game, side: u8, now: u64) -> Option<Move> {
    if g.phase == phase::DONE || g.phase == 0 {
        return None;
    }
    if now > g.deadline.to::<u64>() {
        // Past the deadline only `timeout` is possible; call it unless it rules against this side.
        return match timeout_winner(g) {
            Some(w) if w != side => None,
            _ => Some(Move::Timeout),
        };
    }
    match g.phase {
        phase::COMMIT if g.root[usize::from(side)] == B256::ZERO => Some(Move::Commit),
        phase::BISECT if (side == 1) == g.challengerToMove => Some(Move::Bisect {
            depth: g.depth,
            index: g.index,
        }),
        phase::STEP => {
            let (layer, element) = first_difference(u64::from(g.index), g.node[0], g.node[1])?;
            Some(Move::Step { layer, element })
        }
        _ => None,
    }
}

impl Keeper {
    fn referee_contract(
        &self,
        at: Address,
    ) -> Referee::RefereeInstance<&alloy::providers::RootProvider> {
        Referee::new(at, &self.provider)
    }

    /// The referee wired into the registry (zero: none, every dispute goes to the vote).
    pub(super) async fn referee_address(&self) -> Result<Address, KeeperError> {
        self.registry()
            .referee()
            .call()
            .await
            .map_err(rpc_err("referee"))
    }

    /// `DisputeOpened`: if the dispute is a referee game this keeper plays a side of, remember it.
    pub(super) async fn on_dispute_opened(
        &mut self,
        request: U256,
        dispute: U256,
    ) -> Result<(), KeeperError> {
        if dispute < GAME_ID_BASE {
            return self.on_vote_dispute_opened(request, dispute).await;
        }
        if self.store.game(dispute)?.is_some() {
            return Ok(());
        }
        let referee = self.referee_address().await?;
        if referee == Address::ZERO {
            return Ok(());
        }
        let g = self
            .referee_contract(referee)
            .game(dispute)
            .call()
            .await
            .map_err(rpc_err("game"))?;
        let Some(side) = self.side_in(&g).await? else {
            return Ok(());
        };
        tracing::info!(keeper = %self.name, game = %dispute, %request, side, "referee game opened; playing it");
        self.store.put_game(dispute, GameInfo { request, side })?;
        Ok(())
    }

    /// The side this keeper plays in `g`: 1 as its challenger (the sending key opened it), else the
    /// side whose output this keeper's operator attested.
    async fn side_in(&self, g: &Referee::Game) -> Result<Option<u8>, KeeperError> {
        if g.challenger != Address::ZERO && g.challenger == self.key.address() {
            return Ok(Some(1));
        }
        let ops = self
            .registry()
            .assignedOperators(g.requestId)
            .call()
            .await
            .map_err(rpc_err("assignedOperators"))?;
        let Some(i) = ops.iter().position(|o| *o == self.cfg.operator) else {
            return Ok(None);
        };
        let bit = 1u8 << i;
        Ok(if g.mask[0] & bit != 0 {
            Some(0)
        } else if g.mask[1] & bit != 0 {
            Some(1)
        } else {
            None
        })
    }

    /// Builds (once per game, from the model and the request's input) the traces this keeper plays
    /// `game` with, kept in `self.traces`; `false` when it cannot play: no in-process integer MLP for
    /// the model, or an input it cannot fetch or the model refuses.
    async fn ensure_traces(&mut self, game: U256, request: U256) -> Result<bool, KeeperError> {
        if !self.traces.contains_key(&game) {
            let Some(info) = self.req(request)? else {
                return Ok(false);
            };
            let input = match self.input_of(request, &info).await {
                Ok(i) => i,
                Err(e) => {
                    tracing::warn!(keeper = %self.name, %game, error = %e, "cannot fetch the game's input");
                    return Ok(false);
                }
            };
            let Some(model) = self.backends.int_mlp(info.model_id) else {
                tracing::warn!(keeper = %self.name, %game, model = %info.model_id, "no in-process integer MLP for the game's model; cannot play");
                return Ok(false);
            };
            let Some(traces) = self.recompute(model, &input) else {
                return Ok(false);
            };
            self.traces.insert(game, traces);
        }
        Ok(true)
    }

    /// The traces of `model` on `input`: the honest one, and the one this keeper plays (the honest one
    /// unless it is configured to return wrong results, when its last layer is the wrong output).
    fn recompute(&self, model: &IntMlp, input: &[u8]) -> Option<GameTraces> {
        let honest = Trace::new(model, input).ok()?;
        let played = if self.cfg.misbehave == Misbehaviour::WrongResult {
            let mut outputs: Vec<Vec<u8>> = (0..honest.layer_count())
                .filter_map(|j| honest.layer_output(j).map(<[u8]>::to_vec))
                .collect();
            if let Some(last) = outputs.last_mut() {
                wrong_output(last);
            }
            Trace::from_outputs(input, outputs).ok()?
        } else {
            honest.clone()
        };
        Some(GameTraces { played, honest })
    }

    /// Whether this keeper may open a referee game over `model` claiming `ours`: it plays games only
    /// with an in-process integer MLP, and a second, independent run of the model (the trace's forward
    /// pass, layer by layer) must give the same output as the first. A keeper never opens a game it
    /// would lose.
    pub(super) fn confirmed_twice(&self, model: B256, input: &[u8], ours: &[u8]) -> bool {
        let Some(m) = self.backends.int_mlp(model) else {
            return false;
        };
        Trace::new(m, input).is_ok_and(|t| t.output() == ours)
    }

    /// The referee duty, once: for every game this keeper plays, read its state and journal the move
    /// owed (docs/keeper.md, "Referee games").
    pub(super) async fn referee_duties(&mut self) -> Result<(), KeeperError> {
        let games = self.store.games()?;
        if games.is_empty() {
            return Ok(());
        }
        let referee = self.referee_address().await?;
        let now = self.chain_time().await?;
        for (game, info) in games {
            let g = self
                .referee_contract(referee)
                .game(game)
                .call()
                .await
                .map_err(rpc_err("game"))?;
            if g.phase == phase::DONE || g.phase == 0 {
                tracing::info!(keeper = %self.name, %game, outcome = g.outcome, "referee game over");
                self.store.forget_game(game)?;
                self.traces.remove(&game);
                continue;
            }
            self.play(referee, game, info, &g, now).await?;
        }
        Ok(())
    }

    /// Journals the move `info.side` owes in game `game` (state `g`), if any.
    async fn play(
        &mut self,
        referee: Address,
        game: U256,
        info: GameInfo,
        g: &Referee::Game,
        now: u64,
    ) -> Result<(), KeeperError> {
        let side = info.side;
        let Some(mv) = owed(g, side, now) else {
            return Ok(());
        };
        let key = Intent::key_for(
            IntentKind::RefereeMove,
            &format!("{game}:{}", mv.tag(side)),
            &format!("{:#x}", self.cfg.operator),
        );
        if self.store.intent(&key)?.is_some() {
            return Ok(()); // journaled already (sent, done, or given up)
        }
        let name = self.name.clone();
        let Some(model) = self.req(info.request)?.map(|r| r.model_id) else {
            return Ok(());
        };
        if !self.ensure_traces(game, info.request).await? {
            return Ok(());
        }
        let Some(t) = self.traces.get(&game) else {
            return Ok(());
        };
        if keccak256(t.played.output()) != g.output[usize::from(side)] {
            tracing::warn!(keeper = %name, %game, side, "our recomputation is not our side's output; not playing");
            return Ok(());
        }
        let calldata = match mv {
            Move::Timeout => Referee::timeoutCall { gameId: game }.abi_encode(),
            Move::Commit => {
                let Some(m) = self.backends.int_mlp(model) else {
                    return Ok(());
                };
                match moves::commit_trace(game, &t.played, m) {
                    Ok(call) => call.abi_encode(),
                    Err(e) => {
                        tracing::warn!(keeper = %name, %game, error = %e, "cannot build the commitment");
                        return Ok(());
                    }
                }
            }
            Move::Bisect { depth, index } => {
                let call = match moves::bisect(game, &t.played, depth, index) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(keeper = %name, %game, error = %e, "no such node");
                        return Ok(());
                    }
                };
                if inner_node(call.left, call.right) != g.node[usize::from(side)] {
                    // Another party of our side committed a different trace: we cannot reveal it.
                    tracing::warn!(keeper = %name, %game, depth, "our side's node is not in our trace; not playing");
                    return Ok(());
                }
                call.abi_encode()
            }
            Move::Step { layer, element } => {
                let claimed = g.node[usize::from(side)].0[element % CHUNK] as i8;
                if t.honest.element(layer, element) != claimed {
                    // The one-step check would rule against our side: leave it to the other side
                    // (or to the deadline).
                    return Ok(());
                }
                let Some(m) = self.backends.int_mlp(model) else {
                    return Ok(());
                };
                match moves::step(game, &t.honest, m, layer, element) {
                    Ok(call) => call.abi_encode(),
                    Err(e) => {
                        tracing::warn!(keeper = %name, %game, error = %e, "cannot build the step data");
                        return Ok(());
                    }
                }
            }
        };
        tracing::info!(keeper = %name, %game, side, key = %key, "referee move");
        let intent = Intent {
            key,
            kind: IntentKind::RefereeMove,
            subject: Some(info.request),
            to: Some(referee),
            calldata: calldata.into(),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: true,
        };
        self.store.insert_intent_if_absent(&intent)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verinfer_mlp::trace::GAME_DEPTH;

    fn game(phase: u8) -> Referee::Game {
        Referee::Game {
            requestId: U256::from(1),
            weightsRoot: B256::ZERO,
            inputHash: B256::ZERO,
            output: [B256::repeat_byte(1), B256::repeat_byte(2)],
            root: [B256::ZERO; 2],
            node: [B256::ZERO; 2],
            pendingLeft: B256::ZERO,
            pendingRight: B256::ZERO,
            challenger: Address::ZERO,
            mask: [1, 2],
            phase,
            outcome: 0,
            challengerToMove: false,
            depth: 0,
            layerCount: 0,
            index: 0,
            deadline: alloy::primitives::Uint::from(100u64),
        }
    }

    /// The game id base is `Referee.GAME_ID_BASE` (2^255).
    #[test]
    fn game_id_base_is_two_to_the_255() {
        assert_eq!(GAME_ID_BASE, U256::from(1) << 255);
    }

    /// Commit phase: a side commits until it has; after the deadline only a side that committed
    /// (or nobody having committed) calls `timeout`.
    #[test]
    fn commit_is_owed_until_made_and_timeout_only_when_it_does_not_lose() {
        let mut g = game(phase::COMMIT);
        assert_eq!(owed(&g, 0, 50), Some(Move::Commit));
        assert_eq!(
            owed(&g, 0, 101),
            Some(Move::Timeout),
            "no decision: callable"
        );
        g.root[1] = B256::repeat_byte(9);
        assert_eq!(owed(&g, 1, 50), None);
        assert_eq!(owed(&g, 1, 101), Some(Move::Timeout));
        assert_eq!(
            owed(&g, 0, 101),
            None,
            "a timeout would rule against side 0"
        );
    }

    /// Bisect phase: the defender moves first at each level, then the challenger; a side whose
    /// opponent missed its deadline calls `timeout`.
    #[test]
    fn bisect_moves_alternate_and_the_waiting_side_times_out_the_other() {
        let mut g = game(phase::BISECT);
        g.depth = 4;
        g.index = 3;
        assert_eq!(owed(&g, 0, 50), Some(Move::Bisect { depth: 4, index: 3 }));
        assert_eq!(owed(&g, 1, 50), None);
        assert_eq!(owed(&g, 1, 101), Some(Move::Timeout));
        assert_eq!(owed(&g, 0, 101), None);
        g.challengerToMove = true;
        assert_eq!(owed(&g, 1, 50), Some(Move::Bisect { depth: 4, index: 3 }));
        assert_eq!(owed(&g, 0, 101), Some(Move::Timeout));
        assert_ne!(
            Move::Bisect { depth: 4, index: 3 }.tag(0),
            Move::Bisect { depth: 5, index: 6 }.tag(0),
            "one key per depth"
        );
    }

    /// Step phase: the element is the first differing byte of the two leaves.
    #[test]
    fn step_names_the_first_differing_element() {
        let mut g = game(phase::STEP);
        g.depth = GAME_DEPTH as u8;
        g.index = (2 << 11) | 1; // layer 2, chunk 1
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        a[5] = 1;
        b[5] = 2;
        g.node = [B256::from(a), B256::from(b)];
        assert_eq!(
            owed(&g, 0, 50),
            Some(Move::Step {
                layer: 2,
                element: 37
            })
        );
        assert_eq!(
            owed(&g, 0, 101),
            None,
            "past the step's deadline the defender lost"
        );
        assert_eq!(owed(&g, 1, 101), Some(Move::Timeout));
    }
}
