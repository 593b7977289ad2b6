//! The packaging files (packaging/): the command lines the Dockerfile and the systemd unit run are
//! commands this binary accepts, and the container's keeper.toml is a valid keeper configuration.

use std::path::PathBuf;
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Runs `verinfer args...` with a clean environment; returns (success, stderr).
fn verinfer(args: &[String]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_verinfer"))
        .args(args)
        .env_remove("VERINFER_RPC_URL")
        .env_remove("VERINFER_KEEPER_CONFIG")
        .env("VERINFER_OPERATOR_KEY", format!("0x{}", "11".repeat(32)))
        .output()
        .expect("run verinfer");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The arguments after the program in `line`, with the config path swapped for `config`.
fn args_with_config(words: &[&str], config: &str) -> Vec<String> {
    let mut args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let at = args.iter().position(|a| a == "--config").expect("--config") + 1;
    args[at] = config.to_string();
    args
}

#[test]
fn the_systemd_unit_and_the_image_run_a_keeper_command_line_the_cli_accepts() {
    let unit = std::fs::read_to_string(repo("packaging/keeper/verinfer-keeper.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let words: Vec<&str> = exec.split_whitespace().skip(1).collect();
    let docker = std::fs::read_to_string(repo("packaging/keeper/Dockerfile")).unwrap();
    let cmd = docker
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("CMD");
    let cmd: Vec<String> = serde_json::from_str(cmd).expect("CMD in exec form");
    let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
    for (what, words) in [("unit", words), ("image", cmd)] {
        // With a config that does not exist, the keeper fails on the file, not on its arguments.
        let (ok, err) = verinfer(&args_with_config(&words, "/nonexistent/keeper.toml"));
        assert!(!ok, "{what}");
        assert!(
            err.contains("cannot read config file /nonexistent/keeper.toml"),
            "{what}: {err}"
        );
    }
}

#[test]
fn the_containers_keeper_config_is_valid_up_to_the_mounted_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("packaging/keeper/keeper.toml")).unwrap();
    assert!(text.contains("/etc/verinfer/deployments/31337.json"));
    let missing = dir.path().join("31337.json");
    let cfg = dir.path().join("keeper.toml");
    std::fs::write(
        &cfg,
        text.replace(
            "/etc/verinfer/deployments/31337.json",
            missing.to_str().unwrap(),
        ),
    )
    .unwrap();
    let args = ["keeper", "run", "--config", cfg.to_str().unwrap()].map(String::from);
    let (ok, err) = verinfer(&args);
    assert!(!ok);
    // Every field parsed; the only thing missing is the manifest compose mounts.
    assert!(err.contains("field `deployment`"), "{err}");
    assert!(err.contains("31337.json"), "{err}");
}
