//! Argument groups shared by the commands: chain access, the sender's key and the deployment.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args;
use verinfer_client::Client;
use verinfer_keeper::attest::HotKey;

/// Which chain to talk to, and where its deployment manifest is.
#[derive(Args, Debug, Clone)]
pub struct RpcArgs {
    /// JSON-RPC HTTP endpoint (default: $ETH_RPC_URL, then http://127.0.0.1:8545). A URL without a
    /// scheme (`localhost:8545`) means http.
    #[arg(long = "rpc-url", env = "VERINFER_RPC_URL")]
    pub rpc_url_arg: Option<String>,
    /// The chain the command must run on, by name or id as cast takes it (`sepolia`, `31337`):
    /// refused before anything is sent if the RPC serves another chain.
    #[arg(long)]
    pub chain: Option<alloy_chains::Chain>,
    /// Deployment manifest (default: deployments/<chainId>.json).
    #[arg(long, env = "VERINFER_DEPLOYMENT")]
    pub deployment: Option<PathBuf>,
}

/// The default RPC URL.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8545";

/// The RPC URL from `--rpc-url`/`$VERINFER_RPC_URL` (`flag`), else `$ETH_RPC_URL` (`eth`), else
/// [`DEFAULT_RPC_URL`]; a URL without a scheme gets `http://`.
pub fn resolve_rpc_url<'a>(flag: Option<&'a str>, eth: Option<&'a str>) -> String {
    let given = |u: Option<&'a str>| u.map(str::trim).filter(|u| !u.is_empty());
    let url = given(flag).or(given(eth)).unwrap_or(DEFAULT_RPC_URL);
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

/// `Ok` when no chain was asked for (`expected` is `None`) or the node serves it; otherwise an error
/// naming both chains and the URL.
pub fn check_chain(expected: Option<alloy_chains::Chain>, node: u64, url: &str) -> Result<()> {
    match expected {
        Some(want) if want.id() != node => Err(anyhow!(
            "--chain {want} (id {}) was asked for, but {url} serves chain {} (id {node}); nothing was sent",
            want.id(),
            alloy_chains::Chain::from_id(node)
        )),
        _ => Ok(()),
    }
}

impl RpcArgs {
    /// [`check_chain`] against this command's `--chain`.
    pub fn check_chain(&self, node: u64) -> Result<()> {
        check_chain(self.chain, node, &self.url())
    }

    /// The RPC URL (see [`resolve_rpc_url`]).
    pub fn url(&self) -> String {
        let eth = std::env::var("ETH_RPC_URL").ok();
        resolve_rpc_url(self.rpc_url_arg.as_deref(), eth.as_deref())
    }
}

/// The sender's key: `--private-key`, foundry's `--account NAME`, an encrypted `--keystore`, or a hex
/// private key in an environment variable (default `$VERINFER_PRIVATE_KEY`).
#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
    /// Env var that holds the hex private key of the sender.
    #[arg(long, default_value = "VERINFER_PRIVATE_KEY")]
    pub key_env: String,
    /// The sender's hex private key on the command line (visible to other local users in the process
    /// list: prefer --account, --keystore or --key-env outside development).
    #[arg(long, conflicts_with_all = ["keystore", "account"])]
    pub private_key: Option<String>,
    /// A keystore of foundry's (`cast wallet import NAME`): ~/.foundry/keystores/NAME.
    #[arg(long, conflicts_with = "keystore")]
    pub account: Option<String>,
    /// Encrypted keystore of the sender (instead of --key-env).
    #[arg(long, env = "VERINFER_KEYSTORE")]
    pub keystore: Option<PathBuf>,
    /// Env var that holds the keystore password (asked on the terminal when unset).
    #[arg(long, default_value = "VERINFER_KEYSTORE_PASSWORD")]
    pub password_env: String,
}

impl KeyArgs {
    /// The keystore file to use, if any: `--keystore`, or `--account NAME` under foundry's keystores.
    fn keystore_path(&self) -> Result<Option<PathBuf>> {
        if let Some(ks) = &self.keystore {
            return Ok(Some(ks.clone()));
        }
        let Some(name) = &self.account else {
            return Ok(None);
        };
        let home = std::env::var_os("HOME").ok_or_else(|| {
            anyhow!("--account {name}: HOME is not set, so ~/.foundry/keystores cannot be found")
        })?;
        let path = PathBuf::from(home).join(".foundry/keystores").join(name);
        if !path.is_file() {
            return Err(anyhow!(
                "--account {name}: no keystore at {} (create one with `cast wallet import {name} --interactive`)",
                path.display()
            ));
        }
        Ok(Some(path))
    }

    /// The keystore password: `$<password_env>`, else asked on the terminal; an error names what is
    /// missing rather than trying an empty password.
    fn password(&self, keystore: &std::path::Path) -> Result<String> {
        if let Ok(pw) = std::env::var(&self.password_env) {
            return Ok(pw);
        }
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return Ok(rpassword::prompt_password(format!(
                "password for {}: ",
                keystore.display()
            ))?);
        }
        Err(anyhow!(
            "no password for keystore {}: set {} or run on a terminal to be asked",
            keystore.display(),
            self.password_env
        ))
    }

    /// Loads the key; never echoes it.
    pub fn load(&self) -> Result<HotKey> {
        if let Some(hex) = &self.private_key {
            return Ok(HotKey::from_hex(hex, "--private-key")?);
        }
        if let Some(ks) = self.keystore_path()? {
            let pw = self.password(&ks)?;
            return Ok(HotKey::from_keystore(&ks, &pw)?);
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
        let client = Client::read_only(&self.url(), self.deployment.as_deref()).await?;
        self.check_chain(client.chain_id())?;
        Ok(client)
    }
}

impl ChainArgs {
    /// Connects as the sender.
    pub async fn connect(&self) -> Result<Client> {
        let key = self.key.load()?;
        let client = Client::connect(
            &self.rpc.url(),
            key.signer().clone(),
            self.rpc.deployment.as_deref(),
        )
        .await?;
        self.rpc.check_chain(client.chain_id())?;
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--chain` takes a name or an id; a node on the chain asked for, or no `--chain`, passes.
    #[test]
    fn chain_is_checked_only_when_asked_for_and_by_id() {
        let sepolia: alloy_chains::Chain = "sepolia".parse().expect("a named chain");
        assert_eq!(sepolia.id(), 11_155_111);
        let local: alloy_chains::Chain = "31337".parse().expect("an id");
        assert!(check_chain(Some(local), 31_337, "http://n").is_ok());
        assert!(check_chain(None, 1, "http://n").is_ok());
        let err = check_chain(Some(sepolia), 31_337, "http://n")
            .expect_err("another chain")
            .to_string();
        assert!(err.contains("http://n serves chain"), "{err}");
    }

    #[test]
    fn rpc_url_prefers_the_flag_then_eth_rpc_url_then_the_default_and_adds_a_scheme() {
        assert_eq!(
            resolve_rpc_url(Some("http://a:1"), Some("http://b:2")),
            "http://a:1"
        );
        assert_eq!(resolve_rpc_url(None, Some("https://b:2")), "https://b:2");
        assert_eq!(resolve_rpc_url(None, None), DEFAULT_RPC_URL);
        assert_eq!(
            resolve_rpc_url(Some("localhost:8545"), None),
            "http://localhost:8545"
        );
        assert_eq!(resolve_rpc_url(Some(" "), Some("b:2")), "http://b:2");
    }
}
