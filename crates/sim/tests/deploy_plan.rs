//! The deployment plan of `verinfer-deploy` executed in revm: the production plan leaves the timelock
//! as the sole admin, and the contracts draw the timing-invariant line exactly where
//! `DeployParams::check_timing` does.

use alloy::primitives::{Address, B256, U256};
use verinfer_bindings::{
    units::TOKEN, DisputeGovernor, InferenceRegistry, Referee, Staking, VerinferToken,
};
use verinfer_deploy::plan::{DeployParams, DEFAULT_ADMIN_ROLE};

const DEPLOYER: Address = Address::repeat_byte(0xd0);

#[test]
fn production_deployment_in_revm_leaves_the_timelock_as_sole_admin() {
    let mut sim = verinfer_sim::Sim::new();
    let plan = sim
        .deploy_local(&DeployParams::production(DEPLOYER))
        .unwrap();
    let timelock = plan.address("TimelockController").unwrap();
    for name in [
        "Staking",
        "Slasher",
        "InferenceRegistry",
        "IdentityRegistry",
        "DisputeGovernor",
        "TimelockController",
    ] {
        let at = plan.address(name).unwrap();
        let has = |sim: &mut verinfer_sim::Sim, account| {
            sim.view(
                DEPLOYER,
                at,
                Staking::hasRoleCall {
                    role: DEFAULT_ADMIN_ROLE,
                    account,
                },
            )
            .unwrap()
        };
        assert!(has(&mut sim, timelock), "{name}: timelock is not admin");
        assert!(!has(&mut sim, DEPLOYER), "{name}: deployer is still admin");
    }
    let owner = sim
        .view(
            DEPLOYER,
            plan.address("VerinferToken").unwrap(),
            VerinferToken::ownerCall {},
        )
        .unwrap();
    assert_eq!(owner, timelock);
    // The deployer can no longer change a parameter directly.
    let err = sim
        .transact(
            DEPLOYER,
            plan.address("Staking").unwrap(),
            Staking::setMinOperatorStakeCall {
                value: U256::from(TOKEN),
            },
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("AccessControlUnauthorizedAccount"),
        "{err}"
    );
}

fn model(window: u32) -> InferenceRegistry::registerModelCall {
    use verinfer_bindings::inference_registry::IInferenceRegistry::ModelParams;
    InferenceRegistry::registerModelCall {
        weightsHash: alloy::primitives::keccak256(window.to_be_bytes()),
        runtimeSpecHash: B256::repeat_byte(1),
        params: ModelParams {
            mode: verinfer_bindings::types::VerificationMode::Optimistic.into(),
            k: 1,
            q: 1,
            challengeWindow: window,
            minStake: U256::from(TOKEN),
            challengeBond: U256::from(TOKEN),
            minFee: U256::from(TOKEN),
        },
    }
}

#[test]
fn local_timing_admits_challenge_windows_up_to_47_hours_as_the_contracts_do() {
    let params = DeployParams::local(DEPLOYER);
    let max = u32::try_from(params.max_challenge_window()).unwrap();
    assert_eq!(max, 47 * 3_600);
    assert_eq!(params.check_timing(max), Ok(()));
    assert!(params.check_timing(max + 1).is_err());
    // The deployed contracts draw the same line: registerModel re-checks the invariants.
    let mut sim = verinfer_sim::Sim::new();
    let plan = sim.deploy_local(&params).unwrap();
    let registry = plan.address("InferenceRegistry").unwrap();
    sim.transact(DEPLOYER, registry, model(max)).unwrap();
    let err = sim
        .transact(DEPLOYER, registry, model(max + 1))
        .unwrap_err();
    assert!(err.to_string().contains("TimingInvariantViolated"), "{err}");
    let fault_window = sim
        .view(DEPLOYER, registry, InferenceRegistry::faultWindowCall {})
        .unwrap();
    assert_eq!(fault_window, U256::from(DeployParams::fault_window(max)));
    let ruling = sim
        .view(
            DEPLOYER,
            plan.address("DisputeGovernor").unwrap(),
            DisputeGovernor::maxRulingDelayCall {},
        )
        .unwrap();
    assert_eq!(ruling, U256::from(params.vote_ruling_delay()));
    let game = sim
        .view(
            DEPLOYER,
            plan.address("Referee").unwrap(),
            Referee::maxRulingDelayCall {},
        )
        .unwrap();
    assert_eq!(game, U256::from(params.referee_ruling_delay()));
    assert_eq!(U256::from(params.ruling_delay()), ruling.max(game));
}

#[test]
fn unbonding_shorter_than_fault_ruling_and_veto_is_refused_on_and_off_chain() {
    // Long enough for the suite without models (F = 1 day + 1 hour, R = the longest referee game,
    // V = 2 days: 392,401 s; `wireReferee` re-checks it), too short once a 600 s window is added.
    let params = DeployParams {
        unbonding_delay: 392_500,
        ..DeployParams::local(DEPLOYER)
    };
    assert!(params.check_timing(600).is_err());
    let mut sim = verinfer_sim::Sim::new();
    let plan = sim.deploy_local(&params).unwrap();
    let registry = plan.address("InferenceRegistry").unwrap();
    let err = sim.transact(DEPLOYER, registry, model(600)).unwrap_err();
    assert!(err.to_string().contains("TimingInvariantViolated"), "{err}");
}
