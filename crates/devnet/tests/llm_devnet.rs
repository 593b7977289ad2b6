//! The real LLM on the network: SmolLM2 registered under its GGUF hash and decoding spec, served by
//! every keeper through llama-cpp-python (a server this test starts and stops), and a client that
//! gets the model's actual text, verified against the on-chain output hash.

use verinfer_devnet::config::LlmDevnet;
use verinfer_devnet::{Devnet, DevnetConfig};
use verinfer_keeper::backend::InferenceBackend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_receives_the_llms_actual_text_verified_against_the_chain() {
    let root = tempfile::tempdir().unwrap();
    let llm = LlmDevnet {
        prompts: 2,
        spec: verinfer_keeper::llm::LlmSpec {
            max_tokens: 12,
            ..Default::default()
        },
        install_root: Some(
            std::env::var_os("VERINFER_ROOT")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
                }),
        ),
    };
    // The phases' progress goes to stdout, which cargo shows when the test fails: a prompt
    // without a result then says what its request's outcome was.
    let cfg = DevnetConfig {
        llm: Some(llm.clone()),
        ..DevnetConfig::serving_in(root.path())
    }
    .with_progress(|p| println!("{p:?}"));
    let devnet = Devnet::start(cfg).expect("anvil starts");
    let (d, _ops, _keepers) = devnet.serving().await.expect("a serving network");
    let model = d.llm.clone().expect("the LLM is registered");
    let traffic = devnet.llm_traffic(&d, llm.prompts).await.expect("traffic");
    assert_eq!(traffic.results.len(), 2, "every prompt got a verified text");
    // The text the client holds is what the model itself generates for the prompt.
    let direct = model.server.backend(model.model_id, &model.spec);
    for r in &traffic.results {
        let truth = direct.infer(r.prompt.as_bytes()).await.unwrap();
        assert_eq!(r.text.as_bytes(), truth.as_slice(), "prompt {:?}", r.prompt);
        assert!(r.source.starts_with("http://127.0.0.1:"), "{}", r.source);
    }
    // A consumer contract receives the same text through the keepers' callback.
    let c = devnet
        .llm_to_text_store(&d)
        .await
        .expect("TextStore gets the text");
    assert!(c.matches_verified, "stored {:?}", c.stored);
    let truth = direct.infer(c.prompt.as_bytes()).await.unwrap();
    assert_eq!(c.stored.as_bytes(), truth.as_slice());
}
