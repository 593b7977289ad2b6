//! The keeper's Prometheus metrics (text exposition format); served with `/health` by [`crate::api`].
//!
//! One [`Metrics`] registry per keeper, labelled with its operator, so several keepers in one
//! process (the devnet, the bench, tests) count separately. Besides counters and gauges it tracks
//! what `/health` needs: when the log poll last succeeded and since when each in-flight transaction
//! has been waiting.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};

/// Upper bounds (seconds) of the inference latency histogram's buckets: from an in-process MLP
/// (microseconds) to an LLM completion (tens of seconds).
pub const INFERENCE_BUCKETS: [f64; 12] = [
    0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// One model's inferences: count, failures and a latency histogram.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ModelStats {
    /// Inferences that produced an output.
    pub ok: u64,
    /// Inferences that failed (backend down, timeout, bad reply, refused input).
    pub errors: u64,
    /// Cumulative counts per bucket of [`INFERENCE_BUCKETS`] (Prometheus `le` semantics).
    pub buckets: [u64; INFERENCE_BUCKETS.len()],
    /// Sum of all latencies, seconds.
    pub sum_secs: f64,
}

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that can go up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The metrics of one keeper.
#[derive(Debug, Default)]
pub struct Metrics {
    /// The operator this keeper answers for (the `operator` label of every series).
    pub operator: Address,
    /// Assignments seen.
    pub assignments_seen: Counter,
    /// Inferences run.
    pub inferences: Counter,
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
    /// Whether the last poll succeeded.
    pub healthy: AtomicBool,
    /// When the last log poll succeeded.
    last_poll: Mutex<Option<Instant>>,
    /// Per model: inferences, errors, latency.
    models: Mutex<BTreeMap<B256, ModelStats>>,
    /// Intents whose transaction is being executed (signed or about to be), with when execution
    /// started; removed once the intent is done or abandoned.
    inflight: Mutex<HashMap<String, Instant>>,
    /// The hot key's balance, wei, as last read (`None`: not read yet).
    hot_key_balance: Mutex<Option<U256>>,
    /// What is wrong with the operator's standing on chain, as last checked (the keeper's preflight
    /// problems: unregistered, wrong signer, nothing served, low gas, jailed, ...); `/health` reports
    /// each.
    standing: Mutex<Vec<String>>,
    /// `version` and `git_rev` of the `build_info` series (`None`: this crate's version, rev
    /// `unknown`).
    build: Mutex<Option<(String, String)>>,
}

impl Metrics {
    /// A fresh registry for `operator`'s keeper.
    pub fn new(operator: Address) -> Self {
        Self {
            operator,
            ..Self::default()
        }
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

    /// The intent `key` is done or abandoned.
    pub fn tx_finished(&self, key: &str) {
        if let Ok(mut g) = self.inflight.lock() {
            g.remove(key);
        }
    }

    /// Age of the oldest in-flight transaction, if any.
    pub fn oldest_inflight(&self) -> Option<Duration> {
        let g = self.inflight.lock().ok()?;
        g.values().map(|t| t.elapsed()).max()
    }

    /// Records one inference of `model` that took `took` and succeeded or not.
    pub fn record_inference(&self, model: B256, took: Duration, ok: bool) {
        if ok {
            self.inferences.inc();
        }
        let Ok(mut models) = self.models.lock() else {
            return;
        };
        let stats = models.entry(model).or_default();
        if ok {
            stats.ok += 1;
        } else {
            stats.errors += 1;
        }
        let secs = took.as_secs_f64();
        stats.sum_secs += secs;
        for (bucket, le) in stats.buckets.iter_mut().zip(INFERENCE_BUCKETS) {
            if secs <= le {
                *bucket += 1;
            }
        }
    }

    /// A copy of one model's inference statistics.
    pub fn model_stats(&self, model: B256) -> Option<ModelStats> {
        self.models.lock().ok()?.get(&model).cloned()
    }

    /// Records the hot key's balance, wei.
    pub fn set_hot_key_balance(&self, wei: U256) {
        if let Ok(mut g) = self.hot_key_balance.lock() {
            *g = Some(wei);
        }
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
        if let Ok(mut g) = self.build.lock() {
            *g = Some((version.to_owned(), git_rev.to_owned()));
        }
    }

    /// Number of in-flight transactions.
    pub fn inflight(&self) -> usize {
        self.inflight.lock().map(|g| g.len()).unwrap_or_default()
    }

    /// Renders the Prometheus text format; every series carries `operator="0x.."`.
    pub fn render(&self) -> String {
        let label = format!("{{operator=\"{:#x}\"}}", self.operator);
        let counters: [(&str, &str, &Counter); 14] = [
            (
                "verinfer_keeper_assignments_seen_total",
                "Assignments seen",
                &self.assignments_seen,
            ),
            (
                "verinfer_keeper_inferences_total",
                "Inferences run",
                &self.inferences,
            ),
            (
                "verinfer_keeper_inputs_refused_total",
                "Assigned inputs the model refused (nothing attested)",
                &self.inputs_refused,
            ),
            (
                "verinfer_keeper_attestations_submitted_total",
                "Attestations included",
                &self.attestations_submitted,
            ),
            (
                "verinfer_keeper_txs_included_total",
                "Transactions included",
                &self.txs_included,
            ),
            (
                "verinfer_keeper_txs_failed_total",
                "Transactions reverted or abandoned",
                &self.txs_failed,
            ),
            (
                "verinfer_keeper_fee_bumps_total",
                "Fee bumps",
                &self.fee_bumps,
            ),
            (
                "verinfer_keeper_reorgs_total",
                "Reorgs detected",
                &self.reorgs,
            ),
            (
                "verinfer_keeper_rpc_errors_total",
                "RPC errors seen by the poller",
                &self.rpc_errors,
            ),
            (
                "verinfer_keeper_challenges_total",
                "Challenges sent",
                &self.challenges,
            ),
            (
                "verinfer_keeper_equivocation_reports_total",
                "Equivocation reports",
                &self.equivocation_reports,
            ),
            (
                "verinfer_keeper_finalized_total",
                "Requests finalized",
                &self.finalized,
            ),
            (
                "verinfer_keeper_missed_reported_total",
                "Missed assignments reported",
                &self.missed_reported,
            ),
            (
                "verinfer_keeper_gas_used_total",
                "Gas used by included transactions",
                &self.gas_used,
            ),
        ];
        let mut out = String::new();
        for (name, help, c) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name}{label} {}\n",
                c.get()
            ));
        }
        let gauges: [(&str, &str, &Gauge); 4] = [
            (
                "verinfer_keeper_cursor_block",
                "Last processed block",
                &self.cursor_block,
            ),
            (
                "verinfer_keeper_head_block",
                "Latest head seen",
                &self.head_block,
            ),
            (
                "verinfer_keeper_open_intents",
                "Open journal intents",
                &self.open_intents,
            ),
            (
                "verinfer_keeper_oldest_inflight_seconds",
                "Age of the oldest in-flight transaction",
                &Gauge(AtomicU64::new(
                    self.oldest_inflight().map(|d| d.as_secs()).unwrap_or(0),
                )),
            ),
        ];
        for (name, help, g) in gauges {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name}{label} {}\n",
                g.get()
            ));
        }
        if let Some(wei) = self.hot_key_balance() {
            let name = "verinfer_keeper_hot_key_balance_wei";
            out.push_str(&format!(
                "# HELP {name} Balance of the hot key (pays the gas), wei\n# TYPE {name} gauge\n{name}{label} {wei}\n"
            ));
        }
        let (version, git_rev) = self
            .build
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .unwrap_or_else(|| (env!("CARGO_PKG_VERSION").to_owned(), "unknown".to_owned()));
        let name = "verinfer_keeper_build_info";
        out.push_str(&format!(
            "# HELP {name} The keeper's build (value 1)\n# TYPE {name} gauge\n\
             {name}{{operator=\"{:#x}\",version=\"{version}\",git_rev=\"{git_rev}\"}} 1\n",
            self.operator
        ));
        self.render_models(&mut out);
        out
    }

    /// Per-model series: inferences, errors and the latency histogram, labelled `operator` and
    /// `model`.
    fn render_models(&self, out: &mut String) {
        let Ok(models) = self.models.lock() else {
            return;
        };
        let op = format!("{:#x}", self.operator);
        let m_inf = "verinfer_keeper_model_inferences_total";
        let m_err = "verinfer_keeper_model_inference_errors_total";
        let m_lat = "verinfer_keeper_model_inference_seconds";
        out.push_str(&format!("# HELP {m_inf} Inferences that produced an output, per model\n# TYPE {m_inf} counter\n"));
        for (model, s) in models.iter() {
            out.push_str(&format!(
                "{m_inf}{{operator=\"{op}\",model=\"{model}\"}} {}\n",
                s.ok
            ));
        }
        out.push_str(&format!(
            "# HELP {m_err} Inferences that failed, per model\n# TYPE {m_err} counter\n"
        ));
        for (model, s) in models.iter() {
            out.push_str(&format!(
                "{m_err}{{operator=\"{op}\",model=\"{model}\"}} {}\n",
                s.errors
            ));
        }
        out.push_str(&format!(
            "# HELP {m_lat} Inference latency, per model\n# TYPE {m_lat} histogram\n"
        ));
        for (model, s) in models.iter() {
            let l = format!("operator=\"{op}\",model=\"{model}\"");
            for (count, le) in s.buckets.iter().zip(INFERENCE_BUCKETS) {
                out.push_str(&format!("{m_lat}_bucket{{{l},le=\"{le}\"}} {count}\n"));
            }
            let n = s.ok + s.errors;
            out.push_str(&format!("{m_lat}_bucket{{{l},le=\"+Inf\"}} {n}\n"));
            out.push_str(&format!("{m_lat}_sum{{{l}}} {}\n", s.sum_secs));
            out.push_str(&format!("{m_lat}_count{{{l}}} {n}\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_keepers_count_separately_and_label_their_operator() {
        let a = Metrics::new(Address::repeat_byte(0xaa));
        let b = Metrics::new(Address::repeat_byte(0xbb));
        a.fee_bumps.inc();
        a.fee_bumps.inc();
        b.fee_bumps.inc();
        let ra = a.render();
        assert!(
            ra.contains(&format!(
                "verinfer_keeper_fee_bumps_total{{operator=\"{:#x}\"}} 2\n",
                Address::repeat_byte(0xaa)
            )),
            "{ra}"
        );
        assert!(b.render().contains(&format!(
            "verinfer_keeper_fee_bumps_total{{operator=\"{:#x}\"}} 1\n",
            Address::repeat_byte(0xbb)
        )));
    }

    /// The gas gauge carries the whole balance in wei (1,000 ether does not fit a `u64`), labelled with
    /// the operator; `build_info` names the version and the git revision the binary set.
    #[test]
    fn hot_key_balance_and_build_info_are_exported() {
        let m = Metrics::new(Address::repeat_byte(0xaa));
        let op = format!("{:#x}", Address::repeat_byte(0xaa));
        assert!(!m.render().contains("hot_key_balance"), "not read yet");
        assert!(m.render().contains(&format!(
            "verinfer_keeper_build_info{{operator=\"{op}\",version=\"{}\",git_rev=\"unknown\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        )));
        let wei = U256::from(1_000u128 * 10u128.pow(18));
        m.set_hot_key_balance(wei);
        m.set_build_info("1.2.3", "abc123");
        let text = m.render();
        assert!(
            text.contains("# TYPE verinfer_keeper_hot_key_balance_wei gauge"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "verinfer_keeper_hot_key_balance_wei{{operator=\"{op}\"}} 1000000000000000000000\n"
            )),
            "{text}"
        );
        assert!(text.contains(&format!(
            "verinfer_keeper_build_info{{operator=\"{op}\",version=\"1.2.3\",git_rev=\"abc123\"}} 1\n"
        )));
    }

    #[test]
    fn inflight_age_counts_from_the_first_attempt_until_finished() {
        let m = Metrics::default();
        assert_eq!(m.oldest_inflight(), None);
        m.tx_started("a");
        std::thread::sleep(Duration::from_millis(5));
        m.tx_started("a");
        assert!(m.oldest_inflight().unwrap() >= Duration::from_millis(5));
        m.tx_finished("a");
        assert_eq!(m.oldest_inflight(), None);
    }

    #[test]
    fn inferences_are_counted_and_timed_per_model_as_a_prometheus_histogram() {
        let m = Metrics::new(Address::repeat_byte(0xaa));
        let (mlp, llm) = (B256::repeat_byte(1), B256::repeat_byte(2));
        m.record_inference(mlp, Duration::from_micros(50), true);
        m.record_inference(llm, Duration::from_millis(1500), true);
        m.record_inference(llm, Duration::from_secs(40), false);
        let s = m.model_stats(llm).unwrap();
        assert_eq!((s.ok, s.errors), (1, 1));
        // 1.5 s falls in the buckets from le=2.5 up; 40 s in none (only +Inf).
        assert_eq!(s.buckets[7], 0);
        assert_eq!(s.buckets[8], 1);
        assert_eq!(s.buckets[11], 1);
        assert_eq!(m.inferences.get(), 2);
        let text = m.render();
        let l = format!(
            "operator=\"{:#x}\",model=\"{llm}\"",
            Address::repeat_byte(0xaa)
        );
        for line in [
            format!("verinfer_keeper_model_inferences_total{{{l}}} 1"),
            format!("verinfer_keeper_model_inference_errors_total{{{l}}} 1"),
            format!("verinfer_keeper_model_inference_seconds_bucket{{{l},le=\"2.5\"}} 1"),
            format!("verinfer_keeper_model_inference_seconds_bucket{{{l},le=\"+Inf\"}} 2"),
            format!("verinfer_keeper_model_inference_seconds_count{{{l}}} 2"),
        ] {
            assert!(text.contains(&line), "{line} missing in\n{text}");
        }
        assert!(text.contains("# TYPE verinfer_keeper_model_inference_seconds histogram"));
        assert!(text.contains(&format!("model=\"{mlp}\",le=\"0.0001\"}} 1")));
    }
}
