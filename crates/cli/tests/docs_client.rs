//! docs/client.md, run as a dApp developer would run it: every shell block in order, in one shell
//! session (common::docs), against a local serving network (the devnet's anvil, suite, operators
//! and keepers: `DevnetConfig::serving_in`) standing in for the testnet. The values the doc asks
//! the reader to fill in (`export ETH_RPC_URL=…`, the paying key) get the test's; the network's
//! manifest is put where the doc says. The doc's Rust is run by the client crate's doctest.

use serde_json::Value;
use verinfer_devnet::{anvil, Devnet, DevnetConfig};

mod common;

use common::docs::{repo_path, shell_blocks, DocSession, Mark};

const DOC: &str = "docs/client.md";

#[test]
fn the_client_doc_submits_a_request_and_reads_its_verified_result_on_a_serving_devnet() {
    let md = std::fs::read_to_string(repo_path(DOC)).expect("the doc");
    let blocks = shell_blocks(DOC, &md).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        blocks.iter().all(|b| b.mark == Mark::Run),
        "every shell block of the client doc runs"
    );

    // The keepers run on the runtime's workers while this thread runs the doc's commands.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let root = tempfile::tempdir().expect("tempdir");
    let devnet = Devnet::start(DevnetConfig::serving_in(root.path())).expect("devnet");
    let (deployment, _operators, keepers) = rt.block_on(devnet.serving()).expect("serving network");

    let mut s = DocSession::new(
        DOC,
        &[
            ("ETH_RPC_URL", devnet.url().to_string()),
            (
                "VERINFER_PRIVATE_KEY",
                anvil::dev_key_hex(devnet.anvil(), 0).expect("dev key"),
            ),
        ],
    );
    std::fs::create_dir_all(s.work().join("deployments")).expect("deployments");
    std::fs::copy(
        &deployment.manifest_path,
        s.work().join("deployments/31337.json"),
    )
    .expect("manifest");
    std::os::unix::fs::symlink(repo_path("models"), s.work().join("models")).expect("models link");

    let outputs: Vec<(String, String)> =
        blocks.iter().map(|b| (b.text.clone(), s.run(b))).collect();
    s.assert_overrides_declared();
    let out = |needle: &str| {
        outputs
            .iter()
            .find(|(t, _)| t.contains(needle))
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| panic!("no block runs `{needle}`"))
    };

    // The input is the committed split's first digit, a 7, and the local run classifies it.
    let local = out("verinfer model --input");
    assert!(local.contains("class 7"), "{local}");
    // The request reached a verified result that decodes the same way.
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(s.work().join("request.json")).expect("request.json"),
    )
    .expect("one JSON object");
    assert!(
        matches!(r["status"].as_str(), Some("Quorum" | "Finalized")),
        "{r}"
    );
    assert_eq!(r["verified"], true, "{r}");
    assert!(
        r["decoded"].as_str().unwrap_or("").contains("class 7"),
        "{r}"
    );
    assert_eq!(r["callback"], Value::Null, "{r}");
    // The second block prints the status, the decoded output and `true`, then `request status`.
    let shown = out("verinfer request status $ID");
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(
        lines.get(..3),
        Some(
            &[
                r["status"].as_str().unwrap_or("?"),
                r["decoded"].as_str().unwrap_or("?"),
                "true"
            ][..]
        ),
        "{shown}"
    );
    // Read back by id: the same status and output, verified against the on-chain hash.
    let status = lines[3..].join("\n");
    // The JSON's id and challenge-window end are decimal strings, as the text prints them (the
    // README's convention; they were `0x`-hex, so `jq -r .request` gave `0x1` for "request 1").
    let id = r["request"].as_str().expect("the id, a string");
    let window = r["windowEnd"].as_str().expect("windowEnd, a string");
    assert!(
        status.starts_with(&format!(
            "request {id}: {} (challenge window ends at {window})",
            lines[0]
        )),
        "{status}\n{r}"
    );

    rt.block_on(keepers.stop());
}
