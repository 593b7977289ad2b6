//! Paths in a keeper config are taken from the config file's directory, whatever the working
//! directory (its own test binary: it changes the process's working directory).

use std::path::Path;

use verinfer_keeper::config::{BackendConfig, KeeperConfig};

#[test]
fn a_config_loaded_from_another_working_directory_resolves_its_paths_from_its_own_directory() {
    let etc = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(etc.path().join("deployments")).unwrap();
    std::fs::write(
        etc.path().join("deployments/31337.json"),
        r#"{"chainId":31337,"block":42,"contracts":{"InferenceRegistry":"0x5FbDB2315678afecb367f032d93F642f64180aa3"}}"#,
    )
    .unwrap();
    let id = format!("0x{}", "11".repeat(32));
    std::fs::write(
        etc.path().join("keeper.toml"),
        format!(
            "rpc_url = \"http://127.0.0.1:8545\"\ndeployment = \"deployments/31337.json\"\n\
             operator = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\ndata_dir = \"./db\"\n\
             [key]\nkeystore = \"keys/hot.json\"\n\
             [[backend]]\nkind = \"model_file\"\npath = \"models/m.vimlp\"\nmodel_id = \"{id}\"\n"
        ),
    )
    .unwrap();
    std::env::set_current_dir(elsewhere.path()).unwrap();
    // The manifest is found (from the config's directory, not `elsewhere`) and gives the registry
    // and the start block.
    let c = KeeperConfig::load(Some(&etc.path().join("keeper.toml"))).unwrap();
    assert_eq!(c.start_block, 42);
    assert_eq!(c.data_dir, etc.path().join("db"));
    assert_eq!(
        c.key.keystore.as_deref(),
        Some(etc.path().join("keys/hot.json").as_path())
    );
    assert_eq!(
        c.backends,
        vec![BackendConfig::ModelFile {
            path: etc.path().join("models/m.vimlp"),
            model_id: id,
        }]
    );
    assert!(!Path::new("db").exists());
}
