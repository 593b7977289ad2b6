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
    let ja = serde_json::to_value(&a.epochs).unwrap();
    let jb = serde_json::to_value(&b.epochs).unwrap();
    assert_eq!(ja, jb);
    assert_eq!(a.transactions, b.transactions);
    assert_eq!(a.epochs.len(), 4);
    assert_eq!(a.goals.len(), 4);
    let summary = a.summary();
    assert!(summary.contains("PASS") || summary.contains("FAIL"));
    // Faulty operators got slashed through the real Slasher.
    let executed: u64 = a.slashes.values().map(|t| t.count).sum();
    assert!(executed > 0, "{summary}");
    let dir = std::env::temp_dir().join(format!("verinfer-plots-{}", std::process::id()));
    let plots = verinfer_sim::plot::write_plots(&a, &dir).unwrap();
    for p in plots {
        assert!(std::fs::read_to_string(p).unwrap().starts_with("<svg"));
    }
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
