//! `--json` through the binary, on an anvil each test starts itself: every command that prints a
//! result prints exactly one JSON object on stdout (nothing else), its addresses checksummed and its
//! amounts decimal wei strings with the token. The objects are parsed with serde_json and their
//! fields compared with the chain and with the arguments.

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolCall;
use serde_json::Value;
use verinfer_bindings::VerinferToken;

mod common;

use common::{Chain, TOKEN};

/// Runs `verinfer <args> --json` as account `key`; stdout must be one line holding one JSON object.
fn json(c: &Chain, key: usize, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = c.ok(key, &a);
    assert_eq!(out.lines().count(), 1, "one line on stdout: {out}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(v.is_object(), "{v}");
    v
}

/// The field as a string (panics naming the field and the object otherwise).
fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is not a string in {v}"))
}

/// The field as an address, required to be written checksummed.
fn checksummed(v: &Value, field: &str) -> Address {
    let text = s(v, field);
    let a: Address = text.parse().unwrap();
    assert_eq!(text, a.to_checksum(None), "`{field}` is checksummed");
    a
}

/// An amount object: its wei as a decimal string (no `0x`), the same amount in tokens, the symbol.
fn tokens(v: &Value) -> U256 {
    let wei = v["wei"].as_str().unwrap_or_else(|| panic!("no wei in {v}"));
    assert!(wei.bytes().all(|b| b.is_ascii_digit()), "decimal: {v}");
    let wei: U256 = wei.parse().unwrap();
    assert_eq!(v["symbol"], verinfer_bindings::units::SYMBOL, "{v}");
    assert_eq!(
        v["tokens"],
        verinfer_bindings::units::format_tokens(wei),
        "{v}"
    );
    wei
}

/// A receipt object: a 32-byte transaction hash, a block and the gas used.
fn mined(v: &Value) -> B256 {
    let r = &v["receipt"];
    assert!(r["gasUsed"].as_u64().unwrap_or_default() > 0, "{v}");
    assert!(r["block"].as_u64().is_some(), "{v}");
    s(r, "tx").parse().unwrap()
}

fn fund(c: &Chain, to: usize, whole: u128) {
    c.send(
        c.addr(0),
        c.contract("VerinferToken"),
        VerinferToken::transferCall {
            to: c.addr(to),
            value: U256::from(whole * TOKEN),
        }
        .abi_encode(),
    );
}

/// deploy (and its dry run and verify), model info/run/register, every operator command and report.
#[test]
fn deploy_model_operator_and_report_print_one_json_object_each() {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();

    let plan = json(&c, 0, &["deploy", "--root", &root, "--dry-run"]);
    assert_eq!(plan["dryRun"], true);
    assert_eq!(checksummed(&plan, "deployer"), c.addr(0));
    assert!(plan["totalGas"].as_u64().unwrap() > 1_000_000, "{plan}");
    assert!(plan["steps"].as_array().unwrap().len() > 5, "{plan}");
    assert_eq!(plan["maxCost"]["symbol"], "ETH");
    let balance: U256 = s(&plan["balance"], "wei").parse().unwrap();
    assert!(balance > U256::ZERO);
    assert_eq!(plan["enoughBalance"], true);

    let d = json(&c, 0, &["deploy", "--root", &root, "--keep-admin"]);
    assert_eq!(d["chainId"], 31337);
    assert_eq!(checksummed(&d, "admin"), c.addr(0), "--keep-admin");
    let contracts = d["contracts"].as_object().unwrap();
    for name in ["VerinferToken", "Staking", "InferenceRegistry"] {
        assert_eq!(checksummed(&d["contracts"], name), c.contract(name));
    }
    // The dry run planned the same addresses (same deployer and nonce).
    assert_eq!(plan["contracts"]["Staking"], d["contracts"]["Staking"]);
    assert!(contracts.len() >= 5, "{d}");
    assert!(
        d["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|st| st["gasUsed"].as_u64().unwrap() > 0),
        "{d}"
    );
    assert_eq!(
        std::path::Path::new(s(&d, "manifest")),
        c.dir.path().join("deployments/31337.json")
    );

    let v = json(&c, 0, &["deploy", "verify"]);
    assert_eq!(v["failed"], 0, "{v}");
    let checks = v["checks"].as_array().unwrap();
    assert!(
        !checks.is_empty() && checks.iter().all(|ch| ch["passed"] == true),
        "{v}"
    );

    // The model: identity, a run, the registration.
    let info = json(&c, 0, &["model", "info"]);
    let model_id = s(&info, "modelId").to_owned();
    assert_eq!(info["inputLen"], 64);
    assert_eq!(json(&c, 0, &["model"])["modelId"], model_id.as_str());
    let input = format!("0x{}", "01".repeat(64));
    let run = json(&c, 0, &["model", "--input", &input]);
    let output: alloy::primitives::Bytes = s(&run["run"], "output").parse().unwrap();
    assert_eq!(
        s(&run["run"], "outputHash").parse::<B256>().unwrap(),
        alloy::primitives::keccak256(&output)
    );
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/digits/digits.vimlp"
    );
    let reg = json(
        &c,
        0,
        &[
            "model",
            "register",
            file,
            "--min-fee",
            "0.01",
            "--k",
            "3",
            "--q",
            "2",
        ],
    );
    assert_eq!(
        s(&reg, "modelId"),
        s(&json(&c, 0, &["model", "info", file]), "modelId")
    );
    assert_eq!(tokens(&reg["minFee"]), U256::from(TOKEN / 100));
    assert_eq!(reg["minFee"]["wei"], "10000000000000000");
    assert_eq!((reg["k"].as_u64(), reg["q"].as_u64()), (Some(3), Some(2)));
    mined(&reg);

    // The operator commands.
    fund(&c, 1, 5_000);
    fund(&c, 2, 100);
    let signer = "0x00000000000000000000000000000000000000a1";
    let r = json(
        &c,
        1,
        &[
            "operator", "register", "--signer", signer, "--stake", "4999.5",
        ],
    );
    assert_eq!(checksummed(&r, "operator"), c.addr(1));
    assert_eq!(
        checksummed(&r, "signer"),
        signer.parse::<Address>().unwrap()
    );
    assert_eq!(tokens(&r["stake"]), U256::from(49_995 * TOKEN / 10));
    assert_eq!(r["stake"]["tokens"], "4999.5");
    mined(&r);

    let served = json(&c, 1, &["operator", "serve", "--model", &model_id]);
    assert_eq!(s(&served, "model"), model_id);
    assert_eq!(checksummed(&served, "operator"), c.addr(1));
    mined(&served);

    let op1 = c.addr(1).to_string();
    let st = json(
        &c,
        2,
        &["operator", "stake", "--operator", &op1, "--amount", "100"],
    );
    assert_eq!(checksummed(&st, "delegator"), c.addr(2));
    assert_eq!(checksummed(&st, "operator"), c.addr(1));
    assert_eq!(tokens(&st["amount"]), U256::from(100 * TOKEN));

    let url = "http://op1.example.org:9000";
    let e = json(&c, 1, &["operator", "set-endpoint", "--url", url]);
    assert_eq!(s(&e, "endpoint"), url);
    mined(&e);

    let sync = json(
        &c,
        0,
        &["operator", "sync", "--operator", &op1, "--dry-run"],
    );
    assert_eq!(sync["dryRun"], true);
    assert_eq!(checksummed(&sync, "operator"), c.addr(1));
    let checked = sync["checked"].as_array().unwrap();
    assert!(
        checked.contains(&Value::from(c.addr(2).to_checksum(None))),
        "the delegator is checked: {sync}"
    );
    assert!(sync["stale"].as_array().unwrap().is_empty(), "{sync}");

    let un = json(
        &c,
        2,
        &[
            "operator",
            "unstake",
            "--operator",
            &op1,
            "--shares",
            "1000",
        ],
    );
    assert_eq!(s(&un, "shares"), "1000");
    mined(&un);

    let new_signer = "0x00000000000000000000000000000000000000b2";
    let rot = json(
        &c,
        1,
        &["operator", "rotate-key", "--new-signer", new_signer],
    );
    assert_eq!(
        checksummed(&rot, "newSigner"),
        new_signer.parse::<Address>().unwrap()
    );
    mined(&rot);

    // report --json: the latest devnet-<ts>.json of the directory (not an older one, not the .md).
    let reports = c.dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::write(reports.join("devnet-1.json"), "{\"run\": 1}").unwrap();
    std::fs::write(reports.join("devnet-2.json"), "{\n  \"run\": 2\n}\n").unwrap();
    std::fs::write(
        reports.join("devnet-3.md"),
        "# a newer markdown-only report\n",
    )
    .unwrap();
    let dir = reports.to_str().unwrap();
    assert_eq!(json(&c, 0, &["report", "--dir", dir])["run"], 2);
    assert!(c.ok(0, &["report", "--dir", dir]).starts_with("# a newer"));
}

/// gov propose, vote, status, queue and execute: proposal ids as decimal strings (as the commands
/// take them), votes and quorum as decimal strings, the transactions mined.
#[test]
fn the_governance_commands_print_one_json_object_each() {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    // Production hand-over and residual rule (K = 10; applied: min(K, voices / 3) = 0 here, the
    // only voice being the unattested pool).
    json(&c, 0, &["deploy", "--root", &root]);
    fund(&c, 1, 20_000);
    json(
        &c,
        1,
        &[
            "operator",
            "register",
            "--signer",
            "0x00000000000000000000000000000000000000a1",
            "--stake",
            "20000",
        ],
    );
    // The proposer's voice counts from the block after its stake.
    c.mine(1);
    let action = "Staking:setMinOperatorStake(uint256):2500ether";
    let p = json(
        &c,
        1,
        &[
            "gov",
            "propose",
            "--action",
            action,
            "--description",
            "raise it",
        ],
    );
    let id = s(&p, "proposal").to_owned();
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "decimal id: {p}");
    assert_eq!(checksummed(&p, "proposer"), c.addr(1));
    assert_eq!(
        p["actions"][0]["call"],
        "Staking.setMinOperatorStake(value = 2500 VINF)"
    );
    assert_eq!(
        checksummed(&p["actions"][0], "target"),
        c.contract("Staking")
    );
    assert!(p["simulationFailures"].as_array().unwrap().is_empty());
    mined(&p);

    let st = json(&c, 0, &["gov", "status", "--proposal", &id]);
    assert_eq!(st["state"], "Pending");
    assert_eq!(st["eta"], Value::Null);

    c.mine(2);
    let v = json(
        &c,
        1,
        &["gov", "vote", "--proposal", &id, "--support", "for"],
    );
    assert_eq!(
        (v["support"].as_str(), s(&v, "proposal")),
        (Some("for"), id.as_str())
    );
    let weight: U256 = s(&v, "weight").parse().unwrap();
    assert!(weight > U256::ZERO, "{v}");
    mined(&v);

    let st = json(&c, 0, &["gov", "status", "--proposal", &id]);
    assert_eq!(st["state"], "Active");
    assert_eq!(s(&st["votes"], "for").parse::<U256>().unwrap(), weight);
    assert_eq!(st["votes"]["against"], "0");
    assert!(s(&st, "quorum").parse::<U256>().is_ok(), "{st}");

    c.mine(51);
    let q = json(&c, 2, &["gov", "queue", "--proposal", &id]);
    assert_eq!(q["ready"], false, "the timelock delay runs: {q}");
    let eta: u64 = s(&q, "eta").parse().unwrap();
    let st = json(&c, 0, &["gov", "status", "--proposal", &id]);
    assert_eq!(st["state"], "Queued");
    assert_eq!(s(&st, "eta").parse::<u64>().unwrap(), eta);

    c.rpc("evm_increaseTime", serde_json::json!([3_601]));
    c.mine(1);
    let x = json(&c, 3, &["gov", "execute", "--proposal", &id]);
    assert_eq!(
        (s(&x, "proposal"), x["actions"].as_u64()),
        (id.as_str(), Some(1))
    );
    mined(&x);
    assert_eq!(
        json(&c, 0, &["gov", "status", "--proposal", &id])["state"],
        "Executed"
    );
}
