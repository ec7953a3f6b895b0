//! The server's settings: the client's layers, and each project's
//! `cim-nix.toml`, found by walking up from a document and cached until a
//! configuration change or a save of such a file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use dashmap::DashMap;
use tower_lsp::lsp_types::Url;

use crate::config::{Settings, SettingsLayer, SettingsProblem};
use crate::workspace::{load_project_file, ProjectFile, ProjectLookup};

#[derive(Default)]
pub struct SettingsStore {
    /// `initializationOptions`, then `workspace/configuration`.
    client: RwLock<[SettingsLayer; 2]>,
    /// The problems last reported for each client layer: a client that
    /// sends the same settings again (VS Code does, right after start) is
    /// not warned twice.
    reported: std::sync::Mutex<[Vec<SettingsProblem>; 2]>,
    /// Directory -> the project layer that applies to files in it.
    projects: DashMap<PathBuf, Option<Arc<ProjectFile>>>,
}

/// Something to tell the user about a settings source.
pub struct SettingsReport {
    pub source: String,
    pub problems: Vec<String>,
}

impl SettingsReport {
    pub fn message(&self) -> String {
        format!(
            "cim-nix: ignored invalid settings in {}: {}",
            self.source,
            self.problems.join("; ")
        )
    }
}

pub enum ClientLayer {
    InitializationOptions = 0,
    WorkspaceConfiguration = 1,
}

impl SettingsStore {
    pub fn set_client_layer(
        &self,
        which: ClientLayer,
        value: &serde_json::Value,
    ) -> Option<SettingsReport> {
        let (layer, problems) = SettingsLayer::from_json(value);
        let source = match which {
            ClientLayer::InitializationOptions => "initializationOptions",
            ClientLayer::WorkspaceConfiguration => "the editor's `cim-nix` settings",
        };
        let slot = which as usize;
        if let Ok(mut client) = self.client.write() {
            client[slot] = layer;
        }
        if let Ok(mut reported) = self.reported.lock() {
            if reported[slot] == problems {
                return None;
            }
            reported[slot] = problems.clone();
        }
        report(source, &problems)
    }

    /// Forgets every project file read so far.
    pub fn invalidate_projects(&self) {
        self.projects.clear();
    }

    /// The settings for the document at `uri`, and any problem found while
    /// reading a project file for the first time.
    pub fn for_document(&self, uri: &Url) -> (Settings, Option<SettingsReport>) {
        let mut report_out = None;
        let project = match uri.to_file_path() {
            Ok(path) => match path.parent() {
                Some(dir) => self.project_for(dir, &mut report_out),
                None => None,
            },
            Err(()) => None,
        };
        let client = self.client.read().map(|c| c.clone()).unwrap_or_default();
        let mut layers: Vec<&SettingsLayer> = client.iter().collect();
        if let Some(project) = &project {
            layers.push(&project.layer);
        }
        (Settings::from_layers(layers), report_out)
    }

    /// The settings of the workspace as a whole: the client's, and the
    /// `cim-nix.toml` at or above `root` (the server's directory without one).
    pub fn for_workspace(&self, root: Option<&Path>) -> (Settings, Option<SettingsReport>) {
        let mut report_out = None;
        let dir = root
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok());
        let project = dir.and_then(|d| self.project_for(&d, &mut report_out));
        let client = self.client.read().map(|c| c.clone()).unwrap_or_default();
        let mut layers: Vec<&SettingsLayer> = client.iter().collect();
        if let Some(project) = &project {
            layers.push(&project.layer);
        }
        (Settings::from_layers(layers), report_out)
    }

    fn project_for(
        &self,
        dir: &Path,
        report_out: &mut Option<SettingsReport>,
    ) -> Option<Arc<ProjectFile>> {
        if let Some(cached) = self.projects.get(dir) {
            return cached.clone();
        }
        let found = match load_project_file(dir) {
            ProjectLookup::None => None,
            ProjectLookup::Found(file, problems) => {
                *report_out = report(&file.path.display().to_string(), &problems);
                Some(Arc::new(file))
            }
            ProjectLookup::Unreadable(path, why) => {
                *report_out = Some(SettingsReport {
                    source: path.display().to_string(),
                    problems: vec![format!("{why}; the whole file is ignored")],
                });
                None
            }
        };
        self.projects.insert(dir.to_path_buf(), found.clone());
        found
    }
}

fn report(source: &str, problems: &[SettingsProblem]) -> Option<SettingsReport> {
    (!problems.is_empty()).then(|| SettingsReport {
        source: source.to_string(),
        problems: problems.iter().map(|p| p.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_problems_are_reported_once_per_layer() {
        let store = SettingsStore::default();
        let bad = json!({ "formatting": { "style": "black" } });
        let layer = ClientLayer::WorkspaceConfiguration;
        assert!(store.set_client_layer(layer, &bad).is_some());
        // Sent again (VS Code does so after start): no second warning.
        assert!(store
            .set_client_layer(ClientLayer::WorkspaceConfiguration, &bad)
            .is_none());
        // Fixed, then broken again: warned again.
        assert!(store
            .set_client_layer(ClientLayer::WorkspaceConfiguration, &json!({}))
            .is_none());
        assert!(store
            .set_client_layer(ClientLayer::WorkspaceConfiguration, &bad)
            .is_some());
        // The other layer keeps its own memory.
        assert!(store
            .set_client_layer(ClientLayer::InitializationOptions, &bad)
            .is_some());
    }
}
