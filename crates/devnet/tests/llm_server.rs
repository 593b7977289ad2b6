//! The real LLM: SmolLM2-135M-Instruct served by llama-cpp-python (installed by
//! `script/setup.sh --llm`, which `script/test.sh` runs). Each test starts its own server processes
//! and stops them. This is the small real-server check CI runs on every change; the full
//! determinism table (50 prompts) is `verinfer bench llm`.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::B256;
use verinfer_devnet::llm::{determinism, LlmInstall, LlmServer, LlmServerOptions};
use verinfer_keeper::backend::{self, BackendError};
use verinfer_keeper::config::BackendConfig;
use verinfer_keeper::llm::LlmSpec;

fn install() -> LlmInstall {
    let root = std::env::var_os("VERINFER_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    LlmInstall::locate(&root).expect("the LLM is installed (script/setup.sh --llm)")
}

fn spec() -> LlmSpec {
    LlmSpec {
        max_tokens: 24,
        ..LlmSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_with_different_thread_counts_generate_the_same_bytes_whatever_the_request_before(
) {
    let r = determinism(&install(), &spec(), &[1, 2], 3)
        .await
        .expect("both servers answer");
    assert_eq!(r.runs.len(), 2);
    for run in &r.runs {
        for out in &run.outputs {
            assert!(!out.is_empty());
            std::str::from_utf8(out).expect("completions are text");
        }
        assert!(run.tokens > 0, "the server reports generated tokens");
    }
    // Regression: with llama.cpp's default batch of 512, one server on an AMD EPYC completed the
    // second prompt two ways, after the first prompt and after itself, and the LLM devnet's keepers
    // (which share a server) disagreed, so a request never reached its quorum.
    assert!(
        r.deterministic(),
        "completions differ between 1 and 2 threads, or with the request before, on prompts {:?}",
        r.differing
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_serves_the_real_model_only_under_its_own_id_and_sees_the_server_go_down() {
    let install = install();
    let spec = spec();
    let id = install.model_id(&spec).unwrap();
    let server = LlmServer::start(&install, &LlmServerOptions::default())
        .await
        .expect("server starts");
    let cfg = |model_id: B256| BackendConfig::Openai {
        url: server.url().to_string(),
        model: "smollm2".into(),
        model_id: model_id.to_string(),
        chat: spec.chat,
        gguf: Some(install.gguf.clone()),
        max_tokens: spec.max_tokens,
        timeout_secs: 120,
        retries: 0,
        concurrency: 1,
    };
    // The GGUF file and the decoding spec fix the id: another id is refused at start.
    assert!(matches!(
        backend::from_config(&cfg(B256::repeat_byte(1))),
        Err(BackendError::IdMismatch { computed, .. }) if computed == id
    ));
    let b = backend::from_config(&cfg(id)).expect("the right id is accepted");
    let text = b.infer(b"What is the capital of France?").await.unwrap();
    assert!(!text.is_empty());
    assert_eq!(
        b.infer(b"What is the capital of France?").await.unwrap(),
        text,
        "greedy decoding repeats itself"
    );
    assert!(b.health().is_ok());

    drop(server);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(matches!(
        b.infer(b"hello").await,
        Err(BackendError::Http { .. })
    ));
    assert!(
        b.health().is_err(),
        "a down server makes the backend unhealthy"
    );
}
