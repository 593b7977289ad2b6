//! Governance and fork what-ifs through the binary, on an anvil each test starts itself:
//! `verinfer deploy` (admin handed to the timelock), operators and delegators stake with
//! `verinfer operator`, then `verinfer gov propose | vote | queue | execute | status` changes a
//! Staking parameter through the timelock, and `verinfer sim fork` answers what-ifs on that chain.

use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use verinfer_bindings::{Staking, VerinferToken};

mod common;

use common::{Chain, TOKEN};

/// Deploys with the hand-over, funds accounts 1..=4 and stakes: accounts 1 and 2 register as
/// operators (20,000 and 3,000 tokens: operator 1 holds the voice a proposal to the suite needs, twice the
/// deployment's proposal threshold), account 3 delegates 2,000 to operator 1 and account 4
/// 1,000 to operator 2. Everyone's stake is their (unattested) quadratic voice.
fn staked_chain() -> Chain {
    let c = Chain::start();
    let root = c.dir.path().to_str().unwrap().to_owned();
    // The timelock holds every role and the residual rule is the production one (K = 10); the
    // governor applies min(K, voices at the snapshot / 3), and all voice here is unattested (one
    // voice, the pool), so the rule applies K = 0 to these proposals.
    let out = c.ok(0, &["deploy", "--root", &root]);
    assert!(out.contains("admin") && out.contains("timelock"), "{out}");
    let token = c.contract("VerinferToken");
    for (i, amount) in [(1, 20_000u128), (2, 3_000), (3, 2_000), (4, 1_000)] {
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
            "20000",
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

/// `gov propose` executes the actions from the timelock on a fork first: one that reverts stops
/// the proposal with the decoded error (nothing proposed) unless --force.
#[test]
fn gov_propose_refuses_an_action_that_reverts_unless_forced() {
    let c = staked_chain();
    let ok_action = "Staking:setMinOperatorStake(uint256):2500ether";
    let bad_action = "Staking:setMinOperatorStake(uint256):0";
    let args = |force: bool| {
        let mut a = vec![
            "gov",
            "propose",
            "--action",
            ok_action,
            "--action",
            bad_action,
            "--description",
            "a minimum stake of zero",
        ];
        if force {
            a.push("--force");
        }
        a
    };
    let nonce = |c: &Chain| {
        c.rt.block_on(async { c.provider.get_transaction_count(c.addr(1)).await })
            .unwrap()
    };
    let before = nonce(&c);
    let e = c.fails(1, &args(false));
    assert!(
        e.contains("action 2 Staking.setMinOperatorStake(value = 0 VINF) reverts: Staking::ParameterOutOfBounds(")
            && e.contains("--force"),
        "{e}"
    );
    assert!(!e.contains("action 1 "), "the first action succeeds: {e}");
    assert_eq!(nonce(&c), before, "nothing was sent");

    let o = c.run(1, &args(true));
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        err.contains("warning: proposing although the simulation fails"),
        "{err}"
    );
    assert!(out.contains("proposal "), "{out}");
}

#[test]
fn governance_flow_changes_a_staking_parameter_only_through_the_timelock() {
    let c = staked_chain();
    let setter = "Staking:setMinOperatorStake(uint256):2500ether";
    // Second action: register the built-in model (a tuple argument), admin-only after the hand-over.
    let model = c.ok(0, &["model"]);
    let register = format!(
        "InferenceRegistry:registerModel(bytes32,bytes32,(uint8,uint8,uint8,uint32,uint256,uint256,uint256)):{}:{}:(0,2,2,3600,1000ether,10ether,0.01ether)",
        field(&model, "weights root"),
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
    for (action, expected) in [
        (
            "Stakng:setMinOperatorStake(uint256):1",
            "unknown contract `Stakng`",
        ),
        (
            "Staking:setMinOperatorStake(uint256):lots",
            "`lots` is not a valid uint256",
        ),
    ] {
        let e = c.fails(
            1,
            &["gov", "propose", "--action", action, "--description", "x"],
        );
        assert!(e.contains(expected), "{e}");
    }

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
    assert!(
        out.contains("action        InferenceRegistry.registerModel(weightsHash = 0x"),
        "{out}"
    );
    assert!(out.contains("voting"), "{out}");
    assert!(
        out.contains("action        Staking.setMinOperatorStake(value = 2500 VINF)"),
        "{out}"
    );

    // What would it change? The fork reads the actions back from the ProposalCreated event.
    let out = c.ok(0, &["sim", "fork", "--proposal", &id]);
    assert!(
        out.contains("Staking.setMinOperatorStake(value = 2500 VINF)")
            && out.contains("storage Staking"),
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
    let execute = [
        "gov",
        "execute",
        "--action",
        setter,
        "--action",
        &register,
        "--description",
        description,
    ];
    let e = c.fails(3, &execute);
    assert!(e.contains("is queued but its timelock ends at"), "{e}");
    assert_eq!(min_operator_stake(&c), U256::from(1_000 * TOKEN));

    // After the delay (1 hour): anyone executes, with the actions + description this time.
    c.rpc("evm_increaseTime", serde_json::json!([3_601]));
    c.mine(1);
    let out = c.ok(3, &execute);
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

    // No slash yet: the operator and its delegator have fresh stake records.
    let out = c.ok(0, &["operator", "sync", "--operator", &op1, "--dry-run"]);
    assert!(
        out.contains("2 accounts of") && out.contains("0 stale"),
        "{out}"
    );
    let e = c.fails(0, &["operator", "sync", "--operator", "0xnope"]);
    assert!(e.contains("is not an address"), "{e}");

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
        U256::from(22_000 * TOKEN)
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
