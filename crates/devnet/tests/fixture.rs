//! The devnet driven phase by phase as a fixture (not through the binary), each phase's typed result
//! checked, then the report made from them.

use std::sync::{Arc, Mutex};

use alloy::primitives::U256;
use alloy::providers::Provider;
use verinfer_authority::{DecisionKind, Rule, Subject};
use verinfer_bindings::units::tokens;
use verinfer_devnet::operators::Behaviour;
use verinfer_devnet::{Devnet, DevnetConfig, DevnetError, Progress};

const REQUESTS: usize = 6;
const OPERATORS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_devnet_phase_by_phase() {
    let root = tempfile::tempdir().unwrap();
    let phases = Arc::new(Mutex::new(Vec::new()));
    let seen = phases.clone();
    let devnet = Devnet::start(
        DevnetConfig {
            operators: OPERATORS,
            requests: REQUESTS,
            root: root.path().to_path_buf(),
            data_dir: Some(root.path().join("keepers")),
            ..DevnetConfig::default()
        }
        .with_progress(move |p| {
            if let Progress::Phase(s) = p {
                seen.lock().unwrap().push(s);
            }
        }),
    )
    .expect("anvil starts");

    // deploy: the manifest is written under the root and names the registry
    let d = devnet.deploy().await.expect("deploy");
    assert_eq!(d.manifest_path, root.path().join("deployments/31337.json"));
    assert!(d.manifest_path.is_file());
    let registry = d.contract("InferenceRegistry").unwrap();
    assert!(!devnet
        .provider()
        .get_code_at(registry)
        .await
        .unwrap()
        .is_empty());

    // operators: skewed stakes, operator 1 equivocates, the last is offline
    let ops = devnet
        .register_operators(&d, devnet.operator_specs().unwrap())
        .await
        .expect("register operators");
    let stakes: Vec<U256> = ops.iter().map(|o| o.stake_before).collect();
    assert_eq!(
        stakes,
        [64_000, 32_000, 16_000, 8_000, 4_000].map(tokens).to_vec()
    );
    assert_eq!(ops[1].behaviour, Behaviour::Equivocate);
    assert_eq!(ops[OPERATORS - 1].behaviour, Behaviour::Offline);

    // keepers: every online operator runs one
    let mut keepers = devnet.spawn_keepers(&d, &ops).await.expect("keepers");
    assert_eq!(keepers.running(), OPERATORS - 1);

    // traffic: every request gets a result; the chaos keeper was restarted once halfway
    let traffic = devnet.traffic(&d, &mut keepers).await.expect("traffic");
    assert_eq!(traffic.sent.len(), REQUESTS);
    assert_eq!(traffic.with_result, REQUESTS);
    assert!(traffic.gas_request_inference > 0);

    // outputs: a client fetches every result's bytes from the answering operators' keepers (at the
    // endpoints they published on chain) and each copy hashes to the result
    let outputs = devnet.fetch_outputs(&d, &traffic).await.expect("outputs");
    assert_eq!(outputs.of, REQUESTS);
    assert_eq!(outputs.verified, REQUESTS, "{:?}", outputs.failures);
    assert_eq!(outputs.from_keepers, REQUESTS);

    // consumers: two through the classifier example, one each to a recording, a reverting and a
    // gas-burning scripted consumer; every output reaches the client verified
    let consumer_traffic = devnet
        .consumer_traffic(&d, 1)
        .await
        .expect("consumer traffic");
    assert_eq!(consumer_traffic.sent.len(), 5);
    assert!(consumer_traffic.sent.iter().all(|r| r.output_ms.is_some()));

    // time warp: every request finalized (or expired); the keepers first send what they journaled,
    // so no late answer is overtaken by its deadline (regression: a single-mode keeper's third
    // attestation expired in the warp)
    keepers.drain(std::time::Duration::from_secs(30)).await;
    let fin = devnet.warp_past_windows(&d, &traffic).await.expect("warp");
    assert_eq!((fin.settled, fin.of), (REQUESTS, REQUESTS));

    // the keepers deliver every final callback once, for the callback fee: the classifier and the
    // recorder succeed, the hostile consumers fail without affecting anything else
    let callbacks = devnet
        .callbacks(&d, &consumer_traffic)
        .await
        .expect("callbacks");
    assert_eq!(callbacks.pending, 0, "{callbacks:?}");
    assert_eq!(callbacks.attempts.len(), 5, "{callbacks:?}");
    for a in &callbacks.attempts {
        assert_eq!(a.success, !a.route.hostile(), "{a:?}");
        assert_eq!(a.status, "Finalized");
        // the consumer's gas limit plus the CALL's own cost (cold account access), measured around it
        assert!(a.gas_used > 0 && a.gas_used <= 100_000 + 2_800, "{a:?}");
        assert_ne!(
            a.fee_earned, "0",
            "the deliverer is paid, hostile consumer or not: {a:?}"
        );
    }
    assert_eq!(callbacks.outputs_delivered, 5);
    let run = keepers.stop().await;
    assert_eq!(run.restarts, 1);
    assert_eq!(run.journals.len(), OPERATORS - 1);

    // the dispute is decided and both colluders' WrongResult slashes execute
    let dispute = devnet.quadratic_dispute(&d, &ops).await.expect("dispute");
    assert!(dispute.decided);
    assert_eq!(dispute.slash_ids.len(), 2);
    assert_ne!(dispute.colluders[0], dispute.colluders[1]);
    assert!(dispute.slashed > U256::ZERO);

    // stale stake records are re-synced; a second pass finds none
    let voice = devnet.resync_stake(&d, &ops).await.expect("resync");
    assert!(voice.resynced > 0);
    assert_eq!(voice.stale_after, 0);
    assert!(voice.accounts.len() >= OPERATORS + 3);

    // the referee phase: the keepers play the game out; the honest challenger wins, the request
    // finalizes with the right output, the colluders are slashed, no vote is opened
    let referee = devnet.referee_game(&d, &ops).await.expect("referee game");
    println!("{}", referee.summary()); // shown with --nocapture
    for m in &referee.moves {
        println!("  {} side {:?} gas {}", m.what, m.side, m.gas);
    }
    assert_eq!(referee.winner, "challenger", "{referee:?}");
    assert_eq!(referee.final_output, referee.right);
    assert_ne!(referee.right, referee.wrong);
    assert_eq!(referee.votes_opened, 0, "no vote");
    assert_eq!(referee.slash_ids.len(), 2);
    assert!(referee.slashed > U256::ZERO);
    let count = |prefix: &str| {
        referee
            .moves
            .iter()
            .filter(|m| m.what.starts_with(prefix))
            .count()
    };
    assert_eq!(count("challenge"), 1, "{:?}", referee.moves);
    assert_eq!(count("commitTrace"), 2, "{:?}", referee.moves);
    assert_eq!(
        count("bisect"),
        2 * verinfer_mlp::trace::GAME_DEPTH,
        "{:?}",
        referee.moves
    );
    assert_eq!(count("step"), 1, "{:?}", referee.moves);
    assert!(referee.moves.iter().all(|m| m.gas > 0));
    assert!(
        referee.moves.iter().filter(|m| m.side == Some(0)).count() > 0,
        "the liars played"
    );

    let report = devnet
        .report(&verinfer_devnet::report::Phases {
            deployment: &d,
            operators: &ops,
            traffic: &traffic,
            outputs: &outputs,
            consumer_traffic: &consumer_traffic,
            callbacks: &callbacks,
            finalized: &fin,
            keepers: &run,
            results_secs: traffic.started.elapsed().as_secs_f64(),
            dispute: &dispute,
            voice: &voice,
            referee: &referee,
            llm: None,
        })
        .await
        .expect("report");
    assert_eq!(report.requests_sent, REQUESTS);
    assert_eq!(report.requests_with_result, REQUESTS);
    assert_eq!(
        (report.outputs_verified, report.outputs_tried),
        (REQUESTS, REQUESTS)
    );
    assert_eq!(report.requests_finalized, REQUESTS);
    assert_eq!(report.keeper_restarts, 1);
    assert_eq!(
        (report.callbacks_succeeded, report.callbacks_failed),
        (3, 2)
    );
    assert!(report.output_latency_ms_median > 0);
    assert!(!report.delivery_fees.is_empty());
    for o in report.operators.iter().filter(|o| o.behaviour != "offline") {
        // nothing lost, nothing duplicated: every assignment answered exactly once on chain
        assert_eq!(o.assigned, o.answered_on_chain, "{o:?}");
    }
    let kinds = |prefix: &str| {
        report
            .slashes
            .iter()
            .filter(|s| s.kind.starts_with(prefix))
            .map(|s| s.operator)
            .collect::<Vec<_>>()
    };
    // The draw is seeded by the block, so whether the equivocator and the offline operator were
    // assigned at all varies run to run: each is slashed exactly when it had an assignment.
    let assigned = |i: usize| report.operators[i].assigned > 0;
    assert_eq!(
        kinds("equivocation").contains(&ops[1].address()),
        assigned(1),
        "{:?}",
        report.operators[1]
    );
    assert_eq!(
        kinds("missed assignment").contains(&ops[OPERATORS - 1].address()),
        assigned(OPERATORS - 1),
        "{:?}",
        report.operators[OPERATORS - 1]
    );
    assert_eq!(
        kinds("wrong result (lost a dispute decided by quadratic vote)"),
        dispute.colluders.to_vec()
    );
    assert_eq!(
        kinds("wrong result (lost a referee game)"),
        referee.colluders.to_vec()
    );
    assert_eq!(report.referee, referee.summary());
    assert!(report.dispute_slashed > 0.0);
    assert_eq!(report.dispute, dispute.summary());
    assert!(report.gas_per_attestation_single.is_some_and(|g| g > 0));

    // predictions: every request's answer decoded from the bytes behind its on-chain output hash,
    // each the class the model computes for that test image, against the image's true label
    let split = verinfer_mlp::dataset::TestSplit::digits().unwrap();
    assert_eq!(report.predictions.len(), REQUESTS);
    assert_eq!(report.predictions_decoded, REQUESTS);
    let mut correct = 0;
    for p in &report.predictions {
        let sample = &split.samples[p.sample];
        assert_eq!(p.label, sample.label);
        let local = d.model.classify(&sample.input).unwrap().class;
        assert_eq!(p.predicted, Some(local), "{p:?}");
        correct += usize::from(local == sample.label);
    }
    assert_eq!(report.predictions_correct, correct);
    assert!(report.markdown().contains("## Predictions"));

    // The authority ledger has a record of each path the devnet exercises: quorum finalizations,
    // the quadratic vote's ruling (with its deciding coalition), the referee game's one-step check,
    // the slashes that follow both, and the deployment's admin decisions.
    let ledger = &report.ledger;
    println!("{}", ledger.summary.table());
    let has = |kind: DecisionKind, rule: Rule| ledger.of_kind(kind).any(|r| r.rule == rule);
    assert!(has(DecisionKind::Finalization, Rule::OperatorQuorum));
    assert!(ledger
        .of_kind(DecisionKind::Finalization)
        .filter(|r| r.rule == Rule::OperatorQuorum)
        .all(|r| !r.deciders.is_empty()));
    let vote = ledger
        .of_kind(DecisionKind::DisputeRuling)
        .find(|r| r.rule == Rule::DisputeVote)
        .expect("a ruling by vote");
    assert!(!vote.deciders.is_empty(), "{vote:?}");
    assert!(has(DecisionKind::DisputeRuling, Rule::OneStepCheck));
    assert!(has(DecisionKind::Slash, Rule::DisputeVote));
    assert!(has(DecisionKind::Slash, Rule::OneStepCheck));
    assert!(has(DecisionKind::ModelRegistration, Rule::AdminCall));
    assert!(has(DecisionKind::IssuerApproval, Rule::AdminCall));
    let wrong_result_slashes = ledger
        .of_kind(DecisionKind::Slash)
        .filter(|r| matches!(r.subject, Subject::Slash { fault: 1, .. }))
        .count();
    assert_eq!(
        wrong_result_slashes,
        dispute.colluders.len() + referee.colluders.len()
    );
    assert!(report.markdown().contains("## Authority ledger"));

    let base = report.write(&root.path().join("reports")).expect("write");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(base.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(json["requests_with_result"], REQUESTS);
    assert!(std::fs::read_to_string(base.with_extension("md"))
        .unwrap()
        .contains("## Dispute by quadratic vote"));

    let phases = phases.lock().unwrap();
    assert!(phases[0].starts_with("starting anvil"), "{phases:?}");
    assert_eq!(phases[1], "deploying the suite");
}

#[test]
fn a_bad_configuration_fails_before_anvil_starts() {
    let err = Devnet::start(DevnetConfig {
        operators: 2,
        ..DevnetConfig::default()
    })
    .expect_err("two operators are too few");
    assert!(matches!(
        err,
        DevnetError::Config {
            field: "--operators",
            value: 2,
            ..
        }
    ));
}
