//! Fork mode against a local anvil on which the suite was deployed with the same plan over JSON-RPC.
//! Needs the repository's anvil (found and started by `verinfer_devnet::anvil`); never downloads
//! anything.

use std::path::{Path, PathBuf};

use alloy::{
    network::{Ethereum, TransactionBuilder},
    primitives::{Address, Bytes, U256},
    providers::{Provider, RootProvider},
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{Staking, VerinferToken};
use verinfer_deploy::{
    deploy_over_rpc,
    manifest::Manifest,
    plan::{DeployParams, DeployPlan},
};
use verinfer_devnet::anvil::{spawn, AnvilNode, AnvilOptions};
use verinfer_sim::fork::ForkSim;
use verinfer_sim::throughput::ANVIL_ARGS;

/// The pinned anvil is part of the toolchain `script/setup.sh` installs: its absence is a failure,
/// not a reason to skip.
fn spawn_anvil() -> AnvilNode {
    spawn(&AnvilOptions::new().args(ANVIL_ARGS)).expect("anvil starts")
}

async fn send(p: &RootProvider<Ethereum>, from: Address, to: Address, data: Vec<u8>) {
    let tx = TransactionRequest::default()
        .with_from(from)
        .with_to(to)
        .with_input(Bytes::from(data))
        .with_gas_limit(2_000_000)
        .with_gas_price(0);
    let r = p
        .send_transaction(tx)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(r.status(), "tx to {to} failed");
}

struct Setup {
    _anvil: AnvilNode,
    url: String,
    manifest_path: PathBuf,
    manifest: Manifest,
    op: Address,
    delegators: Vec<Address>,
    head: u64,
    deployer: Address,
}

fn setup(dir: &Path) -> Setup {
    let anvil = spawn_anvil();
    let url = anvil.endpoint_url();
    let deployer = anvil.addresses()[0];
    let op = Address::repeat_byte(0x0a);
    let delegators = vec![Address::repeat_byte(0x0b), Address::repeat_byte(0x0c)];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (manifest, head) = rt.block_on(async {
        let p = RootProvider::<Ethereum>::new_http(url.clone());
        let plan = DeployPlan::new(&DeployParams::local(deployer), 0);
        let manifest = deploy_over_rpc(&p, &plan).await.unwrap();
        let token = manifest.contracts["VerinferToken"];
        let staking = manifest.contracts["Staking"];
        for who in std::iter::once(op).chain(delegators.iter().copied()) {
            send(
                &p,
                deployer,
                token,
                VerinferToken::mintCall {
                    to: who,
                    amount: U256::from(10_000 * TOKEN),
                }
                .abi_encode(),
            )
            .await;
            send(
                &p,
                who,
                token,
                VerinferToken::approveCall {
                    spender: staking,
                    value: U256::MAX,
                }
                .abi_encode(),
            )
            .await;
        }
        send(
            &p,
            op,
            staking,
            Staking::registerOperatorCall {
                signer: op,
                selfStake: U256::from(2_000 * TOKEN),
            }
            .abi_encode(),
        )
        .await;
        for d in &delegators {
            send(
                &p,
                *d,
                staking,
                Staking::delegateCall {
                    operator: op,
                    assets: U256::from(1_000 * TOKEN),
                }
                .abi_encode(),
            )
            .await;
        }
        (manifest, p.get_block_number().await.unwrap())
    });
    let manifest_path = dir.join("31337.json");
    manifest.save(&manifest_path).unwrap();
    Setup {
        _anvil: anvil,
        url: url.to_string(),
        manifest_path,
        manifest,
        op,
        delegators,
        head,
        deployer,
    }
}

#[test]
fn fork_what_ifs_and_bad_inputs() {
    let dir = std::env::temp_dir().join(format!("verinfer-fork-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = setup(&dir);

    // Slashing the operator: every delegator loses value, pro rata; nothing is sent to the chain.
    let mut fork = ForkSim::new(&s.url, s.head, &s.manifest_path).unwrap();
    let (effect, impacts) = fork
        .what_if_slash(s.op, verinfer_bindings::types::FaultKind::Equivocation)
        .unwrap();
    assert!(!effect.storage.is_empty());
    // The operator's own self-stake is a position too.
    assert_eq!(impacts.len(), s.delegators.len() + 1);
    assert!(impacts.iter().any(|i| i.account == s.op));
    for i in &impacts {
        assert!(i.after < i.before, "{i:?}");
        // 10% equivocation slash of the operator's stake hits each delegator by ~10%.
        let lost = (i.before - i.after) * U256::from(1000) / i.before;
        assert!(
            lost >= U256::from(99) && lost <= U256::from(101),
            "lost {lost} permille"
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let staking = s.manifest.contracts["Staking"];
    let on_chain = rt.block_on(async {
        let p = RootProvider::<Ethereum>::new_http(s.url.parse().unwrap());
        let call = Staking::operatorStakeCall { operator: s.op };
        let tx = TransactionRequest::default()
            .with_to(staking)
            .with_input(Bytes::from(call.abi_encode()));
        p.call(tx).await.unwrap()
    });
    let on_chain = Staking::operatorStakeCall::abi_decode_returns(&on_chain).unwrap();
    assert_eq!(
        on_chain,
        U256::from(4_000 * TOKEN),
        "the fork must not touch the chain"
    );

    // A governance proposal executed from the admin: the storage diff names the contract.
    let mut fork = ForkSim::new(&s.url, s.head, &s.manifest_path).unwrap();
    let call = Staking::setUnbondingDelayCall {
        value: alloy::primitives::aliases::U48::from(14 * 86_400),
    };
    let effect = fork
        .what_if_proposal(Some(s.deployer), &[(staking, call.abi_encode().into())])
        .unwrap();
    assert!(effect.storage.iter().any(|c| c.contract == "Staking"));
    assert_eq!(effect.log_count, 1);
    let cost = fork
        .batch_cost(
            s.op,
            &[(
                staking,
                Staking::rotateSignerCall {
                    newSigner: Address::repeat_byte(0x5e),
                }
                .abi_encode()
                .into(),
            )],
        )
        .unwrap();
    assert!(cost > 21_000);

    // Bad inputs name what is wrong.
    let err = ForkSim::new("http://127.0.0.1:9", s.head, &s.manifest_path)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("unreachable") && err.contains("127.0.0.1:9"),
        "{err}"
    );
    let err = ForkSim::new(&s.url, s.head + 1_000, &s.manifest_path)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("does not exist") && err.contains(&format!("{}", s.head + 1_000)),
        "{err}"
    );

    let mut wrong = s.manifest.clone();
    wrong.chain_id = 1;
    let wrong_path = dir.join("1.json");
    wrong.save(&wrong_path).unwrap();
    let err = ForkSim::new(&s.url, s.head, &wrong_path)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("1.json") && err.contains("chainId"), "{err}");

    let mut wrong = s.manifest.clone();
    wrong
        .contracts
        .insert("Staking".into(), Address::repeat_byte(0x77));
    wrong.save(&wrong_path).unwrap();
    let err = ForkSim::new(&s.url, s.head, &wrong_path)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("1.json") && err.contains("contracts.Staking"),
        "{err}"
    );
}
