//! The editor setups in editors/ are what they say: Helix's languages.toml
//! parses and points
//! the `nix` language at cim-nix with format-on-save, and its settings are
//! ones the server reads. (Neovim's setup runs in a real Neovim:
//! tests/editor_neovim.rs.)

use std::path::Path;

#[test]
fn helix_languages_toml_makes_cim_nix_the_nix_server_and_formats_on_save() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/helix/languages.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: toml::Value = toml::from_str(&text).expect("languages.toml parses");
    let server = &doc["language-server"]["cim-nix"];
    assert_eq!(server["command"].as_str(), Some("cim-nix"));
    let nix = doc["language"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"].as_str() == Some("nix"))
        .expect("a [[language]] named nix");
    let servers: Vec<&str> = nix["language-servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(servers, ["cim-nix"]);
    assert_eq!(nix["auto-format"].as_bool(), Some(true));
    // The settings Helix sends are ones the server accepts, without
    // complaint.
    let config = serde_json::to_value(&server["config"]).unwrap();
    let (layer, problems) = cim_nix::config::SettingsLayer::from_json(&config);
    assert!(problems.is_empty(), "{problems:?}");
    let settings = cim_nix::config::Settings::from_layers([&layer]);
    assert!(settings.formatting_style.is_some());
}

/// The VS Code extension's settings page is the server's settings, as
/// `cim-nix settings-schema` describes them (editors/vscode/scripts/settings.mjs
/// writes them), plus the two settings the extension itself reads.
#[test]
fn vscode_settings_are_the_servers_settings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode/package.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut properties = manifest["contributes"]["configuration"]["properties"]
        .as_object()
        .expect("contributes.configuration.properties")
        .clone();
    for own in ["cim-nix.server.path", "cim-nix.trace.server"] {
        assert!(properties.remove(own).is_some(), "{own} missing");
    }
    let server = cim_nix::config::schema::vscode_properties();
    let stale: Vec<&String> = server
        .keys()
        .filter(|k| properties.get(*k) != server.get(*k))
        .chain(properties.keys().filter(|k| !server.contains_key(*k)))
        .collect();
    assert!(
        stale.is_empty(),
        "package.json is out of date for {stale:?}: run `npm run settings -- target/debug/cim-nix` in editors/vscode"
    );
    // Every command the extension contributes is one it registers.
    let extension = std::fs::read_to_string(path.with_file_name("src/extension.ts")).unwrap();
    let commands = manifest["contributes"]["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 4);
    for command in commands {
        let id = command["command"].as_str().unwrap();
        assert!(
            extension.contains(&format!("registerCommand('{id}'")),
            "{id} is contributed but not registered"
        );
    }
}
