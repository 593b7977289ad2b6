//! `KeeperConfig` is pure (issue #15): a configuration built in code — as the devnet and the bench
//! build theirs — or loaded from a file is what its caller wrote, whatever `VERINFER_*` variables
//! the process environment holds. Only the command line applies them (`RawConfig::apply_env`).
//! Its own test binary, so setting the process environment races no other test.

use alloy::primitives::Address;
use verinfer_keeper::config::{KeeperConfig, RawConfig};

const RPC: &str = "http://127.0.0.1:8545";

fn raw() -> RawConfig {
    RawConfig {
        rpc_url: Some(RPC.into()),
        registry: Some(format!("{:#x}", Address::repeat_byte(1))),
        operator: Some(format!("{:#x}", Address::repeat_byte(2))),
        ..RawConfig::default()
    }
}

/// Regression: `from_raw` used to apply `VERINFER_RPC_URL` (and the other overrides) from the
/// environment, so a devnet or bench keeper could be pointed at another node by the caller's shell.
#[test]
fn a_config_built_in_code_or_loaded_from_a_file_ignores_the_environment() {
    std::env::set_var("VERINFER_RPC_URL", "http://10.9.9.9:1");
    std::env::set_var(
        "VERINFER_OPERATOR",
        format!("{:#x}", Address::repeat_byte(9)),
    );
    std::env::set_var("VERINFER_CONFIRMATIONS", "7");

    let built = KeeperConfig::from_raw(raw()).unwrap();
    assert_eq!(built.rpc_url, RPC);
    assert_eq!(built.operator, Address::repeat_byte(2));
    assert_eq!(built.confirmations, 0);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keeper.toml");
    std::fs::write(
        &path,
        format!(
            "rpc_url = \"{RPC}\"\nregistry = \"{:#x}\"\noperator = \"{:#x}\"\n",
            Address::repeat_byte(1),
            Address::repeat_byte(2)
        ),
    )
    .unwrap();
    let loaded = KeeperConfig::load(Some(&path)).unwrap();
    assert_eq!(loaded.rpc_url, RPC);
    assert_eq!(loaded.confirmations, 0);

    // The command line's path: the same file with the environment applied explicitly.
    let mut cli = RawConfig::read(&path).unwrap();
    cli.apply_env(|k| std::env::var(k).ok()).unwrap();
    let cli = KeeperConfig::from_raw(cli).unwrap();
    assert_eq!(cli.rpc_url, "http://10.9.9.9:1");
    assert_eq!(cli.confirmations, 7);
}
