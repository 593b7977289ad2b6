//! Differential test: the pure-Rust accounting model ([`verinfer_sim::accounting`]) against the Staking and
//! Slasher contracts executed in revm, over proptest-generated action sequences.

use alloy::primitives::{Address, B256, U256};
use proptest::prelude::*;
use verinfer_bindings::types::FaultKind;
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{Slasher, Staking, VerinferToken};
use verinfer_deploy::plan::DeployParams;
use verinfer_sim::{accounting::Model, Sim, SimError};

const OPS: u32 = 2;
const ACCOUNTS: u32 = 3;
/// Unbonding delay: 5 days, the shortest that keeps the suite's timing invariants (fault window +
/// longest ruling, the referee's game, + veto window < unbonding), which `wireReferee` re-checks.
const DELAY: u64 = 5 * 86_400;

#[derive(Debug, Clone)]
enum Action {
    Delegate {
        account: u32,
        op: u32,
        assets: u128,
    },
    Unstake {
        account: u32,
        op: u32,
        permille: u32,
    },
    Complete {
        account: u32,
        index: usize,
    },
    Slash {
        op: u32,
    },
    Wait {
        seconds: u64,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..ACCOUNTS, 0..OPS, 1u128..5_000_000_000_000_000_000_000u128)
            .prop_map(|(account, op, assets)| Action::Delegate { account, op, assets }),
        3 => (0..ACCOUNTS, 0..OPS, 1u32..=1000).prop_map(|(account, op, permille)| Action::Unstake { account, op, permille }),
        2 => (0..ACCOUNTS, 0usize..8).prop_map(|(account, index)| Action::Complete { account, index }),
        2 => (0..OPS).prop_map(|op| Action::Slash { op }),
        1 => (0u64..2 * DELAY).prop_map(|seconds| Action::Wait { seconds }),
    ]
}

fn addr(kind: u8, i: u32) -> Address {
    let mut b = [0u8; 20];
    b[0] = kind;
    b[16..].copy_from_slice(&i.to_be_bytes());
    Address::from(b)
}

fn u(x: u128) -> U256 {
    U256::from(x)
}

/// Model ids: operators 0..OPS, accounts 100+.
fn run(actions: &[Action]) -> Result<(), TestCaseError> {
    let deployer = addr(0xd0, 0);
    let mut params = DeployParams::local(deployer);
    params.min_operator_stake = U256::from(1);
    params.unbonding_delay = DELAY;
    let mut sim = Sim::new();
    sim.deploy_local(&params)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let token = sim.suite.token().unwrap();
    let staking = sim.suite.staking().unwrap();
    let slasher = sim.suite.slasher().unwrap();
    // Fault reports come from the wired InferenceRegistry; the simulator acts as it.
    let registry = sim.suite.get("InferenceRegistry").unwrap();
    let mut model = Model::new(DELAY);
    model.now = sim.timestamp();

    let op_addr = |o: u32| addr(0x0a, o);
    let acc_addr = |a: u32| addr(0x0b, a);
    for who in (0..OPS).map(op_addr).chain((0..ACCOUNTS).map(acc_addr)) {
        sim.transact(
            deployer,
            token,
            VerinferToken::mintCall {
                to: who,
                amount: u(u128::from(u64::MAX) * TOKEN),
            },
        )
        .unwrap();
        sim.transact(
            who,
            token,
            VerinferToken::approveCall {
                spender: staking,
                value: U256::MAX,
            },
        )
        .unwrap();
    }
    for o in 0..OPS {
        let self_stake = 1_000 * TOKEN;
        sim.transact(
            op_addr(o),
            staking,
            Staking::registerOperatorCall {
                signer: op_addr(o),
                selfStake: u(self_stake),
            },
        )
        .unwrap();
        model.register(o, self_stake).unwrap();
    }
    // (withdrawalId, account) in request order, same in both worlds.
    let mut withdrawals: Vec<(u64, u32)> = Vec::new();
    let mut slash_ref = 0u64;

    for a in actions {
        match a.clone() {
            Action::Delegate {
                account,
                op,
                assets,
            } => {
                let m = model.delegate(100 + account, op, assets);
                let c = sim.transact(
                    acc_addr(account),
                    staking,
                    Staking::delegateCall {
                        operator: op_addr(op),
                        assets: u(assets),
                    },
                );
                match (m, c) {
                    (Ok(ms), Ok(cs)) => prop_assert_eq!(u(ms), cs.ret),
                    (Err(_), Err(SimError::Reverted { .. })) => {}
                    (m, c) => prop_assert!(
                        false,
                        "delegate diverged: model {:?} chain {:?}",
                        m,
                        c.map(|r| r.ret)
                    ),
                }
            }
            Action::Unstake {
                account,
                op,
                permille,
            } => {
                let held = model.shares_of(op, 100 + account);
                let shares = held * u128::from(permille) / 1000;
                let m = model.request_unstake(100 + account, op, shares);
                let c = sim.transact(
                    acc_addr(account),
                    staking,
                    Staking::requestUnstakeCall {
                        operator: op_addr(op),
                        shares: u(shares),
                    },
                );
                match (m, c) {
                    (Ok(mid), Ok(cid)) => {
                        prop_assert_eq!(u(u128::from(mid)), cid.ret);
                        withdrawals.push((mid, account));
                    }
                    (Err(_), Err(SimError::Reverted { .. })) => {}
                    (m, c) => prop_assert!(
                        false,
                        "unstake diverged: model {:?} chain {:?}",
                        m,
                        c.map(|r| r.ret)
                    ),
                }
            }
            Action::Complete { account, index } => {
                let Some((id, owner)) = withdrawals.get(index % withdrawals.len().max(1)).copied()
                else {
                    continue;
                };
                let _ = owner;
                let m = model.complete_unstake(100 + account, id);
                let c = sim.transact(
                    acc_addr(account),
                    staking,
                    Staking::completeUnstakeCall {
                        withdrawalId: u(u128::from(id)),
                    },
                );
                match (m, c) {
                    (Ok(ma), Ok(ca)) => prop_assert_eq!(u(ma), ca.ret),
                    (Err(_), Err(SimError::Reverted { .. })) => {}
                    (m, c) => prop_assert!(
                        false,
                        "complete diverged: model {:?} chain {:?}",
                        m,
                        c.map(|r| r.ret)
                    ),
                }
            }
            Action::Slash { op } => {
                // A missed-assignment slash (immediate, no jail) through the Slasher: the amount the Slasher
                // takes (its rate and cap are its own concern) is read from Staking's event and replayed in
                // the model, which must split it over the two pools exactly as the contract did.
                slash_ref += 1;
                let c = sim.transact(
                    registry,
                    slasher,
                    Slasher::requestSlashCall {
                        kind: FaultKind::MissedAssignment.into(),
                        operator: op_addr(op),
                        r#ref: B256::from(U256::from(slash_ref)),
                        reporter: Address::ZERO,
                    },
                );
                match c {
                    Ok(r) => {
                        for ev in verinfer_sim::decode_logs::<Staking::Slashed>(&r.logs) {
                            let (fa, fu) = model
                                .slash(op, (ev.fromActive + ev.fromUnbonding).to::<u128>())
                                .unwrap();
                            prop_assert_eq!((u(fa), u(fu)), (ev.fromActive, ev.fromUnbonding));
                        }
                    }
                    Err(SimError::Reverted { .. }) => {}
                    Err(e) => prop_assert!(false, "slash: {e}"),
                }
            }
            Action::Wait { seconds } => {
                sim.advance(1, seconds);
                model.now += seconds;
            }
        }
        // Invariants compared after every action.
        for o in 0..OPS {
            let info = sim
                .view(
                    deployer,
                    staking,
                    Staking::operatorInfoCall {
                        operator: op_addr(o),
                    },
                )
                .unwrap();
            let mo = &model.operators[&o];
            prop_assert_eq!(
                info.activeStake,
                u(mo.active.assets),
                "active assets of op {}",
                o
            );
            prop_assert_eq!(
                info.unbondingStake,
                u(mo.unbonding.assets),
                "unbonding assets of op {}",
                o
            );
            for a in 0..ACCOUNTS {
                let s = sim
                    .view(
                        deployer,
                        staking,
                        Staking::sharesOfCall {
                            operator: op_addr(o),
                            account: acc_addr(a),
                        },
                    )
                    .unwrap();
                prop_assert_eq!(
                    s,
                    u(model.shares_of(o, 100 + a)),
                    "shares of account {} with op {}",
                    a,
                    o
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 200, .. ProptestConfig::default() })]
    #[test]
    fn model_matches_contracts(actions in proptest::collection::vec(action(), 1..40)) {
        run(&actions)?;
    }
}
