//! The digits classifier against what `models/digits/train.py` computed: the Rust runtime must
//! reproduce the Python quantizer's integer logits bit for bit on every image of the test split, and
//! the measured accuracy must be the one the script recorded.

use std::path::PathBuf;

use verinfer_mlp::dataset::{evaluate, TestSplit};
use verinfer_mlp::IntMlp;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/digits")
}

/// `reference.csv`: `index,class,logit0..logit9` per test image.
fn reference() -> Vec<(usize, Vec<i8>)> {
    let text = std::fs::read_to_string(models_dir().join("reference.csv")).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("index,class,logit0"));
    lines
        .enumerate()
        .map(|(i, l)| {
            let v: Vec<&str> = l.split(',').collect();
            assert_eq!(v[0].parse::<usize>().unwrap(), i);
            let logits = v[2..].iter().map(|x| x.parse::<i8>().unwrap()).collect();
            (v[1].parse().unwrap(), logits)
        })
        .collect()
}

/// Differential test: every logit of every test image equals the Python reference.
#[test]
fn rust_runtime_reproduces_the_python_quantized_logits_on_the_whole_test_split() {
    let model = IntMlp::builtin().unwrap();
    let split = TestSplit::digits().unwrap();
    let reference = reference();
    assert_eq!(split.len(), 360);
    assert_eq!(reference.len(), split.len());
    for (i, (sample, (class, logits))) in split.samples.iter().zip(&reference).enumerate() {
        let p = model.classify(&sample.input).unwrap();
        assert_eq!(&p.logits, logits, "image {i}: logits differ");
        assert_eq!(p.class, *class, "image {i}: class differs");
    }
}

/// The committed file and split are the ones the compiled-in copies were built from.
#[test]
fn compiled_in_model_and_split_are_the_committed_files() {
    let file = std::fs::read(models_dir().join("digits.vimlp")).unwrap();
    assert_eq!(file, verinfer_mlp::BUILTIN_MODEL_FILE);
    let loaded = TestSplit::load(&models_dir().join("test-split.csv")).unwrap();
    assert_eq!(loaded, TestSplit::digits().unwrap());
    assert_eq!(
        IntMlp::load(&models_dir().join("digits.vimlp")).unwrap(),
        IntMlp::builtin().unwrap()
    );
}

/// The Rust-measured int8 accuracy is the one `train.py` recorded in `metrics.json`, and it is
/// within two points of the float model's.
#[test]
fn int8_accuracy_matches_the_recorded_metrics_and_loses_at_most_two_points() {
    let model = IntMlp::builtin().unwrap();
    let eval = evaluate(&model, &TestSplit::digits().unwrap()).unwrap();
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("metrics.json")).unwrap())
            .unwrap();
    let recorded_int8 = metrics["int8_test_accuracy"].as_f64().unwrap();
    let float = metrics["float_test_accuracy"].as_f64().unwrap();
    assert!((eval.accuracy() - recorded_int8).abs() < 1e-12);
    assert!(
        float - eval.accuracy() <= 0.02,
        "int8 {} vs float {float}",
        eval.accuracy()
    );
    // the split has all ten classes and the model predicts more than one of them
    let mut labels: Vec<usize> = eval.outcomes.iter().map(|o| o.label).collect();
    labels.dedup();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels, (0..10).collect::<Vec<_>>());
}
