//! The keeper's Prometheus metrics, kept and encoded by the `prometheus-client` library (OpenMetrics
//! text, [`CONTENT_TYPE`]); served with `/health` by [`crate::api`].
//!
//! One [`Metrics`] registry per keeper (no global registry), whose every series carries the
//! keeper's `operator` label, so several keepers in one process (the devnet, the bench, tests) count
//! separately. Per-model series add a `model` label, submission series `kind` and `mode`. Besides the
//! exported series it tracks what `/health` needs: when the log poll last succeeded, since when each
//! in-flight transaction has been waiting, the hot key's exact balance and the operator's standing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// A monotonically increasing counter (`prometheus-client`'s; exported with a `_total` suffix).
pub type Counter = prometheus_client::metrics::counter::Counter;

/// A value that can go up and down.
pub type Gauge = prometheus_client::metrics::gauge::Gauge<u64, AtomicU64>;

/// The HTTP `Content-Type` of [`Metrics::render`]'s text: OpenMetrics 1.0, which Prometheus scrapes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The prefix of every series name.
pub const PREFIX: &str = "verinfer_keeper";

/// Upper bounds (seconds) of the inference latency histogram's buckets: from an in-process MLP
/// (microseconds) to an LLM completion (tens of seconds).
pub const INFERENCE_BUCKETS: [f64; 12] = [
    0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds (seconds) of the chain latency histograms' buckets (submission, request to
/// inclusion): from an instantly mining devnet to minutes of fee bumps on a congested chain.
pub const CHAIN_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 300.0,
];

/// Requests seen but not yet included kept for the request-to-inclusion histogram; past this many,
/// those waiting for over [`SEEN_MAX_AGE`] are dropped (assignments this keeper never answers).
const SEEN_CAP: usize = 10_000;
/// See [`SEEN_CAP`].
const SEEN_MAX_AGE: Duration = Duration::from_secs(3_600);

/// The `model` label of the per-model series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

/// The labels of the submission latency: the intent's kind (`attest`, `finalize`, ...) and how it
/// was put on chain (`single` or `batch`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubmissionLabels {
    kind: String,
    mode: String,
}

/// The `mode` label (`single` or `batch`) of the request-to-inclusion latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: String,
}

/// The labels of `build_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    git_rev: String,
}

/// A gauge without labels of its own, present only once set (a [`Family`] with one empty label
/// set), e.g. the hot key's balance before its first read.
type Optional<G> = Family<Vec<(String, String)>, G>;

fn inference_histogram() -> Histogram {
    Histogram::new(INFERENCE_BUCKETS)
}

fn chain_histogram() -> Histogram {
    Histogram::new(CHAIN_BUCKETS)
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The metrics of one keeper.
#[derive(Debug)]
pub struct Metrics {
    /// The operator this keeper answers for (the `operator` label of every series).
    pub operator: Address,
    /// Assignments seen.
    pub assignments_seen: Counter,
    /// Inferences run.
    pub inferences: Counter,
    /// Answers adopted from another replica's claim in the signing store, without running the model.
    pub answers_adopted: Counter,
    /// Statements of record looked up in the signing store before answering (a standby's answers,
    /// and a holder's to assignments from before its takeover; module `keeper::lease`).
    pub claim_lookups: Counter,
    /// Assigned inputs the model refused (wrong size, out of range); nothing was attested for them.
    pub inputs_refused: Counter,
    /// Attestations included on chain.
    pub attestations_submitted: Counter,
    /// Transactions included.
    pub txs_included: Counter,
    /// Transactions that reverted or were abandoned.
    pub txs_failed: Counter,
    /// Fee bumps.
    pub fee_bumps: Counter,
    /// Groups of transactions the execute stage dispatched: the newly signed transactions of each
    /// are journaled in one durable write (one more per retry after a nonce refusal; none when
    /// every member was only reconciled), then broadcast at once.
    pub tx_groups: Counter,
    /// Reorgs detected.
    pub reorgs: Counter,
    /// RPC errors observed by the poller.
    pub rpc_errors: Counter,
    /// Challenges sent.
    pub challenges: Counter,
    /// Equivocation reports sent.
    pub equivocation_reports: Counter,
    /// Requests finalized by this keeper.
    pub finalized: Counter,
    /// Missed assignments reported.
    pub missed_reported: Counter,
    /// Gas used by included transactions.
    pub gas_used: Counter,
    /// Last processed block.
    pub cursor_block: Gauge,
    /// Latest chain head seen.
    pub head_block: Gauge,
    /// Open journal intents.
    pub open_intents: Gauge,
    /// 1 while this replica holds its operator's sender lease, else 0 (replicas only).
    pub sender_lease_held: Gauge,
    /// Times this replica took the sender lease (replicas only).
    pub lease_takeovers: Counter,
    /// Whether the last poll succeeded.
    pub healthy: AtomicBool,
    /// Whether this keeper is a replica that sends only under the sender lease (set with the
    /// first [`Metrics::set_sender_lease`]).
    replica: AtomicBool,
    /// Age of the oldest in-flight transaction, seconds (set from `inflight` when rendered).
    oldest_inflight_seconds: Gauge,
    /// Per model: inferences that produced an output.
    model_inferences: Family<ModelLabels, Counter>,
    /// Per model: inferences that failed.
    model_errors: Family<ModelLabels, Counter>,
    /// Per model: inference latency.
    model_latency: Histograms<ModelLabels>,
    /// Per kind and mode: from a transaction's first send to its inclusion.
    submission_latency: Histograms<SubmissionLabels>,
    /// Per mode: from the poll that saw a request's assignment to its attestation's inclusion.
    request_to_inclusion: Histograms<ModeLabels>,
    /// The hot key's balance, wei, as a float (absent until read).
    hot_key_balance_gauge: Optional<prometheus_client::metrics::gauge::Gauge<f64, AtomicU64>>,
    /// `build_info`: value 1, labelled with the version and git revision.
    build_info: Family<BuildLabels, Gauge>,
    /// The registry that encodes all of the above, labelled with the operator.
    registry: Registry,
    /// When the last log poll succeeded.
    last_poll: Mutex<Option<Instant>>,
    /// Intents whose transaction is being executed (signed or about to be), with when execution
    /// started; removed once the intent is done or abandoned.
    inflight: Mutex<HashMap<String, Instant>>,
    /// Requests (decimal id) whose assignment was seen and whose attestation is not yet included.
    requests_seen: Mutex<HashMap<String, Instant>>,
    /// The hot key's balance, wei, as last read (`None`: not read yet), exact for `/health`.
    hot_key_balance: Mutex<Option<U256>>,
    /// What is wrong with the operator's standing on chain, as last checked (the keeper's preflight
    /// problems: unregistered, wrong signer, nothing served, low gas, jailed, ...); `/health` reports
    /// each.
    standing: Mutex<Vec<String>>,
}

impl Default for Metrics {
    /// The registry of a keeper for the zero address (tests and components run without a keeper).
    fn default() -> Self {
        Self::new(Address::ZERO)
    }
}

impl Metrics {
    /// A fresh registry for `operator`'s keeper; `build_info` says this crate's version and git
    /// revision `unknown` until [`Metrics::set_build_info`].
    pub fn new(operator: Address) -> Self {
        let label: (Cow<'static, str>, Cow<'static, str>) = (
            Cow::Borrowed("operator"),
            Cow::Owned(format!("{operator:#x}")),
        );
        let mut registry = Registry::with_prefix_and_labels(PREFIX, std::iter::once(label));
        let m = Self {
            operator,
            assignments_seen: Counter::default(),
            inferences: Counter::default(),
            answers_adopted: Counter::default(),
            claim_lookups: Counter::default(),
            inputs_refused: Counter::default(),
            attestations_submitted: Counter::default(),
            txs_included: Counter::default(),
            txs_failed: Counter::default(),
            fee_bumps: Counter::default(),
            tx_groups: Counter::default(),
            reorgs: Counter::default(),
            rpc_errors: Counter::default(),
            challenges: Counter::default(),
            equivocation_reports: Counter::default(),
            finalized: Counter::default(),
            missed_reported: Counter::default(),
            gas_used: Counter::default(),
            cursor_block: Gauge::default(),
            head_block: Gauge::default(),
            open_intents: Gauge::default(),
            sender_lease_held: Gauge::default(),
            lease_takeovers: Counter::default(),
            healthy: AtomicBool::new(false),
            replica: AtomicBool::new(false),
            oldest_inflight_seconds: Gauge::default(),
            model_inferences: Family::default(),
            model_errors: Family::default(),
            model_latency: Family::new_with_constructor(inference_histogram),
            submission_latency: Family::new_with_constructor(chain_histogram),
            request_to_inclusion: Family::new_with_constructor(chain_histogram),
            hot_key_balance_gauge: Family::default(),
            build_info: Family::default(),
            registry: Registry::default(),
            last_poll: Mutex::new(None),
            inflight: Mutex::new(HashMap::new()),
            requests_seen: Mutex::new(HashMap::new()),
            hot_key_balance: Mutex::new(None),
            standing: Mutex::new(Vec::new()),
        };
        let counters: [(&str, &str, &Counter); 18] = [
            ("assignments_seen", "Assignments seen", &m.assignments_seen),
            ("inferences", "Inferences run", &m.inferences),
            (
                "answers_adopted",
                "Answers adopted from another replica's claim without running the model",
                &m.answers_adopted,
            ),
            (
                "claim_lookups",
                "Statements looked up in the signing store before answering",
                &m.claim_lookups,
            ),
            (
                "inputs_refused",
                "Assigned inputs the model refused (nothing attested)",
                &m.inputs_refused,
            ),
            (
                "attestations_submitted",
                "Attestations included",
                &m.attestations_submitted,
            ),
            ("txs_included", "Transactions included", &m.txs_included),
            (
                "txs_failed",
                "Transactions reverted or abandoned",
                &m.txs_failed,
            ),
            ("fee_bumps", "Fee bumps", &m.fee_bumps),
            (
                "tx_groups",
                "Groups of transactions dispatched (their signed transactions journaled in one write)",
                &m.tx_groups,
            ),
            ("reorgs", "Reorgs detected", &m.reorgs),
            ("rpc_errors", "RPC errors seen by the poller", &m.rpc_errors),
            ("challenges", "Challenges sent", &m.challenges),
            (
                "equivocation_reports",
                "Equivocation reports",
                &m.equivocation_reports,
            ),
            ("finalized", "Requests finalized", &m.finalized),
            (
                "missed_reported",
                "Missed assignments reported",
                &m.missed_reported,
            ),
            ("gas_used", "Gas used by included transactions", &m.gas_used),
            (
                "lease_takeovers",
                "Times this replica took the sender lease",
                &m.lease_takeovers,
            ),
        ];
        for (name, help, c) in counters {
            registry.register(name, help, c.clone());
        }
        let gauges: [(&str, &str, &Gauge); 5] = [
            ("cursor_block", "Last processed block", &m.cursor_block),
            ("head_block", "Latest head seen", &m.head_block),
            ("open_intents", "Open journal intents", &m.open_intents),
            (
                "sender_lease_held",
                "1 while this replica holds the sender lease",
                &m.sender_lease_held,
            ),
            (
                "oldest_inflight_seconds",
                "Age of the oldest in-flight transaction, seconds",
                &m.oldest_inflight_seconds,
            ),
        ];
        for (name, help, g) in gauges {
            registry.register(name, help, g.clone());
        }
        registry.register(
            "hot_key_balance_wei",
            "Balance of the hot key (pays the gas), wei",
            m.hot_key_balance_gauge.clone(),
        );
        registry.register(
            "build_info",
            "The keeper's build (value 1)",
            m.build_info.clone(),
        );
        registry.register(
            "model_inferences",
            "Inferences that produced an output, per model",
            m.model_inferences.clone(),
        );
        registry.register(
            "model_inference_errors",
            "Inferences that failed, per model",
            m.model_errors.clone(),
        );
        registry.register(
            "model_inference_seconds",
            "Inference latency, per model, seconds",
            m.model_latency.clone(),
        );
        registry.register(
            "submission_seconds",
            "From a transaction's first send to its inclusion, per intent kind and mode (single or batch), seconds",
            m.submission_latency.clone(),
        );
        registry.register(
            "request_to_inclusion_seconds",
            "From the poll that saw a request's assignment to the inclusion of its attestation, per mode (single or batch), seconds",
            m.request_to_inclusion.clone(),
        );
        let m = Self { registry, ..m };
        m.set_build_info(env!("CARGO_PKG_VERSION"), "unknown");
        m
    }

    /// Records a successful log poll (now).
    pub fn polled(&self) {
        if let Ok(mut g) = self.last_poll.lock() {
            *g = Some(Instant::now());
        }
        self.healthy.store(true, Ordering::Relaxed);
    }

    /// Time since the last successful log poll (`None`: never polled).
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.last_poll.lock().ok()?.map(|t| t.elapsed())
    }

    /// The transaction of intent `key` started executing (kept if already recorded: the age counts
    /// from the first attempt).
    pub fn tx_started(&self, key: &str) {
        if let Ok(mut g) = self.inflight.lock() {
            g.entry(key.to_string()).or_insert_with(Instant::now);
        }
    }

    /// The intent `key` is done or abandoned; returns how long since its transaction first started
    /// (`None`: it never started here, e.g. it was sent before a restart).
    pub fn tx_finished(&self, key: &str) -> Option<Duration> {
        self.inflight.lock().ok()?.remove(key).map(|t| t.elapsed())
    }

    /// Age of the oldest in-flight transaction, if any.
    pub fn oldest_inflight(&self) -> Option<Duration> {
        let g = self.inflight.lock().ok()?;
        g.values().map(|t| t.elapsed()).max()
    }

    /// Number of in-flight transactions.
    pub fn inflight(&self) -> usize {
        self.inflight.lock().map(|g| g.len()).unwrap_or_default()
    }

    /// Records one inference of `model` that took `took` and succeeded or not.
    pub fn record_inference(&self, model: B256, took: Duration, ok: bool) {
        let labels = ModelLabels {
            model: format!("{model:#x}"),
        };
        if ok {
            self.inferences.inc();
            self.model_inferences.get_or_create(&labels).inc();
        } else {
            self.model_errors.get_or_create(&labels).inc();
        }
        self.model_latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Records a transaction of intent `kind` (`attest`, `finalize`, ...) sent `single` or as a
    /// `batch` that was included `took` after its first send.
    pub fn record_submission(&self, kind: &str, batch: bool, took: Duration) {
        let labels = SubmissionLabels {
            kind: kind.to_owned(),
            mode: mode(batch).to_owned(),
        };
        self.submission_latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The assignment of request `id` (decimal) was seen now: its request-to-inclusion time starts.
    pub fn request_seen(&self, id: &str) {
        let Ok(mut g) = self.requests_seen.lock() else {
            return;
        };
        if g.len() >= SEEN_CAP {
            g.retain(|_, t| t.elapsed() < SEEN_MAX_AGE);
        }
        g.entry(id.to_owned()).or_insert_with(Instant::now);
    }

    /// The attestation of request `id` (decimal) was included, `single` or in a `batch`: records
    /// the time since its assignment was seen (nothing if it was not seen by this process).
    pub fn request_included(&self, id: &str, batch: bool) {
        let seen = self
            .requests_seen
            .lock()
            .ok()
            .and_then(|mut g| g.remove(id));
        if let Some(t) = seen {
            self.request_to_inclusion
                .get_or_create(&ModeLabels {
                    mode: mode(batch).to_owned(),
                })
                .observe(t.elapsed().as_secs_f64());
        }
    }

    /// Records the hot key's balance, wei (exported as a float, as Prometheus stores every value;
    /// kept exact for `/health`).
    pub fn set_hot_key_balance(&self, wei: U256) {
        if let Ok(mut g) = self.hot_key_balance.lock() {
            *g = Some(wei);
        }
        let approx = wei.to_string().parse::<f64>().unwrap_or(f64::MAX);
        self.hot_key_balance_gauge
            .get_or_create(&Vec::new())
            .set(approx);
    }

    /// The hot key's balance as last read, wei.
    pub fn hot_key_balance(&self) -> Option<U256> {
        self.hot_key_balance.lock().ok().and_then(|g| *g)
    }

    /// Replaces the standing problems (empty: the operator's standing is fine); returns whether they
    /// changed.
    pub fn set_standing(&self, problems: Vec<String>) -> bool {
        let Ok(mut g) = self.standing.lock() else {
            return false;
        };
        let changed = *g != problems;
        *g = problems;
        changed
    }

    /// The standing problems found by the last check.
    pub fn standing(&self) -> Vec<String> {
        self.standing.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Sets the `version` and `git_rev` labels of `verinfer_keeper_build_info` (the binary's, which
    /// knows its git revision).
    pub fn set_build_info(&self, version: &str, git_rev: &str) {
        self.build_info.clear();
        self.build_info
            .get_or_create(&BuildLabels {
                version: version.to_owned(),
                git_rev: git_rev.to_owned(),
            })
            .set(1);
    }

    /// Records whether this replica holds its operator's sender lease now.
    pub fn set_sender_lease(&self, held: bool) {
        self.replica.store(true, Ordering::Relaxed);
        self.sender_lease_held.set(u64::from(held));
    }

    /// Whether this replica holds the sender lease; `None` for a single keeper (no lease).
    pub fn sender_lease(&self) -> Option<bool> {
        self.replica
            .load(Ordering::Relaxed)
            .then(|| self.sender_lease_held.get() == 1)
    }

    /// Encodes every series in the OpenMetrics text format ([`CONTENT_TYPE`]); each carries
    /// `operator="0x.."`.
    pub fn render(&self) -> String {
        self.oldest_inflight_seconds
            .set(self.oldest_inflight().map_or(0, |d| d.as_secs()));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // Only a failing writer fails, and a String does not.
            tracing::error!(error = %e, "encoding the metrics failed");
        }
        out
    }
}

/// One sample of a text exposition: `name{labels} value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series name (`verinfer_keeper_fee_bumps_total`, `..._bucket`, ...).
    pub name: String,
    /// Its labels, by name.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

impl Sample {
    /// Whether the sample has each of `labels` (and maybe others).
    pub fn has(&self, labels: &[(&str, &str)]) -> bool {
        labels
            .iter()
            .all(|(k, v)| self.labels.get(*k).map(String::as_str) == Some(*v))
    }
}

/// The samples of a Prometheus or OpenMetrics text exposition, as a scraper reads them (comments
/// skipped; label values without escaped quotes, as this keeper's are); for the tests and tools
/// that check what `/metrics` serves.
pub fn parse_samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let value = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}')?;
                    let labels = body
                        .split("\",")
                        .filter(|kv| !kv.is_empty())
                        .filter_map(|kv| {
                            let (k, v) = kv.split_once("=\"")?;
                            Some((k.to_owned(), v.trim_end_matches('"').to_owned()))
                        })
                        .collect();
                    (name, labels)
                }
                None => (series, Default::default()),
            };
            Some(Sample {
                name: name.to_owned(),
                labels,
                value,
            })
        })
        .collect()
}

/// The `mode` label: `batch` or `single`.
fn mode(batch: bool) -> &'static str {
    if batch {
        "batch"
    } else {
        "single"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample `name` with exactly `labels` in `text`.
    fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        parse_samples(text)
            .into_iter()
            .find(|s| s.name == name && s.labels.len() == labels.len() && s.has(labels))
            .map(|s| s.value)
    }

    #[test]
    fn two_keepers_count_separately_and_label_their_operator() {
        let a = Metrics::new(Address::repeat_byte(0xaa));
        let b = Metrics::new(Address::repeat_byte(0xbb));
        a.fee_bumps.inc();
        a.fee_bumps.inc();
        b.fee_bumps.inc();
        let (opa, opb) = (
            format!("{:#x}", Address::repeat_byte(0xaa)),
            format!("{:#x}", Address::repeat_byte(0xbb)),
        );
        let bumps = "verinfer_keeper_fee_bumps_total";
        assert_eq!(sample(&a.render(), bumps, &[("operator", &opa)]), Some(2.0));
        assert_eq!(sample(&b.render(), bumps, &[("operator", &opb)]), Some(1.0));
        assert_eq!(sample(&a.render(), bumps, &[("operator", &opb)]), None);
    }

    /// The gas gauge appears once read, labelled with the operator; `build_info` names the version
    /// and the git revision the binary set (only the last one set).
    #[test]
    fn hot_key_balance_and_build_info_are_exported() {
        let m = Metrics::new(Address::repeat_byte(0xaa));
        let op = format!("{:#x}", Address::repeat_byte(0xaa));
        let balance = "verinfer_keeper_hot_key_balance_wei";
        assert_eq!(
            sample(&m.render(), balance, &[("operator", &op)]),
            None,
            "not read yet"
        );
        let build = |v: &'static str, rev: &'static str| {
            [
                ("operator", op.clone()),
                ("version", v.to_owned()),
                ("git_rev", rev.to_owned()),
            ]
        };
        let build_info = |text: &str, v, rev| {
            let l = build(v, rev);
            let l: Vec<(&str, &str)> = l.iter().map(|(k, v)| (*k, v.as_str())).collect();
            sample(text, "verinfer_keeper_build_info", &l)
        };
        assert_eq!(
            build_info(&m.render(), env!("CARGO_PKG_VERSION"), "unknown"),
            Some(1.0)
        );
        // 1,000 ether does not fit a u64: the gauge is a float, as Prometheus stores it.
        m.set_hot_key_balance(U256::from(1_000u128 * 10u128.pow(18)));
        m.set_build_info("1.2.3", "abc123");
        let text = m.render();
        assert!(
            text.contains("# TYPE verinfer_keeper_hot_key_balance_wei gauge"),
            "{text}"
        );
        assert_eq!(sample(&text, balance, &[("operator", &op)]), Some(1e21));
        assert_eq!(build_info(&text, "1.2.3", "abc123"), Some(1.0));
        assert_eq!(
            build_info(&text, env!("CARGO_PKG_VERSION"), "unknown"),
            None
        );
        assert!(text.ends_with("# EOF\n"), "OpenMetrics: {text}");
    }

    #[test]
    fn inflight_age_counts_from_the_first_attempt_until_finished() {
        let m = Metrics::default();
        assert_eq!(m.oldest_inflight(), None);
        m.tx_started("a");
        std::thread::sleep(Duration::from_millis(5));
        m.tx_started("a");
        assert!(m.oldest_inflight().unwrap() >= Duration::from_millis(5));
        assert!(m.tx_finished("a").unwrap() >= Duration::from_millis(5));
        assert_eq!(m.oldest_inflight(), None);
        assert_eq!(m.tx_finished("a"), None, "already finished");
    }

    #[test]
    fn inferences_are_counted_and_timed_per_model_as_a_prometheus_histogram() {
        let m = Metrics::new(Address::repeat_byte(0xaa));
        let (mlp, llm) = (B256::repeat_byte(1), B256::repeat_byte(2));
        m.record_inference(mlp, Duration::from_micros(50), true);
        m.record_inference(llm, Duration::from_millis(1500), true);
        m.record_inference(llm, Duration::from_secs(40), false);
        assert_eq!(m.inferences.get(), 2);
        let text = m.render();
        let op = format!("{:#x}", Address::repeat_byte(0xaa));
        let model = format!("{llm:#x}");
        let l = [("operator", op.as_str()), ("model", model.as_str())];
        let bucket = |le: &str| {
            sample(
                &text,
                "verinfer_keeper_model_inference_seconds_bucket",
                &[l[0], l[1], ("le", le)],
            )
        };
        assert_eq!(
            sample(&text, "verinfer_keeper_model_inferences_total", &l),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "verinfer_keeper_model_inference_errors_total", &l),
            Some(1.0)
        );
        // 1.5 s falls in the buckets from le=2.5 up; 40 s in none but +Inf.
        assert_eq!(bucket("1.0"), Some(0.0));
        assert_eq!(bucket("2.5"), Some(1.0));
        assert_eq!(bucket("30.0"), Some(1.0));
        assert_eq!(bucket("+Inf"), Some(2.0));
        assert_eq!(
            sample(&text, "verinfer_keeper_model_inference_seconds_count", &l),
            Some(2.0)
        );
        assert!(text.contains("# TYPE verinfer_keeper_model_inference_seconds histogram"));
    }

    #[test]
    fn submissions_and_requests_to_inclusion_are_timed_per_kind_and_mode() {
        let m = Metrics::new(Address::repeat_byte(0xaa));
        let op = format!("{:#x}", Address::repeat_byte(0xaa));
        m.record_submission("attest", true, Duration::from_millis(700));
        m.record_submission("finalize", false, Duration::from_secs(3));
        m.request_seen("7");
        m.request_included("7", true);
        m.request_included("7", true);
        m.request_included("8", false);
        let text = m.render();
        let count = |name: &str, labels: &[(&str, &str)]| {
            let mut l = vec![("operator", op.as_str())];
            l.extend_from_slice(labels);
            sample(&text, &format!("verinfer_keeper_{name}_count"), &l)
        };
        assert_eq!(
            count(
                "submission_seconds",
                &[("kind", "attest"), ("mode", "batch")]
            ),
            Some(1.0)
        );
        assert_eq!(
            count(
                "submission_seconds",
                &[("kind", "finalize"), ("mode", "single")]
            ),
            Some(1.0)
        );
        // Included twice, observed once; a request never seen is not observed.
        assert_eq!(
            count("request_to_inclusion_seconds", &[("mode", "batch")]),
            Some(1.0)
        );
        assert_eq!(
            count("request_to_inclusion_seconds", &[("mode", "single")]),
            None
        );
    }

    #[test]
    fn parse_samples_reads_names_labels_and_values() {
        let s = parse_samples(
            "# HELP x y\nx_total{a=\"1\",b=\"two\"} 3\nplain 4.5\nh_bucket{le=\"+Inf\"} 2\n# EOF\n",
        );
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].name, "x_total");
        assert!(s[0].has(&[("a", "1"), ("b", "two")]) && s[0].value == 3.0);
        assert!(s[1].labels.is_empty() && s[1].value == 4.5);
        assert!(s[2].has(&[("le", "+Inf")]));
    }
}
