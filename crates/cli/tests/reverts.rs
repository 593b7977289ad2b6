//! Failures through the binary are decoded and leave nothing behind (issue 16), on an anvil each
//! test starts itself: a request or a registration that would revert prints the contract error by
//! name with its arguments in tokens and a hint (never a raw selector) and leaves the token
//! allowance as it was (the call is simulated before its approve is sent); a key without ETH fails
//! at once with its address and balance (`gov propose` refusing an action that reverts is in
//! gov.rs).

use std::process::{Command, Output};

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use verinfer_bindings::VerinferToken;

mod common;

use common::{Chain, TOKEN};

/// A valid input of the built-in digits classifier: 64 pixels, all 0.
const INPUT: &str = "0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

fn allowance(c: &Chain, owner: Address, spender: Address) -> U256 {
    let ret = c
        .call(
            owner,
            c.contract("VerinferToken"),
            VerinferToken::allowanceCall { owner, spender }.abi_encode(),
        )
        .unwrap();
    VerinferToken::allowanceCall::abi_decode_returns(&ret).unwrap()
}

fn digits_file() -> String {
    format!(
        "{}/../../models/digits/digits.vimlp",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Deploys keeping the deployer as admin (as the devnet does).
fn deployed() -> Chain {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    c.ok(0, &["deploy", "--root", &root, "--keep-admin"]);
    c
}

/// Asserts the failure names `error` with `args` and a hint, and shows no raw selector.
fn assert_decoded(stderr: &str, error: &str, args: &[&str], hint: &str, selector: &str) {
    assert!(stderr.contains(&format!("{error}(")), "{stderr}");
    for a in args {
        assert!(stderr.contains(a), "`{a}` missing:\n{stderr}");
    }
    assert!(stderr.contains(&format!("hint: {hint}")), "{stderr}");
    assert!(!stderr.contains(selector), "raw selector shown:\n{stderr}");
}

#[test]
fn reverting_requests_print_the_decoded_error_and_leave_no_allowance() {
    let c = deployed();
    let registry = c.contract("InferenceRegistry");
    let requester = c.addr(0);
    let request = |extra: &[&str]| -> String {
        let mut args = vec!["request", "--input", INPUT];
        args.extend_from_slice(extra);
        c.fails(0, &args)
    };

    // No model registered yet.
    let e = request(&["--fee", "0.5"]);
    assert_decoded(
        &e,
        "InferenceRegistry::UnknownModel",
        &["modelId = 0x"],
        "the model is not registered",
        "0xa2dc0625",
    );
    assert!(e.contains("verinfer model register"), "{e}");
    assert_eq!(allowance(&c, requester, registry), U256::ZERO);

    c.ok(0, &["model", "register", &digits_file()]);

    // Registered, but nobody serves the model.
    let e = request(&["--fee", "0.5"]);
    assert_decoded(
        &e,
        "InferenceRegistry::InsufficientOperators",
        &["available = 0", "required = 3"],
        "0 operator(s) can serve this model but it needs 3",
        "0x1deb1c33",
    );
    assert_eq!(
        allowance(&c, requester, registry),
        U256::ZERO,
        "the approve of a request that reverts is not sent"
    );

    // Three operators serve it: now the request's own arguments are checked.
    for i in 1..=3 {
        c.send(
            c.addr(0),
            c.contract("VerinferToken"),
            VerinferToken::transferCall {
                to: c.addr(i),
                value: U256::from(1_000 * TOKEN),
            }
            .abi_encode(),
        );
        let signer = format!("0x{:040x}", 0xa0 + i);
        c.ok(
            i,
            &[
                "operator", "register", "--signer", &signer, "--stake", "1000",
            ],
        );
        c.ok(i, &["operator", "serve", "--model", "builtin"]);
    }

    let e = request(&["--fee", "0"]);
    assert_decoded(
        &e,
        "InferenceRegistry::FeeOutOfRange",
        &["fee = 0 VINF", "minFee = 0.01 VINF"],
        "pass --fee between 0.01 and",
        "0xeac67fae",
    );
    assert_eq!(allowance(&c, requester, registry), U256::ZERO);

    let e = request(&["--fee", "0.5", "--deadline-secs", "0"]);
    assert_decoded(
        &e,
        "InferenceRegistry::InvalidDeadline",
        &["deadline = ", " UTC)"],
        "the deadline must lie between",
        "0x9b4eedf0",
    );
    assert_eq!(allowance(&c, requester, registry), U256::ZERO);
}

#[test]
fn registering_without_tokens_prints_the_balance_and_leaves_no_allowance() {
    let c = deployed();
    let staking = c.contract("Staking");
    let e = c.fails(
        5,
        &[
            "operator",
            "register",
            "--signer",
            "0x00000000000000000000000000000000000000a5",
            "--stake",
            "1000",
        ],
    );
    assert_decoded(
        &e,
        "VerinferToken::ERC20InsufficientBalance",
        &["balance = 0 VINF", "needed = 1000 VINF"],
        "the sender holds 0 VINF but needs 1000 VINF: get tokens",
        "0xe450d38c",
    );
    assert_eq!(allowance(&c, c.addr(5), staking), U256::ZERO);
}

/// Regression (issue 16): a key without ETH used to wait and bump fees; the client now says at
/// once which address cannot pay, its balance and what the transaction needs.
#[test]
fn a_key_without_eth_fails_at_once_naming_the_address_and_balance() {
    let c = deployed();
    let key = PrivateKeySigner::random();
    let address = key.address();
    // Tokens but no ETH: the registration simulates fine, and sending its approve cannot be paid.
    c.send(
        c.addr(0),
        c.contract("VerinferToken"),
        VerinferToken::transferCall {
            to: address,
            value: U256::from(1_000 * TOKEN),
        }
        .abi_encode(),
    );
    let o: Output = Command::new(env!("CARGO_BIN_EXE_verinfer"))
        .args([
            "operator",
            "register",
            "--signer",
            "0x00000000000000000000000000000000000000a6",
            "--stake",
            "1000",
        ])
        .env("VERINFER_RPC_URL", &c.url)
        .env(
            "VERINFER_PRIVATE_KEY",
            alloy::primitives::hex::encode_prefixed(key.to_bytes()),
        )
        .env("VERINFER_DEPLOYMENT", c.manifest())
        .env_remove("VERINFER_KEYSTORE")
        .env_remove("ETH_RPC_URL")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(&address.to_string()) && e.contains("has 0 ETH") && e.contains("fund it"),
        "{e}"
    );
    assert_eq!(allowance(&c, address, c.contract("Staking")), U256::ZERO);
}
