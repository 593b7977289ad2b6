//! The in-memory suite: deployment plan, typed calls as any account, decoded errors and events, time.

use alloy::primitives::{address, Address, B256, U256};
use verinfer_bindings::types::FaultKind;
use verinfer_bindings::units::TOKEN;
use verinfer_bindings::{
    DisputeGovernor, InferenceRegistry, Slasher, Staking, TimelockController, VerinferToken,
};
use verinfer_deploy::plan::{DeployParams, DeployPlan};
use verinfer_sim::{decode_logs, Sim, SimError};

const DEPLOYER: Address = address!("00000000000000000000000000000000000000d0");
const OP: Address = address!("0000000000000000000000000000000000000a01");
const ALICE: Address = address!("0000000000000000000000000000000000000b01");

fn t(n: u128) -> U256 {
    U256::from(n * TOKEN)
}

fn deployed() -> Sim {
    let mut sim = Sim::new();
    sim.deploy_local(&DeployParams::local(DEPLOYER)).unwrap();
    let token = sim.suite.token().unwrap();
    let staking = sim.suite.staking().unwrap();
    for who in [OP, ALICE] {
        sim.transact(
            DEPLOYER,
            token,
            VerinferToken::mintCall {
                to: who,
                amount: t(100_000),
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
    sim
}

#[test]
fn plan_addresses_match_deployment_and_wiring_is_done() {
    let params = DeployParams::local(DEPLOYER);
    let plan = DeployPlan::new(&params, 0);
    let mut sim = Sim::new();
    sim.deploy(&plan).unwrap();
    let staking = plan.address("Staking").unwrap();
    assert_eq!(staking, DEPLOYER.create(1));
    let slasher = sim
        .view(DEPLOYER, staking, Staking::slasherCall {})
        .unwrap();
    assert_eq!(slasher, plan.address("Slasher").unwrap());
    assert!(sim.view(DEPLOYER, staking, Staking::wiredCall {}).unwrap());
    // The whole suite is deployed in DeploySuite's order and wired.
    let names: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            verinfer_deploy::plan::StepKind::Create { contract, .. } => Some(contract.as_str()),
            verinfer_deploy::plan::StepKind::Call { .. } => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "VerinferToken",
            "Staking",
            "Slasher",
            "TimelockController",
            "InferenceRegistry",
            "IdentityRegistry",
            "QuadraticVotes",
            "VerinferGovernor",
            "DisputeGovernor",
            "Referee"
        ]
    );
    let registry = plan.address("InferenceRegistry").unwrap();
    let timelock = plan.address("TimelockController").unwrap();
    let disputes = plan.address("DisputeGovernor").unwrap();
    let votes = plan.address("QuadraticVotes").unwrap();
    let governor = plan.address("VerinferGovernor").unwrap();
    assert_eq!(
        sim.view(DEPLOYER, slasher, Slasher::registryCall {})
            .unwrap(),
        registry
    );
    assert_eq!(
        sim.view(DEPLOYER, slasher, Slasher::governanceCall {})
            .unwrap(),
        timelock
    );
    assert_eq!(
        sim.view(DEPLOYER, registry, InferenceRegistry::resolverCall {})
            .unwrap(),
        disputes
    );
    assert_eq!(
        sim.view(DEPLOYER, disputes, DisputeGovernor::registryCall {})
            .unwrap(),
        registry
    );
    assert_eq!(
        sim.view(DEPLOYER, staking, Staking::accountObserverCall {})
            .unwrap(),
        votes
    );
    assert_eq!(
        sim.view(DEPLOYER, staking, Staking::operatorObserverCall {})
            .unwrap(),
        registry
    );
    let proposer = sim
        .view(DEPLOYER, timelock, TimelockController::PROPOSER_ROLECall {})
        .unwrap();
    assert!(sim
        .view(
            DEPLOYER,
            timelock,
            TimelockController::hasRoleCall {
                role: proposer,
                account: governor
            }
        )
        .unwrap());
    // Wiring is one-time: replaying the wire step reverts with the decoded custom error.
    let err = sim
        .transact(
            DEPLOYER,
            staking,
            Staking::wireCall {
                slasher_: slasher,
                accountObserver_: Address::ZERO,
                operatorObserver_: Address::ZERO,
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("AlreadyWired"), "{err}");
}

#[test]
fn delegate_unstake_and_time_travel() {
    let mut sim = deployed();
    let staking = sim.suite.staking().unwrap();
    let r = sim
        .transact(
            OP,
            staking,
            Staking::registerOperatorCall {
                signer: OP,
                selfStake: t(2_000),
            },
        )
        .unwrap();
    assert!(!r.ret.is_zero());
    let d = sim
        .transact(
            ALICE,
            staking,
            Staking::delegateCall {
                operator: OP,
                assets: t(500),
            },
        )
        .unwrap();
    let ev = decode_logs::<Staking::Delegated>(&d.logs);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].assets, t(500));
    assert_eq!(
        sim.view(ALICE, staking, Staking::stakeOfCall { account: ALICE })
            .unwrap(),
        t(500)
    );

    let shares = sim
        .view(
            ALICE,
            staking,
            Staking::sharesOfCall {
                operator: OP,
                account: ALICE,
            },
        )
        .unwrap();
    let id = sim
        .transact(
            ALICE,
            staking,
            Staking::requestUnstakeCall {
                operator: OP,
                shares,
            },
        )
        .unwrap()
        .ret;
    let err = sim
        .transact(
            ALICE,
            staking,
            Staking::completeUnstakeCall { withdrawalId: id },
        )
        .unwrap_err();
    match &err {
        SimError::Reverted { reason, .. } => {
            assert!(reason.contains("WithdrawalLocked"), "{reason}")
        }
        other => panic!("unexpected {other}"),
    }
    sim.advance(1, 7 * 86_400);
    let got = sim
        .transact(
            ALICE,
            staking,
            Staking::completeUnstakeCall { withdrawalId: id },
        )
        .unwrap()
        .ret;
    assert_eq!(got, t(500));
}

#[test]
fn slashing_through_the_slasher_hits_delegators_pro_rata() {
    let mut sim = deployed();
    let staking = sim.suite.staking().unwrap();
    let slasher = sim.suite.slasher().unwrap();
    // The Slasher takes fault reports from the wired InferenceRegistry; the simulator acts as it.
    let registry = sim.suite.get("InferenceRegistry").unwrap();
    sim.transact(
        OP,
        staking,
        Staking::registerOperatorCall {
            signer: OP,
            selfStake: t(2_000),
        },
    )
    .unwrap();
    sim.transact(
        ALICE,
        staking,
        Staking::delegateCall {
            operator: OP,
            assets: t(2_000),
        },
    )
    .unwrap();
    let r = sim
        .transact(
            registry,
            slasher,
            Slasher::requestSlashCall {
                kind: FaultKind::Equivocation.into(),
                operator: OP,
                r#ref: B256::ZERO,
                reporter: ALICE,
            },
        )
        .unwrap();
    let executed = decode_logs::<Slasher::SlashExecuted>(&r.logs);
    assert_eq!(executed.len(), 1);
    assert_eq!(executed[0].amount, t(400)); // 10% of 4,000
    let info = sim
        .view(ALICE, staking, Staking::operatorInfoCall { operator: OP })
        .unwrap();
    assert!(info.jailed);
    // Unauthorized callers get a readable error.
    let err = sim
        .transact(
            ALICE,
            slasher,
            Slasher::requestSlashCall {
                kind: FaultKind::Equivocation.into(),
                operator: OP,
                r#ref: B256::ZERO,
                reporter: ALICE,
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("UnauthorizedCaller"), "{err}");
}
