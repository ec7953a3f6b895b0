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
