//! `verinfer deploy`: deploys the suite with the plan of `verinfer-deploy` and writes the manifest.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use anyhow::{bail, Result};
use clap::Args;
use verinfer_deploy::{manifest::Manifest, plan::DeployParams};

use crate::args::ChainArgs;

/// Deploy the suite to any RPC and write deployments/<chainId>.json. Every admin role then goes to
/// the timelock (governance) and the deployer renounces its own, unless --keep-admin.
///
/// Example: VERINFER_PRIVATE_KEY=0x... verinfer deploy --rpc-url http://127.0.0.1:8545 --confirmations 1
#[derive(Args, Debug)]
pub struct DeployCommand {
    #[command(flatten)]
    chain: ChainArgs,
    /// Blocks to wait after the last deployment transaction.
    #[arg(long, default_value_t = 1)]
    confirmations: u64,
    /// Directory to write deployments/<chainId>.json into.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Keep the deployer as admin of every contract (local development; the devnet does this).
    /// Default: hand every admin role to the timelock, as script/DeploySuite.sol does.
    #[arg(long)]
    keep_admin: bool,
}

impl DeployCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        let s = crate::chain::session(&self.chain).await?;
        let params = if self.keep_admin {
            DeployParams::local(s.key.address())
        } else {
            DeployParams::production(s.key.address())
        };
        let (manifest, gas) = s.deploy(&params).await?;
        let confirmations = self.confirmations;
        let target = manifest.block + confirmations;
        let deadline = Instant::now() + Duration::from_secs(120 + 15 * confirmations);
        while s.provider.get_block_number().await? < target {
            if Instant::now() > deadline {
                bail!("timed out waiting for {confirmations} confirmations");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let path = Manifest::default_path(&self.root, manifest.chain_id);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        manifest.save(&path)?;
        for (label, g) in gas {
            println!("{label:<40} gas {g}");
        }
        for (name, a) in &manifest.contracts {
            println!("{name:<24} {a}");
        }
        let admin = if self.keep_admin {
            format!("the deployer {} (--keep-admin)", s.key.address())
        } else {
            format!(
                "the timelock {} (the deployer renounced every role)",
                manifest
                    .contracts
                    .get("TimelockController")
                    .copied()
                    .unwrap_or_default()
            )
        };
        println!("admin                    {admin}");
        println!("manifest written to {}", path.display());
        Ok(())
    }
}
