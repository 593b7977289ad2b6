//! The authority ledger of a scenario run agrees with the run's own dispute and slash counts.

use std::path::PathBuf;

use verinfer_authority::{DecisionKind, Path, Rule, Subject};
use verinfer_sim::scenario::{run, Scenario};

#[test]
fn the_ledger_of_a_tiny_run_counts_the_reports_disputes_slashes_and_finalizations() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/small.toml");
    let mut s = Scenario::load(&path).unwrap();
    s.epochs = 2;
    let r = run(&s, false).unwrap();
    let l = &r.ledger;
    let rulings = |rule: Rule| {
        l.of_kind(DecisionKind::DisputeRuling)
            .filter(|d| d.rule == rule)
            .count()
    };
    let split = &r.dispute_split;
    println!("{}", r.summary());
    // Disputes: every ruling the report counts, by the path that settled it.
    assert_eq!(
        l.of_kind(DecisionKind::DisputeRuling).count(),
        r.disputes.len()
    );
    assert_eq!(
        rulings(Rule::DisputeVote) + rulings(Rule::NoQuorum),
        split.vote.disputes
    );
    assert_eq!(rulings(Rule::NoQuorum), split.vote.no_decision);
    assert_eq!(rulings(Rule::OneStepCheck), split.games.ended_by_step);
    assert_eq!(rulings(Rule::RefereeTimeout), split.games.ended_by_timeout);
    assert_eq!(rulings(Rule::NoCommitment), split.computation.no_decision);
    assert!(
        split.computation.disputes > 0,
        "the run exercised no referee game"
    );
    // Every vote decided with quorum names its deciding coalition.
    for d in l.of_kind(DecisionKind::DisputeRuling) {
        assert_eq!(d.rule == Rule::DisputeVote, !d.deciders.is_empty(), "{d:?}");
    }
    // Slashes: the executed ones of each fault kind are the report's.
    for (fault, name) in ["equivocation", "wrong_result", "missed_assignment"]
        .into_iter()
        .enumerate()
    {
        let executed = l
            .of_kind(DecisionKind::Slash)
            .filter(|d| {
                matches!(d.subject, Subject::Slash { fault: f, executed: true, .. } if usize::from(f) == fault)
            })
            .count() as u64;
        assert_eq!(executed, r.slashes[name].count, "{name}");
    }
    // Finalizations: one per request the run created (finalized or expired).
    let requests: usize = r.epochs.iter().map(|e| e.requests).sum();
    assert_eq!(l.of_kind(DecisionKind::Finalization).count(), requests);
    // The deployment's decisions are the admin's.
    assert!(l.of_kind(DecisionKind::ModelRegistration).count() >= 2);
    assert!(l
        .of_kind(DecisionKind::ModelRegistration)
        .all(|d| d.path == Path::Admin));
    assert!(l.of_kind(DecisionKind::IssuerApproval).count() >= 1);
    let shares: f64 = l.summary.by_path.iter().map(|p| p.share).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    assert_eq!(l.summary.epochs.len(), 2);
    assert!(l.summary.concentration.nakamoto_persons >= 1);
    // The plot: decisions by path and the deciders' Nakamoto, per epoch.
    let dir = std::env::temp_dir().join(format!("verinfer-authority-{}", std::process::id()));
    let plots = verinfer_sim::plot::write_plots(&r, &dir).unwrap();
    let svg = std::fs::read_to_string(dir.join("authority.svg")).unwrap();
    assert!(plots.contains(&dir.join("authority.svg")));
    for label in ["Decisions by path", "Nakamoto", "quorum", "by capital"] {
        assert!(svg.contains(label), "{label}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
