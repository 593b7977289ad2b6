//! The keeper's referee duty against the deployed suite on a private anvil (docs/referee.md, "Who
//! plays the game"): two colluding operators attest a wrong output for the digits classifier (k = 3,
//! q = 2), the honest third operator's watcher challenges it, the game runs between the keepers (the
//! colluders' keepers defend with their lie, move by move), the colluders are slashed after the veto
//! window and the request finalizes with the right output; no vote is opened. Also: the honest player
//! killed mid-game and restarted from its journal still wins, without a duplicate move.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::SolCall;
use common::*;
use verinfer_bindings::types::FaultKind;
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{
    DisputeGovernor, InferenceRegistry, Referee, Slasher, Staking, VerinferToken,
};
use verinfer_deploy::plan::WRONG_RESULT_VETO_WINDOW;
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{KeeperConfig, Misbehaviour, RawConfig, SubmitConfig, SubmitMode};
use verinfer_keeper::keeper::{inline_uri, Keeper};
use verinfer_keeper::registry::{RequestStatus, VerificationMode};
use verinfer_keeper::store::{IntentKind, IntentStatus};
use verinfer_keeper::txmgr::TxManager;
use verinfer_mlp::dataset::TestSplit;
use verinfer_mlp::IntMlp;

/// `Referee.Outcome.ChallengerWon`.
const CHALLENGER_WON: u8 = 2;

/// The suite with three operators serving the digits classifier, registered Deterministic with
/// k = 3, q = 2 (its two-way disputes go to the referee). Operator `i`: owner = dev key `1 + 2i`, hot
/// key = dev key `2 + 2i`. Key 0 deployed everything and is the client.
struct Suite {
    p: RootProvider,
    url: String,
    admin: TxManager,
    operators: [Address; 3],
    hot: [HotKey; 3],
    token: Address,
    registry: Address,
    addresses: std::collections::BTreeMap<String, Address>,
    model: IntMlp,
}

async fn call(t: &TxManager, key: &str, to: Address, data: Vec<u8>) {
    t.send(key, Some(to), Bytes::from(data)).await.unwrap();
}

impl Suite {
    async fn setup(anvil: &Anvil, dir: &tempfile::TempDir) -> Self {
        let p = anvil.provider();
        let admin = txm(
            p.clone(),
            anvil.key(0),
            store_at(dir, "admin.redb"),
            fast_cfg(),
        );
        let plan = deploy_suite(&admin).await;
        let token = plan.addresses["VerinferToken"];
        let registry = plan.addresses["InferenceRegistry"];
        let model = IntMlp::builtin().unwrap();
        register_builtin(
            &admin,
            registry,
            u8::from(VerificationMode::Deterministic),
            3,
            2,
        )
        .await;
        let stake = U256::from(5_000u128 * TOKEN);
        let mut operators = [Address::ZERO; 3];
        let hot = [anvil.key(2), anvil.key(4), anvil.key(6)];
        for i in 0..3 {
            let owner = txm(
                p.clone(),
                anvil.key(1 + 2 * i),
                store_at(dir, &format!("owner{i}.redb")),
                fast_cfg(),
            );
            let tag = i.to_string();
            let hot_i = hot[i].address();
            add_operator(&admin, &owner, hot_i, &plan, model.model_id(), stake, &tag).await;
            operators[i] = owner.from();
        }
        let fees = VerinferToken::approveCall {
            spender: registry,
            value: U256::MAX,
        };
        call(&admin, "fees", token, fees.abi_encode()).await;
        Self {
            p,
            url: anvil.url.clone(),
            admin,
            operators,
            hot,
            token,
            registry,
            addresses: plan.addresses.clone().into_iter().collect(),
            model,
        }
    }

    /// Gives operator `i`'s hot key tokens for a challenge bond and approves the registry (a
    /// watcher's bond is paid from its sending key).
    async fn fund_bond(&self, dir: &tempfile::TempDir, i: usize) {
        let hot = txm(
            self.p.clone(),
            self.hot[i].clone(),
            store_at(dir, &format!("hot{i}.redb")),
            fast_cfg(),
        );
        fund_bond(&self.admin, &hot, self.token, self.registry).await;
    }

    /// The suite, the honest operator's bond, and a request for digit `n`: (suite, the block the
    /// keepers start reading at, the request, the right output's hash).
    async fn with_request(
        anvil: &Anvil,
        dir: &tempfile::TempDir,
        n: usize,
    ) -> (Self, u64, U256, B256) {
        let s = Self::setup(anvil, dir).await;
        s.fund_bond(dir, 2).await;
        let start_block = s.p.get_block_number().await.unwrap();
        let input = digit(n);
        let right = keccak256(s.model.infer(&input).unwrap());
        let id = s.request(&input, 1).await;
        (s, start_block, id, right)
    }

    /// The three operators' keepers (journals `k0`..`k2` in `dir`), not started.
    async fn keepers(&self, dir: &tempfile::TempDir, start_block: u64) -> [Keeper; 3] {
        [
            self.keeper(0, &dir.path().join("k0"), start_block).await,
            self.keeper(1, &dir.path().join("k1"), start_block).await,
            self.keeper(2, &dir.path().join("k2"), start_block).await,
        ]
    }

    /// Sends a request for `input`; returns its id (ids are sequential: key 0 is the only client).
    async fn request(&self, input: &[u8], n: u64) -> U256 {
        let now = self.chain_time().await;
        let request = InferenceRegistry::requestInferenceCall {
            modelId: self.model.model_id(),
            inputHash: keccak256(input),
            inputURI: inline_uri(input),
            fee: U256::from(TOKEN / 100),
            deadline: alloy::primitives::Uint::from(now + 3_600),
        };
        call(
            &self.admin,
            &format!("request:{n}"),
            self.registry,
            request.abi_encode(),
        )
        .await;
        U256::from(n)
    }

    async fn chain_time(&self) -> u64 {
        self.p
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp
    }

    /// The keeper of operator `i`: the colluders (0 and 1) return wrong results and do not watch; the
    /// honest operator (2) watches and challenges.
    async fn keeper(&self, i: usize, data_dir: &Path, start_block: u64) -> Keeper {
        let colluder = i < 2;
        let raw = RawConfig {
            rpc_url: Some(self.url.clone()),
            registry: Some(format!("{:#x}", self.registry)),
            operator: Some(format!("{:#x}", self.operators[i])),
            data_dir: Some(data_dir.to_path_buf()),
            poll_interval_ms: Some(50),
            start_block: Some(start_block),
            watch: Some(!colluder),
            finalize: Some(false),
            submit: SubmitConfig {
                mode: SubmitMode::Single,
                receipt_poll_ms: 20,
                ..SubmitConfig::default()
            },
            ..RawConfig::default()
        };
        let cfg = KeeperConfig {
            misbehave: if colluder {
                Misbehaviour::WrongResult
            } else {
                Misbehaviour::None
            },
            ..KeeperConfig::from_raw(raw).unwrap()
        };
        Keeper::new(cfg, self.hot[i].clone(), &format!("op{i}"))
            .await
            .unwrap()
    }

    fn registry(&self) -> InferenceRegistry::InferenceRegistryInstance<&RootProvider> {
        InferenceRegistry::new(self.registry, &self.p)
    }

    async fn game_of(&self, id: U256) -> U256 {
        let referee = self.registry().referee().call().await.unwrap();
        Referee::new(referee, &self.p)
            .gameOf(id)
            .call()
            .await
            .unwrap()
    }

    async fn game(&self, game: U256) -> Referee::Game {
        let referee = self.registry().referee().call().await.unwrap();
        Referee::new(referee, &self.p)
            .game(game)
            .call()
            .await
            .unwrap()
    }

    async fn status(&self, id: U256) -> u8 {
        self.registry().request(id).call().await.unwrap().status
    }

    /// The transactions operator `i`'s hot key got mined from block `from` on: (succeeded, failed by
    /// running out of gas). Any other failure fails the test.
    async fn hot_txs_since(&self, i: usize, from: u64) -> (u64, u64) {
        use alloy::consensus::Transaction;
        let sender = self.hot[i].address();
        let (mut ok, mut out_of_gas) = (0, 0);
        let head = self.p.get_block_number().await.unwrap();
        for n in from..=head {
            let block = self
                .p
                .get_block_by_number(n.into())
                .full()
                .await
                .unwrap()
                .unwrap();
            for tx in block.transactions.txns() {
                if tx.inner.signer() != sender {
                    continue;
                }
                let r = self
                    .p
                    .get_transaction_receipt(*tx.inner.hash())
                    .await
                    .unwrap()
                    .unwrap();
                if r.status() {
                    ok += 1;
                } else {
                    assert_eq!(
                        r.gas_used,
                        tx.inner.gas_limit(),
                        "a failed transaction of the player that did not run out of gas"
                    );
                    out_of_gas += 1;
                }
            }
        }
        (ok, out_of_gas)
    }

    /// After the veto window, executes the `WrongResult` slashes of `who` for request `id`; returns
    /// the tokens taken.
    async fn execute_slashes(&self, id: U256, who: &[Address]) -> U256 {
        let slasher = Slasher::new(self.addresses["Slasher"], &self.p);
        let mut ids = Vec::new();
        for op in who {
            let s = slasher
                .slashIdOf(*op, FaultKind::WrongResult.into(), B256::from(id))
                .call()
                .await
                .unwrap();
            assert!(!s.is_zero(), "no WrongResult slash requested of {op}");
            ids.push(s);
        }
        raw(
            &self.p,
            "evm_increaseTime",
            serde_json::json!([WRONG_RESULT_VETO_WINDOW + 1]),
        )
        .await;
        raw(&self.p, "evm_mine", serde_json::json!([])).await;
        let staking = Staking::new(self.addresses["Staking"], &self.p);
        let mut before = U256::ZERO;
        for op in who {
            before += staking.selfStakeOf(*op).call().await.unwrap();
        }
        for (n, s) in ids.iter().enumerate() {
            let exec = Slasher::executeSlashCall { slashId: *s };
            call(
                &self.admin,
                &format!("slash:{id}:{n}"),
                self.addresses["Slasher"],
                exec.abi_encode(),
            )
            .await;
        }
        let mut after = U256::ZERO;
        for op in who {
            after += staking.selfStakeOf(*op).call().await.unwrap();
        }
        before - after
    }
}

/// Image `n` of the digits test split.
fn digit(n: usize) -> Vec<u8> {
    TestSplit::digits().unwrap().cycle(n).input.clone()
}

/// Ticks every keeper in turn until `done` holds, or `secs` seconds.
async fn tick_all_until<F, Fut>(ks: &mut [&mut Keeper], secs: u64, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if done().await {
            return;
        }
        assert!(Instant::now() < deadline, "no progress: {what}");
        for k in ks.iter_mut() {
            k.tick().await.unwrap();
        }
    }
}

/// Referee moves this keeper's journal records as done.
fn moves_done(k: &Keeper) -> Vec<String> {
    k.store()
        .intents()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == IntentKind::RefereeMove)
        .filter(|i| matches!(i.status, IntentStatus::Done { .. }))
        .map(|i| i.key)
        .collect()
}

/// Issue #14, "Done when" (runtime half): the colluders' wrong quorum result is challenged by the
/// honest watcher, the game runs automatically between the keepers (the colluders commit and bisect
/// their lie and lose the one-step check), the colluders are slashed after the veto window, the
/// request finalizes with the right output, the challenger gets its bond back and no vote is opened.
#[tokio::test]
async fn colluders_lose_the_referee_game_the_keepers_play_and_no_vote_is_opened() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (s, start_block, id, right) = Suite::with_request(&anvil, &dir, 3).await;
    let [mut c0, mut c1, mut honest] = s.keepers(&dir, start_block).await;

    // Answers, quorum on the wrong output, the watcher's challenge, the game to its end.
    tick_all_until(
        &mut [&mut c0, &mut c1, &mut honest],
        120,
        "the game to its end",
        || async { s.status(id).await == u8::from(RequestStatus::Finalized) },
    )
    .await;

    let game = s.game_of(id).await;
    assert!(
        game >= verinfer_keeper::keeper::GAME_ID_BASE,
        "the dispute was a referee game"
    );
    let g = s.game(game).await;
    assert_eq!(g.outcome, CHALLENGER_WON, "the honest challenger won");
    assert_eq!(
        g.challenger,
        s.hot[2].address(),
        "the honest keeper's watcher opened it"
    );
    assert_eq!(
        g.depth as usize,
        verinfer_mlp::trace::GAME_DEPTH,
        "the game went to the one-step check"
    );
    let view = s.registry().request(id).call().await.unwrap();
    assert_eq!(view.output, right, "finalized with the right output");

    // The liars played: their side committed and revealed every level (between them).
    let liar_moves: Vec<String> = moves_done(&c0).into_iter().chain(moves_done(&c1)).collect();
    assert!(
        liar_moves.iter().any(|k| k.contains(":commit:0")),
        "{liar_moves:?}"
    );
    assert_eq!(
        liar_moves.iter().filter(|k| k.contains(":bisect:")).count(),
        verinfer_mlp::trace::GAME_DEPTH,
        "the defenders revealed every level once: {liar_moves:?}"
    );
    let won = moves_done(&honest);
    assert_eq!(
        won.len(),
        1 + verinfer_mlp::trace::GAME_DEPTH + 1,
        "commit, 17 reveals, step: {won:?}"
    );
    assert!(won.iter().any(|k| k.contains(":step")));

    let dg = DisputeGovernor::new(s.addresses["DisputeGovernor"], &s.p);
    assert_eq!(
        dg.disputeCount().call().await.unwrap(),
        U256::ZERO,
        "no vote opened"
    );

    let taken = s.execute_slashes(id, &s.operators[..2]).await;
    assert!(taken > U256::ZERO, "the colluders' stake was slashed");
    let slasher = Slasher::new(s.addresses["Slasher"], &s.p);
    let honest_slash = slasher
        .slashIdOf(
            s.operators[2],
            FaultKind::WrongResult.into(),
            B256::from(id),
        )
        .call()
        .await
        .unwrap();
    assert!(honest_slash.is_zero(), "the honest operator is not slashed");
    assert_eq!(
        s.registry()
            .credits(s.hot[2].address())
            .call()
            .await
            .unwrap(),
        U256::from(TOKEN),
        "the challenger's bond comes back"
    );
}

/// Crash safety: the honest player (running as a task) is killed mid-bisection and restarted from
/// its journal; it still wins, and its sending key made exactly one successful transaction per move
/// (its attestation, the challenge, the commit, 17 reveals and the step): no move repeated, none
/// skipped. Its only other transactions are moves that ran out of gas on an estimate the other side
/// made stale and were re-planned (the commit, when the liars' commit lands between its estimate and
/// its inclusion and it becomes the second commit, which opens the bisection and costs more).
///
/// It runs on the current-thread runtime on purpose: three keepers and the test share one thread,
/// which makes that race frequent. Before the out-of-gas re-plan the honest commit was abandoned as
/// "no longer possible" and the game stalled before the bisection (3 of 9 runs).
#[tokio::test]
async fn player_killed_mid_game_restarts_from_its_journal_and_wins_without_a_duplicate_move() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (s, start_block, id, right) = Suite::with_request(&anvil, &dir, 5).await;
    let first_block = s.p.get_block_number().await.unwrap() + 1; // after the bond approval
    let (_stop, rx) = tokio::sync::watch::channel(false);
    let c0 = s.keeper(0, &dir.path().join("k0"), start_block).await;
    let c1 = s.keeper(1, &dir.path().join("k1"), start_block).await;
    let t0 = tokio::spawn(c0.run(rx.clone()));
    let t1 = tokio::spawn(c1.run(rx.clone()));
    let data = dir.path().join("k2");
    let honest = s.keeper(2, &data, start_block).await;
    let task = tokio::spawn(honest.run(rx.clone()));

    // Kill the honest player once the bisection is a few levels deep.
    let deadline = Instant::now() + Duration::from_secs(120);
    let game = loop {
        let game = s.game_of(id).await;
        if !game.is_zero() && s.game(game).await.depth >= 5 {
            break game;
        }
        assert!(Instant::now() < deadline, "the game never got going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    task.abort();
    let _ = task.await;
    let depth_at_kill = s.game(game).await.depth;
    assert!(
        (depth_at_kill as usize) < verinfer_mlp::trace::GAME_DEPTH,
        "killed mid-game"
    );

    let honest = s.keeper(2, &data, start_block).await;
    let task = tokio::spawn(honest.run(rx.clone()));
    let deadline = Instant::now() + Duration::from_secs(120);
    while s.status(id).await != u8::from(RequestStatus::Finalized) {
        assert!(
            Instant::now() < deadline,
            "the restarted player did not finish the game"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A few more rounds: whatever they would send is a duplicate.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let g = s.game(game).await;
    assert_eq!(g.outcome, CHALLENGER_WON);
    assert_eq!(s.registry().request(id).call().await.unwrap().output, right);
    let (ok, out_of_gas) = s.hot_txs_since(2, first_block).await;
    eprintln!("the honest player's out-of-gas attempts (re-planned): {out_of_gas}");
    assert_eq!(
        ok,
        1 + 1 + 1 + verinfer_mlp::trace::GAME_DEPTH as u64 + 1,
        "attestation, challenge, commit, 17 reveals, step: one successful transaction each"
    );
    assert!(
        out_of_gas <= u64::from(verinfer_keeper::txmgr::MAX_OUT_OF_GAS_REPLANS),
        "{out_of_gas} out-of-gas attempts"
    );
    for t in [task, t0, t1] {
        t.abort();
        let _ = t.await;
    }
}

/// A liar that does not play loses by timeout, and the honest keeper is the one that calls it: the
/// colluders attest their wrong output and go silent; the honest watcher challenges and commits, and
/// once the commit window is over (time warped past the 1-hour move window) journals `timeout` and
/// wins; the request finalizes with the right output.
#[tokio::test]
async fn a_silent_liar_loses_by_the_timeout_the_honest_keeper_calls() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (s, start_block, id, right) = Suite::with_request(&anvil, &dir, 4).await;
    let [mut c0, mut c1, mut honest] = s.keepers(&dir, start_block).await;
    tick_all_until(
        &mut [&mut c0, &mut c1],
        60,
        "the colluders' quorum",
        || async { s.status(id).await == u8::from(RequestStatus::Quorum) },
    )
    .await;
    // From here on the colluders' keepers are never ticked again: they do not play.
    tick_all_until(&mut [&mut honest], 60, "the honest commit", || async {
        let game = s.game_of(id).await;
        !game.is_zero() && s.game(game).await.root[1] != B256::ZERO
    })
    .await;
    let game = s.game_of(id).await;
    assert_eq!(
        s.game(game).await.root[0],
        B256::ZERO,
        "the liars never committed"
    );
    raw(&s.p, "evm_increaseTime", serde_json::json!([3_700])).await;
    raw(&s.p, "evm_mine", serde_json::json!([])).await;
    tick_all_until(&mut [&mut honest], 60, "the timeout", || async {
        s.status(id).await == u8::from(RequestStatus::Finalized)
    })
    .await;
    assert_eq!(s.game(game).await.outcome, CHALLENGER_WON);
    assert_eq!(s.registry().request(id).call().await.unwrap().output, right);
    let done = moves_done(&honest);
    assert!(done.iter().any(|k| k.contains(":timeout")), "{done:?}");
    assert!(moves_done(&c0).is_empty() && moves_done(&c1).is_empty());
}
