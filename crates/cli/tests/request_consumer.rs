//! `verinfer request --consumer` on a serving devnet: the request names a consumer, `--json` carries
//! the callback state, `verinfer request status` shows the callback delivered by a keeper after
//! finalization; bad callback input is refused before anything is sent.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use alloy::providers::Provider;
use verinfer_devnet::anvil::dev_key_hex;
use verinfer_devnet::{Devnet, DevnetConfig};

/// A valid input of the built-in digits classifier: 64 pixels, all 0.
const INPUT: &str = "0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_with_a_consumer_is_delivered_and_status_shows_it() {
    let root = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetConfig::serving_in(root.path())).expect("anvil starts");
    let (d, _ops, keepers) = devnet.serving().await.expect("a serving network");
    let consumers = devnet.deploy_consumers(&d).await.expect("consumers");
    let key = dev_key_hex(devnet.anvil(), 0).unwrap();
    let sender = devnet.dev_signer(0).unwrap().address();
    let url = devnet.url().to_owned();
    let manifest = d.manifest_path.to_str().unwrap().to_owned();
    let run = move |args: Vec<String>| -> Output {
        Command::new(env!("CARGO_BIN_EXE_verinfer"))
            .args(args)
            .args(["--rpc-url", url.as_str(), "--deployment", manifest.as_str()])
            .env_remove("ETH_RPC_URL")
            .env("VERINFER_PRIVATE_KEY", &key)
            .output()
            .expect("run verinfer")
    };
    let request = |extra: &[&str]| -> Vec<String> {
        [
            "request",
            "--input",
            INPUT,
            "--wait-secs",
            "60",
            "--fee",
            "0.5",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
    };
    let recorder = format!("{:#x}", consumers.recorder);
    let nonce_before = devnet
        .provider()
        .get_transaction_count(sender)
        .await
        .unwrap();
    let (not_contract, gas_too_high, fee_too_low, good) = {
        let run = run.clone();
        let args = [
            request(&["--consumer", "0x4242424242424242424242424242424242424242"]),
            request(&["--consumer", &recorder, "--callback-gas", "2500001"]),
            request(&["--consumer", &recorder, "--callback-fee", "1wei"]),
            request(&[
                "--consumer",
                &recorder,
                "--callback-gas",
                "100000",
                "--json",
            ]),
        ];
        tokio::task::spawn_blocking(move || {
            let [a, b, c, g] = args;
            let bad = (run(a), run(b), run(c));
            (bad.0, bad.1, bad.2, run(g))
        })
        .await
        .unwrap()
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!not_contract.status.success());
    assert!(
        stderr(&not_contract).contains("is not a contract"),
        "{}",
        stderr(&not_contract)
    );
    assert!(!gas_too_high.status.success());
    assert!(
        stderr(&gas_too_high).contains("outside [10000, 2500000]"),
        "{}",
        stderr(&gas_too_high)
    );
    assert!(!fee_too_low.status.success());
    assert!(
        stderr(&fee_too_low).contains("below the required"),
        "{}",
        stderr(&fee_too_low)
    );

    assert!(good.status.success(), "{}", stderr(&good));
    let v: serde_json::Value = serde_json::from_slice(&good.stdout).expect("one JSON object");
    assert_eq!(v["verified"], true);
    assert_eq!(v["callback"]["state"], "Pending");
    // Checksummed, as every address in the CLI's JSON.
    assert_eq!(
        v["callback"]["consumer"],
        consumers.recorder.to_checksum(None)
    );
    // The unpaid callback fee is an amount: decimal wei and the token.
    let unpaid = &v["callback"]["feeUnpaid"];
    assert_eq!(unpaid["symbol"], verinfer_bindings::units::SYMBOL, "{v}");
    assert!(
        unpaid["wei"].as_str().unwrap().parse::<U256>().unwrap() > U256::ZERO,
        "{v}"
    );
    // only the good request sent transactions (its approval and the request)
    let nonce_after = devnet
        .provider()
        .get_transaction_count(sender)
        .await
        .unwrap();
    assert_eq!(nonce_after, nonce_before + 2);

    // after the window, a keeper finalizes and delivers; `request status` shows it
    devnet
        .warp(u64::from(devnet.config().model.challenge_window) + 400)
        .await
        .unwrap();
    // The id is a decimal string, as `request status` prints it.
    let id: alloy::primitives::U256 = v["request"].as_str().unwrap().parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let args: Vec<String> = ["request", "status", &id.to_string(), "--json"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let run = run.clone();
        let o = tokio::task::spawn_blocking(move || run(args))
            .await
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        if s["callback"]["state"] == "Delivered" || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(status["status"], "Finalized", "{status}");
    assert_eq!(status["callback"]["state"], "Delivered", "{status}");
    assert_eq!(status["verified"], true);
    assert_eq!(status["outputHash"], v["outputHash"]);
    let _ = keepers.stop().await;
}
