//! A keeper process killed with SIGKILL in the middle of a burst of submissions, then restarted on
//! the same database: no attestation is sent twice and none is lost.
//!
//! Three `verinfer keeper run` processes serve the built-in model (k = 3, so every request is
//! assigned to all of them) on an anvil that mines a block every second, so transactions sit in the
//! pool when the kill lands. The killed keeper's hot key must end with exactly one transaction per
//! request, every one of them successful, and every request answered by all three operators.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent};
use verinfer_bindings::{InferenceRegistry, VerinferToken};
use verinfer_mlp::IntMlp;

mod common;

use common::{Chain, TOKEN};

const REQUESTS: usize = 12;

fn hot_key(c: &Chain, i: usize) -> (Address, String) {
    (c.addr(i), c.key(i))
}

fn keeper(c: &Chain, config: &Path, key: &str, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_verinfer"))
        .args(["keeper", "run", "--config"])
        .arg(config)
        .env("VERINFER_OPERATOR_KEY", key)
        .env("VERINFER_LOG", "info")
        .env_remove("VERINFER_KEEPER_CONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn keeper for {}: {e}", c.url))
}

/// `AnswerRecorded` events of `operator` (by request id).
fn answers(c: &Chain, registry: Address, operator: Address) -> Vec<U256> {
    let filter = Filter::new()
        .address(registry)
        .event_signature(InferenceRegistry::AnswerRecorded::SIGNATURE_HASH)
        .topic2(operator.into_word())
        .from_block(0);
    let logs = c.rt.block_on(c.provider.get_logs(&filter)).expect("logs");
    logs.iter()
        .map(|l| {
            InferenceRegistry::AnswerRecorded::decode_log_data(l.data())
                .expect("decodes")
                .requestId
        })
        .collect()
}

fn nonce(c: &Chain, who: Address) -> u64 {
    c.rt.block_on(async { c.provider.get_transaction_count(who).await })
        .expect("nonce")
}

/// The keepers' logs, for failure messages.
fn logs(c: &Chain) -> String {
    let mut out = String::new();
    let mut files: Vec<_> = std::fs::read_dir(c.dir.path())
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for p in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
    {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        out.push_str(&format!("--- {}\n", p.display()));
        for l in tail.into_iter().rev() {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

fn wait_until(c: &Chain, what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            logs(c)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn keeper_killed_mid_submission_resumes_without_duplicates_or_losses() {
    let c = Chain::start_with(&["--block-time", "1"]);
    let root = c.dir.path().to_str().unwrap().to_owned();
    c.ok(0, &["deploy", "--root", &root, "--keep-admin"]);
    let (token, registry) = (c.contract("VerinferToken"), c.contract("InferenceRegistry"));

    // The built-in model (the digits classifier), every operator assigned (k = 3 of 3), registered
    // from its file by `verinfer model register`; registering it twice is a decoded revert.
    let model = IntMlp::builtin().unwrap();
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/digits/digits.vimlp"
    );
    let out = c.ok(0, &["model", "register", file, "--k", "3", "--q", "2"]);
    assert!(
        out.contains(&format!("registered model {}", model.model_id())),
        "{out}"
    );
    let err = c.fails(0, &["model", "register", file]);
    assert!(err.contains("ModelAlreadyRegistered"), "{err}");
    let mut children = Vec::new();
    let mut configs = Vec::new();
    for op in 1..=3usize {
        c.send(
            c.addr(0),
            token,
            VerinferToken::transferCall {
                to: c.addr(op),
                value: U256::from(5_000 * TOKEN),
            }
            .abi_encode(),
        );
        let (hot, key) = hot_key(&c, op + 4);
        c.ok(
            op,
            &[
                "operator",
                "register",
                "--signer",
                &hot.to_string(),
                "--stake",
                "5000",
            ],
        );
        c.ok(op, &["operator", "serve", "--model", "builtin"]);
        let config = c.dir.path().join(format!("keeper{op}.toml"));
        std::fs::write(
            &config,
            format!(
                "rpc_url = \"{}\"\ndeployment = \"{}\"\noperator = \"{}\"\ndata_dir = \"{}\"\n\
                 confirmations = 0\npoll_interval_ms = 200\nwatch = false\nfinalize = false\n\
                 metrics_addr = \"127.0.0.1:0\"\n\n\
                 [submit]\nmode = \"single\"\nreceipt_timeout_secs = 10\n",
                c.url,
                c.manifest().display(),
                c.addr(op),
                c.dir.path().join(format!("db{op}")).display(),
            ),
        )
        .unwrap();
        let log = c.dir.path().join(format!("keeper{op}.log"));
        children.push(keeper(&c, &config, &key, &log));
        configs.push((config, key, log, hot));
    }

    // A burst of requests from the client (account 4).
    let client = c.addr(4);
    c.send(
        c.addr(0),
        token,
        VerinferToken::transferCall {
            to: client,
            value: U256::from(100 * TOKEN),
        }
        .abi_encode(),
    );
    c.send(
        client,
        token,
        VerinferToken::approveCall {
            spender: registry,
            value: U256::MAX,
        }
        .abi_encode(),
    );
    let model_id = model.model_id();
    let now =
        c.rt.block_on(async { c.provider.get_block_by_number(Default::default()).await })
            .expect("head")
            .expect("a head block")
            .header
            .timestamp;
    let split = verinfer_mlp::dataset::TestSplit::digits().unwrap();
    let request = |i: usize| {
        let input = split.cycle(i).input.clone();
        let call = InferenceRegistry::requestInferenceCall {
            modelId: model_id,
            inputHash: keccak256(&input),
            inputURI: verinfer_keeper::keeper::inline_uri(&input),
            fee: U256::from(TOKEN / 10),
            deadline: alloy::primitives::Uint::from(now + 3_600),
        };
        let tx = TransactionRequest::default()
            .with_from(client)
            .with_to(registry)
            // Assignment draws from the block's randomness: an estimate made against the last
            // block can fall short in the next one.
            .with_gas_limit(1_000_000)
            .with_input(Bytes::from(call.abi_encode()));
        let hash =
            c.rt.block_on(async { c.provider.send_transaction(tx).await.map(|p| *p.tx_hash()) })
                .expect("request sent");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r =
                c.rt.block_on(async { c.provider.get_transaction_receipt(hash).await })
                    .expect("receipt query");
            if let Some(r) = r {
                assert!(r.status(), "request {i} ({hash}) reverted");
                break;
            }
            assert!(Instant::now() < deadline, "request {i} ({hash}) not mined");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    for i in 0..REQUESTS / 2 {
        request(i);
    }

    // Kill keeper 1 as soon as its first answer lands (more are journaled or in the pool).
    let (victim_op, victim_hot) = (c.addr(1), configs[0].3);
    wait_until(&c, "the first answer of keeper 1", 60, || {
        !answers(&c, registry, victim_op).is_empty()
    });
    children[0].kill().expect("SIGKILL keeper 1");
    children[0].wait().expect("reaped");
    let at_kill = answers(&c, registry, victim_op).len();
    for i in REQUESTS / 2..REQUESTS {
        request(i);
    }
    std::thread::sleep(Duration::from_secs(2));
    let (config, key, log, _) = &configs[0];
    let restart_log = log.with_extension("restart.log");
    children[0] = keeper(&c, config, key, &restart_log);

    // Nothing lost: every request answered by all three operators.
    for op in 1..=3 {
        wait_until(&c, "every request answered by every operator", 120, || {
            answers(&c, registry, c.addr(op)).len() >= REQUESTS
        });
    }
    std::thread::sleep(Duration::from_secs(3)); // a late duplicate would land here
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }

    let mut ids = answers(&c, registry, victim_op);
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert_eq!(total, REQUESTS, "answers of keeper 1: {ids:?}");
    assert_eq!(ids.len(), REQUESTS, "a request was answered twice");
    // No duplicate submission: one transaction per attestation from the hot key, none reverted.
    assert_eq!(
        nonce(&c, victim_hot),
        REQUESTS as u64,
        "keeper 1 sent {} transactions for {REQUESTS} attestations ({at_kill} landed before the kill); logs in {}",
        nonce(&c, victim_hot),
        c.dir.path().display()
    );
    assert!(
        at_kill < REQUESTS,
        "the kill must land before keeper 1 finished its work"
    );
}
