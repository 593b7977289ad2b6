//! Phase 5b, outputs in the client's hands: for every request with a result, a client fetches the
//! bytes behind its output hash — from the chain if published, else from the answering operators'
//! keepers at their published endpoints — and checks them against the hash.

use std::time::{Duration, Instant};

use verinfer_client::outputs::OutputSource;
use verinfer_client::Client;

use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::traffic::Traffic;

/// What the clients got.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// Requests whose output was fetched and verified against its output hash.
    pub verified: usize,
    /// Requests tried (those with a result).
    pub of: usize,
    /// Of the verified, served by a keeper.
    pub from_keepers: usize,
    /// Of the verified, read from the chain (`OutputDelivered`).
    pub from_chain: usize,
    /// Result -> verified bytes fetch time of each, milliseconds, ascending.
    pub fetch_ms: Vec<u64>,
    /// Why each failed fetch failed (request id, error).
    pub failures: Vec<(String, String)>,
}

impl Devnet {
    /// Fetches and verifies the output of every request of `traffic` that has a result.
    pub async fn fetch_outputs(
        &self,
        d: &Deployment,
        traffic: &Traffic,
    ) -> Result<Outputs, DevnetError> {
        let client = Client::read_only(self.url(), Some(&d.manifest_path)).await?;
        let mut out = Outputs::default();
        for sent in &traffic.sent {
            let (status, view) = client.request_view(sent.id).await?;
            if !verinfer_bindings::is_concrete_output(view.output) {
                continue;
            }
            out.of += 1;
            let started = Instant::now();
            match client.result_output(sent.id, Duration::from_secs(5)).await {
                Ok(got) => {
                    out.fetch_ms.push(started.elapsed().as_millis() as u64);
                    out.verified += 1;
                    match got.source {
                        OutputSource::Chain { .. } => out.from_chain += 1,
                        OutputSource::Keeper { .. } => out.from_keepers += 1,
                    }
                }
                Err(e) => out
                    .failures
                    .push((format!("{} ({status})", sent.id), e.to_string())),
            }
        }
        out.fetch_ms.sort_unstable();
        Ok(out)
    }
}
