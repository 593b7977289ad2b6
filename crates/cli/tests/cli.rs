//! Binary-level tests: bad config or bad key give a clear message and a non-zero exit.

use std::process::{Command, Output};

fn verinfer(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verinfer"));
    c.args(args);
    for k in [
        "VERINFER_RPC_URL",
        "VERINFER_REGISTRY",
        "VERINFER_OPERATOR",
        "VERINFER_OPERATOR_KEY",
        "VERINFER_PRIVATE_KEY",
        "VERINFER_DEPLOYMENT",
        "VERINFER_KEYSTORE",
        "VERINFER_KEYSTORE_PASSWORD",
        "ETH_RPC_URL",
    ] {
        c.env_remove(k);
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run verinfer")
}

/// A valid private key nobody funded (the tests that use it never reach a chain).
fn random_key() -> String {
    alloy::hex::encode_prefixed(alloy::signers::local::PrivateKeySigner::random().to_bytes())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs `verinfer <args>` and checks that it fails with `needle` in its stderr.
fn assert_refused(args: &[&str], needle: &str) {
    let o = verinfer(args, &[]);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(stderr(&o).contains(needle), "{}", stderr(&o));
}

/// Subcommand names listed under `Commands:` in a `--help` text (without clap's `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect()
}

/// Walks the whole command tree from `verinfer --help`: every command and subcommand has usage
/// text with an example.
#[test]
fn every_command_has_help_with_an_example() {
    let mut queue = vec![Vec::<String>::new()];
    let mut seen = 0;
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let o = verinfer(&args, &[]);
        assert!(o.status.success(), "{args:?}");
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(out.contains("Usage"), "{args:?}: {out}");
        assert!(out.contains("Example"), "{args:?} has no example: {out}");
        for sub in subcommands(&out) {
            let mut p = path.clone();
            p.push(sub);
            queue.push(p);
        }
        seen += 1;
    }
    // The tree really was walked (top level, its commands and their subcommands).
    assert!(seen >= 25, "only {seen} commands found");
}

#[test]
fn missing_config_file_is_reported() {
    let o = verinfer(
        &["keeper", "run", "--config", "/nonexistent/keeper.toml"],
        &[],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("cannot read config file /nonexistent/keeper.toml"),
        "{e}"
    );
}

#[test]
fn bad_config_field_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.toml");
    std::fs::write(&p, "rpc_url = \"http://127.0.0.1:1\"\nregistry = \"0x1234\"\noperator = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\n").unwrap();
    let o = verinfer(&["keeper", "run", "--config", p.to_str().unwrap()], &[]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("invalid value for `registry`"), "{e}");

    std::fs::write(
        &p,
        "rpc_url = \"http://127.0.0.1:1\"\nconfirmations = \"three\"\n",
    )
    .unwrap();
    let o = verinfer(&["keeper", "run", "--config", p.to_str().unwrap()], &[]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("confirmations"), "{e}");
}

#[test]
fn bad_key_is_reported_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.toml");
    std::fs::write(
        &p,
        "rpc_url = \"http://127.0.0.1:1\"\nregistry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\noperator = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\n",
    )
    .unwrap();
    let o = verinfer(
        &["keeper", "run", "--config", p.to_str().unwrap()],
        &[("VERINFER_OPERATOR_KEY", "0xnotakey123secret")],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("invalid private key in VERINFER_OPERATOR_KEY"),
        "{e}"
    );
    assert!(!e.contains("123secret"), "key echoed: {e}");

    let o = verinfer(&["keeper", "run", "--config", p.to_str().unwrap()], &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("VERINFER_OPERATOR_KEY (not set)"),
        "{}",
        stderr(&o)
    );
}

/// A keystore without a password (no env var, no terminal) is refused naming what is missing; it
/// is not tried with an empty password (which fails as an opaque "Mac Mismatch"). A foundry account
/// that does not exist names the path it looked for.
#[test]
fn a_keystore_without_a_password_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("op.json");
    std::fs::write(&ks, "{}").unwrap();
    let o = verinfer(
        &[
            "request",
            "--rpc-url",
            "http://127.0.0.1:1",
            "--input",
            ZERO_DIGIT,
            "--keystore",
            ks.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("no password for keystore") && e.contains("VERINFER_KEYSTORE_PASSWORD"),
        "{e}"
    );
    let o = verinfer(
        &[
            "request",
            "--rpc-url",
            "http://127.0.0.1:1",
            "--input",
            ZERO_DIGIT,
            "--account",
            "nobody-here",
        ],
        &[("HOME", dir.path().to_str().unwrap())],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(".foundry/keystores/nobody-here") && e.contains("cast wallet import"),
        "{e}"
    );
}

/// `ETH_RPC_URL` is honoured when `--rpc-url`/`VERINFER_RPC_URL` are absent, and a URL without a
/// scheme means http: the error names the URL actually tried.
#[test]
fn eth_rpc_url_and_scheme_less_urls_are_accepted() {
    let o = verinfer(
        &["request", "--input", ZERO_DIGIT],
        &[
            ("VERINFER_PRIVATE_KEY", &random_key()),
            ("ETH_RPC_URL", "127.0.0.1:1"),
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot reach http://127.0.0.1:1"),
        "{}",
        stderr(&o)
    );
    let o = verinfer(
        &[
            "request",
            "--input",
            ZERO_DIGIT,
            "--private-key",
            &random_key(),
            "--rpc-url",
            "127.0.0.1:1",
        ],
        &[],
    );
    assert!(
        stderr(&o).contains("cannot reach http://127.0.0.1:1"),
        "{}",
        stderr(&o)
    );
}

/// `--chain` (a name or an id, as cast takes it) refuses a node that serves another chain before
/// anything is sent, and lets the command run on the chain asked for.
#[test]
fn chain_flag_refuses_a_node_on_another_chain() {
    let node = verinfer_devnet::anvil::spawn(&verinfer_devnet::anvil::AnvilOptions::new())
        .expect("the pinned anvil starts");
    let url = node.endpoint();
    let key = verinfer_devnet::anvil::dev_key_hex(&node, 0).expect("dev key");
    let deploy = |chain: &str| {
        verinfer(
            &[
                "deploy",
                "--dry-run",
                "--rpc-url",
                &url,
                "--private-key",
                &key,
                "--chain",
                chain,
            ],
            &[],
        )
    };
    let o = deploy("sepolia");
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("--chain sepolia (id 11155111)")
            && err.contains("serves chain")
            && err.contains("id 31337")
            && err.contains("nothing was sent"),
        "{err}"
    );
    let o = deploy("31337");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = deploy("not-a-chain");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--chain"), "{}", stderr(&o));
}

#[test]
fn unreachable_rpc_is_a_clear_error() {
    let o = verinfer(
        &[
            "request",
            "--rpc-url",
            "http://127.0.0.1:1",
            "--input",
            ZERO_DIGIT,
        ],
        &[("VERINFER_PRIVATE_KEY", &random_key())],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot reach http://127.0.0.1:1"),
        "{}",
        stderr(&o)
    );
}

/// A valid input of the built-in digits classifier (64 pixels, all 0): a command that runs the
/// built-in model before connecting gets past that check to the part under test.
const ZERO_DIGIT: &str = "0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn model_prints_identity() {
    let o = verinfer(
        &["model", "--input", &format!("0x{}", "00".repeat(64))],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("model id") && out.contains("output hash") && out.contains("prediction"),
        "{out}"
    );
}

fn digits_file() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/digits/digits.vimlp"
    )
    .to_owned()
}

/// `model info <file>` prints the same id as the library computes for the file.
#[test]
fn model_info_prints_the_files_id() {
    let o = verinfer(&["model", "info", &digits_file()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let id = verinfer_mlp::IntMlp::builtin().unwrap().model_id();
    assert!(out.contains(&format!("model id        {id}")), "{out}");
    assert!(out.contains("dense 64x32 shift"), "{out}");
}

/// `model run` on the first committed test image predicts its label, from a raw-bytes file.
#[test]
fn model_run_classifies_a_test_image_from_a_file() {
    let split = verinfer_mlp::dataset::TestSplit::digits().unwrap();
    let first = &split.samples[0];
    let img = std::env::temp_dir().join(format!("verinfer-digit-{}.bin", std::process::id()));
    std::fs::write(&img, &first.input).unwrap();
    let o = verinfer(
        &[
            "model",
            "run",
            &digits_file(),
            "--input",
            &format!("@{}", img.display()),
        ],
        &[],
    );
    let _ = std::fs::remove_file(&img);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let want = verinfer_mlp::IntMlp::builtin()
        .unwrap()
        .classify(&first.input)
        .unwrap()
        .class;
    assert!(
        out.contains(&format!("prediction      class {want} ")),
        "{out}"
    );
}

/// `model eval` prints the accuracy the library measures on the committed split.
#[test]
fn model_eval_prints_the_measured_accuracy() {
    let o = verinfer(&["model", "eval", &digits_file(), "--runs", "2"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let e = verinfer_mlp::dataset::evaluate(
        &verinfer_mlp::IntMlp::builtin().unwrap(),
        &verinfer_mlp::dataset::TestSplit::digits().unwrap(),
    )
    .unwrap();
    assert!(
        out.contains(&format!("({} of 360 test images)", e.correct())),
        "{out}"
    );
    assert!(out.contains("inferences/s"), "{out}");
}

/// Bad input gets a clear error: the wrong size for the classifier, a truncated model file; and
/// `request` refuses a wrong-size input for the built-in model before it connects (nothing sent).
#[test]
fn model_bad_inputs_are_clear_errors() {
    let o = verinfer(&["model", "run", &digits_file(), "--input", "hello"], &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("input is 5 bytes, the model takes exactly 64"),
        "{}",
        stderr(&o)
    );
    let bad = std::env::temp_dir().join(format!("verinfer-trunc-{}.vimlp", std::process::id()));
    std::fs::write(&bad, &verinfer_mlp::BUILTIN_MODEL_FILE[..40]).unwrap();
    let o = verinfer(&["model", "info", bad.to_str().unwrap()], &[]);
    let _ = std::fs::remove_file(&bad);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("truncated model file"),
        "{}",
        stderr(&o)
    );
    let o = verinfer(
        &[
            "request",
            "--rpc-url",
            "http://127.0.0.1:1",
            "--input",
            "hello",
        ],
        &[("VERINFER_PRIVATE_KEY", &random_key())],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("the model takes exactly 64"), "{err}");
    assert!(!err.contains("cannot reach"), "{err}");
}

/// Runs `verinfer bench <args> --json <file> --anvil <pinned anvil>`; returns its stdout and the JSON
/// it wrote.
fn bench_json(name: &str, args: &[&str]) -> (String, serde_json::Value) {
    let anvil = verinfer_devnet::anvil::find(None).expect("the pinned anvil (run script/setup.sh)");
    let out =
        std::env::temp_dir().join(format!("verinfer-bench-{name}-{}.json", std::process::id()));
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.extend([
        "--json",
        out.to_str().unwrap(),
        "--anvil",
        anvil.to_str().unwrap(),
    ]);
    let o = verinfer(&all, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = serde_json::from_str(&std::fs::read_to_string(&out).expect("JSON file")).expect("JSON");
    let _ = std::fs::remove_file(&out);
    (String::from_utf8_lossy(&o.stdout).to_string(), v)
}

/// `bench keeper --json --count-rpc` writes one row per mode, the HA row and both ceilings included:
/// every row answered all its requests, each keeper row is read as a share of its ceiling and carries
/// its counted JSON-RPC calls (the keepers sent transactions through the proxy), the ceilings do not
/// (their sender bypasses it), and every drain has its CPU profile. Regression: the bench wrote its
/// deployment manifest to `./deployments/31337.json`, over a devnet's.
#[test]
fn bench_keeper_json_has_every_row_with_its_ceiling_share_and_profile() {
    let manifest = std::path::Path::new("deployments/31337.json");
    let _ = std::fs::remove_file(manifest);
    let (stdout, v) = bench_json(
        "keeper",
        &[
            "keeper",
            "--requests",
            "4",
            "--live-requests",
            "2",
            "--batch",
            "2",
            "--in-flight",
            "2",
            "--receipt-poll-ms",
            "20",
            "--count-rpc",
        ],
    );
    assert!(stdout.contains("anvil CPU s"));
    // The pipelined single row's share of the window sender, its parentheses closed (regression:
    // the table printed "17 % (111 % of (window)").
    assert!(
        stdout.contains(" % of (window)) |"),
        "no share of the window sender in {stdout}"
    );
    assert!(
        !manifest.exists(),
        "the bench wrote its manifest into the working directory"
    );
    let rows = v.as_array().expect("an array of rows");
    let modes: Vec<&str> = rows.iter().map(|r| r["mode"].as_str().unwrap()).collect();
    for prefix in [
        "(a) ",
        "(a') ",
        "(b) ",
        "(h1) ",
        "(h) ",
        "(c) ",
        "(ceiling) pre-signed submitAttestation burst",
        "(window) pre-signed submitAttestation, 2 in flight",
        "(ceiling) pre-signed submitAttestations x2",
    ] {
        assert!(
            modes.iter().any(|m| m.starts_with(prefix)),
            "no {prefix} row in {modes:?}"
        );
    }
    for r in rows {
        let mode = r["mode"].as_str().unwrap();
        assert_eq!(r["attestations"], 4, "{mode}");
        assert!(r["attestations_per_sec"].as_f64().unwrap() > 0.0, "{mode}");
        let (txs, blocks) = (r["txs"].as_u64().unwrap(), r["blocks"].as_u64().unwrap());
        assert!(
            blocks >= 1 && blocks <= txs,
            "{mode}: {txs} txs in {blocks} blocks"
        );
        assert!(r["drain_cpu_anvil_secs"].as_f64().unwrap() >= 0.0, "{mode}");
        assert!(r["drain_cpu_bench_secs"].as_f64().unwrap() >= 0.0, "{mode}");
        // The signing store's server is profiled in the rows that use it.
        assert_eq!(
            r["drain_cpu_postgres_secs"]
                .as_f64()
                .is_some_and(|s| s >= 0.0),
            mode.starts_with("(h"),
            "{mode}: {}",
            r["drain_cpu_postgres_secs"]
        );
        // Four requests are seen in fewer than the 8 sightings a rate once answers land needs.
        assert!(r["sending_attestations_per_sec"].is_null(), "{mode}");
        let keeper = ["(a", "(b", "(h"].iter().any(|p| mode.starts_with(p));
        // Only the pipelined single row has a window sender of its own window.
        assert_eq!(
            r["share_of_window_sender"]
                .as_f64()
                .is_some_and(|s| s > 0.0),
            mode.starts_with("(a') "),
            "{mode}: {}",
            r["share_of_window_sender"]
        );
        if keeper {
            assert!(r["share_of_ceiling"].as_f64().unwrap() > 0.0, "{mode}");
            assert!(r["live_latency_ms_median"].as_f64().is_some(), "{mode}");
            // The live latency splits at the request's inclusion: the two parts are each at
            // most the whole (the watcher sees both events), and the phase is profiled.
            let whole = r["live_latency_ms_median"].as_f64().unwrap();
            let keeper_part = r["live_keeper_ms_median"].as_f64().unwrap();
            let inclusion_part = r["live_inclusion_ms_median"].as_f64().unwrap();
            assert!(
                keeper_part >= 0.0 && keeper_part <= whole + 1e-9,
                "{mode}: {keeper_part} of {whole}"
            );
            // One model run per request: a single keeper's watcher does not re-run its own
            // results, and a standby adopts the lease holder's statements (at most one more run
            // per request if its wait ran out on a loaded machine).
            let runs = r["drain_inferences"].as_u64().unwrap();
            // The drain's incidents: the HA rows' replicas take the sender lease (a grant), and
            // nothing in a run on a private anvil sees a reorg.
            let incidents = &r["drain_incidents"];
            assert_eq!(
                incidents["lease_grants"].as_u64().unwrap() > 0,
                mode.starts_with("(h"),
                "{mode}: {incidents}"
            );
            assert_eq!(incidents["reorgs"].as_u64(), Some(0), "{mode}");
            if mode.starts_with("(h) ") {
                assert!((4..=8).contains(&runs), "{mode}: {runs} model runs");
            } else {
                assert_eq!(runs, 4, "{mode}: model runs");
            }
            // Look-ups in the signing store: none without one.
            let lookups = r["drain_claim_lookups"].as_u64().unwrap();
            if !mode.starts_with("(h") {
                assert_eq!(lookups, 0, "{mode}: look-ups without a signing store");
            }
            assert!(
                inclusion_part >= 0.0 && inclusion_part <= whole + 1e-9,
                "{mode}: {inclusion_part} of {whole}"
            );
            assert!(
                r["live_keeper_ms_p99"].as_f64().unwrap() >= keeper_part,
                "{mode}"
            );
            assert!(r["live_secs"].as_f64().unwrap() > 0.0, "{mode}");
            assert!(r["live_cpu_anvil_secs"].as_f64().unwrap() >= 0.0, "{mode}");
            assert_eq!(
                r["live_cpu_postgres_secs"].as_f64().is_some(),
                mode.starts_with("(h"),
                "{mode}"
            );
            assert!(
                r["drain_rpc_calls"]["eth_sendRawTransaction"]
                    .as_u64()
                    .unwrap()
                    >= 1,
                "{mode}: {}",
                r["drain_rpc_calls"]
            );
            let total: u64 = r["drain_rpc_calls"]
                .as_object()
                .unwrap()
                .values()
                .map(|n| n.as_u64().unwrap())
                .sum();
            let per_att = r["drain_rpc_calls_per_attestation"].as_f64().unwrap();
            assert!((per_att - total as f64 / 4.0).abs() < 1e-9, "{mode}");
        } else {
            assert!(r["share_of_ceiling"].is_null(), "{mode}");
            assert!(r["drain_rpc_calls"].is_null(), "{mode}");
            assert!(r["live_secs"].is_null(), "{mode}: no live phase");
            assert!(r["sending_share_of_ceiling"].is_null(), "{mode}");
            assert!(r["drain_inferences"].is_null(), "{mode}: no keeper");
            assert!(r["drain_claim_lookups"].is_null(), "{mode}: no keeper");
        }
    }
}

/// `bench keeper --rows b --live-requests 0 --runs 2` runs the batched row and the ceiling it is
/// read against, nothing else, with no live phase, twice, and reports each row's spread over the
/// runs against the median ceiling; an unknown row is refused with the list of rows.
#[test]
fn bench_keeper_runs_only_the_named_rows_with_their_ceiling() {
    let (stdout, v) = bench_json(
        "keeper-rows",
        &[
            "keeper",
            "--requests",
            "4",
            "--live-requests",
            "0",
            "--batch",
            "2",
            "--in-flight",
            "2",
            "--rows",
            "b",
            "--runs",
            "2",
        ],
    );
    let runs = v["runs"].as_array().expect("the rows of each run");
    assert_eq!(runs.len(), 2);
    for rows in runs {
        let rows = rows.as_array().expect("an array of rows");
        let modes: Vec<&str> = rows.iter().map(|r| r["mode"].as_str().unwrap()).collect();
        assert_eq!(modes.len(), 2, "{modes:?}");
        assert!(modes[0].starts_with("(b) "), "{modes:?}");
        assert!(
            modes[1].starts_with("(ceiling) pre-signed submitAttestations x2"),
            "{modes:?}"
        );
        assert_eq!(rows[0]["live_requests"], 0);
        assert!(rows[0]["live_latency_ms_median"].is_null());
        assert!(rows[0]["share_of_ceiling"].as_f64().unwrap() > 0.0);
    }
    let spread = v["spread"].as_array().expect("the spread of each row");
    assert_eq!(spread.len(), 2);
    assert_eq!(spread[0]["runs"], 2);
    let rates: Vec<f64> = runs
        .iter()
        .map(|rows| rows[0]["attestations_per_sec"].as_f64().unwrap())
        .collect();
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(spread[0]["attestations_per_sec"][0].as_f64(), Some(lo));
    assert!(spread[0]["share_of_pooled_ceiling"][1].as_f64().unwrap() > 0.0);
    assert!(spread[1]["pooled_ceiling"].is_null(), "a ceiling has none");
    // The pooled ceiling is the ceiling row's median over the runs.
    let pooled = spread[0]["pooled_ceiling"].as_f64().unwrap();
    let ceiling = spread[1]["attestations_per_sec"][1].as_f64().unwrap();
    assert!(
        (pooled - ceiling).abs() < 1e-6 * ceiling,
        "{pooled} vs {ceiling}"
    );
    assert!(stdout.contains("| of pooled ceiling |"), "{stdout}");
    assert_refused(
        &["bench", "keeper", "--rows", "b,x"],
        "unknown bench row \"x\"; the rows are a, a-prime, b",
    );
}

/// `bench sim` runs the same mix in revm and over JSON-RPC against its own anvil and reports the
/// ratio of the two measured rates (the figures themselves are measurements, not asserted).
#[test]
fn bench_sim_runs_one_mix_both_ways_and_reports_their_ratio() {
    let (stdout, v) = bench_json("sim", &["sim", "--stakers", "20", "--growth", "10"]);
    assert!(stdout.contains("ratio"));
    let c = &v["comparison"];
    assert_eq!(c["revm"]["engine"], "revm");
    assert_eq!(c["rpc"]["engine"], "json-rpc");
    assert_eq!(c["revm"]["transactions"], c["rpc"]["transactions"]);
    let (revm, rpc) = (
        c["revm"]["tx_per_sec"].as_f64().unwrap(),
        c["rpc"]["tx_per_sec"].as_f64().unwrap(),
    );
    assert!(revm > 0.0 && rpc > 0.0);
    assert!((c["ratio"].as_f64().unwrap() - revm / rpc).abs() < 1e-6 * (revm / rpc));
    assert_eq!(v["growth"][0]["stakers"], 10);

    assert_refused(
        &["bench", "sim", "--anvil", "/nonexistent/anvil"],
        "/nonexistent/anvil",
    );
}

#[test]
fn version_names_the_git_revision() {
    let o = verinfer(&["--version"], &[]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.starts_with("verinfer 0."), "{out}");
    let rev = out
        .split("(git ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_default();
    let hash = rev.trim_end_matches("-dirty");
    assert!(
        hash == "unknown" || (hash.len() == 12 && hash.chars().all(|c| c.is_ascii_hexdigit())),
        "{out}"
    );
}

#[test]
fn an_invalid_log_filter_is_an_error_not_ignored() {
    let o = verinfer(&["--log", "info,[[bad", "model", "info"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid --log filter `info,[[bad`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_verinfer()"),
        ("zsh", "#compdef verinfer"),
        ("fish", "complete -c verinfer"),
    ] {
        let o = verinfer(&["completions", shell], &[]);
        assert!(o.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..200.min(script.len())]
        );
        assert!(script.contains("devnet"), "{shell} completes subcommands");
    }
}

/// `sim run` exits non-zero when a goal line says FAIL in any seed (here a weak issuer's identities
/// buy three times the voice), after printing the summary and writing the report (every seed's
/// run), so CI can rely on it.
#[test]
fn sim_run_exits_non_zero_when_a_goal_fails() {
    let dir = std::env::temp_dir().join(format!("verinfer-sim-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("weak-issuer.toml");
    std::fs::write(
        &scenario,
        r#"name = "weak-issuer"
seed = 5
epochs = 1

[stakers]
count = 40
distribution = "pareto"
min_stake = 100.0

[operators]
count = 4
self_stake = 2000.0

[whales]
count = 2
strategy = "split"
split_into = 9
split_attested = true

[traffic]
requests_per_epoch = 4
optimistic_share = 1.0
"#,
    )
    .unwrap();
    let out = dir.join("report");
    let o = verinfer(
        &[
            "sim",
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--seeds",
            "2",
        ],
        &[],
    );
    assert!(!o.status.success(), "a failed goal must fail the run");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("FAIL best split gain"), "{stdout}");
    assert!(stdout.contains("over 2 seeds [5, 6]"), "{stdout}");
    let err = stderr(&o);
    assert!(
        err.contains("FAILED over 2 seed(s): ") && err.contains("best split gain"),
        "{err}"
    );
    // The report is still written.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert!(report["goals"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["pass"] == false));
    // Both seeds' runs, and each goal's verdict per seed.
    assert_eq!(report["runs"].as_array().unwrap().len(), 2);
    assert_eq!(report["goals"][0]["per_seed"].as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
