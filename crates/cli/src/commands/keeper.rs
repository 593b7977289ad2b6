//! `verinfer keeper run`: the keeper bot until SIGTERM / ctrl-c.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use verinfer_keeper::api;
use verinfer_keeper::config::{KeeperConfig, RawConfig};
use verinfer_keeper::keeper::Keeper;

/// Run the keeper bot.
///
/// Example: VERINFER_OPERATOR_KEY=0x... verinfer keeper run --config keeper.toml
#[derive(Subcommand, Debug)]
pub enum KeeperCommand {
    /// Run the keeper until SIGTERM / ctrl-c.
    ///
    /// Example: VERINFER_OPERATOR_KEY=0x... verinfer keeper run --config keeper.toml
    Run(RunArgs),
}

/// `keeper run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Keeper TOML config (fields may be overridden by VERINFER_* env vars).
    #[arg(long, env = "VERINFER_KEEPER_CONFIG")]
    config: PathBuf,
}

impl KeeperCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        let Self::Run(a) = self;
        // The environment is read here, at the edge, and nowhere in the keeper library.
        let env = |name: &str| std::env::var(name).ok();
        let mut raw = RawConfig::read(&a.config)?;
        raw.apply_env(env)?;
        let cfg = KeeperConfig::from_raw(raw)?;
        let key = cfg.load_key(env).context("loading the operator hot key")?;
        tracing::info!(operator = %cfg.operator, signer = %key.address(), registry = %cfg.registry, "starting keeper");
        let (tx, rx) = tokio::sync::watch::channel(false);
        let metrics_addr = cfg.metrics_addr;
        if let Some(addr) = cfg.outputs_addr {
            tracing::info!(%addr, "serving outputs at {}", api::OUTPUTS_PATH);
        }
        let keeper = Keeper::new(cfg, key, "keeper").await?;
        keeper
            .metrics()
            .set_build_info(env!("CARGO_PKG_VERSION"), env!("VERINFER_GIT_REV"));
        // Refuses to start for an operator that is not registered, a hot key that is not its signer,
        // no model served or no gas; softer problems are logged and reported by /health.
        let standing = keeper.preflight().await?;
        tracing::info!(
            hot_key_balance_wei = %standing.balance,
            models = standing.models.len(),
            "preflight passed"
        );
        if let Some(addr) = metrics_addr {
            if !addr.ip().is_loopback() {
                tracing::warn!(%addr, "metrics_addr is not loopback: /metrics and /health are reachable from other hosts, as configured");
            }
            let bound = api::serve(addr, api::operations_router(keeper.health()), rx.clone())
                .await
                .with_context(|| format!("binding metrics_addr {addr}"))?;
            tracing::info!(%bound, "metrics and /health listening");
        }
        let handle = tokio::spawn(keeper.run(rx));
        shutdown_signal().await;
        tracing::info!("shutdown requested: stopping (in-flight work stays journaled)");
        let _ = tx.send(true);
        handle.await.context("keeper task")??;
        Ok(())
    }
}

/// Resolves on ctrl-c or, on unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
