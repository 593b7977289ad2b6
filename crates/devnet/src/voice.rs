//! Phase 8, stake records and voice: slashes leave delegators' recorded stake (their governance
//! voice) stale until someone calls the permissionless `Staking.syncStake`. The phase re-records it
//! for every operator's accounts, checks that a second pass finds nothing stale, and reads each
//! account's voice from `QuadraticVotes`.

use alloy::primitives::{Address, U256};
use verinfer_bindings::QuadraticVotes;

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::operators::Operator;

/// What the re-sync found and the voice it left.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Voice {
    /// Every staking account (the operators and their delegators), sorted.
    pub accounts: Vec<Address>,
    /// `QuadraticVotes.getVotes` of each account, in `accounts` order.
    pub votes: Vec<U256>,
    /// Stale stake records re-recorded.
    pub resynced: usize,
    /// Stale records a second, dry-run pass found (0 when the sync worked).
    pub stale_after: usize,
}

impl Voice {
    /// The votes as `f64`, for the concentration metrics.
    pub fn votes_f64(&self) -> Vec<f64> {
        self.votes
            .iter()
            .map(|v| v.saturating_to::<u128>() as f64)
            .collect()
    }
}

impl Devnet {
    /// `syncStake` for every stale record of every operator's accounts, a dry-run second pass, and
    /// the voice of every account.
    pub async fn resync_stake(
        &self,
        d: &Deployment,
        operators: &[Operator],
    ) -> Result<Voice, DevnetError> {
        let mut accounts = Vec::new();
        let mut resynced = 0;
        for op in operators {
            let r = d.deployer.sync_stake(op.address(), false).await?;
            accounts.extend(r.checked);
            resynced += r.stale.len();
        }
        let mut stale_after = 0;
        for op in operators {
            stale_after += d.deployer.sync_stake(op.address(), true).await?.stale.len();
        }
        accounts.sort();
        accounts.dedup();
        let qv = QuadraticVotes::new(d.contract("QuadraticVotes")?, self.provider());
        let mut votes = Vec::with_capacity(accounts.len());
        for a in &accounts {
            votes.push(
                qv.getVotes(*a)
                    .call()
                    .await
                    .map_err(DevnetError::view("getVotes"))?,
            );
        }
        self.say(Progress::Phase(format!(
            "syncStake: {resynced} stale stake records re-recorded; voice read from QuadraticVotes for {} accounts",
            accounts.len()
        )));
        Ok(Voice {
            accounts,
            votes,
            resynced,
            stale_after,
        })
    }
}
