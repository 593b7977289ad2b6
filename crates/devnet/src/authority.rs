//! The devnet run's authority ledger ([`verinfer_authority`]), from the chain's logs: every
//! decision of the run (deployment included), how and by whom it was decided.

use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use verinfer_authority::{AuthorityLedger, ChainLog, LedgerContext};
use verinfer_bindings::{DisputeGovernor, VerinferGovernor};

use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;

impl Devnet {
    /// The authority ledger of the chain so far: `eth_getLogs` over the suite's contracts from
    /// block 0, the senders of the admin-or-timelock decisions' transactions, each dispute
    /// vote's quorum read from the `DisputeGovernor`, and each executed proposal's base quorum and
    /// residual K read from the `VerinferGovernor` (`quorum(proposalSnapshot)`, `residualForVotes`). One epoch (the devnet has no epoch clock).
    pub async fn authority_ledger(&self, d: &Deployment) -> Result<AuthorityLedger, DevnetError> {
        let provider = self.provider();
        let topics: Vec<_> = verinfer_authority::build::relevant_topics()
            .into_iter()
            .collect();
        let filter = Filter::new()
            .address(d.manifest.contracts.values().copied().collect::<Vec<_>>())
            .event_signature(topics)
            .from_block(0);
        let raw = provider.get_logs(&filter).await.map_err(DevnetError::rpc(
            "reading the suite's events for the authority ledger",
        ))?;
        let mut logs: Vec<ChainLog> = raw.iter().filter_map(ChainLog::from_rpc).collect();
        let need = verinfer_authority::build::txs_needing_sender(&logs);
        for tx in need {
            let from = provider
                .get_transaction_receipt(tx)
                .await
                .map_err(DevnetError::rpc("reading a decision's transaction receipt"))?
                .map(|r| r.from);
            for l in logs.iter_mut().filter(|l| l.tx == tx) {
                l.sender = from;
            }
        }
        let gov_address = d.contract("DisputeGovernor")?;
        let gov = DisputeGovernor::new(gov_address, provider);
        let quorum_bps = gov
            .quorumBps()
            .call()
            .await
            .map_err(DevnetError::view("DisputeGovernor.quorumBps"))?;
        let mut ctx = LedgerContext {
            timelock: d.contract("TimelockController").ok(),
            ..LedgerContext::default()
        };
        for l in &logs {
            let Ok(e) = DisputeGovernor::DisputeRuled::decode_log(&l.log) else {
                continue;
            };
            let total = gov
                .dispute(e.disputeId)
                .call()
                .await
                .map_err(DevnetError::view("DisputeGovernor.dispute"))?
                .totalVoice;
            let q = U256::from(total) * U256::from(quorum_bps) / U256::from(10_000u64);
            ctx.quorums.insert((gov_address, e.disputeId), q);
        }
        // Executed proposals: the base quorum and the K the governor applied, read per proposal.
        for (governor, id) in verinfer_authority::build::proposals_to_read(&logs) {
            let g = VerinferGovernor::new(governor, provider);
            let snapshot = g
                .proposalSnapshot(id)
                .call()
                .await
                .map_err(DevnetError::view("VerinferGovernor.proposalSnapshot"))?;
            let base = g
                .quorum(snapshot)
                .call()
                .await
                .map_err(DevnetError::view("VerinferGovernor.quorum"))?;
            let k = g
                .residualForVotes(id)
                .call()
                .await
                .map_err(DevnetError::view("VerinferGovernor.residualForVotes"))?
                .k;
            ctx.quorums.insert((governor, id), base);
            ctx.residual_ks.insert((governor, id), k.saturating_to());
        }
        Ok(AuthorityLedger::build(&logs, &ctx))
    }
}
