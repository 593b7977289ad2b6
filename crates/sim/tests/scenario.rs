//! Scenario runs are deterministic per seed and report the legitimacy goals.

use std::path::PathBuf;

use verinfer_sim::scenario::{run, Scenario};

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name)
}

#[test]
fn small_scenario_is_deterministic_and_reports_goals() {
    let mut s = Scenario::load(&scenario("small.toml")).unwrap();
    s.epochs = 4;
    let a = run(&s, false).unwrap();
    let b = run(&s, false).unwrap();
    let ja = serde_json::to_value((&a.epochs, &a.disputes, &a.capture)).unwrap();
    let jb = serde_json::to_value((&b.epochs, &b.disputes, &b.capture)).unwrap();
    assert_eq!(ja, jb);
    assert_eq!(a.transactions, b.transactions);
    assert_eq!(a.epochs.len(), 4);
    assert_eq!(a.goals.len(), 4);
    let summary = a.summary();
    assert!(summary.contains("PASS") || summary.contains("FAIL"));
    // Faulty operators got slashed through the registry, the Slasher and Staking.
    let executed: u64 = a.slashes.values().map(|t| t.count).sum();
    assert!(executed > 0, "{summary}");
    let dir = std::env::temp_dir().join(format!("verinfer-plots-{}", std::process::id()));
    let plots = verinfer_sim::plot::write_plots(&a, &dir).unwrap();
    for p in &plots {
        assert!(std::fs::read_to_string(p).unwrap().starts_with("<svg"));
    }
    // The Nakamoto plot: each axis label once, the x axis ending at the last epoch, the legend
    // beside the data (beyond the plot's 620 px) and saying what a gap means.
    let svg = std::fs::read_to_string(&plots[1]).unwrap();
    let texts: Vec<(f64, f64, String)> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| {
            let attr = |name: &str| -> Option<f64> {
                t.split(&format!(" {name}=\""))
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            };
            let body = t.split('>').nth(1)?.split('<').next()?.trim().to_string();
            Some((attr("x")?, attr("y")?, body))
        })
        .collect();
    let numeric: Vec<&(f64, f64, String)> = texts
        .iter()
        .filter(|(_, _, t)| t.parse::<u64>().is_ok())
        .collect();
    let bottom = numeric.iter().map(|(_, y, _)| *y).fold(0.0, f64::max);
    let x_labels: Vec<u64> = numeric
        .iter()
        .filter(|(_, y, _)| *y == bottom)
        .map(|(_, _, t)| t.parse().unwrap())
        .collect();
    let last_epoch = a.epochs.last().unwrap().epoch;
    assert_eq!(
        x_labels.iter().max(),
        Some(&last_epoch),
        "x axis runs past the data"
    );
    let mut y_labels: Vec<&str> = numeric
        .iter()
        .filter(|(_, y, _)| *y != bottom)
        .map(|(_, _, t)| t.as_str())
        .collect();
    let n = y_labels.len();
    y_labels.sort_unstable();
    y_labels.dedup();
    assert_eq!(y_labels.len(), n, "a y label is drawn twice");
    for (x, _, t) in &texts {
        if t == "smallest deciding coalition" || t.starts_with("gap:") {
            assert!(*x > 620.0, "legend inside the plot: {t} at {x}");
        }
    }
    assert!(texts
        .iter()
        .any(|(_, _, t)| t == "gap: no dispute decided that epoch"));
}

#[test]
fn cartel_wrong_results_are_challenged_voted_down_and_slashed_on_chain() {
    let mut s = Scenario::load(&scenario("small.toml")).unwrap();
    s.epochs = 4;
    s.operators.cartel = 0.4;
    s.operators.cartel_wrong_rate = 1.0;
    s.traffic.optimistic_share = 1.0;
    let r = run(&s, false).unwrap();
    assert!(!r.disputes.is_empty(), "{}", r.summary());
    for d in &r.disputes {
        // Every dispute was decided by the DisputeGovernor's vote, with its ruling statistics.
        assert!(d.voters > 0, "{d:?}");
        assert!(d.quorum_reached, "{d:?}");
        assert!(d.correct, "honest majority must win: {d:?}");
    }
    // Rulings older than the veto window turned into executed WrongResult slashes.
    assert!(r.slashes["wrong_result"].count > 0, "{}", r.summary());
    let decided: usize = r.epochs.iter().map(|e| e.disputes).sum();
    assert_eq!(decided, r.disputes.len());
}

#[test]
fn honest_issuer_split_search_stays_under_sqrt2_and_top10_cannot_capture() {
    let mut s = Scenario::load(&scenario("small.toml")).unwrap();
    s.epochs = 1;
    s.traffic.requests_per_epoch = 10;
    s.whales.strategy = verinfer_sim::scenario::WhaleStrategy::Split;
    s.whales.split_attested = false;
    let r = run(&s, false).unwrap();
    let c = &r.capture;
    assert!(c.splits.len() >= 8, "{c:?}");
    assert!((c.splits[0].gain - 1.0).abs() < 1e-9);
    // Some arrangement does gain (the pool is not empty), but never more than sqrt(2).
    assert!(c.best_split_gain > 1.0, "{c:?}");
    assert!(
        c.best_split_gain <= std::f64::consts::SQRT_2 + 1e-6,
        "{c:?}"
    );
    let split_goal = r.goals.iter().find(|g| g.goal.contains("split")).unwrap();
    assert!(split_goal.pass, "{split_goal}");
    // The capture trials ran on the governor and the coalition lost against everyone else.
    assert!(c.veto_exercised, "{c:?}");
    let full: Vec<_> = c
        .proposals
        .iter()
        .filter(|p| p.opposition == "everyone else")
        .collect();
    assert_eq!(full.len(), 2, "{c:?}");
    for p in full {
        assert_eq!(p.state, "Defeated", "{p:?}");
        assert!(p.against_votes > p.for_votes, "{p:?}");
    }
}

#[test]
fn weak_issuer_split_gain_is_reported_as_a_failed_goal() {
    let mut s = Scenario::load(&scenario("small.toml")).unwrap();
    s.epochs = 1;
    s.traffic.requests_per_epoch = 10;
    s.whales.strategy = verinfer_sim::scenario::WhaleStrategy::Split;
    s.whales.split_into = 9;
    s.whales.split_attested = true;
    let r = run(&s, false).unwrap();
    // Nine identities of a ninth of the stake each: sqrt(9) = 3 times the voice, already visible in
    // the per-epoch metric of the whales' actual split.
    assert!(r.best_split_gain > 2.5, "{}", r.summary());
    assert!(r.epochs[0].whale_split_gain > 2.5, "{:?}", r.epochs[0]);
    let split_goal = r.goals.iter().find(|g| g.goal.contains("split")).unwrap();
    assert!(!split_goal.pass, "{split_goal}");
    assert!(
        r.summary().contains("FAIL best split gain"),
        "{}",
        r.summary()
    );
}

#[test]
fn every_shipped_scenario_parses() {
    for entry in std::fs::read_dir(scenario("")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn pareto_scenario_has_the_required_population() {
    let s = Scenario::load(&scenario("pareto.toml")).unwrap();
    assert_eq!(s.stakers.count, 10_000);
    assert_eq!(s.operators.count, 200);
    assert!((s.stakers.alpha - 1.16).abs() < 1e-9);
}

#[test]
fn malformed_scenario_file_error_names_the_file_and_field() {
    let dir = std::env::temp_dir().join(format!("verinfer-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    let good = std::fs::read_to_string(scenario("small.toml")).unwrap();
    std::fs::write(&path, good.replace("lazy = 0.15", "lazy = 1.5")).unwrap();
    let err = Scenario::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("bad.toml") && err.contains("operators.lazy"),
        "{err}"
    );
}
