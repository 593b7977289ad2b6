//! Phase 4, spawn keepers: one [`Keeper`] per online operator as a tokio task, each serving its
//! outputs and published attestations on its own HTTP endpoint (registered on chain), where its
//! peers fetch them (so an equivocation is seen and reported across processes), operator 0
//! submitting one transaction per attestation
//! and the others in batches. A keeper can be killed (its task dropped mid-flight) and restarted
//! from its journal.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{
    BackendConfig, KeeperConfig, Misbehaviour, RawConfig, SubmitConfig, SubmitMode,
};
use verinfer_keeper::keeper::{Keeper, KeeperError, SHUTDOWN_GRACE};
use verinfer_keeper::metrics::Metrics;

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::operators::{Behaviour, Operator};

/// Keeper log poll interval of the devnet, milliseconds.
pub const POLL_MS: u64 = 150;

/// One keeper's settings, kept to restart it.
#[derive(Debug, Clone)]
struct Slot {
    index: usize,
    operator: Address,
    hot: HotKey,
    misbehave: Misbehaviour,
    dir: PathBuf,
    /// Loopback port of its outputs API (kept across restarts, published on chain).
    outputs_port: u16,
}

/// The running keepers.
pub struct Keepers {
    url: String,
    registry: Address,
    start_block: u64,
    slots: Vec<Slot>,
    backend: Vec<BackendConfig>,
    stop: watch::Sender<bool>,
    handles: Vec<(usize, JoinHandle<Result<(), KeeperError>>)>,
    /// The metrics registry of every keeper launched (restarted ones included).
    metrics: Vec<(usize, Arc<Metrics>)>,
    restarts: u64,
}

impl std::fmt::Debug for Keepers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keepers")
            .field("running", &self.running())
            .field("restarts", &self.restarts)
            .finish_non_exhaustive()
    }
}

/// What the keepers left when they stopped.
#[derive(Debug, Clone, Default)]
pub struct KeeperRun {
    /// Each started keeper's operator index and journal (`keeper.redb`).
    pub journals: Vec<(usize, PathBuf)>,
    /// Kill-and-restarts during the run.
    pub restarts: u64,
    /// The block the keepers started reading logs from.
    pub start_block: u64,
}

impl Keepers {
    fn config(&self, slot: &Slot) -> Result<KeeperConfig, DevnetError> {
        let cfg = KeeperConfig::from_raw(RawConfig {
            rpc_url: Some(self.url.clone()),
            registry: Some(format!("{:#x}", self.registry)),
            operator: Some(format!("{:#x}", slot.operator)),
            data_dir: Some(slot.dir.clone()),
            poll_interval_ms: Some(POLL_MS),
            start_block: Some(self.start_block),
            submit: SubmitConfig {
                mode: if slot.index == 0 {
                    SubmitMode::Single
                } else {
                    SubmitMode::Batch
                },
                receipt_timeout_secs: 10,
                ..SubmitConfig::default()
            },
            outputs_addr: Some(format!("127.0.0.1:{}", slot.outputs_port)),
            backend: self.backend.clone(),
            ..RawConfig::default()
        })?;
        // Misbehaviour is a devnet setting, made in code (a config file cannot set it).
        Ok(KeeperConfig {
            misbehave: slot.misbehave,
            ..cfg
        })
    }

    /// Launches every slot's keeper and publishes each one's outputs endpoint on chain.
    async fn launch_all(&mut self, operators: &[Operator]) -> Result<(), DevnetError> {
        let indices: Vec<usize> = self.slots.iter().map(|s| s.index).collect();
        for i in indices {
            self.launch(i).await?;
        }
        for o in operators {
            if let Some(url) = self.outputs_url(o.index) {
                o.owner.set_endpoint(&url).await?;
            }
        }
        Ok(())
    }

    async fn launch(&mut self, index: usize) -> Result<(), DevnetError> {
        let Some(slot) = self.slots.iter().find(|s| s.index == index).cloned() else {
            return Ok(());
        };
        let keeper =
            Keeper::new(self.config(&slot)?, slot.hot.clone(), &format!("op{index}")).await?;
        // The checks `verinfer keeper run` makes: registered, its signer, a model served, gas.
        keeper.preflight().await?;
        self.metrics.push((index, keeper.metrics().clone()));
        let handle = tokio::spawn(keeper.run(self.stop.subscribe()));
        self.handles.push((index, handle));
        Ok(())
    }

    /// Waits (at most `max`) until every running keeper has sent what it journaled: no open intent,
    /// nothing in flight. A phase that moves time (the warp past the windows) drains first, so a
    /// slower keeper's last answers are not overtaken by their deadlines.
    pub async fn drain(&self, max: Duration) {
        let deadline = tokio::time::Instant::now() + max;
        let latest: Vec<Arc<Metrics>> = self
            .slots
            .iter()
            .filter_map(|s| {
                self.metrics
                    .iter()
                    .rev()
                    .find(|(i, _)| *i == s.index)
                    .map(|(_, m)| m.clone())
            })
            .collect();
        // The gauge is refreshed by each keeper's collect stage; give it one poll to catch up.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while latest
            .iter()
            .any(|m| m.open_intents.get() > 0 || m.inflight() > 0)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `f` summed over the metrics of every keeper launched (each keeper has its own registry).
    pub fn total(&self, f: impl Fn(&Metrics) -> u64) -> u64 {
        self.metrics.iter().map(|(_, m)| f(m)).sum()
    }

    /// The base URL of operator `index`'s outputs API (`None` for an offline operator).
    pub fn outputs_url(&self, index: usize) -> Option<String> {
        self.slots
            .iter()
            .find(|s| s.index == index)
            .map(|s| format!("http://127.0.0.1:{}", s.outputs_port))
    }

    /// Keepers running now.
    pub fn running(&self) -> usize {
        self.handles.len()
    }

    /// Kills operator `index`'s keeper (its task is dropped mid-flight, as by `kill -9`) and starts
    /// it again on the same journal. Returns whether it was running.
    pub async fn restart(&mut self, index: usize) -> Result<bool, DevnetError> {
        let Some(pos) = self.handles.iter().position(|(i, _)| *i == index) else {
            return Ok(false);
        };
        let (_, handle) = self.handles.remove(pos);
        handle.abort();
        let _ = handle.await;
        self.launch(index).await?;
        self.restarts += 1;
        Ok(true)
    }

    /// Lets every keeper finish its journaled work ([`drain`](Self::drain), at most 30 s), then asks
    /// each to stop and waits for it (at most 30 s).
    pub async fn stop(mut self) -> KeeperRun {
        // A clean run ends with the work done: the stop signal leaves unsent intents for a restart.
        self.drain(Duration::from_secs(30)).await;
        let _ = self.stop.send(true);
        for (_, handle) in std::mem::take(&mut self.handles) {
            let _ = tokio::time::timeout(Duration::from_secs(30), handle).await;
        }
        self.outcome()
    }

    /// Stops every keeper at once, without letting it finish its journaled work (a phase failed):
    /// each is asked to stop and gets [`SHUTDOWN_GRACE`] plus a second, then its task is aborted and
    /// awaited. When this returns no keeper runs any more, so the chain can be stopped without the
    /// keepers failing against a vanished node.
    pub async fn halt(mut self) -> KeeperRun {
        let _ = self.stop.send(true);
        for (_, mut handle) in std::mem::take(&mut self.handles) {
            let grace = SHUTDOWN_GRACE + Duration::from_secs(1);
            if tokio::time::timeout(grace, &mut handle).await.is_err() {
                handle.abort();
                let _ = handle.await;
            }
        }
        self.outcome()
    }

    /// What the keepers leave: journals, restarts, start block.
    fn outcome(&self) -> KeeperRun {
        KeeperRun {
            journals: self
                .slots
                .iter()
                .map(|s| (s.index, s.dir.join("keeper.redb")))
                .collect(),
            restarts: self.restarts,
            start_block: self.start_block,
        }
    }
}

impl Drop for Keepers {
    fn drop(&mut self) {
        for (_, handle) in &self.handles {
            handle.abort();
        }
    }
}

impl Devnet {
    /// The keepers' backends for the deployed models: the model file with its registered id (the
    /// keeper checks the file against it) or the built-in model, and the LLM when one is registered.
    pub fn backends(&self, d: &Deployment) -> Vec<BackendConfig> {
        let mlp = match &self.config().model_file {
            Some(path) => BackendConfig::ModelFile {
                path: path.clone(),
                model_id: format!("{:#x}", d.model_id),
            },
            None => BackendConfig::Builtin {},
        };
        std::iter::once(mlp)
            .chain(d.llm.as_ref().map(crate::llm::LlmModel::backend_config))
            .collect()
    }

    /// Starts a keeper for every operator that is not [`Behaviour::Offline`], reading logs from the
    /// current block and serving its outputs on a loopback port, which the operator publishes on chain
    /// (`setEndpoint`) so clients can fetch the bytes behind its results.
    pub async fn spawn_keepers(
        &self,
        d: &Deployment,
        operators: &[Operator],
    ) -> Result<Keepers, DevnetError> {
        let (stop, _) = watch::channel(false);
        let mut slots = Vec::new();
        for o in operators
            .iter()
            .filter(|o| o.behaviour != Behaviour::Offline)
        {
            slots.push(Slot {
                index: o.index,
                operator: o.address(),
                hot: o.hot.clone(),
                misbehave: o.behaviour.misbehaviour(),
                dir: self.data_dir().join(format!("keeper-{}", o.index)),
                outputs_port: free_port()?,
            });
        }
        let mut keepers = Keepers {
            url: self.url().to_owned(),
            registry: d.contract("InferenceRegistry")?,
            start_block: self.block_number().await?,
            slots,
            backend: self.backends(d),
            stop,
            handles: Vec::new(),
            metrics: Vec::new(),
            restarts: 0,
        };
        if let Err(e) = keepers.launch_all(operators).await {
            keepers.halt().await;
            return Err(e);
        }
        let offline = operators.len() - keepers.running();
        let chaos = self.config().chaos_keeper;
        let restart = if keepers.handles.iter().any(|(i, _)| *i == chaos) {
            format!("op{chaos} will be killed and restarted mid-traffic")
        } else {
            format!("no keeper restart (op{chaos} runs no keeper)")
        };
        self.say(Progress::Phase(format!(
            "{} keepers running ({offline} offline); {restart}",
            keepers.running(),
        )));
        Ok(keepers)
    }
}

/// A loopback port free right now (the OS picks it; the listener is closed again at once).
pub(crate) fn free_port() -> Result<u16, DevnetError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(DevnetError::io("127.0.0.1:0"))?;
    let port = listener
        .local_addr()
        .map_err(DevnetError::io("127.0.0.1:0"))?
        .port();
    Ok(port)
}
