//! Phase 9, report: what the run did, read back from the chain (statuses, slashes, assignments and
//! answers from the registry's events, stakes) and from the keepers' journals (gas per attestation),
//! with the concentration of stake and voice; written as JSON and Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use serde::Serialize;
use verinfer_bindings::concentration::{gini, nakamoto};
use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::units::{format_tokens_fixed, tokens_f64};
use verinfer_bindings::{InferenceRegistry, Slasher, Staking};
use verinfer_keeper::store::{IntentKind, IntentStatus, Store};

use crate::deploy::Deployment;
use crate::disputes::Dispute;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::keepers::KeeperRun;
use crate::operators::Operator;
use crate::traffic::Traffic;
use crate::voice::Voice;
use crate::warp::Finalization;

/// One operator in the report.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct OperatorReport {
    /// `op<i>`.
    pub name: String,
    /// Owner address.
    pub owner: Address,
    /// Hot key address.
    pub signer: Address,
    /// `none`, `equivocate` or `offline`.
    pub behaviour: String,
    /// Stake after registration, tokens.
    pub stake_before: String,
    /// Stake at the end (after slashes and delegations), tokens.
    pub stake_after: String,
    /// Attestations its own keeper put on chain (from its journal).
    pub attestations: u64,
    /// Assignments (`OperatorAssigned` events).
    pub assigned: u64,
    /// Answers recorded on chain (`AnswerRecorded` events).
    pub answered_on_chain: u64,
}

/// One traffic request's answer, decoded: what the network predicted for a test image.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct PredictionReport {
    /// The request, decimal.
    pub request: String,
    /// The input's index in the test split.
    pub sample: usize,
    /// The true class.
    pub label: usize,
    /// The class decoded from the output the request's result commits to (the bytes found in a
    /// keeper's journal and checked against the on-chain output hash); `None` without a result or
    /// without those bytes.
    pub predicted: Option<usize>,
    /// The request's status when the report was made.
    pub status: String,
}

/// One slash in the report.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct SlashReport {
    /// The slashed operator.
    pub operator: Address,
    /// What for, in words (starts with `equivocation`, `missed assignment` or `wrong result`).
    pub kind: String,
    /// The request, decimal.
    pub request: String,
    /// Who reported it.
    pub reporter: Address,
}

/// The devnet report (the JSON file has these fields).
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Report {
    /// Unix seconds when the report was made (names the files).
    pub timestamp: u64,
    /// Chain id.
    pub chain_id: u64,
    /// The node's endpoint.
    pub rpc_url: String,
    /// The deployment.
    pub contracts: BTreeMap<String, Address>,
    /// The registered model.
    pub model_id: B256,
    /// Requests sent by the traffic phase.
    pub requests_sent: usize,
    /// Of them, with a result (quorum, finalized or disputed) before the traffic timeout.
    pub requests_with_result: usize,
    /// Of them, finalized when the report was made.
    pub requests_finalized: usize,
    /// Requests whose output bytes a client fetched (from the keepers' endpoints or the chain) and
    /// verified against the output hash.
    pub outputs_verified: usize,
    /// Requests whose output a client tried to fetch (those with a concrete result).
    pub outputs_tried: usize,
    /// Why each failed fetch failed.
    pub output_failures: Vec<(String, String)>,
    /// Gas of a `requestInference`.
    pub gas_request_inference: u64,
    /// Median gas of a single `submitAttestation`.
    pub gas_per_attestation_single: Option<u64>,
    /// Gas per attestation of `submitAttestations` batches.
    pub gas_per_attestation_batched: Option<f64>,
    /// `submitAttestations` calls.
    pub batched_calls: u64,
    /// Attestations in them.
    pub batched_attestations: u64,
    /// Gas of a `finalize`.
    pub gas_finalize: Option<u64>,
    /// Each traffic request's true and predicted class.
    pub predictions: Vec<PredictionReport>,
    /// Requests whose predicted class is the true one.
    pub predictions_correct: usize,
    /// Requests with a decoded prediction.
    pub predictions_decoded: usize,
    /// Median request -> result latency, ms.
    pub latency_ms_median: u64,
    /// 99th percentile request -> result latency, ms.
    pub latency_ms_p99: u64,
    /// Median request -> verified output latency (submission to the bytes in the client's hands,
    /// checked against the hash), ms.
    pub output_latency_ms_median: u64,
    /// 99th percentile request -> verified output latency, ms.
    pub output_latency_ms_p99: u64,
    /// Consumer contracts deployed (`ClassifierConsumer`, scripted consumers by behaviour).
    pub consumers: BTreeMap<String, Address>,
    /// Requests sent through consumer contracts.
    pub consumer_requests: usize,
    /// Of those, outputs published on chain by a delivery (`OutputDelivered` with the bytes).
    pub consumer_outputs_delivered: usize,
    /// Final callbacks that returned successfully.
    pub callbacks_succeeded: usize,
    /// Final callbacks that failed (each a hostile consumer's: reverted or ran out of gas).
    pub callbacks_failed: usize,
    /// Final callbacks still pending when the report was made.
    pub callbacks_pending: usize,
    /// Every callback attempt (`CallbackAttempted`), with the consumer's gas and the deliverer's fee.
    pub callbacks: Vec<crate::consumers::CallbackAttempt>,
    /// Callback fees credited to deliverers, by deliverer, token units (decimal).
    pub delivery_fees: BTreeMap<Address, String>,
    /// Per operator.
    pub operators: Vec<OperatorReport>,
    /// Every slash requested (registry events).
    pub slashes: Vec<SlashReport>,
    /// The dispute, in words.
    pub dispute: String,
    /// Tokens taken by the executed `WrongResult` slashes of the quadratic-vote dispute.
    pub dispute_slashed: f64,
    /// The dispute settled by the referee's game, in words.
    pub referee: String,
    /// The referee game: its moves with their gas, the winner, the slashes, the final output.
    pub referee_game: Option<crate::referee::RefereeGame>,
    /// Gini of operator stake after registration.
    pub gini_stake_before: f64,
    /// Gini of operator stake at the end.
    pub gini_stake_after: f64,
    /// Nakamoto coefficient of operator stake after registration.
    pub nakamoto_before: usize,
    /// Nakamoto coefficient of operator stake at the end.
    pub nakamoto_after: usize,
    /// Staking accounts whose voice was read from QuadraticVotes.
    pub voice_accounts: usize,
    /// Gini of their voice.
    pub gini_voice: f64,
    /// Nakamoto coefficient of their voice.
    pub nakamoto_voice: usize,
    /// Stale stake records re-recorded with `syncStake` after the slashes.
    pub stake_records_resynced: usize,
    /// Stale records found by a second pass (0 when the sync worked).
    pub stake_records_stale_after_sync: usize,
    /// Seconds from start to report.
    pub wall_secs: f64,
    /// Seconds spent sending the traffic.
    pub traffic_secs: f64,
    /// Attestations included per second, end to end, all keepers.
    pub attestations_per_sec: f64,
    /// Keepers killed and restarted.
    pub keeper_restarts: u64,
    /// The LLM's prompts and the verified texts (`verinfer devnet --llm`).
    pub llm: Option<crate::llm::LlmTraffic>,
    /// The authority ledger of the whole chain: every decision, how and by whom it was decided.
    pub ledger: verinfer_authority::AuthorityLedger,
}

/// The results of the phases a report is made from.
#[derive(Debug, Clone, Copy)]
pub struct Phases<'a> {
    /// Phase 2.
    pub deployment: &'a Deployment,
    /// Phase 3.
    pub operators: &'a [Operator],
    /// Phase 5.
    pub traffic: &'a Traffic,
    /// Phase 5b.
    pub outputs: &'a crate::outputs::Outputs,
    /// Phase 5c.
    pub consumer_traffic: &'a crate::consumers::ConsumerTraffic,
    /// Phase 6b.
    pub callbacks: &'a crate::consumers::Callbacks,
    /// Phase 6.
    pub finalized: &'a Finalization,
    /// Phase 4, after the keepers stopped.
    pub keepers: &'a KeeperRun,
    /// Seconds from the first request to the keepers' stop.
    pub results_secs: f64,
    /// Phase 7.
    pub dispute: &'a Dispute,
    /// Phase 8.
    pub voice: &'a Voice,
    /// Phase 9.
    pub referee: &'a crate::referee::RefereeGame,
    /// The LLM traffic, with `--llm`.
    pub llm: Option<&'a crate::llm::LlmTraffic>,
}

/// Gas and attestation counts read from the keepers' journals.
#[derive(Debug, Default)]
struct JournalGas {
    single: Vec<u64>,
    batched_calls: u64,
    batched_attestations: u64,
    batched_gas: u64,
    finalize: Option<u64>,
    per_operator: BTreeMap<usize, u64>,
}

/// The output bytes behind `hashes` found in the keepers' journals, each checked against its hash.
fn journal_outputs(
    run: &KeeperRun,
    hashes: &[B256],
) -> Result<BTreeMap<B256, Vec<u8>>, DevnetError> {
    let mut found = BTreeMap::new();
    for (_, path) in &run.journals {
        if !path.exists() {
            continue;
        }
        let store = Store::open(path)?;
        for h in hashes {
            if found.contains_key(h) {
                continue;
            }
            if let Some(bytes) = store.output(&h.0)? {
                if alloy::primitives::keccak256(&bytes) == *h {
                    found.insert(*h, bytes);
                }
            }
        }
    }
    Ok(found)
}

fn journal_gas(run: &KeeperRun) -> Result<JournalGas, DevnetError> {
    let mut g = JournalGas::default();
    for (i, path) in &run.journals {
        let store = Store::open(path)?;
        for intent in store.intents()? {
            let IntentStatus::Done {
                gas_used: Some(gas),
                tx_hash: Some(_),
            } = intent.status
            else {
                continue;
            };
            match intent.kind {
                IntentKind::Attest if intent.members.is_empty() => {
                    g.single.push(gas);
                    *g.per_operator.entry(*i).or_default() += 1;
                }
                IntentKind::Attest => {
                    let n = intent.members.len() as u64;
                    g.batched_calls += 1;
                    g.batched_attestations += n;
                    g.batched_gas += gas;
                    *g.per_operator.entry(*i).or_default() += n;
                }
                IntentKind::Finalize => g.finalize = Some(gas),
                _ => {}
            }
        }
    }
    g.single.sort_unstable();
    Ok(g)
}

impl Devnet {
    /// Reads back what the phases did and makes the report.
    pub async fn report(&self, ph: &Phases<'_>) -> Result<Report, DevnetError> {
        let d = ph.deployment;
        let registry = d.contract("InferenceRegistry")?;
        let mut rep = Report {
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|t| t.as_secs())
                .unwrap_or_default(),
            chain_id: d.chain_id(),
            rpc_url: self.url().to_owned(),
            contracts: d.manifest.contracts.clone(),
            model_id: d.model_id,
            requests_sent: ph.traffic.sent.len(),
            requests_with_result: ph.traffic.with_result,
            outputs_verified: ph.outputs.verified,
            outputs_tried: ph.outputs.of,
            output_failures: ph.outputs.failures.clone(),
            gas_request_inference: ph.traffic.gas_request_inference,
            latency_ms_median: ph.traffic.latency_median_ms(),
            latency_ms_p99: ph.traffic.latency_p99_ms(),
            llm: ph.llm.cloned(),
            output_latency_ms_median: ph.traffic.output_latency_median_ms(),
            output_latency_ms_p99: ph.traffic.output_latency_p99_ms(),
            ..Report::default()
        };
        rep.add_callbacks(ph.consumer_traffic, ph.callbacks);
        let mut views = Vec::with_capacity(ph.traffic.sent.len());
        for s in &ph.traffic.sent {
            let (status, view) = d.deployer.request_view(s.id).await?;
            if status == RequestStatus::Finalized {
                rep.requests_finalized += 1;
            }
            views.push((status, view.output));
        }
        let hashes: Vec<B256> = views.iter().map(|(_, h)| *h).collect();
        let outputs = journal_outputs(ph.keepers, &hashes)?;
        for (s, (status, hash)) in ph.traffic.sent.iter().zip(&views) {
            let answered = matches!(
                status,
                RequestStatus::Quorum | RequestStatus::Finalized | RequestStatus::Disputed
            );
            let predicted = outputs
                .get(hash)
                .filter(|_| answered)
                .and_then(|bytes| d.model.decode(bytes).ok())
                .map(|p| p.class);
            rep.predictions_decoded += usize::from(predicted.is_some());
            rep.predictions_correct += usize::from(predicted == Some(s.label));
            rep.predictions.push(PredictionReport {
                request: s.id.to_string(),
                sample: s.sample,
                label: s.label,
                predicted,
                status: format!("{status:?}"),
            });
        }

        let gas = journal_gas(ph.keepers)?;
        rep.gas_per_attestation_single = gas.single.get(gas.single.len() / 2).copied();
        rep.batched_calls = gas.batched_calls;
        rep.batched_attestations = gas.batched_attestations;
        if gas.batched_attestations > 0 {
            rep.gas_per_attestation_batched =
                Some(gas.batched_gas as f64 / gas.batched_attestations as f64);
        }
        rep.gas_finalize = gas.finalize;

        // slashes, assignments and answers from the registry's events
        let logs = self
            .provider()
            .get_logs(
                &Filter::new()
                    .address(registry)
                    .from_block(ph.keepers.start_block),
            )
            .await
            .map_err(DevnetError::rpc("reading the registry's events"))?;
        let slasher = Slasher::new(d.contract("Slasher")?, self.provider());
        let mut assigned: BTreeMap<Address, u64> = BTreeMap::new();
        let mut answered: BTreeMap<Address, u64> = BTreeMap::new();
        for l in &logs {
            if let Ok(e) = InferenceRegistry::EquivocationReported::decode_log_data(l.data()) {
                rep.slashes.push(SlashReport {
                    operator: e.operator,
                    kind: "equivocation (two signed outputs for one request)".into(),
                    request: e.requestId.to_string(),
                    reporter: e.reporter,
                });
            } else if let Ok(e) = InferenceRegistry::MissedReported::decode_log_data(l.data()) {
                rep.slashes.push(SlashReport {
                    operator: e.operator,
                    kind: "missed assignment (no answer by the deadline)".into(),
                    request: e.requestId.to_string(),
                    reporter: e.reporter,
                });
            } else if let Ok(e) =
                InferenceRegistry::WrongResultSlashRequested::decode_log_data(l.data())
            {
                let req = slasher
                    .slashRequest(e.slashId)
                    .call()
                    .await
                    .map_err(DevnetError::view("slashRequest"))?;
                rep.slashes.push(SlashReport {
                    operator: e.operator,
                    kind: if e.requestId == ph.referee.request {
                        "wrong result (lost a referee game)".into()
                    } else {
                        "wrong result (lost a dispute decided by quadratic vote)".into()
                    },
                    request: e.requestId.to_string(),
                    reporter: req.reporter,
                });
            } else if let Ok(e) = InferenceRegistry::OperatorAssigned::decode_log_data(l.data()) {
                *assigned.entry(e.operator).or_default() += 1;
            } else if let Ok(e) = InferenceRegistry::AnswerRecorded::decode_log_data(l.data()) {
                *answered.entry(e.operator).or_default() += 1;
            }
        }

        rep.keeper_restarts = ph.keepers.restarts;
        rep.attestations_per_sec =
            (gas.batched_attestations + gas.single.len() as u64) as f64 / ph.results_secs.max(1e-9);
        rep.traffic_secs = ph.traffic.send_secs;

        let staking = Staking::new(d.contract("Staking")?, self.provider());
        let mut before = Vec::with_capacity(ph.operators.len());
        let mut after = Vec::with_capacity(ph.operators.len());
        for o in ph.operators {
            let stake_after = staking
                .operatorStake(o.address())
                .call()
                .await
                .map_err(DevnetError::view("operatorStake"))?;
            before.push(tokens_f64(o.stake_before));
            after.push(tokens_f64(stake_after));
            rep.operators.push(OperatorReport {
                name: format!("op{}", o.index),
                owner: o.address(),
                signer: o.hot.address(),
                behaviour: o.behaviour.name().to_owned(),
                stake_before: format_tokens_fixed(o.stake_before, 2),
                stake_after: format_tokens_fixed(stake_after, 2),
                attestations: gas.per_operator.get(&o.index).copied().unwrap_or_default(),
                assigned: assigned.get(&o.address()).copied().unwrap_or_default(),
                answered_on_chain: answered.get(&o.address()).copied().unwrap_or_default(),
            });
        }
        rep.gini_stake_before = gini(&before);
        rep.gini_stake_after = gini(&after);
        rep.nakamoto_before = nakamoto(&before);
        rep.nakamoto_after = nakamoto(&after);
        let voice = ph.voice.votes_f64();
        rep.voice_accounts = ph.voice.accounts.len();
        rep.gini_voice = gini(&voice);
        rep.nakamoto_voice = nakamoto(&voice);
        rep.stake_records_resynced = ph.voice.resynced;
        rep.stake_records_stale_after_sync = ph.voice.stale_after;
        rep.dispute = ph.dispute.summary();
        rep.dispute_slashed = tokens_f64(ph.dispute.slashed);
        rep.referee = ph.referee.summary();
        rep.referee_game = Some(ph.referee.clone());
        rep.ledger = self.authority_ledger(d).await?;
        rep.wall_secs = self.elapsed().as_secs_f64();
        Ok(rep)
    }
}

impl Report {
    /// Writes `devnet-<timestamp>.json` and `.md` into `dir` (created if missing); returns the path
    /// without extension.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, DevnetError> {
        std::fs::create_dir_all(dir).map_err(DevnetError::io(dir))?;
        let base = dir.join(format!("devnet-{}", self.timestamp));
        let json = base.with_extension("json");
        std::fs::write(&json, serde_json::to_string_pretty(self)?)
            .map_err(DevnetError::io(&json))?;
        let md = base.with_extension("md");
        std::fs::write(&md, self.markdown()).map_err(DevnetError::io(&md))?;
        Ok(base)
    }

    fn add_callbacks(
        &mut self,
        traffic: &crate::consumers::ConsumerTraffic,
        callbacks: &crate::consumers::Callbacks,
    ) {
        let c = traffic.consumers;
        self.consumers = [
            ("ClassifierConsumer", c.classifier),
            ("ScriptedConsumer(Record)", c.recorder),
            ("ScriptedConsumer(Revert)", c.reverting),
            ("ScriptedConsumer(BurnGas)", c.gas_burning),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        self.consumer_requests = traffic.sent.len();
        self.consumer_outputs_delivered = callbacks.outputs_delivered;
        self.callbacks_pending = callbacks.pending;
        let mut fees: BTreeMap<Address, U256> = BTreeMap::new();
        for a in &callbacks.attempts {
            if a.status != "Quorum" {
                if a.success {
                    self.callbacks_succeeded += 1;
                } else {
                    self.callbacks_failed += 1;
                }
            }
            let fee: U256 = a.fee_earned.parse().unwrap_or_default();
            *fees.entry(a.deliverer).or_default() += fee;
        }
        self.delivery_fees = fees
            .into_iter()
            .map(|(k, v)| (k, verinfer_bindings::units::format_tokens(v)))
            .collect();
        self.callbacks = callbacks.attempts.clone();
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        // `write!` into a String cannot fail.
        let _ = self.write_markdown(&mut md);
        md
    }

    fn write_markdown(&self, md: &mut String) -> std::fmt::Result {
        let opt = |v: Option<u64>| v.map(|g| g.to_string()).unwrap_or_else(|| "-".into());
        writeln!(md, "# verinfer devnet report ({})\n", self.timestamp)?;
        writeln!(
            md,
            "chain {} at {}, model `{}`, wall time {:.1}s\n",
            self.chain_id, self.rpc_url, self.model_id, self.wall_secs
        )?;
        writeln!(md, "## Traffic\n")?;
        writeln!(
            md,
            "- requests sent: {}\n- requests with a result (quorum): {}\n- requests finalized: {}",
            self.requests_sent, self.requests_with_result, self.requests_finalized
        )?;
        writeln!(
            md,
            "- outputs fetched from the operators' keepers and verified against outputHash: {}/{}",
            self.outputs_verified, self.outputs_tried
        )?;
        for (request, why) in &self.output_failures {
            writeln!(md, "  - request {request}: {why}")?;
        }
        writeln!(
            md,
            "- request -> quorum latency: median {} ms, p99 {} ms",
            self.latency_ms_median, self.latency_ms_p99
        )?;
        writeln!(
            md,
            "- request -> verified output in the client's hands: median {} ms, p99 {} ms\n",
            self.output_latency_ms_median, self.output_latency_ms_p99
        )?;
        writeln!(md, "## Consumer callbacks\n")?;
        writeln!(
            md,
            "- requests through consumer contracts: {}; outputs published on chain by deliveries: {}",
            self.consumer_requests, self.consumer_outputs_delivered
        )?;
        writeln!(
            md,
            "- final callbacks: {} succeeded, {} failed (hostile consumers), {} pending",
            self.callbacks_succeeded, self.callbacks_failed, self.callbacks_pending
        )?;
        for (who, fee) in &self.delivery_fees {
            writeln!(md, "- callback fees earned by deliverer {who}: {fee}")?;
        }
        writeln!(
            md,
            "\n| request | consumer | status | success | callback gas | deliverer | fee |\n|---|---|---|---|---|---|---|"
        )?;
        for a in &self.callbacks {
            let fee: U256 = a.fee_earned.parse().unwrap_or_default();
            writeln!(
                md,
                "| {} | {:?} | {} | {} | {} | {} | {} |",
                a.request,
                a.route,
                a.status,
                a.success,
                a.gas_used,
                a.deliverer,
                verinfer_bindings::units::format_tokens(fee)
            )?;
        }
        writeln!(md)?;
        writeln!(md, "## Predictions\n")?;
        let pct = |n: usize, d: usize| {
            if d == 0 {
                0.0
            } else {
                100.0 * n as f64 / d as f64
            }
        };
        writeln!(
            md,
            "- accuracy over the run: {} of {} decoded answers correct ({:.1} %); {} of {} requests decoded\n",
            self.predictions_correct,
            self.predictions_decoded,
            pct(self.predictions_correct, self.predictions_decoded),
            self.predictions_decoded,
            self.predictions.len()
        )?;
        writeln!(
            md,
            "| request | test image | true | predicted | status |\n|---|---|---|---|---|"
        )?;
        for p in &self.predictions {
            let predicted = p
                .predicted
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into());
            let mark = if p.predicted == Some(p.label) {
                ""
            } else {
                " ✗"
            };
            writeln!(
                md,
                "| {} | {} | {} | {}{} | {} |",
                p.request, p.sample, p.label, predicted, mark, p.status
            )?;
        }
        writeln!(md)?;
        if let Some(llm) = &self.llm {
            writeln!(md, "## LLM (SmolLM2-135M-Instruct on llama-cpp-python)\n")?;
            writeln!(md, "model {} (`{}`)\n", llm.model_id, llm.runtime_spec)?;
            writeln!(
                md,
                "{}/{} prompts answered, each text verified against its outputHash; request -> verified text p50 {} ms, p99 {} ms\n",
                llm.results.len(),
                llm.sent,
                llm.latency_pct_ms(50),
                llm.latency_pct_ms(99)
            )?;
            writeln!(
                md,
                "| request | prompt | text | ms | fetched from |\n|---|---|---|---|---|"
            )?;
            for r in &llm.results {
                let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
                writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    r.request,
                    cell(&r.prompt),
                    cell(&r.text),
                    r.latency_ms,
                    r.source
                )?;
            }
            if let Some(c) = &llm.consumer {
                writeln!(
                    md,
                    "\nConsumer contract: TextStore {} stored {:?} for request {} ({}, {} the text the client verified)",
                    c.store,
                    c.stored,
                    c.request,
                    if c.provisional { "provisional at quorum" } else { "final" },
                    if c.matches_verified { "equal to" } else { "DIFFERENT from" }
                )?;
            }
            writeln!(md)?;
        }
        writeln!(md, "## Gas\n\n| operation | gas |\n|---|---|")?;
        writeln!(md, "| requestInference | {} |", self.gas_request_inference)?;
        writeln!(
            md,
            "| submitAttestation (single, median) | {} |",
            opt(self.gas_per_attestation_single)
        )?;
        writeln!(
            md,
            "| submitAttestations (batched, per attestation; {} calls / {} attestations) | {} |",
            self.batched_calls,
            self.batched_attestations,
            self.gas_per_attestation_batched
                .map(|g| format!("{g:.0}"))
                .unwrap_or_else(|| "-".into())
        )?;
        writeln!(md, "| finalize | {} |\n", opt(self.gas_finalize))?;
        writeln!(
            md,
            "- attestations included per second (end to end, all keepers): {:.1}\n- keeper restarts (killed mid-run, resumed from the journal): {}\n",
            self.attestations_per_sec, self.keeper_restarts
        )?;
        writeln!(md, "## Operators\n\n| name | owner | behaviour | stake before | stake after | assigned | answered on chain | sent by own keeper |\n|---|---|---|---|---|---|---|---|")?;
        for o in &self.operators {
            writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                o.name,
                o.owner,
                o.behaviour,
                o.stake_before,
                o.stake_after,
                o.assigned,
                o.answered_on_chain,
                o.attestations
            )?;
        }
        writeln!(md, "\n## Slashes\n")?;
        if self.slashes.is_empty() {
            writeln!(md, "none")?;
        }
        for s in &self.slashes {
            writeln!(
                md,
                "- {} slashed for {} on request {} (reported by {})",
                s.operator, s.kind, s.request, s.reporter
            )?;
        }
        writeln!(md, "\n## Dispute by quadratic vote\n\n{}", self.dispute)?;
        writeln!(
            md,
            "\n## Dispute settled by computation (referee game)\n\n{}",
            self.referee
        )?;
        if let Some(g) = &self.referee_game {
            writeln!(
                md,
                "\n| # | move | side | sender | gas |\n|---:|---|---:|---|---:|"
            )?;
            for (i, m) in g.moves.iter().enumerate() {
                let side = m.side.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
                writeln!(
                    md,
                    "| {} | {} | {side} | {} | {} |",
                    i + 1,
                    m.what,
                    m.from,
                    m.gas
                )?;
            }
        }
        writeln!(md, "\n## Legitimacy metrics\n")?;
        writeln!(
            md,
            "- stake Gini (operators): {:.3} before, {:.3} after\n- Nakamoto coefficient (operator stake, 1/2): {} before, {} after\n\
             - voice (QuadraticVotes.getVotes over {} staking accounts, after {} stale stake records were re-recorded with syncStake): Gini {:.3}, Nakamoto {}",
            self.gini_stake_before,
            self.gini_stake_after,
            self.nakamoto_before,
            self.nakamoto_after,
            self.voice_accounts,
            self.stake_records_resynced,
            self.gini_voice,
            self.nakamoto_voice
        )?;
        writeln!(
            md,
            "\n## Authority ledger\n\n{} decisions on the chain, deployment included: how each was \
             decided (rows: what; columns: how) and who decided\n\n{}",
            self.ledger.summary.decisions,
            self.ledger.summary.table()
        )?;
        writeln!(md, "\n## Deployment\n")?;
        for (n, a) in &self.contracts {
            writeln!(md, "- {n}: {a}")?;
        }
        Ok(())
    }
}
