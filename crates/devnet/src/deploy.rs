//! Phase 2, deploy: the suite by the deploy plan's local parameter set (the deployer, anvil's account
//! 0, keeps admin), the manifest written under the root, and the model file (default: the built-in
//! digits classifier) registered under its weights root.

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, ProviderBuilder};
use verinfer_bindings::InferenceRegistry;
use verinfer_client::Client;
use verinfer_deploy::plan::DeployParams;
use verinfer_deploy::{deploy_over_rpc, DeployPlan, Manifest, RpcDeployError};
use verinfer_mlp::IntMlp;

use crate::config::Progress;
use crate::error::DevnetError;
use crate::fixture::Devnet;

/// What the deploy phase produced.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The manifest.
    pub manifest: Manifest,
    /// Where it was written (`<root>/deployments/<chainId>.json`).
    pub manifest_path: PathBuf,
    /// The parameters deployed with.
    pub params: DeployParams,
    /// The deployer (admin of every contract), as a sender.
    pub deployer: Client,
    /// The registered model's id.
    pub model_id: B256,
    /// The registered model.
    pub model: IntMlp,
    /// The LLM, once [`Devnet::register_llm`] registered it.
    pub llm: Option<crate::llm::LlmModel>,
}

impl Deployment {
    /// The address of the manifest's contract `name`.
    pub fn contract(&self, name: &str) -> Result<Address, DevnetError> {
        Ok(self.manifest.address(name, &self.manifest_path)?)
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.manifest.chain_id
    }
}

impl Devnet {
    /// Registers another model on the deployed suite (the deployer is admin) under `weights_hash`
    /// and `runtime_spec_hash` with the devnet model's parameters; returns its id.
    pub async fn register_model(
        &self,
        d: &Deployment,
        weights_hash: B256,
        runtime_spec_hash: B256,
    ) -> Result<B256, DevnetError> {
        d.deployer
            .send(
                "registerModel",
                d.contract("InferenceRegistry")?,
                &InferenceRegistry::registerModelCall {
                    weightsHash: weights_hash,
                    runtimeSpecHash: runtime_spec_hash,
                    params: self.config().model.params(),
                },
            )
            .await?;
        Ok(verinfer_mlp::model_id(weights_hash, runtime_spec_hash))
    }

    /// Deploys the suite from anvil's account 0, writes the manifest and registers the model of
    /// [`DevnetConfig::model_file`](crate::DevnetConfig::model_file) with
    /// [`DevnetConfig::model`](crate::DevnetConfig::model).
    pub async fn deploy(&self) -> Result<Deployment, DevnetError> {
        self.say(Progress::Phase("deploying the suite".into()));
        let signer = self.dev_signer(0)?;
        let from = signer.address();
        let provider = ProviderBuilder::new()
            .wallet(signer.clone())
            .connect_http(self.anvil().endpoint_url());
        let nonce = provider
            .get_transaction_count(from)
            .await
            .map_err(DevnetError::rpc("reading the deployer's nonce"))?;
        let params = DeployParams::local(from);
        let plan = DeployPlan::new(&params, nonce);
        let manifest = deploy_over_rpc(&provider, &plan)
            .await
            .map_err(|e: RpcDeployError| {
                if e.exceeds_code_size_limit() {
                    DevnetError::CodeSizeLimit { source: e }
                } else {
                    DevnetError::Deploy(e)
                }
            })?;
        let manifest_path = Manifest::default_path(&self.config().root, manifest.chain_id);
        if let Some(dir) = manifest_path.parent() {
            std::fs::create_dir_all(dir).map_err(DevnetError::io(dir))?;
        }
        manifest.save(&manifest_path)?;
        for (name, addr) in &manifest.contracts {
            self.say(Progress::Detail(format!("{name:<22} {addr}")));
        }
        let deployer = self.client(signer, &manifest_path).await?;

        let model = self.config().load_model()?;
        let model_id = model.model_id();
        let mc = self.config().model;
        // registerModel re-checks the suite's timing invariants; say which one a window breaks up front.
        params.check_timing(mc.challenge_window)?;
        deployer
            .send(
                "registerModel",
                deployer.contract("InferenceRegistry")?,
                &InferenceRegistry::registerModelCall {
                    weightsHash: model.weights_root(),
                    runtimeSpecHash: IntMlp::runtime_spec_hash(),
                    params: mc.params(),
                },
            )
            .await?;
        let dims: Vec<String> = std::iter::once(model.input_len())
            .chain(model.layers().iter().map(|l| l.outputs()))
            .map(|d| d.to_string())
            .collect();
        self.say(Progress::Phase(format!(
            "registered the {} integer MLP {model_id} ({}, weights root {})",
            match &self.config().model_file {
                Some(p) => format!("model file {}", p.display()),
                None => "built-in digits classifier".into(),
            },
            dims.join("x"),
            model.weights_root()
        )));
        Ok(Deployment {
            manifest,
            manifest_path,
            params,
            deployer,
            model_id,
            model,
            llm: None,
        })
    }
}
