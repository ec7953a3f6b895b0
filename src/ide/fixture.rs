//! Test fixtures for the editor features: Nix text with a `$0` cursor,
//! optionally several files (`//- /path.nix` starts each), as a world the
//! features can read; and results written back as text with `«»` around
//! ranges, to compare with hand-written expectations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use rowan::{TextRange, TextSize};

use super::{Doc, PathKind, Source, Target, World};
use crate::config::Settings;

pub(crate) struct Fixture {
    files: BTreeMap<PathBuf, Arc<dyn Source>>,
    texts: BTreeMap<PathBuf, String>,
    /// The file with the cursor (the first file when none has one).
    pub main: PathBuf,
    cursor: Option<TextSize>,
}

impl Fixture {
    /// A single text is the file `/main.nix`.
    pub fn parse(fixture: &str) -> Fixture {
        let mut sources: Vec<(PathBuf, String)> = Vec::new();
        if fixture.trim_start().starts_with("//- ") {
            for chunk in fixture.trim_start().split("//- ").skip(1) {
                let (path, text) = chunk.split_once('\n').unwrap_or((chunk, ""));
                sources.push((PathBuf::from(path.trim()), text.to_string()));
            }
        } else {
            sources.push((PathBuf::from("/main.nix"), fixture.to_string()));
        }
        let mut main = sources[0].0.clone();
        let mut cursor = None;
        let mut files: BTreeMap<PathBuf, Arc<dyn Source>> = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for (path, text) in sources {
            let text = match text.find("$0") {
                Some(at) => {
                    main = path.clone();
                    cursor = Some(TextSize::from(at as u32));
                    text.replacen("$0", "", 1)
                }
                None => text,
            };
            let analysis = crate::analysis::analyze(&text, None, &Settings::default());
            let source = Analysed {
                text: text.clone(),
                analysis,
            };
            files.insert(path.clone(), Arc::new(source));
            texts.insert(path, text);
        }
        Fixture {
            files,
            texts,
            main,
            cursor,
        }
    }

    pub fn offset(&self) -> TextSize {
        self.cursor.expect("the fixture has a $0 cursor")
    }

    pub fn doc(&self) -> Rc<Doc> {
        Rc::new(self.doc_of(&self.main))
    }

    pub fn doc_of(&self, path: &Path) -> Doc {
        Doc::new(Some(path.to_path_buf()), self.files[path].clone())
    }

    pub fn text_of(&self, path: Option<&Path>) -> &str {
        &self.texts[path.unwrap_or(&self.main)]
    }

    /// The lines `range` spans in a file, with `«»` around it.
    pub fn mark(&self, file: Option<&Path>, range: TextRange) -> String {
        let text = self.text_of(file);
        let (start, end) = (usize::from(range.start()), usize::from(range.end()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
        format!(
            "{}«{}»{}",
            &text[line_start..start],
            &text[start..end],
            &text[end..line_end]
        )
    }

    pub fn render_targets(&self, targets: &[Target]) -> String {
        targets
            .iter()
            .map(|t| {
                let file = t.file.as_deref().unwrap_or(&self.main);
                let focus = &self.text_of(Some(file))[t.focus];
                format!(
                    "{}: {} (focus {focus})",
                    file.display(),
                    self.mark(Some(file), t.range)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Ranges of the main file, one marked line each.
    pub fn render_ranges(&self, ranges: &[TextRange]) -> String {
        ranges
            .iter()
            .map(|r| self.mark(None, *r))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A fixture file: analysed with the default settings, as an open file is.
struct Analysed {
    text: String,
    analysis: crate::analysis::Analysis,
}

impl Source for Analysed {
    fn text(&self) -> &str {
        &self.text
    }

    fn analysis(&self) -> &crate::analysis::Analysis {
        &self.analysis
    }
}

impl World for Fixture {
    fn path_kind(&self, path: &Path) -> PathKind {
        if self.files.contains_key(path) {
            PathKind::File
        } else if self.files.keys().any(|p| p.starts_with(path)) {
            PathKind::Directory
        } else {
            PathKind::Missing
        }
    }

    fn load(&self, path: &Path) -> Option<Arc<dyn Source>> {
        self.files.get(path).cloned()
    }

    fn referrers(&self, path: &Path) -> Vec<PathBuf> {
        self.files.keys().filter(|p| *p != path).cloned().collect()
    }
}
