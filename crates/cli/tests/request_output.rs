//! `verinfer request` on a running devnet puts the model's actual output in the user's hands: it
//! waits for the result, fetches the bytes from the answering operators' keepers, checks them against
//! the on-chain output hash and says so (in text and as JSON).

use std::process::Command;

use verinfer_devnet::anvil::dev_key_hex;
use verinfer_devnet::{Devnet, DevnetConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_prints_the_output_verified_against_its_hash() {
    let root = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetConfig::serving_in(root.path())).expect("anvil starts");
    let (d, _ops, keepers) = devnet.serving().await.expect("a serving network");
    let key = dev_key_hex(devnet.anvil(), 0).unwrap();
    let url = devnet.url().to_owned();
    let manifest = d.manifest_path.to_str().unwrap().to_owned();
    let run = move |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_verinfer"));
        c.args([
            "request",
            "--input",
            // a valid input of the built-in digits classifier: 64 pixels, all 0
            "0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            "--wait-secs",
            "60",
            "--fee",
            "0.5",
        ])
        .args(["--rpc-url", url.as_str()])
        .args(["--deployment", manifest.as_str()])
        .args(extra)
        .env_remove("ETH_RPC_URL")
        .env("VERINFER_PRIVATE_KEY", &key);
        c.output().expect("run verinfer")
    };
    let o = tokio::task::spawn_blocking(move || (run(&[]), run(&["--json"])))
        .await
        .unwrap();
    let (text, json) = o;
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert!(out.contains("verified against outputHash 0x"), "{out}");
    assert!(out.contains("served by http://127.0.0.1:"), "{out}");
    assert!(out.contains("output        class "), "{out}");

    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON object");
    assert_eq!(v["verified"], true);
    let output = alloy::primitives::hex::decode(v["output"].as_str().unwrap()).unwrap();
    let hash: alloy::primitives::B256 = v["outputHash"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        alloy::primitives::keccak256(&output),
        hash,
        "the printed bytes hash to the result"
    );
    let _ = keepers.stop().await;
}
