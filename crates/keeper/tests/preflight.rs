//! The keeper's preflight against a deployed suite (the devnet fixture: deploy, register operators):
//! a keeper refuses to start, naming the problem and its fix, for an operator that is not
//! registered, a hot key that is not the operator's signer, no model served and a hot key without
//! gas, or an LLM server whose text depends on the request before; a keeper that starts exports its
//! hot key's balance and turns unhealthy when it falls below the floor.

use std::path::Path;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::signers::local::PrivateKeySigner;
use verinfer_bindings::units::tokens;
use verinfer_devnet::deploy::Deployment;
use verinfer_devnet::operators::{Behaviour, Operator, OperatorSpec};
use verinfer_devnet::{Devnet, DevnetConfig};
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::{BackendConfig, KeeperConfig, RawConfig};
use verinfer_keeper::keeper::preflight::ModelState;
use verinfer_keeper::keeper::{Keeper, KeeperError, PreflightError, Problem};

/// Two registered operators serving the built-in model: op0 with a funded hot key, op1 whose hot key
/// holds no gas.
async fn network(root: &Path) -> (Devnet, Deployment, Vec<Operator>) {
    let devnet = Devnet::start(DevnetConfig {
        root: root.to_path_buf(),
        data_dir: Some(root.join("keepers")),
        ..DevnetConfig::default()
    })
    .expect("anvil starts");
    let d = devnet.deploy().await.expect("deploy");
    let spec = |i: usize, bond| OperatorSpec {
        owner: devnet.dev_signer(1 + i).unwrap(),
        hot: HotKey::new(PrivateKeySigner::random()),
        stake: tokens(5_000),
        behaviour: Behaviour::Honest,
        bond,
    };
    let ops = devnet
        .register_operators(&d, vec![spec(0, Some(tokens(1))), spec(1, None)])
        .await
        .expect("register operators");
    (devnet, d, ops)
}

fn config(
    devnet: &Devnet,
    d: &Deployment,
    operator: Address,
    dir: &Path,
    backend: Vec<BackendConfig>,
) -> KeeperConfig {
    KeeperConfig::from_raw(RawConfig {
        rpc_url: Some(devnet.url().to_owned()),
        deployment: Some(d.manifest_path.clone()),
        operator: Some(format!("{operator:#x}")),
        data_dir: Some(dir.to_path_buf()),
        poll_interval_ms: Some(50),
        backend,
        ..RawConfig::default()
    })
    .unwrap()
}

/// The fatal problems a keeper refused to start over.
async fn refusal(cfg: KeeperConfig, key: HotKey) -> Vec<Problem> {
    let keeper = Keeper::new(cfg, key, "preflight").await.unwrap();
    match keeper.preflight().await {
        Err(KeeperError::Preflight(PreflightError::Refused { problems })) => {
            let message = PreflightError::Refused {
                problems: problems.clone(),
            }
            .to_string();
            assert!(message.contains("refuses to start"), "{message}");
            problems
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_refuses_to_start_naming_each_problem_with_its_operator() {
    let root = tempfile::tempdir().unwrap();
    let (devnet, d, ops) = network(root.path()).await;
    let builtin = vec![BackendConfig::Builtin {}];
    let dir = |n: &str| root.path().join(n);

    // Sound: registered, its signer, serving the built-in model, gas above the floor.
    let ok = Keeper::new(
        config(&devnet, &d, ops[0].address(), &dir("ok"), builtin.clone()),
        ops[0].hot.clone(),
        "ok",
    )
    .await
    .unwrap();
    let standing = ok.preflight().await.expect("a sound operator starts");
    assert_eq!(standing.models, [(d.model_id, ModelState::Served)]);
    drop(ok);

    // Not registered: dev account 8 never registered.
    let stranger = devnet.dev_signer(8).unwrap().address();
    let p = refusal(
        config(&devnet, &d, stranger, &dir("stranger"), builtin.clone()),
        ops[0].hot.clone(),
    )
    .await;
    assert!(
        matches!(&p[..], [Problem::NotRegistered { operator, .. }, ..] if *operator == stranger),
        "{p:?}"
    );
    assert!(p[0].to_string().contains("verinfer operator register"));

    // The wrong hot key: op1's key for op0.
    let p = refusal(
        config(
            &devnet,
            &d,
            ops[0].address(),
            &dir("wrong-key"),
            builtin.clone(),
        ),
        ops[1].hot.clone(),
    )
    .await;
    assert!(
        matches!(&p[..], [Problem::SignerMismatch { on_chain, hot_key, .. }, ..]
            if *on_chain == ops[0].hot.address() && *hot_key == ops[1].hot.address()),
        "{p:?}"
    );
    assert!(p[0].to_string().contains("rotate-key"), "{}", p[0]);

    // No model served: the only backend runs a model that is not registered.
    let unknown = B256::repeat_byte(0x42);
    let p = refusal(
        config(
            &devnet,
            &d,
            ops[0].address(),
            &dir("no-model"),
            vec![BackendConfig::Command {
                argv: vec!["cat".into()],
                model_id: format!("{unknown:#x}"),
                timeout_secs: 60,
            }],
        ),
        ops[0].hot.clone(),
    )
    .await;
    assert_eq!(
        p,
        [Problem::ServesNothing {
            operator: ops[0].address(),
            models: vec![(unknown, ModelState::Unregistered)],
        }]
    );

    // No gas: op1's hot key was never funded.
    let p = refusal(
        config(&devnet, &d, ops[1].address(), &dir("no-gas"), builtin),
        ops[1].hot.clone(),
    )
    .await;
    assert!(
        matches!(&p[..], [Problem::LowGas { balance, .. }] if balance.is_zero()),
        "{p:?}"
    );
    assert!(p[0].to_string().contains("min_hot_key_balance_wei"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_keeper_exports_its_gas_and_is_unhealthy_below_the_floor() {
    let root = tempfile::tempdir().unwrap();
    let (devnet, d, ops) = network(root.path()).await;
    let cfg = config(
        &devnet,
        &d,
        ops[0].address(),
        &root.path().join("k"),
        vec![BackendConfig::Builtin {}],
    );
    let floor = cfg.min_hot_key_balance_wei;
    let mut k = Keeper::new(cfg, ops[0].hot.clone(), "gas").await.unwrap();
    let funded = k.preflight().await.expect("starts").balance;
    k.tick().await.unwrap();
    let op = format!("{:#x}", ops[0].address());
    // The gauge is a float (as Prometheus stores every value): compared as one.
    let gauge = |k: &Keeper| {
        verinfer_keeper::metrics::parse_samples(&k.metrics().render())
            .into_iter()
            .find(|s| {
                s.name == "verinfer_keeper_hot_key_balance_wei" && s.has(&[("operator", &op)])
            })
            .map(|s| s.value)
    };
    let as_f64 = |wei: U256| wei.to_string().parse::<f64>().unwrap();
    assert_eq!(gauge(&k), Some(as_f64(funded)));
    let health = |k: &Keeper| {
        let m = k.metrics();
        verinfer_keeper::api::assess(m, Some(m.cursor_block.get()), &[], &k_policy())
    };
    assert_eq!(health(&k).status, "ok", "{:?}", health(&k));

    // The hot key is drained below the floor: the next refresh sees it.
    let low = U256::from(floor / 2);
    devnet
        .provider()
        .anvil_set_balance(ops[0].hot.address(), low)
        .await
        .unwrap();
    tokio::time::sleep(verinfer_keeper::keeper::preflight::STANDING_REFRESH).await;
    k.tick().await.unwrap();
    assert_eq!(gauge(&k), Some(as_f64(low)));
    let report = health(&k);
    assert_eq!(report.status, "unhealthy");
    assert_eq!(report.hot_key_balance_wei, Some(low.to_string()));
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.contains("below the gas floor")),
        "{report:?}"
    );
}

fn k_policy() -> verinfer_keeper::api::HealthPolicy {
    verinfer_keeper::api::HealthPolicy {
        max_lag_blocks: 1_000,
        max_inflight_age: Duration::from_secs(600),
        max_poll_age: Duration::from_secs(600),
    }
}

/// A minimal OpenAI-compatible chat server on a loopback port. With `history_dependent`, a prompt
/// asked right after itself gets another text than after a different prompt, as llama-cpp-python
/// with a batch of 512 did on an AMD EPYC (it evaluated the cached prompt in another batch shape);
/// without, the text depends on the prompt alone.
async fn chat_server(history_dependent: bool) -> String {
    use axum::{extract::State, routing::post, Json, Router};
    type Last = std::sync::Arc<std::sync::Mutex<String>>;
    async fn chat(
        State((dependent, last)): State<(bool, Last)>,
        Json(req): Json<serde_json::Value>,
    ) -> Json<serde_json::Value> {
        let prompt = req["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut last = last.lock().unwrap();
        let text = match dependent && *last == prompt {
            true => format!("{prompt} (after itself)"),
            false => prompt.clone(),
        };
        *last = prompt;
        Json(serde_json::json!({ "choices": [{ "message": { "content": text } }] }))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .with_state((history_dependent, Last::default()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A keeper refuses to start when an LLM backend's server completes a prompt differently right
/// after itself than after another prompt: it would attest texts that honest operators sharing no
/// history with it do not, and be slashed for the minority answers. The refusal names the fix.
/// A server whose texts depend on the prompt alone passes, and a server that cannot be reached now
/// does not stop the start (it is reported unhealthy instead).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_refuses_to_start_on_an_llm_server_whose_text_depends_on_the_request_before() {
    let root = tempfile::tempdir().unwrap();
    let (devnet, d, ops) = network(root.path()).await;
    let llm = B256::repeat_byte(0x17);
    let backends = |url: String| {
        vec![
            BackendConfig::Builtin {},
            BackendConfig::Openai {
                url,
                model: "m".into(),
                model_id: format!("{llm:#x}"),
                chat: true,
                gguf: None,
                max_tokens: 8,
                timeout_secs: 5,
                retries: 0,
                concurrency: 1,
            },
        ]
    };
    let keeper = |name: &'static str, url: String| {
        let cfg = config(
            &devnet,
            &d,
            ops[0].address(),
            &root.path().join(name),
            backends(url),
        );
        Keeper::new(cfg, ops[0].hot.clone(), name)
    };

    let k = keeper("dependent", chat_server(true).await).await.unwrap();
    match k.preflight().await {
        Err(KeeperError::Preflight(e @ PreflightError::HistoryDependent { model, .. })) => {
            assert_eq!(model, llm);
            let message = e.to_string();
            assert!(message.contains("refuses to start"), "{message}");
            assert!(message.contains("--n_batch 1 --n_ubatch 1"), "{message}");
        }
        other => panic!("expected a refusal over the server's history, got {other:?}"),
    }
    drop(k);

    let k = keeper("independent", chat_server(false).await)
        .await
        .unwrap();
    k.preflight()
        .await
        .expect("a server whose text depends on the prompt alone");
    drop(k);

    let unused = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let k = keeper("down", down).await.unwrap();
    k.preflight()
        .await
        .expect("a server down now does not stop the start");
}
