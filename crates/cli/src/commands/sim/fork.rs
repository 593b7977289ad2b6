//! `verinfer sim fork`: what-if questions against a fork of a live chain (nothing is sent), on top
//! of the simulator's fork mode (`verinfer_sim::fork::ForkSim`).

use std::path::PathBuf;

use alloy::primitives::{keccak256, Address, Bytes, Log, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::sol_types::{SolCall, SolEventInterface};
use anyhow::{anyhow, Context, Result};
use clap::{ArgGroup, Args, ValueEnum};
use verinfer_bindings::{InferenceRegistry, VerinferToken};
use verinfer_deploy::manifest::Manifest;
use verinfer_sim::fork::{ForkError, ForkSim, WhatIf};

use verinfer_bindings::types::FaultKind;
use verinfer_bindings::units::format_tokens_fixed;
use verinfer_client::governance::{self as gov, describe_call, parse_actions, parse_proposal_id};
use verinfer_client::Client;

/// Tokens with two decimals, for the aligned what-if tables.
fn tokens(wei: U256) -> String {
    format_tokens_fixed(wei, 2)
}

/// Slash fault kinds (Slasher `FaultKind` order).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SlashKind {
    /// Two conflicting attestations for one request (10% by default, immediate).
    Equivocation,
    /// A result overturned by a dispute (vetoable: executed after the veto window).
    WrongResult,
    /// An assigned request left unanswered.
    Missed,
}

impl SlashKind {
    fn fault(self) -> FaultKind {
        match self {
            Self::Equivocation => FaultKind::Equivocation,
            Self::WrongResult => FaultKind::WrongResult,
            Self::Missed => FaultKind::MissedAssignment,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Equivocation => "equivocation",
            Self::WrongResult => "wrong-result",
            Self::Missed => "missed",
        }
    }
}

/// `verinfer sim fork` arguments: exactly one question among --slash, --proposal-action,
/// --proposal and --batch.
#[derive(Args, Debug)]
#[command(group(
    ArgGroup::new("question")
        .required(true)
        .args(["slash", "proposal_actions", "proposal", "batch"])
))]
pub struct ForkArgs {
    /// JSON-RPC endpoint of the chain to fork.
    #[arg(long, env = "VERINFER_RPC_URL")]
    pub rpc_url: String,
    /// Block to fork at (default: the chain head).
    #[arg(long)]
    pub block: Option<u64>,
    /// Deployment manifest (default: deployments/<chainId>.json).
    #[arg(long, env = "VERINFER_DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
    /// What does slashing this operator do to its delegators? (requested by the Slasher's
    /// governance; vetoable kinds are executed after their veto window).
    #[arg(long, value_name = "OPERATOR")]
    pub slash: Option<String>,
    /// Fault kind of --slash.
    #[arg(long, value_enum, default_value_t = SlashKind::Equivocation)]
    pub kind: SlashKind,
    /// What does this proposal change? One action (repeat, in order), same syntax as
    /// `gov propose --action`: `<target>:<signature>[:<arg>]...` or `<target>:0x<calldata>`;
    /// executed from the timelock.
    #[arg(long = "proposal-action", value_name = "TARGET:CALL")]
    pub proposal_actions: Vec<String>,
    /// What does this existing proposal change? (actions read from its ProposalCreated event).
    #[arg(long, value_name = "ID")]
    pub proposal: Option<String>,
    /// What does a batch of N inference requests cost? (approve + N x requestInference from --from).
    #[arg(long, value_name = "N")]
    pub batch: Option<u32>,
    /// Sender of the --batch requests (must hold the fees).
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// Model of the --batch requests: `builtin` or a bytes32 model id.
    #[arg(long, default_value = "builtin")]
    pub model: String,
    /// Fee per --batch request, in tokens (`1`, `0.01`, `0.5ether`).
    #[arg(long, default_value = "1", value_parser = verinfer_bindings::units::parse_amount)]
    pub fee: U256,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

enum Question {
    Slash(Address, SlashKind),
    Proposal(Vec<gov::Action>),
    Batch { from: Address, n: u32 },
}

/// Runs `verinfer sim fork`.
pub async fn run(a: ForkArgs) -> Result<()> {
    let unreachable = |e: &dyn std::fmt::Display| ForkError::Unreachable {
        url: a.rpc_url.clone(),
        message: e.to_string(),
    };
    let (block, path) = if let (Some(b), Some(p)) = (a.block, a.deployment.clone()) {
        (b, p)
    } else {
        let url = a.rpc_url.parse().map_err(|e| ForkError::BadUrl {
            url: a.rpc_url.clone(),
            message: format!("{e}"),
        })?;
        let p = RootProvider::<alloy::network::Ethereum>::new_http(url);
        let chain_id = p.get_chain_id().await.map_err(|e| unreachable(&e))?;
        let head = p.get_block_number().await.map_err(|e| unreachable(&e))?;
        (
            a.block.unwrap_or(head),
            a.deployment
                .clone()
                .unwrap_or_else(|| Manifest::default_path(std::path::Path::new("."), chain_id)),
        )
    };
    let question = if let Some(op) = &a.slash {
        let op: Address = op
            .parse()
            .map_err(|_| anyhow!("--slash: `{op}` is not an address"))?;
        Question::Slash(op, a.kind)
    } else if let Some(n) = a.batch {
        if n == 0 {
            anyhow::bail!("--batch must be at least 1");
        }
        let from = a.from.as_deref().ok_or_else(|| {
            anyhow!("--batch needs --from <address> (the requester paying the fees)")
        })?;
        let from = from
            .parse()
            .map_err(|_| anyhow!("--from: `{from}` is not an address"))?;
        Question::Batch { from, n }
    } else {
        let actions = if let Some(id) = &a.proposal {
            let id = parse_proposal_id(id)?;
            let client = Client::read_only(&a.rpc_url, Some(&path)).await?;
            client.recover_proposal(id).await?.actions
        } else {
            parse_actions(&a.proposal_actions, &Manifest::load(&path)?, &path)?
        };
        Question::Proposal(actions)
    };
    let model = super::super::model::model_id(&a.model)?;
    let fee = a.fee;
    let url = a.rpc_url.clone();
    let json = a.json;
    let out = tokio::task::spawn_blocking(move || -> Result<String> {
        let mut fork = ForkSim::new(&url, block, &path)?;
        let header = format!(
            "fork of {url} at block {block} (suite from {})",
            path.display()
        );
        match question {
            Question::Slash(op, kind) => slash(&mut fork, &header, op, kind, json),
            Question::Proposal(actions) => proposal(&mut fork, &header, &actions, json),
            Question::Batch { from, n } => batch(&mut fork, &header, from, n, model, fee, json),
        }
    })
    .await
    .context("fork task")??;
    print!("{out}");
    Ok(())
}

fn slash(
    fork: &mut ForkSim,
    header: &str,
    op: Address,
    kind: SlashKind,
    json: bool,
) -> Result<String> {
    let (effect, impacts) = fork.what_if_slash(op, kind.fault())?;
    let before: U256 = impacts.iter().map(|i| i.before).sum();
    let after: U256 = impacts.iter().map(|i| i.after).sum();
    if json {
        return Ok(serde_json::to_string_pretty(&serde_json::json!({
            "question": "slash",
            "operator": op,
            "kind": kind.name(),
            "delegators": impacts,
            "total_before": before,
            "total_after": after,
            "effect": effect,
        }))? + "\n");
    }
    let mut s = format!(
        "{header}\nwhat-if: slash operator {op} for {}\n",
        kind.name()
    );
    if impacts.is_empty() {
        s += "  no delegators (no Delegated events for this operator)\n";
    } else {
        s += &format!(
            "  {:<42} {:>16} {:>16} {:>9}\n",
            "delegator", "before", "after", "change"
        );
        for i in &impacts {
            s += &format!(
                "  {:<42} {:>16} {:>16} {:>9}\n",
                i.account.to_string(),
                tokens(i.before),
                tokens(i.after),
                change(i.before, i.after)
            );
        }
        s += &format!(
            "  {:<42} {:>16} {:>16} {:>9}\n",
            "total",
            tokens(before),
            tokens(after),
            change(before, after)
        );
    }
    s += &summary(&effect);
    Ok(s)
}

fn proposal(
    fork: &mut ForkSim,
    header: &str,
    actions: &[gov::Action],
    json: bool,
) -> Result<String> {
    let calls: Vec<(Address, Bytes)> = actions.iter().map(|a| (a.target, a.data.clone())).collect();
    let effect = fork.what_if_proposal(None, &calls)?;
    if json {
        let events: Vec<String> = effect.logs.iter().map(describe_log).collect();
        return Ok(serde_json::to_string_pretty(&serde_json::json!({
            "question": "proposal",
            "actions": actions.iter().map(|a| serde_json::json!({"target": a.target, "data": a.data})).collect::<Vec<_>>(),
            "effect": effect,
            "events": events,
        }))? + "\n");
    }
    let mut s = format!(
        "{header}\nwhat-if: execute {} action(s) from the timelock\n",
        actions.len()
    );
    for a in actions {
        s += &format!(
            "  action  {}\n",
            describe_call(a.target, &a.data, &fork.manifest)
        );
    }
    for c in &effect.storage {
        s += &format!(
            "  storage {} slot {:#x}: {} -> {}\n",
            c.contract, c.slot, c.before, c.after
        );
    }
    for l in &effect.logs {
        s += &format!("  event   {}\n", describe_log(l));
    }
    s += &summary(&effect);
    Ok(s)
}

fn batch(
    fork: &mut ForkSim,
    header: &str,
    from: Address,
    n: u32,
    model: alloy::primitives::B256,
    fee: U256,
    json: bool,
) -> Result<String> {
    let token = fork.sim.suite.token()?;
    let registry = fork.sim.suite.get("InferenceRegistry")?;
    let approve = VerinferToken::approveCall {
        spender: registry,
        value: fee * U256::from(n),
    };
    let approve_gas = fork.batch_cost(from, &[(token, approve.abi_encode().into())])?;
    let deadline = fork.sim.timestamp() + 3_600;
    let calls: Vec<(Address, Bytes)> = (0..n)
        .map(|i| {
            let input = format!("sim fork batch request {i}");
            let call = InferenceRegistry::requestInferenceCall {
                modelId: model,
                inputHash: keccak256(input.as_bytes()),
                inputURI: verinfer_client::requests::inline_uri(input.as_bytes()),
                fee,
                deadline: alloy::primitives::Uint::from(deadline),
            };
            (registry, call.abi_encode().into())
        })
        .collect();
    let gas = fork.batch_cost(from, &calls)?;
    let per = gas / u64::from(n);
    if json {
        return Ok(serde_json::to_string_pretty(&serde_json::json!({
            "question": "batch",
            "from": from,
            "requests": n,
            "model": model,
            "approve_gas": approve_gas,
            "requests_gas": gas,
            "gas_per_request": per,
        }))? + "\n");
    }
    Ok(format!(
        "{header}\nwhat-if: {n} inference request(s) of model {model} from {from}, {} tokens each\n  approve gas       {approve_gas}\n  requests gas      {gas} ({per} per request)\n  total             {}\n",
        tokens(fee),
        approve_gas + gas
    ))
}

fn change(before: U256, after: U256) -> String {
    if before.is_zero() {
        return "-".into();
    }
    let (sign, diff) = if after >= before {
        ("+", after - before)
    } else {
        ("-", before - after)
    };
    let bps: u64 = (diff * U256::from(10_000u32) / before)
        .try_into()
        .unwrap_or(u64::MAX);
    format!("{sign}{}.{:02}%", bps / 100, bps % 100)
}

fn summary(e: &WhatIf) -> String {
    format!(
        "  gas {} | {} storage slot(s) changed | {} event(s) | nothing was sent to the chain\n",
        e.gas,
        e.storage.len(),
        e.log_count
    )
}

/// Names a log by decoding it against the suite's event sets (raw topic otherwise).
fn describe_log(l: &Log) -> String {
    use verinfer_bindings::{
        DisputeGovernor, IdentityRegistry, InferenceRegistry, Slasher, Staking, TimelockController,
        VerinferGovernor,
    };
    macro_rules! try_decode {
        ($($c:ident :: $e:ident),*) => {$(
            if let Ok(ev) = $c::$e::decode_log(l) {
                return format!("{}: {:?}", stringify!($c), ev.data);
            }
        )*};
    }
    try_decode!(
        Staking::StakingEvents,
        Slasher::SlasherEvents,
        InferenceRegistry::InferenceRegistryEvents,
        IdentityRegistry::IdentityRegistryEvents,
        DisputeGovernor::DisputeGovernorEvents,
        VerinferGovernor::VerinferGovernorEvents,
        TimelockController::TimelockControllerEvents
    );
    format!(
        "{} topic {}",
        l.address,
        l.topics()
            .first()
            .map(|t| t.to_string())
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_is_a_signed_percentage() {
        assert_eq!(change(U256::from(1000), U256::from(900)), "-10.00%");
        assert_eq!(change(U256::from(1000), U256::from(1000)), "+0.00%");
        assert_eq!(change(U256::ZERO, U256::from(1)), "-");
    }
}
