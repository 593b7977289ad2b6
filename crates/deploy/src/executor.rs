//! Executes a [`DeployPlan`] over JSON-RPC (anvil, a testnet) and produces the [`Manifest`].
//!
//! The provider must be able to send from `plan.deployer`: a wallet-filled provider, or a node
//! with the account unlocked/impersonated (anvil's dev accounts).

use alloy::{
    network::{Ethereum, TransactionBuilder},
    primitives::Address,
    providers::Provider,
    rpc::types::TransactionRequest,
};

use crate::{
    manifest::Manifest,
    plan::{DeployPlan, StepKind},
};

/// A deployment step failed on the chain.
#[derive(Debug, thiserror::Error)]
pub enum RpcDeployError {
    /// The node refused or failed the request.
    #[error("deployment step `{step}`: RPC error: {message}")]
    Rpc {
        /// Plan step label.
        step: String,
        /// Transport/node message.
        message: String,
    },
    /// The transaction was mined but reverted, or created another address than planned.
    #[error("deployment step `{step}`: {message}")]
    Failed {
        /// Plan step label.
        step: String,
        /// What happened.
        message: String,
    },
    /// The deployer's nonce is not the one the plan was made for.
    #[error("deployer {deployer} has nonce {actual}, the plan starts at {planned}: re-plan with the current nonce")]
    Nonce {
        /// The deployer.
        deployer: Address,
        /// Its nonce on chain.
        actual: u64,
        /// The plan's start nonce.
        planned: u64,
    },
}

/// Sends every step of `plan` in order, waits for each receipt, checks created addresses and
/// returns the manifest (chain id from the node, block of the last step).
pub async fn deploy_over_rpc<P: Provider<Ethereum>>(
    provider: &P,
    plan: &DeployPlan,
) -> Result<Manifest, RpcDeployError> {
    let rpc = |step: &str, e: &dyn std::fmt::Display| RpcDeployError::Rpc {
        step: step.to_owned(),
        message: e.to_string(),
    };
    let nonce = provider
        .get_transaction_count(plan.deployer)
        .await
        .map_err(|e| rpc("nonce", &e))?;
    if nonce != plan.start_nonce {
        return Err(RpcDeployError::Nonce {
            deployer: plan.deployer,
            actual: nonce,
            planned: plan.start_nonce,
        });
    }
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| rpc("chainId", &e))?;
    let mut block = 0;
    for (i, step) in plan.steps.iter().enumerate() {
        let (to, data) = step.tx();
        let mut tx = TransactionRequest::default()
            .with_from(plan.deployer)
            .with_input(data.clone())
            .with_nonce(plan.start_nonce + i as u64);
        tx = match to {
            Some(to) => tx.with_to(to),
            None => tx.into_create(),
        };
        let receipt = provider
            .send_transaction(tx)
            .await
            .map_err(|e| rpc(&step.label, &e))?
            .get_receipt()
            .await
            .map_err(|e| rpc(&step.label, &e))?;
        if !receipt.status() {
            return Err(RpcDeployError::Failed {
                step: step.label.clone(),
                message: format!("reverted in tx {}", receipt.transaction_hash),
            });
        }
        if let StepKind::Create { address, .. } = &step.kind {
            if receipt.contract_address != Some(*address) {
                return Err(RpcDeployError::Failed {
                    step: step.label.clone(),
                    message: format!("created {:?}, planned {address}", receipt.contract_address),
                });
            }
        }
        block = receipt.block_number.unwrap_or(block);
    }
    Ok(Manifest {
        chain_id,
        block,
        contracts: plan.addresses.clone(),
    })
}
