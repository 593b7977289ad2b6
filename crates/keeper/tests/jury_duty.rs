//! The keeper's jury duty against the deployed suite on a private anvil (docs/keeper.md, "Drafted
//! juries"): a wrong result on an Optimistic model is challenged while the juror pool is large
//! enough, so the dispute governor drafts a jury; the keepers of the finalizer role draw it and, once
//! the ruling is executed, settle it. Two keepers race for each call: one transaction each lands,
//! the other keeper's revert (`AlreadyDrawn`, `NotSettleable`) is booked as done, not as a fault.

mod common;

use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use common::suite::{call, Suite};
use common::*;
use verinfer_bindings::{
    DisputeGovernor, IdentityRegistry, InferenceRegistry, JurorPool, VerinferToken,
};
use verinfer_keeper::config::{KeeperConfig, RawConfig};
use verinfer_keeper::keeper::Keeper;
use verinfer_keeper::registry::{RequestStatus, VerificationMode};
use verinfer_keeper::store::{IntentKind, IntentStatus};

/// Dev accounts that join the juror pool (none is involved in the dispute).
const JURORS: [usize; 3] = [5, 6, 7];

/// The jury intents of `k`'s journal of `kind`: (key, status).
fn jury_intents(k: &Keeper, kind: IntentKind) -> Vec<IntentStatus> {
    k.store()
        .intents()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == kind)
        .map(|i| i.status)
        .collect()
}

/// How many `E` events `at` emitted.
async fn events<E: SolEvent>(s: &Suite, at: Address) -> usize {
    let f = Filter::new()
        .address(at)
        .event_signature(E::SIGNATURE_HASH)
        .from_block(0);
    s.p.get_logs(&f).await.unwrap().len()
}

/// A keeper of the finalizer role only (dev account `key` as its sending key, watching nothing),
/// journal `name` in `dir`.
async fn upkeep_keeper(
    anvil: &Anvil,
    s: &Suite,
    dir: &tempfile::TempDir,
    key: usize,
    name: &str,
    start_block: u64,
) -> Keeper {
    let hot = anvil.key(key);
    let cfg = KeeperConfig::from_raw(RawConfig {
        watch: Some(false),
        finalize: Some(true),
        ..s.raw_config(&dir.path().join(name), hot.address(), start_block)
    })
    .unwrap();
    Keeper::new(cfg, hot, name).await.unwrap()
}

/// Warps the chain's clock past `t` and mines a block.
async fn warp_past(s: &Suite, t: u64) {
    raw(
        &s.p,
        "evm_setNextBlockTimestamp",
        serde_json::json!([t + 1]),
    )
    .await;
    raw(&s.p, "evm_mine", serde_json::json!([])).await;
}

/// Issue #17's keeper duties: a drafted dispute is drawn by exactly one keeper's transaction and
/// settled by exactly one, after the ruling is executed; the keeper that lost each race books the
/// call as done (no abandoned intent, no second transaction), a restarted keeper journals nothing
/// new, and both keepers forget the settled dispute.
#[tokio::test]
async fn keepers_draw_and_settle_a_drafted_jury_once_and_the_loser_of_each_race_books_it_done() {
    let anvil = Anvil::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = Suite::setup_with_mode(&anvil, &dir, VerificationMode::Optimistic).await;
    let start_block = s.p.get_block_number().await.unwrap();
    let p = s.p.clone();
    let registry = InferenceRegistry::new(s.registry, &p);
    let governor = registry.resolver().call().await.unwrap();
    let gov = DisputeGovernor::new(governor, &p);
    let pool = gov.jurorPool().call().await.unwrap();

    // Identities: the watcher (to challenge) and three jurors, linked by the admin as issuer.
    let (watcher, mut watch) = s.watcher(&anvil, &dir, start_block).await;
    let approve_issuer = IdentityRegistry::approveIssuerCall {
        issuer: s.admin.from(),
    };
    call(&s.admin, "issuer", s.identity, approve_issuer.abi_encode()).await;
    let mut linked = vec![(watcher, "watcher".to_string())];
    for j in JURORS {
        linked.push((
            txm(
                s.p.clone(),
                anvil.key(j),
                store_at(&dir, &format!("juror{j}.redb")),
                fast_cfg(),
            ),
            format!("juror{j}"),
        ));
    }
    for (n, (t, name)) in linked.iter().enumerate() {
        let id = U256::from(n + 1);
        let create = IdentityRegistry::createIdentityCall {};
        call(
            &s.admin,
            &format!("identity:{name}"),
            s.identity,
            create.abi_encode(),
        )
        .await;
        let offer = IdentityRegistry::offerLinkCall {
            account: t.from(),
            identityId: id,
        };
        call(
            &s.admin,
            &format!("offer:{name}"),
            s.identity,
            offer.abi_encode(),
        )
        .await;
        let accept = IdentityRegistry::acceptLinkCall { identityId: id };
        call(t, "accept", s.identity, accept.abi_encode()).await;
    }
    // A small jury: three seats from a pool of three.
    let mut params = gov.juryParameters().call().await.unwrap();
    params.minPoolSize = 3;
    params.jurySize = 3;
    params.appealRounds = 0;
    let set = DisputeGovernor::setJuryParametersCall { p: params.clone() };
    call(&s.admin, "jury params", governor, set.abi_encode()).await;
    let bond = U256::from(params.minJurorBond);
    for (t, name) in &linked[1..] {
        let fund = VerinferToken::transferCall {
            to: t.from(),
            value: bond,
        };
        call(
            &s.admin,
            &format!("fund:{name}"),
            s.token,
            fund.abi_encode(),
        )
        .await;
        let approve = VerinferToken::approveCall {
            spender: pool,
            value: bond,
        };
        call(t, "approve pool", s.token, approve.abi_encode()).await;
        call(
            t,
            "join",
            pool,
            JurorPool::joinJuryCall { bond }.abi_encode(),
        )
        .await;
    }
    assert_eq!(
        JurorPool::new(pool, &p).pool().call().await.unwrap().size,
        U256::from(3)
    );

    // Two keepers of the finalizer role: the (lying) operator's own and an upkeep keeper.
    let mut operator = s.wrong_operator(&dir, start_block).await;
    let mut upkeep = upkeep_keeper(&anvil, &s, &dir, 4, "upkeep", start_block).await;

    // A wrong result, challenged by the watcher: a drafted dispute.
    let id = s.request().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let dispute = loop {
        operator.tick().await.unwrap();
        watch.tick().await.unwrap();
        let view = registry.request(id).call().await.unwrap();
        if view.status == u8::from(RequestStatus::Disputed) {
            break view.disputeId;
        }
        assert!(
            Instant::now() < deadline,
            "the wrong result was not disputed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        gov.juryCase(dispute).call().await.unwrap().drafted,
        "a jury was drafted"
    );
    let round = gov.juryRound(dispute, U256::ZERO).call().await.unwrap();
    assert!(!round.drawn);

    // The draw: both keepers see the dispute and journal the draw before either sends it.
    operator.collect_and_decide().await.unwrap();
    upkeep.collect_and_decide().await.unwrap();
    assert_eq!(
        jury_intents(&operator, IntentKind::JuryDraw),
        [IntentStatus::Pending]
    );
    assert_eq!(
        jury_intents(&upkeep, IntentKind::JuryDraw),
        [IntentStatus::Pending]
    );
    upkeep.tick().await.unwrap();
    operator.tick().await.unwrap();
    assert!(
        gov.juryRound(dispute, U256::ZERO)
            .call()
            .await
            .unwrap()
            .drawn
    );
    assert!(matches!(
        jury_intents(&upkeep, IntentKind::JuryDraw)[..],
        [IntentStatus::Done {
            tx_hash: Some(_),
            ..
        }]
    ));
    assert_eq!(
        jury_intents(&operator, IntentKind::JuryDraw),
        [IntentStatus::Done {
            tx_hash: None,
            gas_used: None
        }],
        "the loser of the race booked AlreadyDrawn as done"
    );
    assert_eq!(events::<DisputeGovernor::JuryDrawn>(&s, governor).await, 1);

    // A keeper restarted from its journal journals nothing new for a drawn round.
    drop(upkeep);
    let mut upkeep = upkeep_keeper(&anvil, &s, &dir, 4, "upkeep", start_block).await;
    upkeep.tick().await.unwrap();
    assert_eq!(jury_intents(&upkeep, IntentKind::JuryDraw).len(), 1);

    // Nobody votes; after voting the ruling is resolved and executed (anyone may), then settled.
    let d = gov.dispute(dispute).call().await.unwrap();
    warp_past(&s, d.voteEnd.to::<u64>()).await;
    let resolve = DisputeGovernor::resolveCall { disputeId: dispute };
    call(&s.admin, "resolve", governor, resolve.abi_encode()).await;
    let d = gov.dispute(dispute).call().await.unwrap();
    warp_past(&s, d.executableAt.to::<u64>()).await;
    let execute = DisputeGovernor::executeCall { disputeId: dispute };
    call(&s.admin, "execute", governor, execute.abi_encode()).await;

    operator.collect_and_decide().await.unwrap();
    upkeep.collect_and_decide().await.unwrap();
    assert_eq!(
        jury_intents(&operator, IntentKind::JurySettle),
        [IntentStatus::Pending]
    );
    assert_eq!(
        jury_intents(&upkeep, IntentKind::JurySettle),
        [IntentStatus::Pending]
    );
    operator.tick().await.unwrap();
    upkeep.tick().await.unwrap();
    assert!(gov.juryCase(dispute).call().await.unwrap().settled);
    assert!(matches!(
        jury_intents(&operator, IntentKind::JurySettle)[..],
        [IntentStatus::Done {
            tx_hash: Some(_),
            ..
        }]
    ));
    assert_eq!(
        jury_intents(&upkeep, IntentKind::JurySettle),
        [IntentStatus::Done {
            tx_hash: None,
            gas_used: None
        }],
        "the loser of the race booked NotSettleable as done"
    );
    assert_eq!(
        events::<DisputeGovernor::JurySettled>(&s, governor).await,
        1
    );

    // Settled: both keepers stop watching it and journal nothing more.
    operator.tick().await.unwrap();
    upkeep.tick().await.unwrap();
    for k in [&operator, &upkeep] {
        assert!(k.store().jury_watches().unwrap().is_empty());
        assert_eq!(jury_intents(k, IntentKind::JuryDraw).len(), 1);
        assert_eq!(jury_intents(k, IntentKind::JurySettle).len(), 1);
    }
}
