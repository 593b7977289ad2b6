//! Governance and fork what-ifs through the binary, on an anvil each test starts itself:
//! `verinfer deploy` (admin handed to the timelock), operators and delegators stake with
//! `verinfer operator`, then `verinfer gov propose | vote | queue | execute | status` changes a
//! Staking parameter through the timelock, and `verinfer sim fork` answers what-ifs on that chain.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use alloy::network::{Ethereum, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use verinfer_bindings::{Staking, VerinferToken};

/// anvil's default dev keys 0..=4 (public test mnemonic).
const KEYS: [&str; 5] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];

const TOKEN: u128 = 1_000_000_000_000_000_000;

/// The pinned anvil is part of the toolchain: its absence fails the test.
fn spawn_anvil() -> AnvilInstance {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.toolchain/anvil");
    assert!(
        path.is_file(),
        "no anvil at {}: run script/setup.sh",
        path.display()
    );
    Anvil::new().path(path).try_spawn().expect("anvil starts")
}

struct Chain {
    anvil: AnvilInstance,
    url: String,
    dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    provider: RootProvider<Ethereum>,
}

impl Chain {
    fn start() -> Self {
        let anvil = spawn_anvil();
        let url = anvil.endpoint_url().to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let provider = RootProvider::<Ethereum>::new_http(url.parse().unwrap());
        Self {
            anvil,
            url,
            dir: tempfile::tempdir().unwrap(),
            rt,
            provider,
        }
    }

    fn manifest(&self) -> PathBuf {
        self.dir.path().join("deployments/31337.json")
    }

    fn addr(&self, i: usize) -> Address {
        self.anvil.addresses()[i]
    }

    /// Runs the binary as account `key` against this chain and manifest.
    fn run(&self, key: usize, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_verinfer"));
        c.args(args)
            .env("VERINFER_RPC_URL", &self.url)
            .env("VERINFER_PRIVATE_KEY", KEYS[key])
            .env("VERINFER_DEPLOYMENT", self.manifest())
            .env_remove("VERINFER_KEYSTORE");
        c.output().expect("run verinfer")
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, key: usize, args: &[&str]) -> String {
        let o = self.run(key, args);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "verinfer {args:?} failed:\n{out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    }

    /// Runs and requires failure; returns stderr.
    fn fails(&self, key: usize, args: &[&str]) -> String {
        let o = self.run(key, args);
        assert!(
            !o.status.success(),
            "verinfer {args:?} should fail:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8_lossy(&o.stderr).to_string()
    }

    fn rpc(&self, method: &'static str, params: serde_json::Value) {
        self.rt
            .block_on(
                self.provider
                    .raw_request::<_, serde_json::Value>(method.into(), params),
            )
            .unwrap_or_else(|e| panic!("{method}: {e}"));
    }

    fn mine(&self, blocks: u64) {
        self.rpc("anvil_mine", serde_json::json!([format!("{blocks:#x}")]));
    }

    fn contract(&self, name: &str) -> Address {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.manifest()).unwrap()).unwrap();
        m["contracts"][name].as_str().unwrap().parse().unwrap()
    }

    /// `eth_call` from `from`: the return data, or the node's error text.
    fn call(&self, from: Address, to: Address, data: Vec<u8>) -> Result<Bytes, String> {
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(to)
            .with_input(Bytes::from(data));
        self.rt
            .block_on(async { self.provider.call(tx).await })
            .map_err(|e| e.to_string())
    }

    /// Sends from an unlocked anvil account and waits (with a deadline) for a successful receipt.
    fn send(&self, from: Address, to: Address, data: Vec<u8>) {
        self.rt.block_on(async {
            let tx = TransactionRequest::default()
                .with_from(from)
                .with_to(to)
                .with_input(Bytes::from(data));
            let pending = self.provider.send_transaction(tx).await.unwrap();
            let hash = *pending.tx_hash();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(r) = self.provider.get_transaction_receipt(hash).await.unwrap() {
                    assert!(r.status(), "tx {hash} to {to} reverted");
                    return;
                }
                assert!(Instant::now() < deadline, "no receipt for {hash}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
}

/// Deploys with the hand-over, funds accounts 1..=4 and stakes: accounts 1 and 2 register as
/// operators (5,000 and 3,000 tokens), account 3 delegates 2,000 to operator 1 and account 4
/// 1,000 to operator 2. Everyone's stake is their (unattested) quadratic voice.
fn staked_chain() -> Chain {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    let out = c.ok(0, &["deploy", "--root", &root]);
    assert!(out.contains("admin") && out.contains("timelock"), "{out}");
    let token = c.contract("VerinferToken");
    for (i, amount) in [(1, 5_000u128), (2, 3_000), (3, 2_000), (4, 1_000)] {
        c.send(
            c.addr(0),
            token,
            VerinferToken::transferCall {
                to: c.addr(i),
                value: U256::from(amount * TOKEN),
            }
            .abi_encode(),
        );
    }
    c.ok(
        1,
        &[
            "operator",
            "register",
            "--signer",
            "0x00000000000000000000000000000000000000a1",
            "--stake",
            "5000",
        ],
    );
    c.ok(
        2,
        &[
            "operator",
            "register",
            "--signer",
            "0x00000000000000000000000000000000000000a2",
            "--stake",
            "3000",
        ],
    );
    let op1 = c.addr(1).to_string();
    let op2 = c.addr(2).to_string();
    c.ok(
        3,
        &["operator", "stake", "--operator", &op1, "--amount", "2000"],
    );
    c.ok(
        4,
        &["operator", "stake", "--operator", &op2, "--amount", "1000"],
    );
    c
}

fn min_operator_stake(c: &Chain) -> U256 {
    let ret = c
        .call(
            c.addr(0),
            c.contract("Staking"),
            Staking::minOperatorStakeCall {}.abi_encode(),
        )
        .unwrap();
    Staking::minOperatorStakeCall::abi_decode_returns(&ret).unwrap()
}

fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(name))
        .unwrap_or_else(|| panic!("no `{name}` in:\n{out}"))
        .trim()
}

#[test]
fn governance_flow_changes_a_staking_parameter_only_through_the_timelock() {
    let c = staked_chain();
    let setter = "Staking:setMinOperatorStake(uint256):2500ether";
    // Second action: register the built-in model (a tuple argument), admin-only after the hand-over.
    let model = c.ok(0, &["model"]);
    let register = format!(
        "InferenceRegistry:registerModel(bytes32,bytes32,(uint8,uint8,uint8,uint32,uint256,uint256,uint256)):{}:{}:(0,2,2,3600,1000ether,10ether,0.01ether)",
        field(&model, "weights hash"),
        field(&model, "spec hash")
    );
    let description =
        "raise the minimum operator stake to 2,500 tokens; register the built-in model";
    assert_eq!(min_operator_stake(&c), U256::from(1_000 * TOKEN));

    // Handover: the deployer can no longer call the setter itself.
    let direct = Staking::setMinOperatorStakeCall {
        value: U256::from(2_500 * TOKEN),
    }
    .abi_encode();
    let err = c
        .call(c.addr(0), c.contract("Staking"), direct.clone())
        .unwrap_err();
    assert!(err.contains("revert"), "{err}");
    // ... while the timelock can (that is what the proposal will do).
    c.call(
        c.contract("TimelockController"),
        c.contract("Staking"),
        direct,
    )
    .unwrap();

    // Bad input: unknown contract name and bad arguments are named.
    let e = c.fails(
        1,
        &[
            "gov",
            "propose",
            "--action",
            "Stakng:setMinOperatorStake(uint256):1",
            "--description",
            "x",
        ],
    );
    assert!(e.contains("unknown contract `Stakng`"), "{e}");
    let e = c.fails(
        1,
        &[
            "gov",
            "propose",
            "--action",
            "Staking:setMinOperatorStake(uint256):lots",
            "--description",
            "x",
        ],
    );
    assert!(e.contains("`lots` is not a valid uint256"), "{e}");

    // Propose.
    let out = c.ok(
        1,
        &[
            "gov",
            "propose",
            "--action",
            setter,
            "--action",
            &register,
            "--description",
            description,
        ],
    );
    let id = field(&out, "proposal").to_owned();
    assert!(out.contains("InferenceRegistry: registerModel"), "{out}");
    assert!(out.contains("voting"), "{out}");
    assert!(out.contains("Staking: setMinOperatorStake"), "{out}");

    // What would it change? The fork reads the actions back from the ProposalCreated event.
    let out = c.ok(0, &["sim", "fork", "--proposal", &id]);
    assert!(
        out.contains("Staking: setMinOperatorStake") && out.contains("storage Staking"),
        "{out}"
    );

    // Too early to vote: the governor's custom error is decoded.
    let e = c.fails(1, &["gov", "vote", "--proposal", &id, "--support", "for"]);
    assert!(e.contains("is not open: it is Pending"), "{e}");

    c.mine(2);
    for (key, support) in [(1, "for"), (2, "for"), (3, "against"), (4, "abstain")] {
        let out = c.ok(
            key,
            &[
                "gov",
                "vote",
                "--proposal",
                &id,
                "--support",
                support,
                "--reason",
                "test",
            ],
        );
        assert!(out.contains(&format!("voted {support}")), "{out}");
    }
    let e = c.fails(1, &["gov", "vote", "--proposal", &id, "--support", "for"]);
    assert!(e.contains("has already voted"), "{e}");
    let e = c.fails(1, &["gov", "vote", "--proposal", &id, "--support", "maybe"]);
    assert!(e.contains("--support"), "{e}");

    let status = c.ok(0, &["gov", "status", "--proposal", &id]);
    assert_eq!(field(&status, "state"), "Active", "{status}");
    let votes = |s: &str, n: &str| -> U256 { field(s, n).parse().unwrap() };
    assert!(
        votes(&status, "for") > votes(&status, "against"),
        "{status}"
    );
    assert!(votes(&status, "abstain") > U256::ZERO, "{status}");
    let e = c.fails(1, &["gov", "queue", "--proposal", &id]);
    assert!(
        e.contains("is Active, but this needs it to be Succeeded"),
        "{e}"
    );

    // Past the voting period (50 blocks): succeeded; queue by id (actions read from the event).
    c.mine(51);
    let status = c.ok(0, &["gov", "status", "--proposal", &id]);
    assert_eq!(field(&status, "state"), "Succeeded", "{status}");
    let out = c.ok(2, &["gov", "queue", "--proposal", &id]);
    assert!(out.contains("queued"), "{out}");
    let status = c.ok(0, &["gov", "status", "--proposal", &id]);
    assert_eq!(field(&status, "state"), "Queued", "{status}");
    assert!(field(&status, "eta").contains("in 3"), "{status}");

    // Before the timelock delay: a clear error, nothing changes.
    let e = c.fails(
        3,
        &[
            "gov",
            "execute",
            "--action",
            setter,
            "--action",
            &register,
            "--description",
            description,
        ],
    );
    assert!(e.contains("is queued but its timelock ends at"), "{e}");
    assert_eq!(min_operator_stake(&c), U256::from(1_000 * TOKEN));

    // After the delay (1 hour): anyone executes, with the actions + description this time.
    c.rpc("evm_increaseTime", serde_json::json!([3_601]));
    c.mine(1);
    let out = c.ok(
        3,
        &[
            "gov",
            "execute",
            "--action",
            setter,
            "--action",
            &register,
            "--description",
            description,
        ],
    );
    assert!(out.contains(&format!("proposal {id} executed")), "{out}");
    assert_eq!(min_operator_stake(&c), U256::from(2_500 * TOKEN));
    let status = c.ok(0, &["gov", "status", "--proposal", &id]);
    assert_eq!(field(&status, "state"), "Executed", "{status}");

    // The model registered by governance can now be served and requested: what would a batch of
    // three requests from the deployer cost?
    c.ok(1, &["operator", "serve"]);
    c.ok(2, &["operator", "serve"]);
    let from = c.addr(0).to_string();
    let out = c.ok(0, &["sim", "fork", "--batch", "3", "--from", &from]);
    let gas: u64 = field(&out, "requests gas")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(gas > 3 * 21_000, "{out}");

    // Still no direct path for the deployer after the change.
    let err = c
        .call(
            c.addr(0),
            c.contract("Staking"),
            Staking::setMinOperatorStakeCall {
                value: U256::from(TOKEN),
            }
            .abi_encode(),
        )
        .unwrap_err();
    assert!(err.contains("revert"), "{err}");

    let e = c.fails(0, &["gov", "status", "--proposal", "12345"]);
    assert!(e.contains("proposal 12345 does not exist"), "{e}");
}

#[test]
fn sim_fork_prints_delegator_impact_and_rejects_bad_blocks() {
    let c = staked_chain();
    let m = c.manifest();
    let m = m.to_str().unwrap();
    let op1 = c.addr(1).to_string();
    let delegator = c.addr(3).to_string();
    let head =
        c.rt.block_on(c.provider.get_block_number())
            .unwrap()
            .to_string();

    let out = c.ok(
        0,
        &[
            "sim",
            "fork",
            "--block",
            &head,
            "--deployment",
            m,
            "--slash",
            &op1,
            "--kind",
            "equivocation",
        ],
    );
    assert!(out.contains(&format!("slash operator {op1}")), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains(&delegator))
        .unwrap_or_else(|| panic!("delegator {delegator} missing:\n{out}"));
    // A 10% equivocation slash of the operator's stake costs each delegator ~10%.
    assert!(
        line.contains("2000.00") && (line.contains("-10.0") || line.contains("-9.9")),
        "{line}"
    );
    assert!(out.contains("nothing was sent"), "{out}");

    let json = c.ok(0, &["sim", "fork", "--slash", &op1, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ds = v["delegators"].as_array().unwrap();
    assert_eq!(ds.len(), 2, "operator self-stake + one delegator: {json}");

    // The fork never touches the chain: the operator's stake is unchanged.
    let stake = c
        .call(
            c.addr(0),
            c.contract("Staking"),
            Staking::operatorStakeCall {
                operator: c.addr(1),
            }
            .abi_encode(),
        )
        .unwrap();
    assert_eq!(
        Staking::operatorStakeCall::abi_decode_returns(&stake).unwrap(),
        U256::from(7_000 * TOKEN)
    );

    // What a proposal would change: the storage diff names the contract.
    let out = c.ok(
        0,
        &[
            "sim",
            "fork",
            "--proposal-action",
            "Staking:setUnbondingDelay(uint48):1209600",
        ],
    );
    assert!(out.contains("storage Staking"), "{out}");

    // Bad inputs are named.
    let e = c.fails(0, &["sim", "fork", "--block", "999999", "--slash", &op1]);
    assert!(
        e.contains("fork block 999999 does not exist") && e.contains("chain head"),
        "{e}"
    );
    let e = c.fails(
        0,
        &[
            "sim",
            "fork",
            "--rpc-url",
            "http://127.0.0.1:9",
            "--slash",
            &op1,
        ],
    );
    assert!(
        e.contains("unreachable") && e.contains("127.0.0.1:9"),
        "{e}"
    );
    let wrong = c.dir.path().join("wrong.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.manifest()).unwrap()).unwrap();
    v["chainId"] = 5.into();
    std::fs::write(&wrong, v.to_string()).unwrap();
    let e = c.fails(
        0,
        &[
            "sim",
            "fork",
            "--deployment",
            wrong.to_str().unwrap(),
            "--slash",
            &op1,
        ],
    );
    assert!(e.contains("wrong.json") && e.contains("chainId"), "{e}");
    let e = c.fails(0, &["sim", "fork", "--batch", "3"]);
    assert!(e.contains("--from"), "{e}");
}

#[test]
fn deploy_with_keep_admin_leaves_the_deployer_as_admin() {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    let out = c.ok(0, &["deploy", "--root", &root, "--keep-admin"]);
    assert!(out.contains("--keep-admin"), "{out}");
    let ret = c
        .call(
            c.addr(0),
            c.contract("Staking"),
            Staking::hasRoleCall {
                role: alloy::primitives::B256::ZERO,
                account: c.addr(0),
            }
            .abi_encode(),
        )
        .unwrap();
    assert!(Staking::hasRoleCall::abi_decode_returns(&ret).unwrap());
    c.call(
        c.addr(0),
        c.contract("Staking"),
        Staking::setMinOperatorStakeCall {
            value: U256::from(TOKEN),
        }
        .abi_encode(),
    )
    .unwrap();
}
