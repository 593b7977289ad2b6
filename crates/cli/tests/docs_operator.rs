//! docs/operator.md, run as a new operator would run it: every shell block in order, in one shell
//! session (common::docs), against a fresh anvil standing in for the testnet. The values the doc
//! asks the reader to fill in (`export ETH_RPC_URL=…`, the deployer's key, the keeper's addresses)
//! get the test's; everything else is the doc's text. The keeper the doc starts must pass its
//! preflight, report a healthy `/health` and serve `/metrics`, and drain on SIGTERM.

use serde_json::Value;

mod common;

use common::docs::{free_addr, http_get, repo_path, shell_blocks, wait_for, DocSession, Mark};
use common::Chain;

const DOC: &str = "docs/operator.md";

#[test]
fn every_shell_block_of_the_operator_doc_is_run_or_marked_with_a_reason() {
    let md = std::fs::read_to_string(repo_path(DOC)).expect("the doc");
    let blocks = shell_blocks(DOC, &md).unwrap_or_else(|e| panic!("{e}"));
    assert!(blocks.iter().filter(|b| b.mark == Mark::Run).count() >= 6);
    assert_eq!(
        blocks.iter().filter(|b| b.mark == Mark::Background).count(),
        1,
        "the keeper is the one long-running command"
    );
}

#[test]
fn a_shell_block_that_cannot_run_must_be_marked_and_a_marker_must_give_its_reason() {
    let unmarked = "text\n```console\n$ verinfer --version\n```\n";
    let e = shell_blocks("x.md", unmarked).unwrap_err();
    assert!(e.contains("x.md:2") && e.contains("cannot run"), "{e}");
    let marked = "<!-- docs-test: skip: shows a prompt -->\n```console\n$ verinfer\n```\n";
    let b = shell_blocks("x.md", marked).unwrap();
    assert_eq!(b[0].mark, Mark::Skip("shows a prompt".into()));
    let no_reason = "<!-- docs-test: skip -->\n```sh\nls\n```\n";
    assert!(shell_blocks("x.md", no_reason)
        .unwrap_err()
        .contains("must say why"));
    let stray = "<!-- docs-test: skip: why -->\n\nprose\n```sh\nls\n```\n";
    assert!(shell_blocks("x.md", stray)
        .unwrap_err()
        .contains("not followed by a block"));
    let not_shell = "<!-- docs-test: skip: why -->\n```toml\na = 1\n```\n";
    assert!(shell_blocks("x.md", not_shell)
        .unwrap_err()
        .contains("not a shell block"));
    let plain = "```sh\nls\n```\n```rust\nfn main() {}\n```\n";
    let b = shell_blocks("x.md", plain).unwrap();
    assert_eq!((b.len(), b[0].line, b[0].mark.clone()), (1, 1, Mark::Run));
}

#[test]
fn the_operator_doc_takes_a_new_operator_to_a_running_monitored_keeper_on_anvil() {
    let chain = Chain::start();
    let md = std::fs::read_to_string(repo_path(DOC)).expect("the doc");
    let blocks = shell_blocks(DOC, &md).unwrap_or_else(|e| panic!("{e}"));
    let metrics_addr = free_addr();
    let mut s = DocSession::new(
        DOC,
        &[
            ("ETH_RPC_URL", chain.url.clone()),
            (
                "VERINFER_KEYSTORE_PASSWORD",
                "a test's password".to_string(),
            ),
            ("DEPLOYER_KEY", chain.key(0)),
            ("OUTPUTS_ADDR", free_addr()),
            ("METRICS_ADDR", metrics_addr.clone()),
        ],
    );
    // The doc runs from the repository's checkout (section 2 registers models/digits/digits.vimlp).
    std::os::unix::fs::symlink(repo_path("models"), s.work().join("models")).expect("models link");

    let log = s.dir.path().join("keeper.log");
    let keeper_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let mut keeper = None;
    let mut outputs = Vec::new();
    for b in &blocks {
        match &b.mark {
            Mark::Skip(_) => {}
            Mark::Run => outputs.push((b, s.run(b))),
            Mark::Background => {
                let mut child = s.spawn(b, &log);
                // Healthy: the preflight passed (registered, the hot key is the signer, the model
                // is served, the hot key has gas) and the keeper keeps up with the chain.
                let health = wait_for(
                    "the doc's keeper to report a healthy /health",
                    60,
                    || {
                        if let Ok(Some(st)) = child.0.try_wait() {
                            panic!("the keeper exited ({st}):\n{}", keeper_log());
                        }
                        match http_get(&metrics_addr, "/health") {
                            Ok((200, _, body)) => Some(body),
                            _ => None,
                        }
                    },
                    keeper_log,
                );
                let h: Value = serde_json::from_str(&health).expect("/health is JSON");
                assert_eq!(h["status"], "ok", "{h}");
                assert_eq!(h["reasons"], serde_json::json!([]), "{h}");
                assert_eq!(h["hot_key_balance_wei"], "1000000000000000000", "{h}");
                keeper = Some(child);
            }
        }
    }
    s.assert_overrides_declared();
    let mut keeper = keeper.expect("the doc starts a keeper");

    // Section 1: two keystores, and their addresses.
    let owner = s.var("OWNER");
    let hot = s.var("HOT");
    for (who, a) in [("owner", &owner), ("hot", &hot)] {
        assert!(a.starts_with("0x") && a.len() == 42, "{who}: {a:?}");
        assert!(
            s.home().join(".foundry/keystores").join(who).is_file(),
            "{who}"
        );
    }
    let out = |needle: &str| {
        outputs
            .iter()
            .find(|(b, _)| b.text.contains(needle))
            .map(|(_, o)| o.as_str())
            .unwrap_or_else(|| panic!("no block runs `{needle}`"))
    };
    // Section 3: registered with the doc's stake and signer, serving the built-in model.
    let reg = out("verinfer operator register");
    assert!(
        reg.contains(&format!(
            "registered operator {owner} with signer {hot} and 5000 tokens"
        )),
        "{reg}"
    );
    assert!(reg.contains("now serving 0x"), "{reg}");
    // The `--json` example prints one object: the endpoint, the checksummed operator, the receipt.
    let json = out("https://op.example.org --json");
    let j: Value = serde_json::from_str(json.trim()).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(j["endpoint"], "https://op.example.org", "{j}");
    assert_eq!(j["operator"], owner.as_str(), "{j}");
    assert_eq!(j["receipt"]["tx"].as_str().map(str::len), Some(66), "{j}");
    assert!(j["receipt"]["gasUsed"].as_u64().unwrap_or(0) > 0, "{j}");
    // Section 5: the monitoring commands print the hot key's balance gauge and build_info.
    let mon = out("curl -fsS http://$METRICS_ADDR/metrics");
    let label = format!("operator=\"{}\"", owner.to_lowercase());
    assert!(mon.contains("\"status\":\"ok\""), "{mon}");
    assert!(
        mon.lines()
            .any(|l| l.starts_with("verinfer_keeper_hot_key_balance_wei{") && l.contains(&label)),
        "{mon}"
    );
    assert!(mon.contains("verinfer_keeper_build_info{"), "{mon}");
    let (code, head, _) = http_get(&metrics_addr, "/metrics").expect("/metrics");
    assert_eq!(code, 200);
    assert!(
        head.contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    // Section 6: the version names the git revision; the completions were written.
    assert!(out("verinfer --version").starts_with("verinfer "));
    let completions = s
        .home()
        .join(".local/share/bash-completion/completions/verinfer");
    assert!(std::fs::read_to_string(completions)
        .unwrap_or_default()
        .contains("complete"));

    // SIGTERM drains: the keeper exits cleanly with its journal durable.
    let status = keeper.terminate(30);
    assert!(status.success(), "{status}\n{}", keeper_log());
    assert!(
        keeper_log().contains("journal is durable"),
        "{}",
        keeper_log()
    );
}
