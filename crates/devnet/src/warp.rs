//! Phase 6, time warp: the chain's clock moves past every deadline and challenge window (through
//! anvil's `evm_increaseTime` and `evm_mine`), so the keepers finalize results and report missed
//! assignments; the phase waits until every request is finalized or expired.

use std::time::{Duration, Instant};

use alloy::providers::ext::AnvilApi;
use verinfer_bindings::types::RequestStatus;

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::traffic::Traffic;

/// Seconds warped past the challenge window (beyond the requests' 300 s deadline too).
pub const PAST_WINDOW_SECS: u64 = 400;

/// How the warp ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finalization {
    /// Requests finalized or expired when the wait ended.
    pub settled: usize,
    /// Requests sent.
    pub of: usize,
}

impl Devnet {
    /// Moves the chain's clock `secs` forward and mines a block with the new time.
    pub async fn warp(&self, secs: u64) -> Result<(), DevnetError> {
        self.provider()
            .anvil_increase_time(secs)
            .await
            .map_err(DevnetError::rpc("evm_increaseTime"))?;
        self.provider()
            .evm_mine(None)
            .await
            .map_err(DevnetError::rpc("evm_mine"))?;
        Ok(())
    }

    /// The timestamp of the latest block.
    pub async fn chain_time(&self) -> Result<u64, DevnetError> {
        use alloy::providers::Provider;
        let block = self
            .provider()
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(DevnetError::rpc("reading the latest block"))?;
        Ok(block.map(|b| b.header.timestamp).unwrap_or_default())
    }

    /// Warps past the model's challenge window and waits (at most
    /// [`DevnetConfig::finalize_timeout`](crate::DevnetConfig::finalize_timeout)) until every request
    /// of `traffic` is finalized or expired; then gives the keepers 2 s more.
    pub async fn warp_past_windows(
        &self,
        d: &Deployment,
        traffic: &Traffic,
    ) -> Result<Finalization, DevnetError> {
        self.say(Progress::Phase(
            "warping time past deadlines and challenge windows (finalizers + missed reports)"
                .into(),
        ));
        self.warp(u64::from(self.config().model.challenge_window) + PAST_WINDOW_SECS)
            .await?;
        let deadline = Instant::now() + self.config().finalize_timeout;
        let of = traffic.sent.len();
        let settled = loop {
            let mut settled = 0;
            for s in &traffic.sent {
                let (status, _) = d.deployer.request_view(s.id).await?;
                if matches!(status, RequestStatus::Finalized | RequestStatus::Expired) {
                    settled += 1;
                }
            }
            self.say(Progress::Status(format!("finalized {settled}/{of}")));
            if settled == of || Instant::now() > deadline {
                break settled;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        self.say(Progress::StatusDone);
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(Finalization { settled, of })
    }
}
