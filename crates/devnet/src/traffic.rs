//! Phase 5, traffic: a client (anvil's account 9) sends the configured number of requests back to
//! back, each a labelled image of the test split (the digits, by default), the chaos keeper is killed and restarted halfway, then the phase waits until every request
//! has a result (quorum, finalized or disputed) or the timeout passes.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::units::tokens;
use verinfer_bindings::VerinferToken;

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::keepers::Keepers;

/// Fee of each traffic request, whole tokens.
pub const FEE_TOKENS: u64 = 1;
/// Seconds each request may be answered in.
pub const DEADLINE_SECS: u64 = 300;

/// A request sent.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// Its id.
    pub id: U256,
    /// The true class of its input (the test split's label).
    pub label: usize,
    /// The input's index in the test split.
    pub sample: usize,
    /// When its receipt arrived.
    pub at: Instant,
}

/// What the traffic phase measured.
#[derive(Debug, Clone)]
pub struct Traffic {
    /// The requests, in order.
    pub sent: Vec<Sent>,
    /// Requests that reached a result (quorum, finalized or disputed) before the timeout.
    pub with_result: usize,
    /// Request -> result latency of each, milliseconds, ascending.
    pub latencies_ms: Vec<u64>,
    /// Request -> output latency of each: from the submission's receipt to the output bytes in the
    /// client's hands, verified against the result's hash (fetched as soon as the result is seen),
    /// milliseconds, ascending.
    pub output_latencies_ms: Vec<u64>,
    /// Gas of the last `requestInference`.
    pub gas_request_inference: u64,
    /// When the first request was sent.
    pub started: Instant,
    /// Seconds spent sending.
    pub send_secs: f64,
}

impl Traffic {
    /// Median request -> result latency, milliseconds (the upper median; 0 without results).
    pub fn latency_median_ms(&self) -> u64 {
        upper_median(&self.latencies_ms)
    }

    /// 99th percentile (nearest rank) of the request -> result latency, milliseconds.
    pub fn latency_p99_ms(&self) -> u64 {
        p99(&self.latencies_ms)
    }

    /// Median request -> verified output latency, milliseconds (the upper median; 0 without outputs).
    pub fn output_latency_median_ms(&self) -> u64 {
        upper_median(&self.output_latencies_ms)
    }

    /// 99th percentile (nearest rank) of the request -> verified output latency, milliseconds.
    pub fn output_latency_p99_ms(&self) -> u64 {
        p99(&self.output_latencies_ms)
    }
}

/// The upper median of ascending `sorted` (0 when empty).
fn upper_median(sorted: &[u64]) -> u64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// The nearest-rank 99th percentile of ascending `sorted` (0 when empty).
fn p99(sorted: &[u64]) -> u64 {
    let n = sorted.len();
    if n == 0 {
        return 0;
    }
    sorted[(n * 99).div_ceil(100).saturating_sub(1).min(n - 1)]
}

fn status_line(keepers: &Keepers, sent: &[Sent], n: usize, total: usize) -> String {
    format!(
        "sent {n}/{total} | attestations on chain {} | txs {} | fee bumps {} | equivocation reports {} | ids up to {}",
        keepers.total(|m| m.attestations_submitted.get()),
        keepers.total(|m| m.txs_included.get()),
        keepers.total(|m| m.fee_bumps.get()),
        keepers.total(|m| m.equivocation_reports.get()),
        sent.last().map(|s| s.id).unwrap_or_default()
    )
}

impl Devnet {
    /// Funds the client, sends [`DevnetConfig::requests`](crate::DevnetConfig::requests) requests
    /// (restarting the chaos keeper after half of them), then waits for their results.
    pub async fn traffic(
        &self,
        d: &Deployment,
        keepers: &mut Keepers,
    ) -> Result<Traffic, DevnetError> {
        let total = self.config().requests;
        let split = self.config().load_test_split()?;
        // An input the model refuses would go unanswered: refuse the split before sending anything.
        for s in &split.samples {
            d.model.check_input(&s.input)?;
        }
        let client = self.client(self.dev_signer(9)?, &d.manifest_path).await?;
        d.deployer
            .send(
                "fund-client",
                d.contract("VerinferToken")?,
                &VerinferToken::transferCall {
                    to: client.sender(),
                    value: U256::from(total) * tokens(FEE_TOKENS),
                },
            )
            .await?;
        let mut sent = Vec::with_capacity(total);
        let mut gas = 0;
        let started = Instant::now();
        self.say(Progress::Phase(format!("driving {total} requests")));
        for n in 0..total {
            let sample = split.cycle(n);
            let r = client
                .submit_request(d.model_id, &sample.input, tokens(FEE_TOKENS), DEADLINE_SECS)
                .await?;
            gas = r.receipt.gas_used;
            sent.push(Sent {
                id: r.id,
                label: sample.label,
                sample: n % split.len(),
                at: Instant::now(),
            });
            self.say(Progress::Status(status_line(
                &*keepers,
                &sent,
                n + 1,
                total,
            )));
            if n + 1 == total / 2 {
                keepers.restart(self.config().chaos_keeper).await?;
            }
        }
        let send_secs = started.elapsed().as_secs_f64();
        let deadline = Instant::now() + self.config().timeout;
        let mut latencies = Vec::new();
        let mut output_latencies = Vec::new();
        let mut done = HashSet::new();
        loop {
            for s in &sent {
                if done.contains(&s.id) {
                    continue;
                }
                let (status, _) = client.request_view(s.id).await?;
                if matches!(
                    status,
                    RequestStatus::Quorum | RequestStatus::Finalized | RequestStatus::Disputed
                ) {
                    done.insert(s.id);
                    latencies.push(u64::try_from(s.at.elapsed().as_millis()).unwrap_or(u64::MAX));
                    // What a client waits for: the bytes, verified against the hash. A failed fetch is
                    // left to the outputs phase, which records why.
                    if client
                        .result_output(s.id, Duration::from_secs(5))
                        .await
                        .is_ok()
                    {
                        output_latencies
                            .push(u64::try_from(s.at.elapsed().as_millis()).unwrap_or(u64::MAX));
                    }
                }
            }
            self.say(Progress::Status(status_line(
                &*keepers, &sent, total, total,
            )));
            if done.len() == sent.len() || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.say(Progress::StatusDone);
        // let equivocation reports land
        tokio::time::sleep(Duration::from_secs(2)).await;
        latencies.sort_unstable();
        output_latencies.sort_unstable();
        Ok(Traffic {
            output_latencies_ms: output_latencies,
            with_result: done.len(),
            sent,
            latencies_ms: latencies,
            gas_request_inference: gas,
            started,
            send_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(upper_median(&hundred), 51);
        assert_eq!(p99(&hundred), 99);
        assert_eq!(p99(&hundred[..10]), 10);
        assert_eq!(upper_median(&[7]), 7);
        assert_eq!((upper_median(&[]), p99(&[])), (0, 0));
    }
}
