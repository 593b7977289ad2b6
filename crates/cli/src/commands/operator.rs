//! `verinfer operator`: register, stake, unstake, sync, rotate-key and serve, over
//! [`verinfer_client::staking`].

use alloy::primitives::{Address, U256};
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use verinfer_bindings::units::{format_tokens, format_tokens_fixed, parse_amount};

use super::model::model_id;
use crate::args::ChainArgs;
use crate::output::{addr, addrs, amount, receipt, OutputArgs};

/// Operator management: register, stake, unstake, sync, rotate-key, set-endpoint, serve.
///
/// Example: verinfer operator register --rpc-url http://127.0.0.1:8545 --signer 0xabc... --stake 5000
#[derive(Subcommand, Debug)]
pub enum OperatorCommand {
    /// Register the sender as an operator with a hot signer key and a self-stake (approves the token).
    ///
    /// Example: verinfer operator register --signer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --stake 5000
    Register {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        out: OutputArgs,
        /// Hot key address that signs attestations.
        #[arg(long)]
        signer: String,
        /// Self-stake in tokens: a decimal (`5000`, `1500.5`) or with a unit (`5000ether`).
        #[arg(long, value_parser = parse_amount)]
        stake: U256,
    },
    /// Delegate (or add self-stake) to an operator.
    ///
    /// Example: verinfer operator stake --operator 0xabc... --amount 100
    Stake {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        out: OutputArgs,
        /// Operator address.
        #[arg(long)]
        operator: String,
        /// Amount in tokens: a decimal (`100`, `0.5`) or with a unit (`100ether`).
        #[arg(long, value_parser = parse_amount)]
        amount: U256,
    },
    /// Queue an unstake of shares from an operator.
    ///
    /// Example: verinfer operator unstake --operator 0xabc... --shares 1000000000000000000
    Unstake {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        out: OutputArgs,
        /// Operator address.
        #[arg(long)]
        operator: String,
        /// Shares (raw units).
        #[arg(long)]
        shares: String,
    },
    /// Re-record the stake of an operator's delegators (and its own) after a slash, with the
    /// permissionless `Staking.syncStake`: until then their governance voice still counts the
    /// slashed tokens. Only accounts whose recorded stake differs from their current value are sent.
    ///
    /// Example: verinfer operator sync --operator 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --dry-run
    Sync(SyncArgs),
    /// Start a rotation of the sender's operator hot key.
    ///
    /// Example: verinfer operator rotate-key --new-signer 0xdef...
    RotateKey {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        out: OutputArgs,
        /// New hot key address.
        #[arg(long)]
        new_signer: String,
    },
    /// Publish where the sender's operator serves outputs (`GET <url>/v1/outputs/<outputHash>`, the
    /// keeper's `outputs_addr`), so clients can fetch the bytes behind its attested hashes.
    ///
    /// Example: verinfer operator set-endpoint --url https://op.example.org
    SetEndpoint {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        out: OutputArgs,
        /// Public base URL of the keeper's outputs API.
        #[arg(long)]
        url: String,
    },
    /// Opt the sender's operator in to serve a model (default: the built-in model).
    ///
    /// Example: verinfer operator serve --model builtin
    Serve {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        out: OutputArgs,
        /// `builtin` or a bytes32 model id.
        #[arg(long, default_value = "builtin")]
        model: String,
    },
}

/// `operator sync`.
#[derive(Args, Debug)]
pub struct SyncArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Operator address.
    #[arg(long)]
    operator: String,
    /// Only list the stale records, send nothing.
    #[arg(long)]
    dry_run: bool,
}

fn parse_addr(flag: &str, s: &str) -> Result<Address> {
    s.parse()
        .map_err(|_| anyhow!("--{flag}: `{s}` is not an address"))
}

impl OperatorCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        match self {
            Self::Register {
                chain,
                out,
                signer,
                stake,
            } => {
                let signer = parse_addr("signer", &signer)?;
                let client = chain.connect().await?;
                let r = client.register_operator(signer, stake).await?;
                out.line(format!(
                    "registered operator {} with signer {signer} and {} tokens (tx {}, gas {})",
                    client.sender(),
                    format_tokens(stake),
                    r.transaction_hash,
                    r.gas_used
                ));
                out.result(&json!({
                    "operator": addr(client.sender()),
                    "signer": addr(signer),
                    "stake": amount(stake),
                    "receipt": receipt(&r),
                }));
            }
            Self::Stake {
                chain,
                out,
                operator,
                amount: value,
            } => {
                let operator = parse_addr("operator", &operator)?;
                let client = chain.connect().await?;
                let r = client.delegate(operator, value).await?;
                out.line(format!(
                    "delegated {} tokens to {operator} (tx {})",
                    format_tokens(value),
                    r.transaction_hash
                ));
                out.result(&json!({
                    "delegator": addr(client.sender()),
                    "operator": addr(operator),
                    "amount": amount(value),
                    "receipt": receipt(&r),
                }));
            }
            Self::Unstake {
                chain,
                out,
                operator,
                shares,
            } => {
                let operator = parse_addr("operator", &operator)?;
                let shares: U256 = shares
                    .parse()
                    .map_err(|_| anyhow!("--shares: `{shares}` is not an integer"))?;
                let client = chain.connect().await?;
                let r = client.request_unstake(operator, shares).await?;
                out.line(format!(
                    "unstake queued (tx {}); complete it after the unbonding delay",
                    r.transaction_hash
                ));
                out.result(&json!({
                    "delegator": addr(client.sender()),
                    "operator": addr(operator),
                    "shares": shares.to_string(),
                    "receipt": receipt(&r),
                }));
            }
            Self::Sync(a) => sync(a).await?,
            Self::RotateKey {
                chain,
                out,
                new_signer,
            } => {
                let new_signer = parse_addr("new-signer", &new_signer)?;
                let client = chain.connect().await?;
                let r = client.rotate_signer(new_signer).await?;
                out.line(format!(
                    "signer rotation to {new_signer} requested (tx {}); it activates after the rotation delay",
                    r.transaction_hash
                ));
                out.result(&json!({
                    "operator": addr(client.sender()),
                    "newSigner": addr(new_signer),
                    "receipt": receipt(&r),
                }));
            }
            Self::SetEndpoint { chain, out, url } => {
                let client = chain.connect().await?;
                let r = client.set_endpoint(&url).await?;
                out.line(format!(
                    "operator {} serves outputs at {url} (tx {})",
                    client.sender(),
                    r.transaction_hash
                ));
                out.result(&json!({
                    "operator": addr(client.sender()),
                    "endpoint": url,
                    "receipt": receipt(&r),
                }));
            }
            Self::Serve { chain, out, model } => {
                let id = model_id(&model)?;
                let client = chain.connect().await?;
                let r = client.serve_model(id).await?;
                out.line(format!("now serving {id} (tx {})", r.transaction_hash));
                out.result(&json!({
                    "operator": addr(client.sender()),
                    "model": id,
                    "receipt": receipt(&r),
                }));
            }
        }
        Ok(())
    }
}

async fn sync(a: SyncArgs) -> Result<()> {
    let out = a.out;
    let operator = parse_addr("operator", &a.operator)?;
    let client = a.chain.connect().await?;
    let report = client.sync_stake(operator, a.dry_run).await?;
    for x in &report.stale {
        out.line(format!(
            "{} recorded {} -> current {} tokens{}",
            x.account,
            format_tokens_fixed(x.recorded, 2),
            format_tokens_fixed(x.current, 2),
            if a.dry_run { " (not sent)" } else { "" }
        ));
    }
    out.line(format!(
        "{} accounts of {operator} checked, {} stale{}",
        report.checked.len(),
        report.stale.len(),
        if a.dry_run { "" } else { ", re-recorded" }
    ));
    out.result(&json!({
        "operator": addr(operator),
        "dryRun": a.dry_run,
        "checked": addrs(&report.checked),
        "stale": report.stale.iter().map(|x| json!({
            "account": addr(x.account),
            "recorded": amount(x.recorded),
            "current": amount(x.current),
        })).collect::<Vec<_>>(),
    }));
    Ok(())
}
