//! Inference backends: an integer MLP (the built-in digits classifier or a model file), an
//! OpenAI-compatible HTTP endpoint (temperature 0) and an external command.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use alloy::primitives::B256;
use tokio::io::AsyncWriteExt;

use crate::config::BackendConfig;
use crate::mlp::{FormatError, InputError, IntMlp, LoadError};

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
}

/// A boxed future returned by backends.
pub type InferFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, BackendError>> + Send + 'a>>;

/// Something that turns input bytes into output bytes for one model.
pub trait InferenceBackend: Send + Sync {
    /// The on-chain model id served.
    fn model_id(&self) -> B256;
    /// Runs the model on `input`.
    fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a>;
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
}

/// An OpenAI-compatible endpoint (`/v1/completions` or `/v1/chat/completions`), temperature 0. The
/// input bytes are sent as the (UTF-8, lossy) prompt; the output bytes are the returned text.
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    client: reqwest::Client,
    url: String,
    model: String,
    chat: bool,
    id: B256,
}

impl OpenAiBackend {
    /// Creates the backend.
    pub fn new(url: &str, model: &str, chat: bool, id: B256) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        Self {
            client,
            url: url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            chat,
            id,
        }
    }
}

impl InferenceBackend for OpenAiBackend {
    fn model_id(&self) -> B256 {
        self.id
    }
    fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a> {
        Box::pin(async move {
            let prompt = String::from_utf8_lossy(input).to_string();
            let (path, body) = if self.chat {
                (
                    "/v1/chat/completions",
                    serde_json::json!({"model": self.model, "temperature": 0, "seed": 0,
                        "messages": [{"role": "user", "content": prompt}]}),
                )
            } else {
                (
                    "/v1/completions",
                    serde_json::json!({"model": self.model, "temperature": 0, "seed": 0, "prompt": prompt}),
                )
            };
            let url = format!("{}{}", self.url, path);
            let err = |reason: String| BackendError::Http {
                url: url.clone(),
                reason,
            };
            let resp = self
                .client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| err(e.to_string()))?;
            let status = resp.status();
            let bytes = resp.bytes().await.map_err(|e| err(e.to_string()))?;
            if !status.is_success() {
                return Err(err(format!(
                    "status {status}: {}",
                    String::from_utf8_lossy(&bytes)
                )));
            }
            let v: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| err(format!("bad json: {e}")))?;
            let choice = v
                .get("choices")
                .and_then(|c| c.get(0))
                .ok_or_else(|| err("no choices".into()))?;
            let text = if self.chat {
                choice
                    .get("message")
                    .and_then(|m| m.get("content"))
                    .and_then(|t| t.as_str())
            } else {
                choice.get("text").and_then(|t| t.as_str())
            }
            .ok_or_else(|| err("no text in first choice".into()))?;
            Ok(text.as_bytes().to_vec())
        })
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
    /// Creates the backend (`argv[0]` is the program).
    pub fn new(argv: Vec<String>, id: B256) -> Self {
        Self {
            argv,
            id,
            timeout: Duration::from_secs(60),
        }
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
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(input)
                    .await
                    .map_err(|e| err(e.to_string()))?;
            }
            let out = tokio::time::timeout(self.timeout, child.wait_with_output())
                .await
                .map_err(|_| err("timed out".into()))?
                .map_err(|e| err(e.to_string()))?;
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
        } => Box::new(OpenAiBackend::new(url, model, *chat, parse_id(model_id)?)),
        BackendConfig::Command { argv, model_id } => {
            Box::new(CommandBackend::new(argv.clone(), parse_id(model_id)?))
        }
    })
}

/// The set of backends a keeper serves, looked up by model id.
pub struct Backends(Vec<Box<dyn InferenceBackend>>);

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|b| b.model_id()))
            .finish()
    }
}

impl Backends {
    /// Wraps backends.
    pub fn new(list: Vec<Box<dyn InferenceBackend>>) -> Self {
        Self(list)
    }

    /// Whether some backend serves `model_id`.
    pub fn serves(&self, model_id: B256) -> bool {
        self.0.iter().any(|b| b.model_id() == model_id)
    }

    /// Model ids served.
    pub fn model_ids(&self) -> Vec<B256> {
        self.0.iter().map(|b| b.model_id()).collect()
    }

    /// Runs `model_id` on `input`.
    pub async fn infer(&self, model_id: B256, input: &[u8]) -> Result<Vec<u8>, BackendError> {
        let b = self
            .0
            .iter()
            .find(|b| b.model_id() == model_id)
            .ok_or(BackendError::UnknownModel(model_id))?;
        b.infer(input).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A one-shot OpenAI-compatible server on 127.0.0.1 that checks temperature 0.
    async fn serve_once(reply: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let h = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            loop {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= i + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let resp = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}", reply.len());
            s.write_all(resp.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).to_string()
        });
        (format!("http://{addr}"), h)
    }

    #[tokio::test]
    async fn openai_completions_backend() {
        let (url, h) = serve_once(r#"{"choices":[{"text":" 42"}]}"#).await;
        let b = OpenAiBackend::new(&url, "tiny", false, B256::repeat_byte(1));
        let out = b.infer(b"what is 6*7?").await.unwrap();
        assert_eq!(out, b" 42");
        let req = h.await.unwrap();
        assert!(req.starts_with("POST /v1/completions"), "{req}");
        assert!(req.contains("\"temperature\":0"), "{req}");
        assert!(req.contains("what is 6*7?"));
    }

    #[tokio::test]
    async fn openai_chat_backend() {
        let (url, h) =
            serve_once(r#"{"choices":[{"message":{"role":"assistant","content":"hi"}}]}"#).await;
        let b = OpenAiBackend::new(&url, "tiny", true, B256::repeat_byte(1));
        assert_eq!(b.infer(b"hello").await.unwrap(), b"hi");
        assert!(h.await.unwrap().starts_with("POST /v1/chat/completions"));
    }

    #[tokio::test]
    async fn openai_backend_reports_http_errors() {
        let b = OpenAiBackend::new("http://127.0.0.1:1", "tiny", false, B256::ZERO);
        assert!(matches!(
            b.infer(b"x").await,
            Err(BackendError::Http { .. })
        ));
    }

    #[tokio::test]
    async fn command_backend() {
        let b = CommandBackend::new(vec!["tr".into(), "a-z".into(), "A-Z".into()], B256::ZERO);
        assert_eq!(b.infer(b"abc").await.unwrap(), b"ABC");
        let bad = CommandBackend::new(vec!["false".into()], B256::ZERO);
        assert!(bad.infer(b"x").await.is_err());
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
        std::fs::write(&path, crate::mlp::BUILTIN_MODEL_FILE).unwrap();
        let id = IntMlp::builtin().unwrap().model_id();
        let ok = MlpBackend::from_file(&path, id).unwrap();
        assert_eq!(ok.model_id(), id);
        match MlpBackend::from_file(&path, B256::repeat_byte(7)) {
            Err(BackendError::IdMismatch {
                expected, computed, ..
            }) => assert_eq!((expected, computed), (B256::repeat_byte(7), id)),
            other => panic!("expected an id mismatch, got {other:?}"),
        }
        std::fs::write(&path, &crate::mlp::BUILTIN_MODEL_FILE[..100]).unwrap();
        assert!(matches!(
            MlpBackend::from_file(&path, id),
            Err(BackendError::Load(LoadError::Format {
                source: FormatError::Truncated { .. },
                ..
            }))
        ));
    }
}
