//! Phase 9, referee: a dispute settled by computation, not by a vote (docs/referee.md). Three fresh
//! operators join the digits classifier; of a request's three assigned operators two collude on a
//! wrong output (their keepers return wrong results, quorum 2 of 3) and the third's keeper watches,
//! re-executes the result and challenges it. The registry sends the dispute to the on-chain referee,
//! and the keepers play the game out on their own (commit, 17 levels of bisection, the one-step
//! check); the colluders' `WrongResult` slashes execute after the veto window. The report lists every
//! move with its gas, the winner, the slashes, the final output, and that no vote was opened.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEventInterface;
use serde::Serialize;
use verinfer_bindings::referee::Referee::RefereeEvents;
use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::units::{tokens, tokens_f64};
use verinfer_bindings::{DisputeGovernor, InferenceRegistry, Referee, VerinferToken};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, Misbehaviour, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{Keeper, GAME_ID_BASE};
use verinfer_mlp::dataset::TestSplit;

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::disputes::ExecutedSlashes;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::operators::{Behaviour, Operator, OperatorSpec, HOT_KEY_WEI};

/// How long the keepers get to play the game out (wall clock; every move is automatic).
pub const GAME_TIMEOUT: Duration = Duration::from_secs(180);
/// Self-stake of each operator that joins for the phase, tokens.
pub const REFEREE_OPERATOR_STAKE_TOKENS: u64 = 5_000;

/// One transaction of the game.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GameMove {
    /// What it did: `challenge (opens the game)`, `commitTrace`, `bisect depth <d>`, `step`, `timeout`.
    pub what: String,
    /// The side that moved (0 = the defended, wrong output; 1 = the challenger), when the move is a side's.
    pub side: Option<u8>,
    /// The sender.
    pub from: Address,
    /// Gas used by the transaction.
    pub gas: u64,
}

/// How the referee game went.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RefereeGame {
    /// The disputed request.
    pub request: U256,
    /// The game's id (`Referee.GAME_ID_BASE + n`).
    pub game: U256,
    /// The two colluding operators (side 0).
    pub colluders: [Address; 2],
    /// The honest operator whose keeper challenged.
    pub honest: Address,
    /// The challenger (the honest keeper's sending key).
    pub challenger: Address,
    /// The honest output hash.
    pub right: B256,
    /// The colluders' output hash.
    pub wrong: B256,
    /// Every transaction of the game, in order.
    pub moves: Vec<GameMove>,
    /// Total gas of the game's transactions (the challenge included).
    pub total_gas: u64,
    /// The winner: `challenger` or `defender`.
    pub winner: String,
    /// Element checked on chain: (layer, element, true value, defender's value, challenger's value).
    pub step: Option<(u64, u64, i8, i8, i8)>,
    /// The output the request finalized with.
    pub final_output: B256,
    /// The executed `WrongResult` slashes.
    pub slash_ids: Vec<U256>,
    /// Tokens (wei) the slashes took.
    pub slashed: U256,
    /// Seconds warped to pass the veto window.
    pub veto_wait: u64,
    /// Votes the DisputeGovernor opened during the phase (0: none was needed).
    pub votes_opened: u64,
}

impl RefereeGame {
    /// The report's paragraph on the game.
    pub fn summary(&self) -> String {
        let bisects = self
            .moves
            .iter()
            .filter(|m| m.what.starts_with("bisect"))
            .count();
        let gas = |prefix: &str| {
            self.moves
                .iter()
                .filter(|m| m.what.starts_with(prefix))
                .map(|m| m.gas)
                .max()
                .unwrap_or_default()
        };
        format!(
            "request {}: operators {} and {} colluded on a wrong digits output (quorum 2 of 3), {} answered honestly and its keeper's \
             watcher challenged ({}) -> referee game {}; the keepers played it out: {} transactions ({} commits, {} bisection moves, \
             one-step check {}), gas: challenge {}, commitTrace ≤ {}, bisect ≤ {}, step {}, total {}; winner: {}; \
             the request finalized with {} (the honest output: {}); WrongResult slashes {:?} executed after the {} s veto window: \
             {:.2} tokens taken from the colluders; votes opened: {}",
            self.request,
            self.colluders[0],
            self.colluders[1],
            self.honest,
            self.challenger,
            self.game,
            self.moves.len(),
            self.moves.iter().filter(|m| m.what == "commitTrace").count(),
            bisects,
            self.step
                .map(|(l, e, t, d, c)| format!("layer {l} element {e}: true {t}, defender {d}, challenger {c}"))
                .unwrap_or_else(|| "not reached".into()),
            gas("challenge"),
            gas("commitTrace"),
            gas("bisect"),
            gas("step"),
            self.total_gas,
            self.winner,
            self.final_output,
            self.final_output == self.right,
            self.slash_ids,
            self.veto_wait,
            tokens_f64(self.slashed),
            self.votes_opened,
        )
    }
}

impl Devnet {
    /// Runs the referee phase and returns how the game went; fails if the game does not end, the
    /// honest side loses, a vote is opened or a colluder is not slashed.
    pub async fn referee_game(
        &self,
        d: &Deployment,
        operators: &[Operator],
    ) -> Result<RefereeGame, DevnetError> {
        self.say(Progress::Phase(
            "referee: two operators collude on a wrong digits output; the keepers play the on-chain game".into(),
        ));
        let p = self.provider();
        let registry = d.contract("InferenceRegistry")?;
        let reg = InferenceRegistry::new(registry, p);
        let referee = reg
            .referee()
            .call()
            .await
            .map_err(DevnetError::view("referee"))?;
        let dg = DisputeGovernor::new(d.contract("DisputeGovernor")?, p);
        let votes_before = dg
            .disputeCount()
            .call()
            .await
            .map_err(DevnetError::view("disputeCount"))?;

        // Three fresh operators (earlier phases jailed some): enough active ones for k = 3.
        let mut specs = Vec::with_capacity(3);
        for _ in 0..3 {
            let owner = PrivateKeySigner::random();
            p.anvil_set_balance(owner.address(), U256::from(HOT_KEY_WEI))
                .await
                .map_err(DevnetError::rpc("anvil_setBalance of an owner"))?;
            specs.push(OperatorSpec {
                owner,
                hot: HotKey::new(PrivateKeySigner::random()),
                stake: tokens(REFEREE_OPERATOR_STAKE_TOKENS),
                behaviour: Behaviour::Honest,
                bond: Some(tokens(10)),
            });
        }
        let fresh = self.register_operators(d, specs).await?;

        let start_block = self.block_number().await?;
        let split = TestSplit::digits()?;
        let input = split.cycle(0).input.clone();
        let right = keccak256(verinfer_mlp::IntMlp::builtin()?.infer(&input)?);
        let request = d
            .deployer
            .submit_request(d.model_id, &input, tokens(1), 600)
            .await?
            .id;
        let assigned = self.assigned_three(d, request).await?;
        let hot_of = |op: Address| -> Result<HotKey, DevnetError> {
            fresh
                .iter()
                .chain(operators)
                .find(|o: &&Operator| o.address() == op)
                .map(|o| o.hot.clone())
                .ok_or(DevnetError::UnknownOperator(op))
        };
        // Whoever was assigned (a fresh operator or an earlier one still active): gas for every
        // keeper, and a challenge bond with the registry's allowance for the honest one.
        for op in &assigned[..3] {
            p.anvil_set_balance(hot_of(*op)?.address(), U256::from(HOT_KEY_WEI))
                .await
                .map_err(DevnetError::rpc("anvil_setBalance of a hot key"))?;
        }
        let honest_hot = hot_of(assigned[2])?;
        d.deployer
            .send(
                "fund-referee-bond",
                d.contract("VerinferToken")?,
                &VerinferToken::transferCall {
                    to: honest_hot.address(),
                    value: tokens(10),
                },
            )
            .await?;
        self.client(honest_hot.signer().clone(), &d.manifest_path)
            .await?
            .approve(registry, U256::MAX)
            .await?;

        // The three assigned operators' keepers: two return wrong results, the third watches.
        let (stop, _) = tokio::sync::watch::channel(false);
        let mut handles = Vec::new();
        for (i, op) in assigned.iter().take(3).enumerate() {
            let colluder = i < 2;
            let dir: PathBuf = self.data_dir().join(format!("referee-keeper-{i}"));
            let cfg = KeeperConfig::from_raw(RawConfig {
                rpc_url: Some(self.url().to_owned()),
                registry: Some(format!("{registry:#x}")),
                operator: Some(format!("{op:#x}")),
                data_dir: Some(dir),
                poll_interval_ms: Some(crate::keepers::POLL_MS),
                start_block: Some(start_block),
                submit: SubmitConfig {
                    mode: SubmitMode::Single,
                    receipt_timeout_secs: 10,
                    ..SubmitConfig::default()
                },
                watch: Some(!colluder),
                finalize: Some(false),
                backend: self.backends(d),
                ..RawConfig::default()
            })?;
            // Misbehaviour is a devnet setting, made in code (a config file cannot set it).
            let cfg = KeeperConfig {
                misbehave: if colluder {
                    Misbehaviour::WrongResult
                } else {
                    Misbehaviour::None
                },
                ..cfg
            };
            let keeper = Keeper::new(cfg, hot_of(*op)?, &format!("referee-op{i}")).await?;
            handles.push(tokio::spawn(keeper.run(stop.subscribe())));
        }

        let deadline = Instant::now() + GAME_TIMEOUT;
        let finished = loop {
            let (status, _) = d.deployer.request_view(request).await?;
            self.say(Progress::Status(format!("request {request}: {status:?}")));
            if status == RequestStatus::Finalized {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        self.say(Progress::StatusDone);
        let _ = stop.send(true); // the keepers stop; their journals stay in the data directory
        for h in handles {
            let _ = h.await;
        }
        if !finished {
            return Err(DevnetError::GameNotFinished {
                request,
                secs: GAME_TIMEOUT.as_secs(),
            });
        }
        let (_, view) = d.deployer.request_view(request).await?;
        if view.disputeId < GAME_ID_BASE {
            return Err(DevnetError::NotRefereed {
                request,
                dispute: view.disputeId,
            });
        }
        let game = view.disputeId;
        let g = Referee::new(referee, p)
            .game(game)
            .call()
            .await
            .map_err(DevnetError::view("game"))?;

        // Every transaction of the game, from the referee's events, with its gas.
        let logs = p
            .get_logs(&Filter::new().address(vec![referee]).from_block(start_block))
            .await
            .map_err(DevnetError::rpc("eth_getLogs of the referee"))?;
        let mut moves: Vec<GameMove> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut step = None;
        for l in &logs {
            let Ok(ev) = RefereeEvents::decode_log(&l.inner) else {
                continue;
            };
            let (what, side) = match &ev.data {
                RefereeEvents::GameOpened(e) if e.gameId == game => {
                    ("challenge (opens the game)".to_string(), Some(1))
                }
                RefereeEvents::TraceCommitted(e) if e.gameId == game => {
                    ("commitTrace".to_string(), Some(e.side))
                }
                RefereeEvents::Bisected(e) if e.gameId == game => {
                    (format!("bisect depth {}", e.depth), Some(e.side))
                }
                RefereeEvents::StepChecked(e) if e.gameId == game => {
                    step = Some((
                        u64::try_from(e.layer).unwrap_or(u64::MAX),
                        u64::try_from(e.element).unwrap_or(u64::MAX),
                        e.truth,
                        e.defenderValue,
                        e.challengerValue,
                    ));
                    ("step".to_string(), None)
                }
                RefereeEvents::GameEnded(e) if e.gameId == game && step.is_none() => {
                    ("timeout".to_string(), None)
                }
                _ => continue,
            };
            let Some(tx) = l.transaction_hash else {
                continue;
            };
            if !seen.insert((tx, what.clone())) {
                continue;
            }
            let receipt = p
                .get_transaction_receipt(tx)
                .await
                .map_err(DevnetError::rpc("a game transaction's receipt"))?;
            let (gas, from) = receipt.map(|r| (r.gas_used, r.from)).unwrap_or_default();
            moves.push(GameMove {
                what,
                side,
                from,
                gas,
            });
        }
        // One move per transaction (StepDue comes with the last reveal, GameEnded with the step).
        let total_gas = moves.iter().map(|m| m.gas).sum();
        let winner = match g.outcome {
            1 => "defender",
            2 => "challenger",
            _ => "no decision",
        };

        // The colluders' WrongResult slashes, executable once the veto window is over.
        let ExecutedSlashes {
            ids: slash_ids,
            slashed,
            veto_wait,
        } = self
            .execute_wrong_result_slashes(d, request, &assigned[..2])
            .await?;
        let votes_after = dg
            .disputeCount()
            .call()
            .await
            .map_err(DevnetError::view("disputeCount"))?;
        let out = RefereeGame {
            request,
            game,
            colluders: [assigned[0], assigned[1]],
            honest: assigned[2],
            challenger: g.challenger,
            right,
            wrong: g.output[0],
            moves,
            total_gas,
            winner: winner.into(),
            step,
            final_output: view.output,
            slash_ids,
            slashed,
            veto_wait,
            votes_opened: u64::try_from(votes_after - votes_before).unwrap_or(u64::MAX),
        };
        self.say(Progress::Detail(out.summary()));
        Ok(out)
    }
}
