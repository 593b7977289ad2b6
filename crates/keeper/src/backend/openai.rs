//! An OpenAI-compatible HTTP backend (llama-cpp-python's server, vLLM, llama.cpp's `llama-server`):
//! greedy decoding, a deadline per attempt, bounded retries and a bounded number of completions in
//! flight. The backend remembers whether its last attempt reached the server, so `/health` can say
//! that a keeper cannot compute.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use tokio::sync::Semaphore;

use super::{BackendError, InferFuture, InferenceBackend, ProbeFuture};
use crate::llm::LlmSpec;

/// The prompts of [`InferenceBackend::check_history`]: the second is completed after the first,
/// then right after itself. The first two of `models/smollm2/prompts.txt`: on an AMD EPYC, a
/// llama-cpp-python server with the default batch of 512 completed the second two ways in exactly
/// this order.
pub const HISTORY_PROBE: [&str; 2] = [
    "What is the capital of France?",
    "Name three primary colors.",
];

/// How an [`OpenAiBackend`] calls its server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAiOptions {
    /// Decoding: the API and every parameter that is part of the model id.
    pub spec: LlmSpec,
    /// Longest wait for one attempt.
    pub timeout: Duration,
    /// Attempts after the first one, for failures that may pass (connection, timeout, 5xx, 429).
    pub retries: u32,
    /// Completions in flight at once.
    pub concurrency: usize,
}

impl Default for OpenAiOptions {
    fn default() -> Self {
        Self {
            spec: LlmSpec::default(),
            timeout: Duration::from_secs(60),
            retries: 2,
            concurrency: 4,
        }
    }
}

/// A completion: the text (the bytes a keeper attests) and, when the server reports it, the number
/// of generated tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The generated text.
    pub text: Vec<u8>,
    /// `usage.completion_tokens`, when reported.
    pub tokens: Option<u64>,
}

/// Whether the server answered the backend's last attempt.
#[derive(Debug, Default)]
struct Liveness {
    down: AtomicBool,
    failures: AtomicU64,
}

/// An OpenAI-compatible endpoint serving one model (see the module docs). The input bytes are the
/// prompt (UTF-8); the output bytes are the returned text.
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    client: reqwest::Client,
    url: String,
    model: String,
    opts: OpenAiOptions,
    id: B256,
    permits: Arc<Semaphore>,
    liveness: Arc<Liveness>,
}

/// One failed attempt, and whether another attempt may succeed.
struct Attempt {
    error: BackendError,
    transient: bool,
}

impl OpenAiBackend {
    /// A backend for `model` at `url` (base URL, e.g. `http://127.0.0.1:8000`) serving `id`.
    pub fn new(url: &str, model: &str, id: B256, opts: OpenAiOptions) -> Self {
        let client = reqwest::Client::builder()
            .timeout(opts.timeout)
            .build()
            .unwrap_or_default();
        Self {
            client,
            url: url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            permits: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            liveness: Arc::default(),
            opts,
            id,
        }
    }

    /// The decoding spec the backend runs.
    pub fn spec(&self) -> &LlmSpec {
        &self.opts.spec
    }

    fn request(&self, prompt: &str) -> (String, serde_json::Value) {
        let spec = &self.opts.spec;
        let mut body = serde_json::json!({
            "model": self.model, "temperature": 0, "top_k": 1, "seed": spec.seed,
            "max_tokens": spec.max_tokens, "stream": false,
        });
        let path = if spec.chat {
            body["messages"] = serde_json::json!([{ "role": "user", "content": prompt }]);
            "/v1/chat/completions"
        } else {
            body["prompt"] = serde_json::Value::String(prompt.to_string());
            "/v1/completions"
        };
        (format!("{}{path}", self.url), body)
    }

    async fn attempt(&self, url: &str, body: &serde_json::Value) -> Result<Completion, Attempt> {
        let fail = |error, transient| Attempt { error, transient };
        let resp = match self.client.post(url).json(body).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Err(fail(
                    BackendError::Timeout {
                        url: url.to_string(),
                        after: self.opts.timeout,
                    },
                    true,
                ))
            }
            Err(e) => {
                return Err(fail(
                    BackendError::Http {
                        url: url.to_string(),
                        reason: e.to_string(),
                    },
                    true,
                ))
            }
        };
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| {
            fail(
                BackendError::Http {
                    url: url.to_string(),
                    reason: format!("reading the reply: {e}"),
                },
                true,
            )
        })?;
        if !status.is_success() {
            let transient = status.is_server_error() || status.as_u16() == 429;
            let body = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned();
            return Err(fail(
                BackendError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                    body,
                },
                transient,
            ));
        }
        self.completion_text(url, &bytes)
            .map_err(|error| fail(error, false))
    }

    /// The text of the first choice of a completion reply; refuses non-UTF-8 or non-JSON replies,
    /// replies without text and empty completions.
    fn completion_text(&self, url: &str, reply: &[u8]) -> Result<Completion, BackendError> {
        let bad = |reason: String| BackendError::BadReply {
            url: url.to_string(),
            reason,
        };
        let text = std::str::from_utf8(reply).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let choice = v
            .get("choices")
            .and_then(|c| c.get(0))
            .ok_or_else(|| bad("no choices".into()))?;
        let out = if self.opts.spec.chat {
            choice.get("message").and_then(|m| m.get("content"))
        } else {
            choice.get("text")
        }
        .and_then(|t| t.as_str())
        .ok_or_else(|| bad("no text in the first choice".into()))?;
        if out.is_empty() {
            return Err(BackendError::EmptyCompletion {
                url: url.to_string(),
            });
        }
        Ok(Completion {
            text: out.as_bytes().to_vec(),
            tokens: v
                .get("usage")
                .and_then(|u| u.get("completion_tokens"))
                .and_then(serde_json::Value::as_u64),
        })
    }

    /// Runs the prompt `input` (UTF-8) with the backend's deadline, retries and concurrency limit.
    pub async fn complete(&self, input: &[u8]) -> Result<Completion, BackendError> {
        let prompt = std::str::from_utf8(input).map_err(|e| BackendError::PromptNotUtf8 {
            at: e.valid_up_to(),
        })?;
        let (url, body) = self.request(prompt);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| BackendError::Http {
                url: url.clone(),
                reason: "backend closed".into(),
            })?;
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            match self.attempt(&url, &body).await {
                Ok(out) => {
                    self.record(true);
                    return Ok(out);
                }
                Err(Attempt { error, transient }) => {
                    // A reply that is not a completion still came from a live server.
                    self.record(!transient);
                    if !transient || attempt >= self.opts.retries {
                        return Err(error);
                    }
                    tracing::warn!(%url, attempt, %error, "backend attempt failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                    attempt += 1;
                }
            }
        }
    }

    fn record(&self, reached: bool) {
        self.liveness.down.store(!reached, Ordering::Relaxed);
        if !reached {
            self.liveness.failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl InferenceBackend for OpenAiBackend {
    fn model_id(&self) -> B256 {
        self.id
    }

    fn workers(&self) -> usize {
        self.opts.concurrency.max(1)
    }

    fn infer<'a>(&'a self, input: &'a [u8]) -> InferFuture<'a> {
        Box::pin(async move { Ok(self.complete(input).await?.text) })
    }

    fn health(&self) -> Result<(), String> {
        if self.liveness.down.load(Ordering::Relaxed) {
            Err(format!(
                "{} unreachable ({} failed attempts so far)",
                self.url,
                self.liveness.failures.load(Ordering::Relaxed)
            ))
        } else {
            Ok(())
        }
    }

    /// Completes [`HISTORY_PROBE`]'s second prompt after its first, then again right after itself
    /// (the server then has the whole prompt cached, as for a second keeper sharing it), and
    /// compares the two texts. A server that evaluates a prompt in a batch shape that depends on its
    /// cache, on kernels that are not batch-invariant, fails. Passing does not prove the opposite:
    /// another prompt may still differ.
    fn check_history(&self) -> ProbeFuture<'_> {
        Box::pin(async move {
            let [other, prompt] = HISTORY_PROBE;
            self.complete(other.as_bytes()).await?;
            let first = self.complete(prompt.as_bytes()).await?.text;
            let second = self.complete(prompt.as_bytes()).await?.text;
            if first != second {
                return Err(BackendError::HistoryDependent {
                    url: self.url.clone(),
                    prompt: prompt.to_string(),
                    first: String::from_utf8_lossy(&first).into_owned(),
                    second: String::from_utf8_lossy(&second).into_owned(),
                });
            }
            Ok(())
        })
    }

    fn probe(&self) -> ProbeFuture<'_> {
        Box::pin(async move {
            let url = format!("{}/v1/models", self.url);
            let reached = self
                .client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .map(|r| r.status().is_success());
            match reached {
                Ok(true) => {
                    self.record(true);
                    Ok(())
                }
                Ok(false) | Err(_) => {
                    self.record(false);
                    Err(BackendError::Http {
                        url,
                        reason: match reached {
                            Ok(_) => "the server answers with an error".into(),
                            Err(e) => e.to_string(),
                        },
                    })
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A scripted OpenAI-compatible server: answers the n-th request with `replies[n]` (the last
    /// reply repeats), after `delay`; records every request and the most requests in flight at once.
    struct Mock {
        url: String,
        requests: Arc<tokio::sync::Mutex<Vec<String>>>,
        peak: Arc<AtomicUsize>,
    }

    async fn read_request(s: &mut tokio::net::TcpStream) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = s.read(&mut buf).await.unwrap_or(0);
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
                    return text;
                }
            }
            if n == 0 {
                return text;
            }
        }
    }

    async fn mock(replies: Vec<(u16, Vec<u8>)>, delay: Duration) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let peak = Arc::new(AtomicUsize::new(0));
        let live = Arc::new(AtomicUsize::new(0));
        let (reqs, pk) = (requests.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                let (reqs, pk, live, replies) =
                    (reqs.clone(), pk.clone(), live.clone(), replies.clone());
                tokio::spawn(async move {
                    let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                    pk.fetch_max(now, Ordering::SeqCst);
                    let req = read_request(&mut s).await;
                    let n = {
                        let mut r = reqs.lock().await;
                        r.push(req);
                        r.len() - 1
                    };
                    tokio::time::sleep(delay).await;
                    let (status, body) = &replies[n.min(replies.len() - 1)];
                    let head = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(body).await;
                    live.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Mock {
            url,
            requests,
            peak,
        }
    }

    fn ok(body: &str) -> (u16, Vec<u8>) {
        (200, body.as_bytes().to_vec())
    }

    fn backend(url: &str, chat: bool, retries: u32) -> OpenAiBackend {
        let opts = OpenAiOptions {
            spec: LlmSpec {
                chat,
                max_tokens: 7,
                ..LlmSpec::default()
            },
            timeout: Duration::from_secs(2),
            retries,
            concurrency: 4,
        };
        OpenAiBackend::new(url, "tiny", B256::repeat_byte(1), opts)
    }

    fn chat(text: &str) -> (u16, Vec<u8>) {
        ok(&serde_json::json!({ "choices": [{ "message": { "content": text } }] }).to_string())
    }

    /// The history check asks the probe's second prompt after its first, then right after itself,
    /// and fails a server whose two texts differ (what llama-cpp-python with a batch of 512 did on
    /// an AMD EPYC: the LLM devnet's keepers sharing it disagreed and a request got no quorum); a
    /// server whose texts agree passes.
    #[tokio::test]
    async fn a_server_that_completes_a_prompt_differently_after_itself_fails_the_history_check() {
        let m = mock(
            vec![chat("Paris"), chat("Red (R)\n"), chat("Red (R) and")],
            Duration::ZERO,
        )
        .await;
        let e = backend(&m.url, true, 0).check_history().await.unwrap_err();
        let BackendError::HistoryDependent {
            prompt,
            first,
            second,
            ..
        } = &e
        else {
            panic!("{e}");
        };
        assert_eq!(prompt, HISTORY_PROBE[1]);
        assert_eq!(
            (first.as_str(), second.as_str()),
            ("Red (R)\n", "Red (R) and")
        );
        assert!(e.to_string().contains("--n_batch 1 --n_ubatch 1"), "{e}");
        let asked: Vec<bool> = (m.requests.lock().await.iter())
            .map(|r| r.contains(HISTORY_PROBE[1]))
            .collect();
        assert_eq!(
            asked,
            [false, true, true],
            "the other prompt, then the probe twice"
        );

        let same = mock(vec![chat("Paris"), chat("Red")], Duration::ZERO).await;
        backend(&same.url, true, 0).check_history().await.unwrap();
    }

    #[tokio::test]
    async fn completions_are_greedy_and_carry_the_decoding_parameters_of_the_model_id() {
        let m = mock(vec![ok(r#"{"choices":[{"text":" 42"}]}"#)], Duration::ZERO).await;
        let out = backend(&m.url, false, 0).infer(b"what is 6*7?").await;
        assert_eq!(out.unwrap(), b" 42");
        let req = m.requests.lock().await[0].clone();
        assert!(req.starts_with("POST /v1/completions"), "{req}");
        for field in [
            "\"temperature\":0",
            "\"top_k\":1",
            "\"max_tokens\":7",
            "\"seed\":0",
            "what is 6*7?",
        ] {
            assert!(req.contains(field), "{field} missing in {req}");
        }
    }

    #[tokio::test]
    async fn chat_completions_return_the_message_content() {
        let m = mock(
            vec![ok(
                r#"{"choices":[{"message":{"role":"assistant","content":"hi"}}]}"#,
            )],
            Duration::ZERO,
        )
        .await;
        assert_eq!(
            backend(&m.url, true, 0).infer(b"hello").await.unwrap(),
            b"hi"
        );
        assert!(m.requests.lock().await[0].starts_with("POST /v1/chat/completions"));
    }

    #[tokio::test]
    async fn server_errors_are_retried_and_client_errors_are_not() {
        let m = mock(
            vec![
                (500, b"busy".to_vec()),
                (503, b"busy".to_vec()),
                ok(r#"{"choices":[{"text":"ok"}]}"#),
            ],
            Duration::ZERO,
        )
        .await;
        assert_eq!(backend(&m.url, false, 2).infer(b"x").await.unwrap(), b"ok");
        assert_eq!(m.requests.lock().await.len(), 3);

        let m = mock(vec![(400, b"bad prompt".to_vec())], Duration::ZERO).await;
        match backend(&m.url, false, 5).infer(b"x").await {
            Err(BackendError::Status {
                status: 400, body, ..
            }) => assert_eq!(body, "bad prompt"),
            other => panic!("expected a 400, got {other:?}"),
        }
        assert_eq!(m.requests.lock().await.len(), 1, "a 4xx is not retried");
    }

    #[tokio::test]
    async fn empty_and_malformed_completions_are_refused_with_typed_errors() {
        type Expect = fn(&BackendError) -> bool;
        let cases: Vec<((u16, Vec<u8>), Expect)> = vec![
            (ok(r#"{"choices":[{"text":""}]}"#), |e| {
                matches!(e, BackendError::EmptyCompletion { .. })
            }),
            (
                (200, vec![0x7b, 0xff, 0xfe, 0x7d]),
                |e| matches!(e, BackendError::BadReply { reason, .. } if reason.starts_with("not UTF-8")),
            ),
            (
                ok("<html>"),
                |e| matches!(e, BackendError::BadReply { reason, .. } if reason.starts_with("not JSON")),
            ),
            (
                ok(r#"{"choices":[]}"#),
                |e| matches!(e, BackendError::BadReply { reason, .. } if reason == "no choices"),
            ),
        ];
        for (reply, expected) in cases {
            let m = mock(vec![reply], Duration::ZERO).await;
            let b = backend(&m.url, false, 3);
            let err = b.infer(b"x").await.unwrap_err();
            assert!(expected(&err), "unexpected error {err:?}");
            assert_eq!(m.requests.lock().await.len(), 1, "{err}: not retried");
            assert!(
                b.health().is_ok(),
                "a live server that answers badly is not down"
            );
        }
    }

    #[tokio::test]
    async fn a_hung_server_times_out_and_a_dead_one_marks_the_backend_down_until_it_answers() {
        let m = mock(
            vec![ok(r#"{"choices":[{"text":"late"}]}"#)],
            Duration::from_secs(30),
        )
        .await;
        let mut b = backend(&m.url, false, 0);
        b.opts.timeout = Duration::from_millis(300);
        b.client = reqwest::Client::builder()
            .timeout(b.opts.timeout)
            .build()
            .unwrap();
        assert!(matches!(
            b.infer(b"x").await,
            Err(BackendError::Timeout { .. })
        ));
        assert!(b.health().is_err());

        let dead = backend("http://127.0.0.1:1", false, 1);
        assert!(matches!(
            dead.infer(b"x").await,
            Err(BackendError::Http { .. })
        ));
        let why = dead.health().unwrap_err();
        assert!(why.contains("2 failed attempts"), "{why}");
        assert!(dead.probe().await.is_err());

        let live = mock(vec![ok(r#"{"data":[]}"#)], Duration::ZERO).await;
        let mut revived = dead.clone();
        revived.url = live.url.clone();
        revived.probe().await.unwrap();
        assert!(revived.health().is_ok());
    }

    #[tokio::test]
    async fn a_prompt_that_is_not_utf8_is_refused_before_anything_is_sent() {
        let m = mock(vec![ok(r#"{"choices":[{"text":"x"}]}"#)], Duration::ZERO).await;
        assert!(matches!(
            backend(&m.url, false, 0).infer(&[b'a', 0xff]).await,
            Err(BackendError::PromptNotUtf8 { at: 1 })
        ));
        assert!(m.requests.lock().await.is_empty());
    }

    #[tokio::test]
    async fn no_more_completions_than_the_concurrency_limit_are_in_flight() {
        let m = mock(
            vec![ok(r#"{"choices":[{"text":"x"}]}"#)],
            Duration::from_millis(100),
        )
        .await;
        let mut b = backend(&m.url, false, 0);
        b.permits = Arc::new(Semaphore::new(2));
        let mut runs = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let b = b.clone();
            runs.spawn(async move { b.infer(b"x").await.map(|_| ()) });
        }
        while let Some(r) = runs.join_next().await {
            r.unwrap().unwrap();
        }
        assert_eq!(m.requests.lock().await.len(), 6);
        assert_eq!(m.peak.load(Ordering::SeqCst), 2);
    }
}
