//! Staking from the client's side: register an operator, delegate, unstake, rotate the hot key, serve
//! a model, and re-record stale stake after a slash.

use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::TransactionReceipt;
use verinfer_bindings::{InferenceRegistry, Staking};

use crate::client::Client;
use crate::error::ClientError;
use crate::logs::delegators_of;

/// A delegation whose recorded stake (what governance voice is computed from) differs from its
/// current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleStake {
    /// The delegator (or the operator's own account).
    pub account: Address,
    /// `Staking.recordedStake(account, operator)`.
    pub recorded: U256,
    /// The value of its shares now (`previewAssets(sharesOf)`).
    pub current: U256,
}

/// What [`Client::sync_stake`] found.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// Every account checked (the operator's delegators and the operator itself).
    pub checked: Vec<Address>,
    /// The stale ones (re-recorded unless it was a dry run).
    pub stale: Vec<StaleStake>,
}

impl Client {
    /// Registers the sender as an operator with hot key `signer` and `self_stake`.
    pub async fn register_operator(
        &self,
        signer: Address,
        self_stake: U256,
    ) -> Result<TransactionReceipt, ClientError> {
        let staking = self.contract("Staking")?;
        self.send_with_allowance(
            "registerOperator",
            staking,
            &Staking::registerOperatorCall {
                signer,
                selfStake: self_stake,
            },
            staking,
            self_stake,
        )
        .await
    }

    /// Delegates `assets` to `operator` (approving them first when needed, after a simulation:
    /// [`Client::send_with_allowance`]).
    pub async fn delegate(
        &self,
        operator: Address,
        assets: U256,
    ) -> Result<TransactionReceipt, ClientError> {
        let staking = self.contract("Staking")?;
        self.send_with_allowance(
            "delegate",
            staking,
            &Staking::delegateCall { operator, assets },
            staking,
            assets,
        )
        .await
    }

    /// Queues an unstake of `shares` from `operator`.
    pub async fn request_unstake(
        &self,
        operator: Address,
        shares: U256,
    ) -> Result<TransactionReceipt, ClientError> {
        let staking = self.contract("Staking")?;
        self.send(
            "requestUnstake",
            staking,
            &Staking::requestUnstakeCall { operator, shares },
        )
        .await
    }

    /// Starts a rotation of the sender's operator hot key to `new_signer`.
    pub async fn rotate_signer(
        &self,
        new_signer: Address,
    ) -> Result<TransactionReceipt, ClientError> {
        let staking = self.contract("Staking")?;
        self.send(
            "rotateSigner",
            staking,
            &Staking::rotateSignerCall {
                newSigner: new_signer,
            },
        )
        .await
    }

    /// Opts the sender's operator in to serve `model`.
    pub async fn serve_model(&self, model: B256) -> Result<TransactionReceipt, ClientError> {
        let registry = self.contract("InferenceRegistry")?;
        self.send(
            "serveModel",
            registry,
            &InferenceRegistry::serveModelCall { modelId: model },
        )
        .await
    }

    /// Finds every account that delegated to `operator` since the deployment block (plus the operator
    /// itself) whose recorded stake is stale and, unless `dry_run`, re-records each with the
    /// permissionless `Staking.syncStake`.
    pub async fn sync_stake(
        &self,
        operator: Address,
        dry_run: bool,
    ) -> Result<SyncReport, ClientError> {
        use alloy::providers::Provider;
        let staking = self.contract("Staking")?;
        let head = self
            .provider()
            .get_block_number()
            .await
            .map_err(ClientError::rpc("reading the head block"))?;
        let mut checked = delegators_of(
            self.provider(),
            staking,
            operator,
            self.manifest().block,
            head,
        )
        .await
        .map_err(ClientError::rpc(format!(
            "reading Delegated events of {operator}"
        )))?;
        if !checked.contains(&operator) {
            checked.push(operator);
        }
        let st = Staking::new(staking, self.provider());
        let mut stale = Vec::new();
        for account in &checked {
            let what = || format!("reading the stake of {account} with {operator}");
            let shares = st
                .sharesOf(operator, *account)
                .call()
                .await
                .map_err(ClientError::view(what()))?;
            let current = st
                .previewAssets(operator, shares)
                .call()
                .await
                .map_err(ClientError::view(what()))?;
            let recorded = st
                .recordedStake(*account, operator)
                .call()
                .await
                .map_err(ClientError::view(what()))?;
            if current == recorded {
                continue;
            }
            stale.push(StaleStake {
                account: *account,
                recorded,
                current,
            });
            if !dry_run {
                self.send(
                    "syncStake",
                    staking,
                    &Staking::syncStakeCall {
                        account: *account,
                        operator,
                    },
                )
                .await?;
            }
        }
        Ok(SyncReport { checked, stale })
    }
}
