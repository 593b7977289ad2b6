//! [`Devnet`]: a running chain that the phases act on, one method per phase (each in its module),
//! and [`Devnet::run`], every phase in order as `verinfer devnet` runs them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), verinfer_devnet::DevnetError> {
//! use verinfer_devnet::{Devnet, DevnetConfig};
//!
//! let devnet = Devnet::start(DevnetConfig { requests: 4, ..DevnetConfig::default() })?;
//! let deployment = devnet.deploy().await?;
//! let operators = devnet.register_operators(&deployment, devnet.operator_specs()?).await?;
//! let mut keepers = devnet.spawn_keepers(&deployment, &operators).await?;
//! let traffic = devnet.traffic(&deployment, &mut keepers).await?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::node_bindings::AnvilInstance;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use verinfer_client::{Client, SendOptions};

use crate::anvil;
use crate::config::{DevnetConfig, Progress};
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::keepers::Keepers;
use crate::operators::Operator;
use crate::report::Report;

/// What the phases that need the keepers running produced ([`Devnet::run_phases`]).
struct KeeperPhases {
    traffic: crate::traffic::Traffic,
    outputs: crate::outputs::Outputs,
    consumer_traffic: crate::consumers::ConsumerTraffic,
    llm: Option<crate::llm::LlmTraffic>,
    finalized: crate::warp::Finalization,
    callbacks: crate::consumers::Callbacks,
}

/// A devnet: anvil running (phase 1, started by [`Devnet::start`]) and the configuration the later
/// phases follow. Anvil stops when the `Devnet` is dropped.
pub struct Devnet {
    config: DevnetConfig,
    anvil: anvil::AnvilNode,
    url: String,
    provider: DynProvider,
    data_dir: PathBuf,
    started: Instant,
}

impl std::fmt::Debug for Devnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devnet")
            .field("url", &self.url)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Devnet {
    /// Phase 1, the chain: checks the configuration and starts anvil (see [`anvil::spawn`]).
    pub fn start(config: DevnetConfig) -> Result<Self, DevnetError> {
        let started = Instant::now();
        config.validate()?;
        let bin = anvil::find(config.anvil.bin.as_deref())?;
        config.say(Progress::Phase(format!(
            "starting anvil ({})",
            bin.display()
        )));
        let opts = anvil::AnvilOptions {
            bin: Some(bin),
            ..config.anvil.clone()
        };
        let node = anvil::spawn(&opts)?;
        let url = node.endpoint();
        config.say(Progress::Detail(format!(
            "anvil listening on {url} (port {})",
            node.port()
        )));
        let provider = ProviderBuilder::default()
            .connect_http(node.endpoint_url())
            .erased();
        let data_dir = config.data_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!(
                "verinfer-devnet-{}-{}",
                std::process::id(),
                node.port()
            ))
        });
        Ok(Self {
            config,
            anvil: node,
            url,
            provider,
            data_dir,
            started,
        })
    }

    /// Starts the devnet and runs every phase in order: deploy, register operators, spawn keepers,
    /// traffic (a keeper killed and restarted halfway), outputs fetched, requests through consumer
    /// contracts, time warp to finalization, the keepers' deliveries to the consumers, stop the keepers,
    /// a dispute decided by quadratic vote, stake re-sync, a dispute settled by the referee's game
    /// (the keepers play it), report.
    pub async fn run(config: DevnetConfig) -> Result<Report, DevnetError> {
        Self::start(config)?.run_phases().await
    }

    /// Phases 2–4: a deployed suite (and the LLM, with [`DevnetConfig::llm`]) with registered
    /// operators and their keepers running (answering and serving outputs) — a network ready for a
    /// client's requests.
    pub async fn serving(&self) -> Result<(Deployment, Vec<Operator>, Keepers), DevnetError> {
        let mut deployment = self.deploy().await?;
        if let Some(llm) = &self.config().llm {
            self.register_llm(&mut deployment, llm.spec.clone()).await?;
        }
        let operators = self
            .register_operators(&deployment, self.operator_specs()?)
            .await?;
        let keepers = self.spawn_keepers(&deployment, &operators).await?;
        Ok((deployment, operators, keepers))
    }

    /// Every phase after [`start`](Self::start), in [`run`](Self::run)'s order. When a phase fails
    /// while the keepers run, they are halted before the error is returned, so the chain (stopped
    /// when the `Devnet` is dropped) never goes away under running keepers.
    pub async fn run_phases(&self) -> Result<Report, DevnetError> {
        let (deployment, operators, mut keepers) = self.serving().await?;
        let ran = match self.keeper_phases(&deployment, &mut keepers).await {
            Ok(ran) => ran,
            Err(e) => {
                keepers.halt().await;
                return Err(e);
            }
        };
        let keepers = keepers.stop().await;
        let results_secs = ran.traffic.started.elapsed().as_secs_f64();
        self.say(Progress::Phase("keepers stopped cleanly".into()));
        let dispute = self.quadratic_dispute(&deployment, &operators).await?;
        let voice = self.resync_stake(&deployment, &operators).await?;
        let referee = self.referee_game(&deployment, &operators).await?;
        let report = self
            .report(&crate::report::Phases {
                deployment: &deployment,
                operators: &operators,
                traffic: &ran.traffic,
                outputs: &ran.outputs,
                consumer_traffic: &ran.consumer_traffic,
                callbacks: &ran.callbacks,
                finalized: &ran.finalized,
                keepers: &keepers,
                results_secs,
                dispute: &dispute,
                voice: &voice,
                referee: &referee,
                llm: ran.llm.as_ref(),
            })
            .await?;
        let _ = std::fs::remove_dir_all(&self.data_dir);
        Ok(report)
    }

    /// The phases that need the keepers running: traffic, outputs, consumer traffic, the LLM's,
    /// the time warp and the deliveries to the consumers.
    async fn keeper_phases(
        &self,
        deployment: &Deployment,
        keepers: &mut Keepers,
    ) -> Result<KeeperPhases, DevnetError> {
        let traffic = self.traffic(deployment, keepers).await?;
        let outputs = self.fetch_outputs(deployment, &traffic).await?;
        let consumer_traffic = self
            .consumer_traffic(deployment, crate::consumers::REQUESTS_PER_ROUTE)
            .await?;
        let llm = match &self.config().llm {
            Some(l) => {
                let mut t = self.llm_traffic(deployment, l.prompts).await?;
                t.consumer = Some(self.llm_to_text_store(deployment).await?);
                Some(t)
            }
            None => None,
        };
        keepers.drain(Duration::from_secs(30)).await;
        let finalized = self.warp_past_windows(deployment, &traffic).await?;
        let callbacks = self.callbacks(deployment, &consumer_traffic).await?;
        Ok(KeeperPhases {
            traffic,
            outputs,
            consumer_traffic,
            llm,
            finalized,
            callbacks,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DevnetConfig {
        &self.config
    }

    /// The node's HTTP endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The running node.
    pub fn anvil(&self) -> &AnvilInstance {
        &self.anvil
    }

    /// A read-only provider of the node (views, logs, anvil's RPCs through `AnvilApi`).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// Where the keepers' journals go.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Seconds since [`start`](Self::start).
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The key of anvil's development account `index`.
    pub fn dev_signer(&self, index: usize) -> Result<PrivateKeySigner, DevnetError> {
        Ok(anvil::dev_signer(&self.anvil, index)?)
    }

    /// A one-shot sender as `signer` against the deployment whose manifest is at `manifest`
    /// (receipts polled every 100 ms for at most 20 s).
    pub async fn client(
        &self,
        signer: PrivateKeySigner,
        manifest: &Path,
    ) -> Result<Client, DevnetError> {
        let client = Client::connect(&self.url, signer, Some(manifest)).await?;
        Ok(client.with_options(SendOptions {
            receipt_timeout: Duration::from_secs(20),
            poll_interval: Duration::from_millis(100),
        }))
    }

    /// The latest block number.
    pub async fn block_number(&self) -> Result<u64, DevnetError> {
        self.provider
            .get_block_number()
            .await
            .map_err(DevnetError::rpc("reading the head block"))
    }

    pub(crate) fn say(&self, p: Progress) {
        self.config.say(p);
    }
}
