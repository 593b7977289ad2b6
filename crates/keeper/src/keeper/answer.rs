//! The answer duty, in two steps so that inference never holds up the collect stage or the execute
//! stage:
//!
//! 1. **Start** (collect stage, in log order): an assignment (`OperatorAssigned` to this operator)
//!    of a request this keeper knows, serves and has not answered yet becomes a job on the runtime:
//!    fetch and check the input, run the model on a place of its backend's bounded worker pool
//!    ([`Backends`]), sign the attestation (directly, or through the replicas' shared signing store).
//!    The jobs of one log range run concurrently with each other and with the execute stage, which
//!    keeps sending what was journaled before.
//! 2. **Finish** (collect stage, in log order): the finished answers' outputs, intents and published
//!    attestations are journaled in one durable write ([`Store::journal_answers`]), and the execute
//!    stage is woken. Journal before publish and before broadcast, as before.
//!
//! The collect stage finishes the jobs at hand once they make a chunk, before any log other than a
//! request or an assignment (so every other duty sees the answers of the logs before it, as when
//! answering was inline), and before it moves the log cursor (a crash before that re-reads the range:
//! nothing computed and not journaled is lost, the signing store returns the same statement).
//!
//! **The chunk adapts** ([`Answering`]): a range's first chunk is [`ANSWER_CHUNK`] assignments, so a
//! backlog's first answers go out after 64, whatever the backend. A chunk that was answered in at most
//! half the poll interval doubles the next one, up to [`MAX_ANSWER_CHUNK`]; one that took longer than
//! the interval halves it, down to [`ANSWER_CHUNK`]. So a fast backend draining a long backlog hands
//! the execute stage larger groups (fewer, fuller sends), and while the backend keeps its pace no
//! answer waits for the rest of its chunk longer than about a poll interval, the wait every request
//! has already before it is seen (a backend that slows down within a chunk holds that chunk up
//! longer, once; the next is halved). A slow backend (an LLM at a second an answer) stays at 64. A standby's chunk also
//! times its wait for the holder, so it stays at 64 while it defers. Only logs some duty acts on cut
//! a chunk short (`acts_on`): another operator's assignment does not.

use std::collections::VecDeque;
use std::sync::Arc;

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::sol_types::{Eip712Domain, SolCall};

use super::{fetch_input, Keeper, KeeperError, SignedAttestation};
use crate::attest::{Attestation, HotKey};
use crate::backend::{BackendError, Backends};
use crate::config::{Misbehaviour, SubmitMode};
use crate::metrics::Metrics;
use crate::registry::InferenceRegistry;
use crate::signing_store::{self, SigningStore};
use crate::store::RequestFacts;
use crate::store::{Intent, IntentKind, IntentStatus};
use crate::txmgr::TxError;

/// Assignments the collect stage starts before it finishes (journals) the jobs at hand, so the
/// execute stage gets work while later answers of a long log range are still being computed: a
/// range's first chunk, and the least any chunk shrinks to ([`Answering`]).
pub const ANSWER_CHUNK: usize = 64;

/// The most assignments one chunk grows to ([`Answering`]): 8 batches of 32, half the default
/// window of transactions in flight.
pub const MAX_ANSWER_CHUNK: usize = 256;

/// What an answer job needs, shared by every job of one keeper.
pub(super) struct Answerer {
    pub(super) backends: Arc<Backends>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) key: HotKey,
    pub(super) domain: Eip712Domain,
    pub(super) chain_id: u64,
    pub(super) registry: Address,
    pub(super) operator: Address,
    pub(super) signing_store: Option<Arc<SigningStore>>,
    /// The replica's sender lease (with the signing store): a standby defers to the holder.
    pub(super) lease: Option<Arc<super::lease::SenderLease>>,
    pub(super) misbehave: Misbehaviour,
    pub(super) name: String,
}

/// A signed answer, ready to journal.
pub(super) struct Computed {
    key: String,
    att: Attestation,
    sig: Bytes,
    output: Vec<u8>,
    /// The statement was claimed before this answer (another replica may already have sent it,
    /// if it held the sender lease then): see `assigned_at`.
    claimed_before: bool,
    /// The block of the assignment (`None`: not from a log). A statement claimed before, for an
    /// assignment no later than this replica's last takeover, is estimated afresh at its first
    /// dispatch, so a copy the earlier holder got included is never sent.
    assigned_at: Option<u64>,
}

/// A running answer job; aborted when dropped (a collect stage that stops, or fails, leaves nothing
/// running behind it). `Ok(None)`: the request is not answered (input unavailable or refused).
pub(super) struct Job(tokio::task::JoinHandle<Result<Option<Computed>, KeeperError>>);

impl Drop for Job {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The answer jobs of one log range, in log order, and how many make a chunk (module docs: a chunk
/// answered within half of `budget` doubles the next, one that took longer than `budget` halves it,
/// between [`ANSWER_CHUNK`] and [`MAX_ANSWER_CHUNK`]).
pub(super) struct Answering {
    jobs: VecDeque<Job>,
    /// Jobs that make a chunk now.
    chunk: usize,
    /// When the first of the jobs at hand was started (`None`: none at hand).
    began: Option<std::time::Instant>,
    /// The poll interval: how long a chunk may hold its first answer back.
    budget: std::time::Duration,
}

/// A running early gas estimate ([`Keeper::prime_answer`]); aborted when dropped.
pub(super) struct Primer(tokio::task::AbortHandle);

impl Drop for Primer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Answering {
    /// No jobs yet; chunks of [`ANSWER_CHUNK`] to start with.
    pub(super) fn new(budget: std::time::Duration) -> Self {
        Self {
            jobs: VecDeque::new(),
            chunk: ANSWER_CHUNK,
            began: None,
            budget,
        }
    }

    /// Adds a started job after the ones at hand.
    pub(super) fn push(&mut self, job: Job) {
        if self.jobs.is_empty() {
            self.began = Some(std::time::Instant::now());
        }
        self.jobs.push_back(job);
    }

    /// The jobs at hand make a chunk: time to finish them.
    pub(super) fn full(&self) -> bool {
        self.jobs.len() >= self.chunk
    }

    /// After the jobs at hand were finished, `full` of them making a chunk: sizes the next chunk by
    /// how long this one took, from its first job's start to its journal write. A chunk cut short
    /// by another log, or by the range's end, says nothing about the backend and changes nothing.
    fn finished(&mut self, full: bool) {
        let Some(began) = self.began.take() else {
            return;
        };
        if !full {
            return;
        }
        self.chunk = next_chunk(self.chunk, began.elapsed(), self.budget);
    }
}

/// The chunk after one of `chunk` jobs that took `took` to answer and journal, against the poll
/// interval `budget`: doubled within half of it, halved beyond it, kept in between; always within
/// [`ANSWER_CHUNK`]..=[`MAX_ANSWER_CHUNK`].
fn next_chunk(chunk: usize, took: std::time::Duration, budget: std::time::Duration) -> usize {
    let next = if took.saturating_mul(2) <= budget {
        chunk.saturating_mul(2)
    } else if took > budget {
        chunk / 2
    } else {
        chunk
    };
    next.clamp(ANSWER_CHUNK, MAX_ANSWER_CHUNK)
}

/// How a replica's answers of one polled range wait on the lease holder: one pair of instants for
/// the whole range, from its poll, so that however many chunks its answers are finished in, they
/// wait no longer together.
#[derive(Clone, Copy, Debug)]
pub(super) struct Deferral {
    /// A standby's first look-up of a slot: one step
    /// ([`super::lease::SenderLease::step`]) after the poll.
    first_look: std::time::Instant,
    /// The range's deadline for deferring ([`super::lease::SenderLease::max_defer`] after the
    /// poll).
    until: std::time::Instant,
}

impl Deferral {
    /// The time left until the range's deadline.
    fn left(&self) -> std::time::Duration {
        self.until
            .saturating_duration_since(std::time::Instant::now())
    }
}

/// The input of request `id` from its URI, checked against its `inputHash`.
pub(super) async fn checked_input(id: U256, info: &RequestFacts) -> Result<Vec<u8>, KeeperError> {
    let input = fetch_input(&info.input_uri)
        .await
        .map_err(|reason| KeeperError::Input {
            request: id,
            reason,
        })?;
    if keccak256(&input) != info.input_hash {
        return Err(KeeperError::Input {
            request: id,
            reason: "input does not match inputHash".into(),
        });
    }
    Ok(input)
}

impl Answerer {
    /// The job's body: input, inference (on the backend's pool), signature.
    async fn compute(
        self: Arc<Self>,
        id: U256,
        info: RequestFacts,
        key: String,
        assigned_at: Option<u64>,
        deferral: Option<Deferral>,
    ) -> Result<Option<Computed>, KeeperError> {
        let adopt = |adopted: Computed| Computed {
            key: key.clone(),
            assigned_at,
            ..adopted
        };
        // A replica answering its first poll learns first whether it holds the lease (its first
        // attempt is under way): the holder then claims this range first, a standby waits.
        let deferring = self.deferring(deferral);
        if let Some((lease, d)) = deferring {
            lease.first_answer(d.left()).await;
        }
        // The lease holder claims first what was assigned in its tenure (module `lease`).
        let claims_first = self
            .lease
            .as_ref()
            .is_some_and(|l| l.claims_first(assigned_at));
        if !claims_first {
            // A standby looks the slot up one step later than it could: the holder's statement
            // is usually there by then, and the standby's look-ups, checks and journal writes
            // come after the holder's first sends instead of competing with them for the
            // machine (its answers are not sent while it stands by). One instant for the range.
            if let Some((_, d)) = deferring.filter(|(l, _)| l.defers()) {
                tokio::time::sleep_until(d.first_look.min(d.until).into()).await;
            }
            if let Some(adopted) = self.adopt_claimed(id, &info).await? {
                return Ok(Some(adopt(adopted)));
            }
        }
        // The input first: one that cannot be fetched or does not match is not answered by the
        // holder either, so a standby does not wait for it.
        let input = match checked_input(id, &info).await {
            Ok(i) => i,
            Err(e) => {
                // A holder that skipped the look-up still adopts a statement another replica
                // claimed, which needs no input: a standby that claimed it does not send it.
                if claims_first {
                    if let Some(adopted) = self.adopt_claimed(id, &info).await? {
                        return Ok(Some(adopt(adopted)));
                    }
                }
                tracing::warn!(keeper = %self.name, error = %e, "cannot answer");
                return Ok(None);
            }
        };
        if let Some(adopted) = self.defer_to_holder(id, &info, deferring).await? {
            return Ok(Some(adopt(adopted)));
        }
        let started = std::time::Instant::now();
        let out = self.backends.infer(info.model_id, &input).await;
        self.metrics
            .record_inference(info.model_id, started.elapsed(), out.is_ok());
        let mut output = match out {
            Ok(output) => output,
            // The model refuses this input (wrong size, out of range): no output exists, so there
            // is nothing to attest, now or on a retry. Skipped for good; the request goes unanswered.
            Err(e @ (BackendError::Input(_) | BackendError::PromptNotUtf8 { .. })) => {
                tracing::warn!(keeper = %self.name, %id, error = %e, "input refused by the model; not answering");
                self.metrics.inputs_refused.inc();
                return Ok(None);
            }
            Err(e) => {
                return Err(KeeperError::Input {
                    request: id,
                    reason: e.to_string(),
                })
            }
        };
        if self.misbehave == Misbehaviour::WrongResult {
            super::referee::wrong_output(&mut output);
        }
        let att = Attestation {
            operator: self.operator,
            requestId: id,
            modelId: info.model_id,
            inputHash: info.input_hash,
            outputHash: keccak256(&output),
        };
        let (att, sig, output, claimed_before) = self.sign_answer(att, output).await?;
        Ok(Some(Computed {
            key,
            att,
            sig,
            output,
            claimed_before,
            assigned_at,
        }))
    }

    /// For a replica: the statement another replica already claimed for this request, adopted
    /// without fetching the input or running the model (its output bytes come from the store), so
    /// replicas do not run every inference twice; `None` when nobody claimed it yet (or for a single
    /// keeper, or a deliberately faulty one).
    async fn adopt_claimed(
        &self,
        id: U256,
        info: &RequestFacts,
    ) -> Result<Option<Computed>, KeeperError> {
        let Some(guard) = self
            .signing_store
            .as_ref()
            .filter(|_| self.misbehave == Misbehaviour::None)
        else {
            return Ok(None);
        };
        let att = Attestation {
            operator: self.operator,
            requestId: id,
            modelId: info.model_id,
            inputHash: info.input_hash,
            outputHash: B256::ZERO,
        };
        let slot = signing_store::Slot::of(self.chain_id, self.registry, &att);
        self.metrics.claim_lookups.inc();
        let Some(g) =
            signing_store::adopt_claimed(guard, &self.key, &self.domain, &slot, att).await?
        else {
            return Ok(None);
        };
        self.metrics.answers_adopted.inc();
        tracing::debug!(keeper = %self.name, request = %id, output = %g.att.outputHash, "adopted another replica's claimed statement without running the model");
        Ok(Some(Computed {
            key: String::new(),
            att: g.att,
            sig: g.sig,
            output: g.output,
            claimed_before: true,
            assigned_at: None,
        }))
    }

    /// A replica's sender lease with its range's [`Deferral`] (`None`: a single keeper, or a
    /// deliberately faulty replica, which never defers).
    fn deferring(
        &self,
        deferral: Option<Deferral>,
    ) -> Option<(&super::lease::SenderLease, Deferral)> {
        let lease = self
            .lease
            .as_deref()
            .filter(|_| self.misbehave == Misbehaviour::None)?;
        Some((lease, deferral?))
    }

    /// For a standby while another replica holds the sender lease (see module `lease`): waits for
    /// the holder's statement of this request, re-read every poll interval, and adopts it without
    /// running the model. `None` (answer on our own) once this replica holds the lease, once its
    /// view of the holder is older than the lease, or at the range's deadline
    /// ([`Deferral::until`]), one for every answer of a poll's range, so a range's deferrals
    /// together hold its collect stage up no longer than that. At once for a single keeper or a
    /// deliberately faulty one (`deferring` is `None`). (`compute` waited for the replica's first
    /// lease attempt already.)
    async fn defer_to_holder(
        &self,
        id: U256,
        info: &RequestFacts,
        deferring: Option<(&super::lease::SenderLease, Deferral)>,
    ) -> Result<Option<Computed>, KeeperError> {
        let Some((lease, d)) = deferring else {
            return Ok(None);
        };
        let mut waited = false;
        while lease.defers() && !d.left().is_zero() {
            tokio::time::sleep(lease.step().min(d.left())).await;
            waited = true;
            if let Some(c) = self.adopt_claimed(id, info).await? {
                return Ok(Some(c));
            }
        }
        if waited {
            tracing::debug!(keeper = %self.name, request = %id, holds_lease = lease.held(),
                "no statement from the lease holder while standing by; answering on our own");
        }
        Ok(None)
    }

    /// Signs the attestation of an answer: directly for a single keeper; for a replica, through the
    /// shared signing store, which yields the statement of record (possibly another replica's
    /// output, adopted instead of signing ours: docs/keeper.md, "High availability"), and whether
    /// it was claimed before this answer.
    async fn sign_answer(
        &self,
        att: Attestation,
        output: Vec<u8>,
    ) -> Result<(Attestation, Bytes, Vec<u8>, bool), KeeperError> {
        let Some(guard) = &self.signing_store else {
            let sig = sign(&self.key, &self.domain, &att)?;
            return Ok((att, sig, output, false));
        };
        let slot = signing_store::Slot::of(self.chain_id, self.registry, &att);
        let ours = att.outputHash;
        let g =
            signing_store::sign_once(guard, &self.key, &self.domain, &slot, att, output).await?;
        if g.adopted {
            tracing::warn!(keeper = %self.name, request = %slot.request_id, %ours, adopted = %g.att.outputHash,
                "another replica already signed a different output for this request; adopting its statement");
        }
        Ok((g.att, g.sig, g.output, !g.first))
    }
}

/// The EIP-712 signature of `att` by `key`.
pub(super) fn sign(
    key: &HotKey,
    domain: &Eip712Domain,
    att: &Attestation,
) -> Result<Bytes, KeeperError> {
    key.sign_attestation(att, domain)
        .map(|s| Bytes::from(s.to_vec()))
        .map_err(|e| KeeperError::Tx(TxError::Sign(e.to_string())))
}

impl Keeper {
    /// Answers the assignment of request `id` at once (start and finish): for callers outside the
    /// collect stage's log loop.
    pub(super) async fn answer(&mut self, id: U256) -> Result<(), KeeperError> {
        let mut jobs = Answering::new(self.cfg.poll_interval);
        let deferral = self.deferral();
        if let Some(job) = self.start_answer(id, None, deferral)? {
            jobs.push(job);
        }
        self.finish_answers(&mut jobs).await
    }

    /// How a standby's answers of a range polled now wait for the lease holder's statements
    /// (`None`: not a replica).
    pub(super) fn deferral(&self) -> Option<Deferral> {
        self.exec.lease.as_ref().map(|l| {
            let now = std::time::Instant::now();
            Deferral {
                first_look: now + l.step(),
                until: now + l.max_defer(),
            }
        })
    }

    /// Step 1: starts the answer job of an assignment, if there is one to answer. `deferral`: how
    /// the range's answers wait on the lease holder (see `Answerer::defer_to_holder`).
    pub(super) fn start_answer(
        &mut self,
        id: U256,
        assigned_at: Option<u64>,
        deferral: Option<Deferral>,
    ) -> Result<Option<Job>, KeeperError> {
        let Some(info) = self.req(id)? else {
            tracing::warn!(keeper = %self.name, %id, "assignment for unknown request");
            return Ok(None);
        };
        let key = self.attest_key(id, &info);
        if let Some(mut existing) = self.store.intent(&key)? {
            // Already answered (log re-read after a restart or a reorg). An attestation set aside
            // because a reorg removed its request is live again now that the same request is back.
            if matches!(&existing.status, IntentStatus::Abandoned { reason } if reason.starts_with(super::REQUEST_GONE))
            {
                tracing::info!(keeper = %self.name, %key, "request is back after a reorg; attestation re-planned");
                existing.status = IntentStatus::Pending;
                existing.single_only = true;
                self.store.put_intent(&existing)?;
            }
            return Ok(None);
        }
        if !self.backends.serves(info.model_id) {
            tracing::warn!(keeper = %self.name, %id, model = %info.model_id, "assigned a model we do not serve");
            return Ok(None);
        }
        let job = tokio::spawn(
            self.answerer
                .clone()
                .compute(id, info, key, assigned_at, deferral),
        );
        Ok(Some(Job(job)))
    }

    /// Step 2: waits for `jobs` in order, then stores their outputs, journals their intents and
    /// publishes their signed attestations, all in one durable write, and wakes the execute stage.
    /// On a job's error the answers before it are still journaled, the ones after it are dropped
    /// (their logs are re-read).
    pub(super) async fn finish_answers(
        &mut self,
        answering: &mut Answering,
    ) -> Result<(), KeeperError> {
        let full = answering.full();
        let jobs = &mut answering.jobs;
        let mut done = Vec::with_capacity(jobs.len());
        let mut failed = None;
        let waited = std::time::Instant::now();
        while let Some(mut job) = jobs.pop_front() {
            match (&mut job.0).await {
                Ok(Ok(Some(c))) => {
                    if done.is_empty() {
                        self.prime_answer(&c);
                    }
                    done.push(c);
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                Err(join) => {
                    failed = Some(KeeperError::Worker(join));
                    break;
                }
            }
        }
        jobs.clear();
        if !done.is_empty() {
            let intents: Vec<Intent> = done.iter().map(|c| self.answer_intent(c)).collect();
            let mut published = Vec::with_capacity(done.len());
            for c in &done {
                published.push(Self::published_row(&SignedAttestation {
                    att: c.att.clone(),
                    sig: c.sig.clone(),
                })?);
                if self.cfg.misbehave == Misbehaviour::Equivocate {
                    let mut other = c.att.clone();
                    other.outputHash = keccak256([c.output.as_slice(), b"!"].concat());
                    let sig = sign(&self.key, &self.domain, &other)?;
                    published.push(Self::published_row(&SignedAttestation { att: other, sig })?);
                }
            }
            // One write, so an attestation is journaled with its output (whatever this keeper
            // attests, it can serve: `GET /v1/outputs/<outputHash>`) and published only with its
            // intent.
            let outputs: Vec<&[u8]> = done.iter().map(|c| c.output.as_slice()).collect();
            let wait_ms = waited.elapsed().as_secs_f64() * 1e3;
            let written = std::time::Instant::now();
            self.store.journal_answers(&outputs, &intents, &published)?;
            let write_ms = written.elapsed().as_secs_f64() * 1e3;
            // Statements claimed first by another replica that held the sender lease before this
            // one took it: it may have sent them already.
            let takeover = self.exec.lease.as_ref().map_or(0, |l| l.takeover_head());
            self.exec.tx.estimate_afresh(
                done.iter()
                    .zip(&intents)
                    .filter(|(c, _)| {
                        c.claimed_before && c.assigned_at.is_none_or(|b| b <= takeover)
                    })
                    .map(|(_, i)| i.key.clone()),
            );
            tracing::debug!(target: "verinfer_keeper::timeline", keeper = %self.name, answers = intents.len(), chunk = answering.chunk, wait_ms, write_ms, "journaled answers");
            self.exec.notify_work();
            // The execute stage shares this task: let it take up the chunk (form its batches,
            // start its round trips) before this stage starts the next chunk's jobs.
            tokio::task::yield_now().await;
        }
        answering.finished(full && failed.is_none());
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Starts the reads an answer's round needs before its first signature, on a task of its own,
    /// when the execute stage lacks one of them: the gas estimate of its call's shape (a keeper's
    /// first answers), the fees (read ahead once per round), the account's nonce (after a start or
    /// a resync). They run while the rest of the chunk is answered and journaled, so the execute
    /// stage's first group does not wait for them ([`crate::txmgr::TxManager::prime_call`]). Not
    /// for a replica without the sender lease: it sends nothing.
    fn prime_answer(&mut self, c: &Computed) {
        // One at a time: a newer one would only wait for it.
        if self.primer.as_ref().is_some_and(|p| !p.0.is_finished()) {
            return;
        }
        let intent = self.answer_intent(c);
        if !self.exec.may_send() || self.exec.tx.primed(&intent) {
            return;
        }
        let exec = Arc::clone(&self.exec);
        let task = tokio::spawn(async move { exec.tx.prime_call(&intent).await });
        self.primer = Some(Primer(task.abort_handle()));
    }

    /// The journal intent of a computed answer: one `submitAttestation`, batched later by the
    /// execute stage in batch mode.
    fn answer_intent(&self, c: &Computed) -> Intent {
        let calldata = InferenceRegistry::submitAttestationCall {
            att: c.att.clone().into(),
            signature: c.sig.clone(),
        }
        .abi_encode();
        Intent {
            key: c.key.clone(),
            kind: IntentKind::Attest,
            subject: Some(c.att.requestId),
            to: Some(self.cfg.registry),
            calldata: calldata.into(),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: self.cfg.submit.mode == SubmitMode::Single,
        }
    }
}

/// Whether an attestation intent (alone or a batch of them) that reverted with `reason` was refused
/// because the registry already holds this operator's answer: the other replica of a shared hot key
/// got it included first, or an earlier send of ours did. Not a fault: a single attestation is done;
/// a batch's members are retried alone, each then found done or sent.
pub(super) fn already_answered(kind: crate::store::IntentKind, reason: &str) -> bool {
    if kind != crate::store::IntentKind::Attest {
        return false;
    }
    let name = super::jury::error_name::<crate::registry::InferenceRegistry::AlreadyAnswered>();
    super::jury::reverted_with(reason, name)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{already_answered, next_chunk, Answering, Job, ANSWER_CHUNK, MAX_ANSWER_CHUNK};
    use crate::store::IntentKind;

    const INTERVAL: Duration = Duration::from_millis(100);

    #[test]
    fn a_chunk_answered_within_half_the_poll_interval_doubles_the_next_up_to_the_most() {
        let mut chunk = ANSWER_CHUNK;
        let mut seen = vec![chunk];
        for _ in 0..4 {
            chunk = next_chunk(chunk, Duration::from_millis(50), INTERVAL);
            seen.push(chunk);
        }
        assert_eq!(seen, [64, 128, 256, 256, 256]);
        assert_eq!(MAX_ANSWER_CHUNK, 256);
    }

    #[test]
    fn a_chunk_slower_than_the_poll_interval_halves_the_next_down_to_the_least() {
        let mut chunk = MAX_ANSWER_CHUNK;
        let mut seen = vec![chunk];
        for _ in 0..3 {
            chunk = next_chunk(chunk, Duration::from_millis(101), INTERVAL);
            seen.push(chunk);
        }
        assert_eq!(seen, [256, 128, 64, 64]);
    }

    #[test]
    fn a_chunk_between_half_the_poll_interval_and_all_of_it_keeps_the_size() {
        for chunk in [ANSWER_CHUNK, 128, MAX_ANSWER_CHUNK] {
            for ms in [51, 75, 100] {
                assert_eq!(
                    next_chunk(chunk, Duration::from_millis(ms), INTERVAL),
                    chunk
                );
            }
        }
        // A chunk size out of bounds (none is made so) comes back within them.
        assert_eq!(
            next_chunk(1, Duration::from_millis(75), INTERVAL),
            ANSWER_CHUNK
        );
        assert_eq!(
            next_chunk(10_000, Duration::from_millis(75), INTERVAL),
            MAX_ANSWER_CHUNK
        );
    }

    /// Only a whole chunk sizes the next: one cut short by another log (or the range's end) says
    /// nothing about the backend.
    #[tokio::test]
    async fn only_a_whole_chunk_answered_in_time_grows_the_next() {
        let job = || Job(tokio::spawn(async { Ok(None) }));
        let mut a = Answering::new(Duration::from_secs(3_600));
        for _ in 0..ANSWER_CHUNK - 1 {
            a.push(job());
        }
        assert!(!a.full());
        a.jobs.clear();
        a.finished(false);
        assert_eq!(a.chunk, ANSWER_CHUNK, "a partial chunk changes nothing");
        for _ in 0..ANSWER_CHUNK {
            a.push(job());
        }
        assert!(a.full());
        a.jobs.clear();
        a.finished(true);
        assert_eq!(
            a.chunk,
            2 * ANSWER_CHUNK,
            "a whole chunk within the budget doubles"
        );
        for _ in 0..ANSWER_CHUNK {
            a.push(job());
        }
        assert!(!a.full(), "64 jobs no longer make a chunk");
    }

    #[test]
    fn an_attestation_refused_as_already_answered_is_recognised_and_nothing_else_is() {
        let reason = "InferenceRegistry::AlreadyAnswered(requestId = 7, operator = 0x70997970C51812dc3A010C7d01b50e0d17dc79C8)";
        assert!(already_answered(IntentKind::Attest, reason));
        assert!(already_answered(
            IntentKind::Attest,
            "AlreadyAnswered(requestId = 7, operator = 0x1)"
        ));
        assert!(!already_answered(IntentKind::Finalize, reason));
        assert!(!already_answered(
            IntentKind::Attest,
            "InferenceRegistry::InvalidSignature(operator = 0x1)"
        ));
        assert!(!already_answered(
            IntentKind::Attest,
            "NotAlreadyAnsweredX(1)"
        ));
    }
}
