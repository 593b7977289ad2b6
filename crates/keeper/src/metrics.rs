//! The keeper's Prometheus metrics (text exposition format); served with `/health` by [`crate::api`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::LazyLock;

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

/// Process-wide keeper metrics.
#[derive(Debug, Default)]
pub struct Metrics {
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
}

/// The global metrics registry.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

impl Metrics {
    /// Renders the Prometheus text format.
    pub fn render(&self) -> String {
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
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                c.get()
            ));
        }
        let gauges: [(&str, &str, &Gauge); 3] = [
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
        ];
        for (name, help, g) in gauges {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}\n",
                g.get()
            ));
        }
        out
    }
}
