//! `verinfer deploy`: deploys the suite with the plan of `verinfer-deploy` (resuming an interrupted
//! deployment from its journal), prices it with `--dry-run`, and `verinfer deploy verify` compares a
//! deployed suite with its manifest. See docs/deploy.md.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{utils::format_ether, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use verinfer_client::rpc::{http_client, RetryConfig};
use verinfer_deploy::{
    executor::{estimate, resume_nonce, DeployOptions, Executor},
    inspect,
    journal::Journal,
    manifest::Manifest,
    plan::{DeployParams, DeployPlan},
    verification::forge_verify_command,
};

use crate::args::{ChainArgs, RpcArgs};
use crate::output::{addr, contracts, native, OutputArgs};

/// Deploy the suite to any RPC and write deployments/<chainId>.json. Every admin role then goes to
/// the timelock (governance) and the deployer renounces its own, unless --keep-admin. An
/// interrupted deployment (deployments/<chainId>.partial.json) is resumed where it stopped.
///
/// Examples:
///   verinfer deploy --rpc-url $RPC --keystore key.json --dry-run
///   verinfer deploy --rpc-url $RPC --keystore key.json --confirmations 2
///   verinfer deploy verify --rpc-url $RPC --forge-commands
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DeployCommand {
    #[command(subcommand)]
    cmd: Option<DeploySubcommand>,
    #[command(flatten)]
    chain: ChainArgs,
    /// Confirmations to wait for (1 = included in a block).
    #[arg(long, default_value_t = 1)]
    confirmations: u64,
    /// Wait for --confirmations only after the last step (every step still waits to be included).
    #[arg(long)]
    confirm_at_end: bool,
    /// Seconds to wait for each step's confirmations before giving up (the deployment resumes).
    #[arg(long, default_value_t = 300)]
    step_timeout: u64,
    /// Directory to write deployments/<chainId>.json (and the resume journal) into.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Keep the deployer as admin of every contract (local development; the devnet does this).
    /// Default: hand every admin role to the timelock, as script/DeploySuite.sol does.
    #[arg(long)]
    keep_admin: bool,
    /// The governor's residual rule: a proposal passes only if its for side still reaches quorum
    /// without its K largest voices (0 = off, at most 15). Default 10, or 0 with --keep-admin. A
    /// proposal applies at most a third of the voices at its snapshot, so a young network can still
    /// pass proposals (docs/governance.md, "Residual quorum").
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=15))]
    residual_k: Option<u8>,
    /// Create every contract with CREATE2 through 0x4e59b44847b379578588920ca78fbf26c0b4956c under
    /// this 32-byte salt (0x + 64 hex digits): the same deployer and salt give the same addresses on
    /// every chain, whatever the deployer's nonce.
    #[arg(long, value_parser = parse_salt)]
    salt: Option<B256>,
    /// Print the plan with each step's gas and cost at current fees (executed with eth_simulateV1),
    /// and send nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Subcommand, Debug)]
enum DeploySubcommand {
    /// Compare the chain with the manifest: code (replayed creation, immutables included), roles,
    /// sinks, wiring and parameters. Exits non-zero on any mismatch.
    ///
    /// Example: verinfer deploy verify --rpc-url $RPC --forge-commands
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
struct VerifyArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Also print the `forge verify-contract` command of each contract (block-explorer verification).
    #[arg(long)]
    forge_commands: bool,
}

fn parse_salt(s: &str) -> Result<B256, String> {
    s.parse::<B256>()
        .map_err(|_| format!("`{s}` is not a 32-byte hex salt (0x followed by 64 hex digits)"))
}

impl DeployCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        if let Some(DeploySubcommand::Verify(v)) = &self.cmd {
            return verify(v, self.out).await;
        }
        let key = self.chain.key.load()?;
        let url = &self.chain.rpc.url();
        let provider: DynProvider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(key.signer().clone()))
            .connect_client(http_client(
                url.parse()
                    .with_context(|| format!("invalid --rpc-url `{url}`"))?,
                RetryConfig::default(),
            ))
            .erased();
        let chain_id = provider
            .get_chain_id()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        self.chain.rpc.check_chain(chain_id)?;
        let mut params = if self.keep_admin {
            DeployParams::local(key.address())
        } else {
            DeployParams::production(key.address())
        };
        params.salt = self.salt;
        if let Some(k) = self.residual_k {
            params.residual_k = k;
        }

        if self.dry_run {
            let nonce = provider.get_transaction_count(key.address()).await?;
            let plan = DeployPlan::new(&params, nonce);
            return dry_run(&provider, &plan, chain_id, self.out).await;
        }

        let journal = Journal::path(&self.root, chain_id);
        let resumed = resume_nonce(&self.root, chain_id)?;
        let start = match resumed {
            Some(n) => n,
            None => {
                provider
                    .get_transaction_count(key.address())
                    .pending()
                    .await?
            }
        };
        let plan = DeployPlan::new(&params, start);
        let out = self.out;
        if resumed.is_some() {
            let done = Journal::load(&journal)?.map_or(0, |j| j.steps.len());
            out.line(format!(
                "resuming the deployment in {} ({done} of {} steps sent)",
                journal.display(),
                plan.steps.len()
            ));
        }
        let started = Instant::now();
        let opts = DeployOptions {
            confirmations: self.confirmations,
            confirm_each_step: !self.confirm_at_end,
            poll_interval: Duration::from_millis(250),
            step_timeout: Duration::from_secs(self.step_timeout),
            root: Some(self.root.clone()),
            ..DeployOptions::default()
        };
        let deployed = Executor::new(&provider, opts).deploy(&plan).await?;
        for s in &deployed.steps {
            let note = if s.resumed { " (resumed)" } else { "" };
            out.line(format!("{:<48} gas {}{note}", s.label, s.gas_used));
        }
        for (name, a) in &deployed.manifest.contracts {
            out.line(format!("{name:<24} {a}"));
        }
        let admin = if self.keep_admin {
            key.address()
        } else {
            plan.address("TimelockController").unwrap_or_default()
        };
        out.line(if self.keep_admin {
            format!("admin                    the deployer {admin} (--keep-admin)")
        } else {
            format!(
                "admin                    the timelock {admin} (the deployer renounced every role)"
            )
        });
        if let Some(salt) = self.salt {
            out.line(format!("create2 salt             {salt}"));
        }
        let seconds = started.elapsed().as_secs_f64();
        out.line(format!(
            "deployed in {seconds:.1} s ({} confirmation(s){})",
            self.confirmations.max(1),
            if self.confirm_at_end {
                " at the end"
            } else {
                " per step"
            }
        ));
        let path = deployed
            .manifest_path
            .unwrap_or_else(|| Manifest::default_path(&self.root, chain_id));
        out.line(format!("manifest written to {}", path.display()));
        out.result(&json!({
            "chainId": chain_id,
            "deployer": addr(key.address()),
            "admin": addr(admin),
            "keepAdmin": self.keep_admin,
            "resumedFromJournal": resumed.is_some(),
            "salt": self.salt,
            "contracts": contracts(&deployed.manifest.contracts),
            "steps": deployed.steps.iter().map(|s| json!({
                "label": s.label,
                "gasUsed": s.gas_used,
                "resumed": s.resumed,
            })).collect::<Vec<_>>(),
            "confirmations": self.confirmations.max(1),
            "seconds": seconds,
            "manifest": path,
        }));
        Ok(())
    }
}

async fn dry_run(
    provider: &DynProvider,
    plan: &DeployPlan,
    chain_id: u64,
    out: OutputArgs,
) -> Result<()> {
    let e = estimate(provider, plan).await?;
    out.line(format!(
        "dry run on chain {chain_id}: {} steps from {} (nonce {}), nothing is sent",
        plan.steps.len(),
        plan.deployer,
        plan.start_nonce
    ));
    let price = e.base_fee + e.max_priority_fee_per_gas;
    let mut steps = Vec::with_capacity(e.steps.len());
    for s in &e.steps {
        let cost = U256::from(s.gas) * U256::from(price);
        out.line(format!(
            "{:<48} gas {:>9}  cost {} ETH",
            s.label,
            s.gas,
            format_ether(cost)
        ));
        steps.push(json!({"label": s.label, "gas": s.gas, "cost": native(cost)}));
    }
    let enough = e.balance >= e.max_cost();
    out.line(format!(
        "total                                            gas {:>9}  cost {} ETH at base fee {} + tip {} wei/gas",
        e.total_gas,
        format_ether(e.expected_cost()),
        e.base_fee,
        e.max_priority_fee_per_gas
    ));
    out.line(format!(
        "at the suggested max fee ({} wei/gas): {} ETH; deployer balance {} ETH{}",
        e.max_fee_per_gas,
        format_ether(e.max_cost()),
        format_ether(e.balance),
        if enough {
            ""
        } else {
            " (NOT enough: fund it before deploying)"
        }
    ));
    for (name, a) in &plan.addresses {
        out.line(format!("{name:<24} {a}"));
    }
    out.result(&json!({
        "chainId": chain_id,
        "dryRun": true,
        "deployer": addr(plan.deployer),
        "startNonce": plan.start_nonce,
        "steps": steps,
        "totalGas": e.total_gas,
        "baseFeeWei": e.base_fee.to_string(),
        "priorityFeeWei": e.max_priority_fee_per_gas.to_string(),
        "maxFeeWei": e.max_fee_per_gas.to_string(),
        "expectedCost": native(e.expected_cost()),
        "maxCost": native(e.max_cost()),
        "balance": native(e.balance),
        "enoughBalance": enough,
        "contracts": contracts(&plan.addresses),
    }));
    Ok(())
}

async fn verify(v: &VerifyArgs, out: OutputArgs) -> Result<()> {
    let url = &v.rpc.url();
    let provider = ProviderBuilder::new().connect_client(http_client(
        url.parse()
            .with_context(|| format!("invalid --rpc-url `{url}`"))?,
        RetryConfig::default(),
    ));
    let chain_id = provider
        .get_chain_id()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    v.rpc.check_chain(chain_id)?;
    let path = v
        .rpc
        .deployment
        .clone()
        .unwrap_or_else(|| Manifest::default_path(std::path::Path::new("."), chain_id));
    let manifest = Manifest::load(&path)?;
    let checks = inspect::check(&provider, &manifest).await?;
    let failed: Vec<_> = checks.iter().filter(|c| !c.passed()).collect();
    for c in &checks {
        if c.passed() {
            out.line(format!("pass  {}: {}", c.name, c.actual));
        } else {
            out.line(format!(
                "FAIL  {}: manifest says {}, chain says {}",
                c.name, c.expected, c.actual
            ));
        }
    }
    if manifest.deployment.is_none() {
        out.line(format!(
            "note: {} has no deployment record (older manifest or script/Deploy.s.sol): checked code and wiring only",
            path.display()
        ));
    }
    let mut forge_commands = Vec::new();
    if v.forge_commands {
        match &manifest.deployment {
            Some(d) => {
                out.line("\n# block-explorer verification (run from the repository root, ETHERSCAN_API_KEY set):");
                for (name, rec) in &d.verification {
                    if let Some(at) = manifest.contracts.get(name) {
                        let cmd = forge_verify_command(manifest.chain_id, *at, rec, &d.compiler);
                        out.line(&cmd);
                        forge_commands.push(cmd);
                    }
                }
            }
            None => out.line(format!(
                "no verification metadata in {}: redeploy with verinfer deploy",
                path.display()
            )),
        }
    }
    out.line(format!(
        "{} checks, {} failed ({})",
        checks.len(),
        failed.len(),
        path.display()
    ));
    out.result(&json!({
        "manifest": path,
        "chainId": chain_id,
        "checks": checks.iter().map(|c| json!({
            "name": c.name,
            "passed": c.passed(),
            "expected": c.expected,
            "actual": c.actual,
        })).collect::<Vec<_>>(),
        "failed": failed.len(),
        "hasDeploymentRecord": manifest.deployment.is_some(),
        "forgeCommands": forge_commands,
    }));
    if !failed.is_empty() {
        bail!(
            "{} of {} checks failed: the chain does not match {}",
            failed.len(),
            checks.len(),
            path.display()
        );
    }
    Ok(())
}
