//! The drafted dispute jury (`[jury]`) played on the real contracts: the pool is filled, disputes are
//! drawn, voted, resolved, executed and settled on chain.

use std::path::{Path, PathBuf};

use verinfer_authority::{Decision, DecisionKind, Rule};
use verinfer_sim::scenario::{run, DisputeOutcome, DisputePath, RunReport, Scenario};

fn small() -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/small.toml");
    let mut s = Scenario::load(&path).unwrap();
    s.epochs = 2;
    s.operators.cartel = 0.15;
    s.operators.cartel_wrong_rate = 1.0;
    s.traffic.optimistic_share = 1.0;
    s.attack.cost_of_corruption = false;
    s
}

fn with_jury(s: &Scenario, jury: &str) -> Scenario {
    let text = format!("{}\n[jury]\n{jury}\n", toml::to_string(s).unwrap());
    Scenario::parse(&text, Path::new("scenarios/jury.toml")).unwrap()
}

/// Runs `small()` with a 45%-of-stake cartel over 40 operators and the `[jury]` section `jury`;
/// asserts that some dispute was drafted.
fn run_cartel_45(jury: &str) -> RunReport {
    let mut s = small();
    s.attack.cartel_stake_share = 0.45;
    s.attack.cartel_operators = 40;
    let r = run(&with_jury(&s, jury), false).unwrap();
    assert!(!jury_disputes(&r).is_empty(), "{}", r.summary());
    r
}

fn jury_disputes(r: &RunReport) -> Vec<&verinfer_sim::scenario::DisputeRecord> {
    r.disputes
        .iter()
        .filter(|d| d.path == DisputePath::Jury)
        .collect()
}

#[test]
fn honest_dominated_pool_drafts_votes_and_settles_disputes_correctly_on_chain() {
    let s = with_jury(
        &small(),
        "share = 1.0\nbond_share = 0.1\nmin_pool_size = 31",
    );
    let r = run(&s, false).unwrap();
    let pool = r.jury.as_ref().expect("jury report");
    assert!(pool.jurors >= 31, "{pool:?}");
    assert!(pool.cartel_draw_weight_share < 0.5, "{pool:?}");
    let drafted = jury_disputes(&r);
    assert!(!drafted.is_empty(), "{}", r.summary());
    for d in drafted {
        let j = d.jury.as_ref().unwrap();
        assert_eq!(j.rounds, 1, "{d:?}");
        assert!(j.seats > 0 && j.votes > 0, "{d:?}");
        // every vote is a commitment first; every honest juror reveals by default ~98%
        assert!(j.votes <= j.commits && j.commits <= j.seats, "{d:?}");
        assert!(j.cartel_seats <= j.seats, "{d:?}");
        assert_eq!(d.outcome, DisputeOutcome::Correct, "{d:?}");
    }
    // The ledger records each jury ruling as decided by the drafted jury, its deciders the jurors who
    // voted for the ruling (one round: the final one).
    let rulings: Vec<&Decision> = r
        .ledger
        .records
        .iter()
        .filter(|d| d.kind == DecisionKind::DisputeRuling && d.rule == Rule::DraftedJury)
        .collect();
    let drafted = jury_disputes(&r);
    assert_eq!(rulings.len(), drafted.len());
    let coherent: usize = drafted
        .iter()
        .map(|d| d.vote.as_ref().map_or(0, |v| v.deciders.len()))
        .sum();
    let recorded: usize = rulings.iter().map(|d| d.deciders.len()).sum();
    assert!(coherent > 0);
    assert_eq!(recorded, coherent);
}

#[test]
fn cartel_dominated_pool_decides_drafted_disputes_wrongly() {
    let mut s = small();
    s.attack.cartel_stake_share = 0.45;
    s.attack.cartel_operators = 40;
    // Two honest jurors in a hundred attested persons: the cartel's 40 operators hold most seats.
    let s = with_jury(&s, "share = 0.02\nbond_share = 0.1\nmin_pool_size = 3");
    let r = run(&s, false).unwrap();
    let pool = r.jury.as_ref().expect("jury report");
    assert!(pool.cartel_draw_weight_share > 0.5, "{pool:?}");
    let drafted = jury_disputes(&r);
    assert!(!drafted.is_empty(), "{}", r.summary());
    let wrong = drafted
        .iter()
        .filter(|d| d.outcome == DisputeOutcome::Wrong)
        .count();
    assert!(2 * wrong > drafted.len(), "{wrong} of {}", drafted.len());
}

#[test]
fn jury_parameters_out_of_the_contracts_bounds_are_refused_by_set_jury_parameters_naming_the_field()
{
    // the bounds are `DisputeGovernor.setJuryParameters`' (none restated in the scenario loader):
    // the scenario loads, and the run stops when the contract refuses the value
    for (jury, field, bounds) in [
        ("jury_size = 12", "jury.jury_size", "[3, 11]"),
        ("jury_size = 2", "jury.jury_size", "[3, 11]"),
        ("min_pool_size = 2000", "jury.min_pool_size", "[3, 1024]"),
        ("min_pool_size = 2", "jury.min_pool_size", "[3, 1024]"),
        ("appeal_rounds = 3", "jury.appeal_rounds", "[0, 2]"),
    ] {
        let s = with_jury(&small(), &format!("share = 0.5\nbond_share = 0.1\n{jury}"));
        let err = run(&s, false).unwrap_err().to_string();
        assert!(
            err.contains(field) && err.contains(bounds) && err.contains("setJuryParameters"),
            "{jury}: {err}"
        );
    }
}

#[test]
fn jury_section_behaviour_values_out_of_bounds_fail_at_load_naming_the_field() {
    let base = toml::to_string(&small()).unwrap();
    for (jury, field) in [
        ("share = 1.5\nbond_share = 0.1", "jury.share"),
        ("share = 0.5\nbond_share = 0.0", "jury.bond_share"),
        (
            "share = 0.5\nbond_share = 0.1\nvote_probability = 2.0",
            "jury.vote_probability",
        ),
        (
            "share = 0.5\nbond_share = 0.1\nreveal_probability = -0.1",
            "jury.reveal_probability",
        ),
    ] {
        let text = format!("{base}\n[jury]\n{jury}\n");
        let err = Scenario::parse(&text, Path::new("scenarios/bad.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(field), "{field}: {err}");
    }
}

#[test]
fn the_honest_side_appeals_wrong_jury_rulings_while_rounds_remain() {
    let r = run_cartel_45("share = 0.02\nbond_share = 0.1\nmin_pool_size = 3\nappeal_rounds = 2");
    let drafted = jury_disputes(&r);
    let mut appealed = 0;
    for d in &drafted {
        let j = d.jury.as_ref().unwrap();
        // A wrong ruling is appealed until no round remains: 5, 11 and 23 seats asked for.
        if d.outcome == DisputeOutcome::Wrong {
            assert_eq!(j.rounds, 3, "{d:?}");
        }
        if j.rounds > 1 {
            appealed += 1;
            assert!(j.seats > 11, "{d:?}");
        }
    }
    assert!(appealed > 0, "{}", r.summary());
    // Every round's decided ruling is in the ledger, decided by that round's coherent jurors.
    let rulings = r
        .ledger
        .records
        .iter()
        .filter(|d| d.kind == DecisionKind::DisputeRuling && d.rule == Rule::DraftedJury)
        .count();
    let rounds: usize = drafted
        .iter()
        .map(|d| d.jury.as_ref().unwrap().rounds)
        .sum();
    assert_eq!(rulings, rounds, "{}", r.summary());
}

#[test]
fn unrevealed_commitments_are_not_counted_as_votes() {
    let s = with_jury(
        &small(),
        "share = 1.0\nbond_share = 0.1\nmin_pool_size = 31\nvote_probability = 1.0\nreveal_probability = 0.0",
    );
    let r = run(&s, false).unwrap();
    let drafted = jury_disputes(&r);
    assert!(!drafted.is_empty(), "{}", r.summary());
    for d in drafted {
        let j = d.jury.as_ref().unwrap();
        // honest jurors committed and never revealed: only the cartel's reveals count
        assert!(j.commits > j.cartel_seats, "{d:?}");
        assert!(j.votes <= j.cartel_seats, "{d:?}");
        assert_ne!(d.outcome, DisputeOutcome::Correct, "{d:?}");
    }
}

#[test]
fn the_cartel_appeals_correct_rulings_while_rounds_remain() {
    let r = run_cartel_45(
        "share = 0.3\nbond_share = 0.1\nmin_pool_size = 3\nappeal_rounds = 2\ncartel_appeals = true",
    );
    let drafted = jury_disputes(&r);
    let mut cartel_appeals = 0;
    for d in &drafted {
        let j = d.jury.as_ref().unwrap();
        // a ruling that stays correct with rounds left is appealed by the cartel: it ends after 3 rounds
        if d.outcome == DisputeOutcome::Correct && j.options.1.is_some() {
            assert_eq!(j.rounds, 3, "{d:?}");
        }
        assert!(j.cartel_appeals < j.rounds, "{d:?}");
        cartel_appeals += j.cartel_appeals;
    }
    assert!(cartel_appeals > 0, "{}", r.summary());
}
