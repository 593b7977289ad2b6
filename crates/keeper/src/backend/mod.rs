//! Inference backends: an integer MLP (the built-in digits classifier or a model file), an
//! OpenAI-compatible HTTP endpoint ([`openai`], greedy decoding) and an external command.

pub mod openai;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use crate::config::BackendConfig;
use crate::llm::{GgufError, LlmSpec};
pub use openai::{Completion, OpenAiBackend, OpenAiOptions};
use verinfer_mlp::{FormatError, InputError, IntMlp, LoadError};

/// Backend errors.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The HTTP endpoint failed.
    #[error("http backend {url}: {reason}")]
    Http {
        /// Endpoint.
        url: String,
        /// Reason.
        reason: String,
    },
    /// The HTTP endpoint answered with an error status.
    #[error("http backend {url}: status {status}: {body}")]
    Status {
        /// Endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the reply.
        body: String,
    },
    /// No reply within the backend's deadline.
    #[error("http backend {url}: no reply within {after:?}")]
    Timeout {
        /// Endpoint.
        url: String,
        /// The deadline.
        after: Duration,
    },
    /// The reply is not a completion (not UTF-8, not JSON, no text).
    #[error("http backend {url}: not a completion: {reason}")]
    BadReply {
        /// Endpoint.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server returned an empty completion: nothing was computed that could be attested.
    #[error("http backend {url}: empty completion")]
    EmptyCompletion {
        /// Endpoint.
        url: String,
    },
    /// A text model's prompt is not UTF-8 (a fact about the request).
    #[error("prompt is not UTF-8 (valid up to byte {at})")]
    PromptNotUtf8 {
        /// Length of the valid prefix.
        at: usize,
    },
    /// A GGUF weights file could not be read.
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// The command failed.
    #[error("command backend `{program}`: {reason}")]
    Command {
        /// Program.
        program: String,
        /// Reason.
        reason: String,
    },
    /// The backend does not serve the model.
    #[error("no backend serves model {0}")]
    UnknownModel(B256),
    /// The model refuses the input (wrong size or out of range): a fact about the request, not a
    /// failure of the backend; nothing is computed, so nothing may be attested.
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// The built-in model file does not parse (a build of verinfer with a broken model file).
    #[error("built-in model: {0}")]
    Builtin(#[from] FormatError),
    /// A model file could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A model file is not the model the configuration says it serves.
    #[error(
        "model file {path} has id {computed}, but the configuration says it serves {expected}"
    )]
    IdMismatch {
        /// The file.
        path: PathBuf,
        /// `model_id` in the configuration.
        expected: B256,
        /// The id computed from the file.
        computed: B256,
    },
    /// A configured model id is not a bytes32.
    #[error("model id `{0}` is not a bytes32 hex")]
    BadModelId(String),
    /// The server completed one prompt two ways, depending on the request before it
    /// ([`InferenceBackend::check_history`]).
    #[error(
        "http backend {url}: completed {prompt:?} two ways, {first:?} after another prompt and \
         {second:?} right after itself: its text depends on the request before it, so this keeper \
         would disagree with honest operators (a minority answer, which is slashed); serve the model \
         with one token per batch (llama-cpp-python: --n_batch 1 --n_ubatch 1), as its runtime spec \
         says (docs/models.md)"
    )]
    HistoryDependent {
        /// Endpoint.
        url: String,
        /// The prompt completed twice.
        prompt: String,
        /// Its completion after another prompt.
        first: String,
        /// Its completion right after itself.
        second: String,
    },
}

/// A boxed future returned by backends.
pub type InferFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, BackendError>> + Send + 'a>>;

/// A boxed future returned by [`InferenceBackend::probe`].
pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BackendError>> + Send + 'a>>;

/// Something that turns input bytes into output bytes for one model.
pub trait InferenceBackend: Send + Sync {
    /// The on-chain model id served.
    fn model_id(&self) -> B256;
    /// Runs the model on `input`.
    fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a>;
    /// Whether the backend could compute as far as it last saw (`Err`: why not). In-process
    /// backends always can.
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
    /// Checks now that the backend can be reached (a remote server's liveness), updating
    /// [`health`](Self::health).
    fn probe(&self) -> ProbeFuture<'_> {
        Box::pin(async { Ok(()) })
    }
    /// Checks that the backend's output depends on the input alone, not on what the backend
    /// computed before (a server that keeps state between requests); `Err` when it does not hold,
    /// or when the check cannot run. In-process and command backends keep no such state.
    fn check_history(&self) -> ProbeFuture<'_> {
        Box::pin(async { Ok(()) })
    }
    /// The integer MLP this backend runs in process, if it is one (the referee duty recomputes its
    /// execution trace from it, docs/referee.md).
    fn int_mlp(&self) -> Option<&IntMlp> {
        None
    }
    /// How many inferences of this backend may run at once: the size of its worker pool in
    /// [`Backends`]. In-process and command backends default to the machine's cores; a remote
    /// server, to its configured concurrency.
    fn workers(&self) -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

/// An integer MLP run in process: the built-in digits classifier or a model file.
#[derive(Debug, Clone)]
pub struct MlpBackend {
    model: IntMlp,
    id: B256,
}

impl MlpBackend {
    /// Serves `model` (its id computed from its weights root and the runtime spec).
    pub fn new(model: IntMlp) -> Self {
        let id = model.model_id();
        Self { model, id }
    }

    /// Serves the built-in digits classifier.
    pub fn builtin() -> Result<Self, BackendError> {
        Ok(Self::new(IntMlp::builtin()?))
    }

    /// Serves the model file at `path`, which must have id `expected`: a keeper never serves a
    /// model other than the one it was configured for.
    pub fn from_file(path: &std::path::Path, expected: B256) -> Result<Self, BackendError> {
        let b = Self::new(IntMlp::load(path)?);
        if b.id != expected {
            return Err(BackendError::IdMismatch {
                path: path.to_owned(),
                expected,
                computed: b.id,
            });
        }
        Ok(b)
    }

    /// The model.
    pub fn model(&self) -> &IntMlp {
        &self.model
    }
}

impl InferenceBackend for MlpBackend {
    fn model_id(&self) -> B256 {
        self.id
    }
    fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a> {
        Box::pin(async move { Ok(self.model.infer(input)?) })
    }
    fn int_mlp(&self) -> Option<&IntMlp> {
        Some(&self.model)
    }
}

/// A command fed the input on stdin; its stdout is the output. Non-zero exit is an error.
#[derive(Debug, Clone)]
pub struct CommandBackend {
    argv: Vec<String>,
    id: B256,
    timeout: Duration,
}

impl CommandBackend {
    /// Creates the backend (`argv[0]` is the program), killing a run that lasts 60 s.
    pub fn new(argv: Vec<String>, id: B256) -> Self {
        Self {
            argv,
            id,
            timeout: Duration::from_secs(60),
        }
    }

    /// The longest run of the command for one input: a run that lasts longer is killed and the
    /// inference fails.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl InferenceBackend for CommandBackend {
    fn model_id(&self) -> B256 {
        self.id
    }
    fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a> {
        Box::pin(async move {
            let program = self.argv.first().cloned().unwrap_or_default();
            let err = |reason: String| BackendError::Command {
                program: program.clone(),
                reason,
            };
            let mut child = tokio::process::Command::new(&program)
                .args(&self.argv[1..])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| err(e.to_string()))?;
            // The input is written while the output is read, so a command that answers before it
            // has read all its input cannot fill the pipes and stall. A command may also exit
            // without reading its input at all (a fixed answer): the broken pipe that leaves is not
            // an error; the exit status and stdout are the command's answer.
            let stdin = child.stdin.take();
            let feed = async move {
                let Some(mut stdin) = stdin else {
                    return Ok(());
                };
                match stdin.write_all(input).await {
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
                    _ => Ok(()),
                }
                // `stdin` is dropped here: the command sees the end of its input.
            };
            let (fed, out) = tokio::time::timeout(self.timeout, async {
                tokio::join!(feed, child.wait_with_output())
            })
            .await
            .map_err(|_| err("timed out".into()))?;
            fed.map_err(|e| err(format!("writing the input: {e}")))?;
            let out = out.map_err(|e| err(e.to_string()))?;
            if !out.status.success() {
                return Err(err(format!(
                    "exit {}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            Ok(out.stdout)
        })
    }
}

fn parse_id(id: &str) -> Result<B256, BackendError> {
    id.parse()
        .map_err(|_| BackendError::BadModelId(id.to_owned()))
}

/// Builds a backend from its configuration. A model file is loaded and its id checked here, so a
/// keeper whose file does not match its configuration does not start.
pub fn from_config(cfg: &BackendConfig) -> Result<Box<dyn InferenceBackend>, BackendError> {
    Ok(match cfg {
        BackendConfig::Builtin {} => Box::new(MlpBackend::builtin()?),
        BackendConfig::ModelFile { path, model_id } => {
            Box::new(MlpBackend::from_file(path, parse_id(model_id)?)?)
        }
        BackendConfig::Openai {
            url,
            model,
            model_id,
            chat,
            gguf,
            max_tokens,
            timeout_secs,
            retries,
            concurrency,
        } => {
            let spec = LlmSpec {
                chat: *chat,
                max_tokens: *max_tokens,
                ..LlmSpec::default()
            };
            let expected = parse_id(model_id)?;
            if let Some(path) = gguf {
                let computed = spec.model_id(crate::llm::weights_hash(path)?);
                if computed != expected {
                    return Err(BackendError::IdMismatch {
                        path: path.clone(),
                        expected,
                        computed,
                    });
                }
            }
            let opts = OpenAiOptions {
                spec,
                timeout: Duration::from_secs(*timeout_secs),
                retries: *retries,
                concurrency: *concurrency,
            };
            Box::new(OpenAiBackend::new(url, model, expected, opts))
        }
        BackendConfig::Command {
            argv,
            model_id,
            timeout_secs,
        } => Box::new(
            CommandBackend::new(argv.clone(), parse_id(model_id)?)
                .with_timeout(Duration::from_secs(*timeout_secs)),
        ),
    })
}

/// The set of backends a keeper serves, looked up by model id, each with its bounded worker pool
/// (at most [`InferenceBackend::workers`] inferences of one backend run at once; more wait for a
/// place).
pub struct Backends(Vec<Box<dyn InferenceBackend>>, Vec<Arc<Semaphore>>);

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|b| b.model_id()))
            .finish()
    }
}

impl Backends {
    /// Wraps backends, each with a worker pool of [`InferenceBackend::workers`] places.
    pub fn new(list: Vec<Box<dyn InferenceBackend>>) -> Self {
        let pools = list
            .iter()
            .map(|b| Arc::new(Semaphore::new(b.workers().max(1))))
            .collect();
        Self(list, pools)
    }

    /// The size of the worker pool of the backend serving `model_id` (0 if none does).
    pub fn workers(&self, model_id: B256) -> usize {
        self.0
            .iter()
            .find(|b| b.model_id() == model_id)
            .map_or(0, |b| b.workers().max(1))
    }

    /// Whether some backend serves `model_id`.
    pub fn serves(&self, model_id: B256) -> bool {
        self.0.iter().any(|b| b.model_id() == model_id)
    }

    /// Model ids served.
    pub fn model_ids(&self) -> Vec<B256> {
        self.0.iter().map(|b| b.model_id()).collect()
    }

    /// Backends that cannot compute as far as they last saw: `(model id, why)`.
    pub fn unhealthy(&self) -> Vec<(B256, String)> {
        self.0
            .iter()
            .filter_map(|b| b.health().err().map(|why| (b.model_id(), why)))
            .collect()
    }

    /// Probes every backend now (remote servers' liveness); returns the unhealthy ones.
    pub async fn probe(&self) -> Vec<(B256, String)> {
        for b in &self.0 {
            let _ = b.probe().await;
        }
        self.unhealthy()
    }

    /// Runs every backend's [`InferenceBackend::check_history`]; returns the failed ones.
    pub async fn check_history(&self) -> Vec<(B256, BackendError)> {
        let mut failed = Vec::new();
        for b in &self.0 {
            if let Err(e) = b.check_history().await {
                failed.push((b.model_id(), e));
            }
        }
        failed
    }

    /// The in-process integer MLP serving `model_id`, if one does.
    pub fn int_mlp(&self, model_id: B256) -> Option<&IntMlp> {
        self.0
            .iter()
            .find(|b| b.model_id() == model_id)
            .and_then(|b| b.int_mlp())
    }

    /// Runs `model_id` on `input`, on a place of its backend's worker pool (waits for one when the
    /// pool is full).
    pub async fn infer(&self, model_id: B256, input: &[u8]) -> Result<Vec<u8>, BackendError> {
        let (b, pool) = self
            .0
            .iter()
            .zip(&self.1)
            .find(|(b, _)| b.model_id() == model_id)
            .ok_or(BackendError::UnknownModel(model_id))?;
        // The pools are never closed, so acquiring only fails if one were: run unbounded then.
        let _place = pool.acquire().await.ok();
        b.infer(input).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn command_backend() {
        let b = CommandBackend::new(vec!["tr".into(), "a-z".into(), "A-Z".into()], B256::ZERO);
        assert_eq!(b.infer(b"abc").await.unwrap(), b"ABC");
        let bad = CommandBackend::new(vec!["false".into()], B256::ZERO);
        assert!(bad.infer(b"x").await.is_err());
    }

    /// A command that answers without reading its input (a fixed answer) is a valid backend: the
    /// broken pipe left by the input it never read is not an inference error. Regression: the
    /// runtime test's watcher (`printf`) failed its inference about half the time, whenever
    /// `printf` exited before the input was written, and so never re-executed the result.
    #[tokio::test]
    async fn a_command_that_ignores_its_input_answers_every_time() {
        let b = CommandBackend::new(vec!["printf".into(), "fixed".into()], B256::ZERO);
        // Larger than a pipe's buffer: the write cannot finish before printf exits.
        let input = vec![7u8; 1 << 20];
        for _ in 0..20 {
            assert_eq!(b.infer(&input).await.unwrap(), b"fixed");
        }
    }

    /// The input is written while the output is read: a command that echoes a large input does not
    /// fill both pipes and stall until the timeout.
    #[tokio::test]
    async fn a_command_echoing_a_large_input_does_not_stall() {
        let b = CommandBackend {
            timeout: Duration::from_secs(20),
            ..CommandBackend::new(vec!["cat".into()], B256::ZERO)
        };
        let input: Vec<u8> = (0..(4u32 << 20)).map(|i| i as u8).collect();
        assert_eq!(b.infer(&input).await.unwrap(), input);
    }

    #[tokio::test]
    async fn backends_dispatch_by_model_id() {
        let builtin = MlpBackend::builtin().unwrap();
        let id = builtin.model_id();
        let bs = Backends::new(vec![Box::new(builtin.clone())]);
        assert!(bs.serves(id));
        let digit = [3u8; 64];
        assert_eq!(
            bs.infer(id, &digit).await.unwrap(),
            builtin.model().infer(&digit).unwrap()
        );
        assert!(matches!(
            bs.infer(B256::ZERO, &digit).await,
            Err(BackendError::UnknownModel(_))
        ));
    }

    /// A backend that counts how many of its inferences run at once.
    struct Counting {
        workers: usize,
        now: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
    }

    impl InferenceBackend for Counting {
        fn model_id(&self) -> B256 {
            B256::repeat_byte(1)
        }
        fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a> {
            use std::sync::atomic::Ordering::SeqCst;
            Box::pin(async move {
                let n = self.now.fetch_add(1, SeqCst) + 1;
                self.most.fetch_max(n, SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                self.now.fetch_sub(1, SeqCst);
                Ok(input.to_vec())
            })
        }
        fn workers(&self) -> usize {
            self.workers
        }
    }

    /// Eight inferences started at once on a backend with a pool of three: three run together,
    /// never more, and every one completes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backends_worker_pool_bounds_its_concurrent_inferences() {
        let counting = Arc::new(Counting {
            workers: 3,
            now: Default::default(),
            most: Default::default(),
        });
        struct Shared(Arc<Counting>);
        impl InferenceBackend for Shared {
            fn model_id(&self) -> B256 {
                self.0.model_id()
            }
            fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a> {
                self.0.infer(input)
            }
            fn workers(&self) -> usize {
                self.0.workers()
            }
        }
        let bs = Arc::new(Backends::new(vec![Box::new(Shared(counting.clone()))]));
        assert_eq!(bs.workers(B256::repeat_byte(1)), 3);
        assert_eq!(bs.workers(B256::ZERO), 0);
        let jobs: Vec<_> = (0..8u8)
            .map(|i| {
                let bs = bs.clone();
                tokio::spawn(async move { bs.infer(B256::repeat_byte(1), &[i]).await })
            })
            .collect();
        for (i, j) in jobs.into_iter().enumerate() {
            assert_eq!(j.await.unwrap().unwrap(), vec![i as u8]);
        }
        assert_eq!(
            counting.most.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "the pool of 3 was not filled, or was exceeded"
        );
    }

    #[tokio::test]
    async fn mlp_backend_refuses_wrong_size_input_with_a_typed_error() {
        let b = MlpBackend::builtin().unwrap();
        assert!(matches!(
            b.infer(b"hello").await,
            Err(BackendError::Input(InputError::WrongSize {
                expected: 64,
                got: 5
            }))
        ));
    }

    #[test]
    fn model_file_backend_checks_the_configured_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("digits.vimlp");
        std::fs::write(&path, verinfer_mlp::BUILTIN_MODEL_FILE).unwrap();
        let id = IntMlp::builtin().unwrap().model_id();
        let ok = MlpBackend::from_file(&path, id).unwrap();
        assert_eq!(ok.model_id(), id);
        match MlpBackend::from_file(&path, B256::repeat_byte(7)) {
            Err(BackendError::IdMismatch {
                expected, computed, ..
            }) => assert_eq!((expected, computed), (B256::repeat_byte(7), id)),
            other => panic!("expected an id mismatch, got {other:?}"),
        }
        std::fs::write(&path, &verinfer_mlp::BUILTIN_MODEL_FILE[..100]).unwrap();
        assert!(matches!(
            MlpBackend::from_file(&path, id),
            Err(BackendError::Load(LoadError::Format {
                source: FormatError::Truncated { .. },
                ..
            }))
        ));
    }

    #[test]
    fn an_openai_backend_with_a_gguf_file_refuses_weights_other_than_its_model_id() {
        let dir = tempfile::tempdir().unwrap();
        let gguf = dir.path().join("m.gguf");
        std::fs::write(&gguf, b"GGUF weights").unwrap();
        let spec = LlmSpec {
            chat: true,
            ..LlmSpec::default()
        };
        let id = spec.model_id(alloy::primitives::keccak256(b"GGUF weights"));
        let cfg = |model_id: B256, gguf: PathBuf| BackendConfig::Openai {
            url: "http://127.0.0.1:1".into(),
            model: "m".into(),
            model_id: model_id.to_string(),
            chat: true,
            gguf: Some(gguf),
            max_tokens: spec.max_tokens,
            timeout_secs: 1,
            retries: 0,
            concurrency: 1,
        };
        assert_eq!(from_config(&cfg(id, gguf.clone())).unwrap().model_id(), id);
        std::fs::write(&gguf, b"other weights").unwrap();
        assert!(matches!(
            from_config(&cfg(id, gguf.clone())),
            Err(BackendError::IdMismatch { expected, .. }) if expected == id
        ));
        assert!(matches!(
            from_config(&cfg(id, dir.path().join("missing.gguf"))),
            Err(BackendError::Gguf(_))
        ));
    }
}
