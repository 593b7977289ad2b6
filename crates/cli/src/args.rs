//! Argument groups shared by the commands: chain access, the sender's key and the deployment.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args;
use verinfer_client::Client;
use verinfer_keeper::attest::HotKey;

/// Which chain to talk to, and where its deployment manifest is.
#[derive(Args, Debug, Clone)]
pub struct RpcArgs {
    /// JSON-RPC HTTP endpoint.
    #[arg(
        long,
        env = "VERINFER_RPC_URL",
        default_value = "http://127.0.0.1:8545"
    )]
    pub rpc_url: String,
    /// Deployment manifest (default: deployments/<chainId>.json).
    #[arg(long, env = "VERINFER_DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
}

/// The sender's key: a hex private key in an environment variable, or an encrypted keystore.
#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
    /// Env var that holds the hex private key of the sender.
    #[arg(long, default_value = "VERINFER_PRIVATE_KEY")]
    pub key_env: String,
    /// Encrypted keystore of the sender (instead of --key-env).
    #[arg(long, env = "VERINFER_KEYSTORE")]
    pub keystore: Option<PathBuf>,
    /// Env var that holds the keystore password.
    #[arg(long, default_value = "VERINFER_KEYSTORE_PASSWORD")]
    pub password_env: String,
}

impl KeyArgs {
    /// Loads the key (the keystore if given, else the env var); never echoes it.
    pub fn load(&self) -> Result<HotKey> {
        if let Some(ks) = &self.keystore {
            let pw = std::env::var(&self.password_env).unwrap_or_default();
            return Ok(HotKey::from_keystore(ks, &pw)?);
        }
        let hex = std::env::var(&self.key_env).map_err(|_| {
            anyhow!(
                "no sender key: set {} (hex private key) or pass --keystore",
                self.key_env
            )
        })?;
        Ok(HotKey::from_hex(&hex, &self.key_env)?)
    }
}

/// Chain access plus the sender's key: what every sending command flattens.
#[derive(Args, Debug, Clone)]
pub struct ChainArgs {
    /// The chain and its deployment.
    #[command(flatten)]
    pub rpc: RpcArgs,
    /// The sender.
    #[command(flatten)]
    pub key: KeyArgs,
}

impl RpcArgs {
    /// Connects without a key (views and log reads).
    pub async fn connect_read_only(&self) -> Result<Client> {
        Ok(Client::read_only(&self.rpc_url, self.deployment.as_deref()).await?)
    }
}

impl ChainArgs {
    /// Connects as the sender.
    pub async fn connect(&self) -> Result<Client> {
        let key = self.key.load()?;
        Ok(Client::connect(
            &self.rpc.rpc_url,
            key.signer().clone(),
            self.rpc.deployment.as_deref(),
        )
        .await?)
    }
}
