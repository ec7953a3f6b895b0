//! Nix values as converters build them, and their text: attribute sets
//! nested or dotted, strings `"..."` or `''...''` with Nix's escapes, names
//! quoted when they are not identifiers, comments kept above bindings. The
//! text is already in nixpkgs-fmt's shape (two spaces per level), so a
//! migration reads as if written by hand.

use crate::syntax::literal::{is_identifier, string_literal};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    /// A string; written `''...''` when it spans lines.
    Str(String),
    List(Vec<Value>),
    Attrs(Attrs),
    /// Nix code written as is: `pkgs.tmuxPlugins.sensible`, `null`.
    Code(String),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn code(s: impl Into<String>) -> Value {
        Value::Code(s.into())
    }
}

/// An attribute set, in insertion order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attrs {
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub value: Value,
    /// Comment lines written above the binding, without `#`.
    pub comments: Vec<String>,
}

impl Attrs {
    pub fn new() -> Attrs {
        Attrs::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.value)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|e| e.name == name)
            .map(|e| &mut e.value)
    }

    /// The set at `path`, made (empty) where missing. A non-set in the way
    /// is replaced: converters never put a value where a set goes.
    pub fn at(&mut self, path: &[&str]) -> &mut Attrs {
        let mut here = self;
        for name in path {
            let index = match here.entries.iter().position(|e| e.name == *name) {
                Some(i) => i,
                None => {
                    here.entries.push(Entry {
                        name: name.to_string(),
                        value: Value::Attrs(Attrs::new()),
                        comments: Vec::new(),
                    });
                    here.entries.len() - 1
                }
            };
            let entry = &mut here.entries[index];
            if !matches!(entry.value, Value::Attrs(_)) {
                entry.value = Value::Attrs(Attrs::new());
            }
            let Value::Attrs(next) = &mut entry.value else {
                unreachable!("made a set just above")
            };
            here = next;
        }
        here
    }

    /// Sets `path` to `value`, replacing what was there.
    pub fn set(&mut self, path: &[&str], value: Value) {
        self.set_with_comments(path, value, Vec::new());
    }

    /// Sets `path` to `value` with comment lines above it.
    pub fn set_with_comments(&mut self, path: &[&str], value: Value, comments: Vec<String>) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let set = self.at(parents);
        match set.entries.iter_mut().find(|e| e.name == *last) {
            Some(entry) => {
                entry.value = value;
                entry.comments.extend(comments);
            }
            None => set.entries.push(Entry {
                name: last.to_string(),
                value,
                comments,
            }),
        }
    }

    /// Adds `value` at `path`: the first time as is, then turning the value
    /// into a list of every value given (git's and ssh's repeated keys).
    pub fn push(&mut self, path: &[&str], value: Value) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let set = self.at(parents);
        match set.entries.iter_mut().find(|e| e.name == *last) {
            Some(entry) => match &mut entry.value {
                Value::List(items) => items.push(value),
                other => {
                    let first = std::mem::replace(other, Value::Bool(false));
                    *other = Value::List(vec![first, value]);
                }
            },
            None => set.entries.push(Entry {
                name: last.to_string(),
                value,
                comments: Vec::new(),
            }),
        }
    }

    /// Adds `other`'s bindings: sets merge name by name, lists append, and
    /// for any other value already set the first is kept. Returns the
    /// dotted paths that were kept that way.
    pub fn merge(&mut self, other: Attrs) -> Vec<String> {
        let mut conflicts = Vec::new();
        self.merge_at(other, &mut Vec::new(), &mut conflicts);
        conflicts
    }

    fn merge_at(&mut self, other: Attrs, path: &mut Vec<String>, conflicts: &mut Vec<String>) {
        for entry in other.entries {
            path.push(entry.name.clone());
            match self.entries.iter_mut().find(|e| e.name == entry.name) {
                None => self.entries.push(entry),
                Some(mine) => match (&mut mine.value, entry.value) {
                    (Value::Attrs(a), Value::Attrs(b)) => a.merge_at(b, path, conflicts),
                    (Value::List(a), Value::List(b)) => a.extend(b),
                    (a, b) if *a == b => {}
                    _ => conflicts.push(path.join(".")),
                },
            }
            path.pop();
        }
    }

    /// Removes and returns the value at `path`.
    pub fn remove(&mut self, path: &[&str]) -> Option<Value> {
        let (last, parents) = path.split_last()?;
        let mut here = self;
        for name in parents {
            match here.get_mut(name) {
                Some(Value::Attrs(next)) => here = next,
                _ => return None,
            }
        }
        let index = here.entries.iter().position(|e| e.name == *last)?;
        Some(here.entries.remove(index).value)
    }
}

/// An attribute name as written in a binding.
pub fn name(name: &str) -> String {
    if is_identifier(name) && name != "or" {
        name.to_string()
    } else {
        string_literal(name)
    }
}

/// `path = value;` at `indent` spaces, with its comments, ending in a
/// newline.
pub fn binding(path: &[&str], value: &Value, comments: &[String], indent: usize) -> String {
    let mut out = String::new();
    let pad = " ".repeat(indent);
    for line in comments {
        out.push_str(&pad);
        out.push('#');
        if !line.is_empty() {
            out.push(' ');
            out.push_str(line);
        }
        out.push('\n');
    }
    // A set of one binding with no comment reads best dotted: `a.b = 1;`.
    let mut path: Vec<String> = path.iter().map(|p| name(p)).collect();
    let mut value = value;
    while let Value::Attrs(set) = value {
        match set.entries.as_slice() {
            [only] if only.comments.is_empty() => {
                path.push(name(&only.name));
                value = &only.value;
            }
            _ => break,
        }
    }
    out.push_str(&pad);
    out.push_str(&path.join("."));
    out.push_str(" = ");
    out.push_str(&expression(value, indent));
    out.push_str(";\n");
    out
}

/// `value` as an expression whose first line starts at a column after
/// `indent` and whose later lines are indented from `indent`.
pub fn expression(value: &Value, indent: usize) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Code(code) => code.clone(),
        Value::Str(s) => string(s, indent),
        Value::Attrs(set) if set.is_empty() => "{ }".into(),
        Value::Attrs(set) => {
            let mut out = String::from("{\n");
            for entry in &set.entries {
                out.push_str(&binding(
                    &[&entry.name],
                    &entry.value,
                    &entry.comments,
                    indent + 2,
                ));
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
            out
        }
        Value::List(items) if items.is_empty() => "[ ]".into(),
        Value::List(items) => {
            let inline: Vec<String> = items.iter().map(|v| element(v, indent)).collect();
            let one_line = format!("[ {} ]", inline.join(" "));
            // Strings, numbers and small sets share a line; code (package
            // lists) and nested lists get one line each.
            let simple = items.iter().all(|v| match v {
                Value::Bool(_) | Value::Int(_) => true,
                Value::Str(s) => !s.contains('\n'),
                Value::Attrs(set) => inline_set(set).is_some(),
                Value::List(_) | Value::Code(_) => false,
            });
            if simple && indent + one_line.len() <= 72 {
                return one_line;
            }
            let pad = " ".repeat(indent + 2);
            let mut out = String::from("[\n");
            for item in items {
                out.push_str(&pad);
                out.push_str(&element(item, indent + 2));
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
            out
        }
    }
}

/// A list element: applications need parentheses; a set of one short
/// binding stays on one line.
fn element(value: &Value, indent: usize) -> String {
    match value {
        Value::Code(c) if c.contains(' ') && !c.starts_with(['(', '{', '[', '"']) => {
            format!("({c})")
        }
        Value::Attrs(set) => inline_set(set).unwrap_or_else(|| expression(value, indent)),
        other => expression(other, indent),
    }
}

/// `{ name = value; }` for a set of one binding with a one-line value.
fn inline_set(set: &Attrs) -> Option<String> {
    let [only] = set.entries.as_slice() else {
        return None;
    };
    let simple = only.comments.is_empty()
        && match &only.value {
            Value::Bool(_) | Value::Int(_) | Value::Code(_) => true,
            Value::Str(s) => !s.contains('\n'),
            _ => false,
        };
    simple.then(|| {
        let mut line = binding(&[&only.name], &only.value, &[], 0);
        line.pop(); // the newline
        format!("{{ {line} }}")
    })
}

/// A string literal: `''...''` for text of several lines (as shell and
/// config bodies read best), else `"..."`.
pub fn string(s: &str, indent: usize) -> String {
    let lines = s.trim_end_matches('\n').contains('\n');
    // `''` strings cannot hold a carriage return or other control
    // characters in a way that survives; those stay in `"..."`.
    let plain = !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if lines && plain {
        indented_string(s, indent)
    } else {
        string_literal(s)
    }
}

/// `''` + the lines, indented two past `indent` + `''`. Nix strips the
/// common indentation and the first newline, so the value is `s` exactly.
fn indented_string(s: &str, indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    let mut out = String::from("''\n");
    let body = s.strip_suffix('\n');
    let text = body.unwrap_or(s);
    for line in text.split('\n') {
        if !line.trim().is_empty() {
            out.push_str(&pad);
            out.push_str(&escape_indented(line));
        } else if !line.is_empty() {
            // Whitespace-only lines are kept as they were (not counted for
            // the indentation Nix strips, but their spaces stay).
            out.push_str(&escape_indented(line));
        }
        out.push('\n');
    }
    if body.is_some() {
        out.push_str(&" ".repeat(indent));
    } else {
        // No final newline: the closing quotes follow the last line.
        out.pop();
    }
    out.push_str("''");
    out
}

fn escape_indented(line: &str) -> String {
    line.replace("''", "'''").replace("${", "''${")
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn program() -> Attrs {
        let mut set = Attrs::new();
        set.set(&["enable"], Value::Bool(true));
        set.set(&["settings", "user", "name"], Value::str("Ada"));
        set.set(
            &["settings", "user", "email"],
            Value::str("ada@example.org"),
        );
        set.set(&["settings", "alias", "co"], Value::str("checkout"));
        set.set(
            &["settings", "url", "git@github.com:", "insteadOf"],
            Value::str("https://github.com/"),
        );
        set.push(&["settings", "push", "x"], Value::str("a"));
        set.push(&["settings", "push", "x"], Value::str("b"));
        set.set_with_comments(
            &["settings", "core", "editor"],
            Value::str("vim"),
            vec!["from [core]".into()],
        );
        set
    }

    #[test]
    fn sets_nest_and_dot() {
        let text = binding(&["programs", "git"], &Value::Attrs(program()), &[], 0);
        expect![[r#"
            programs.git = {
              enable = true;
              settings = {
                user = {
                  name = "Ada";
                  email = "ada@example.org";
                };
                alias.co = "checkout";
                url."git@github.com:".insteadOf = "https://github.com/";
                push.x = [ "a" "b" ];
                core = {
                  # from [core]
                  editor = "vim";
                };
              };
            };
        "#]]
        .assert_eq(&text);
    }

    #[test]
    fn strings_escape_as_nix_reads_them() {
        assert_eq!(string("a\"b\\c${d}$e", 0), r#""a\"b\\c\${d}$e""#);
        expect![[r#"
            ''
              echo "''${HOME}" '''quoted'''
                indented
              tab	here
            ''"#]]
        .assert_eq(&string(
            "echo \"${HOME}\" ''quoted''\n  indented\ntab\there\n",
            0,
        ));
        assert_eq!(string("a\r\nb", 0), r#""a\r\nb""#);
        assert_eq!(string("one\ntwo", 2), "''\n    one\n    two''");
    }

    #[test]
    fn sets_merge_and_conflicts_keep_the_first() {
        let mut a = Attrs::new();
        a.set(&["x", "y"], Value::Int(1));
        a.set(&["l"], Value::List(vec![Value::Int(1)]));
        let mut b = Attrs::new();
        b.set(&["x", "z"], Value::Int(2));
        b.set(&["x", "y"], Value::Int(3));
        b.set(&["l"], Value::List(vec![Value::Int(2)]));
        assert_eq!(a.merge(b), ["x.y"]);
        assert_eq!(
            binding(&["a"], &Value::Attrs(a), &[], 0),
            "a = {\n  x = {\n    y = 1;\n    z = 2;\n  };\n  l = [ 1 2 ];\n};\n"
        );
    }

    #[test]
    fn names_are_quoted_when_they_must_be() {
        assert_eq!(name("Host *.corp"), r#""Host *.corp""#);
        assert_eq!(name("ctrl+shift+c"), r#""ctrl+shift+c""#);
        assert_eq!(name("fooBar-2"), "fooBar-2");
        assert_eq!(name("2fa"), r#""2fa""#);
        assert_eq!(name("in"), r#""in""#);
        assert_eq!(name("or"), r#""or""#);
    }

    #[test]
    fn lists_break_when_long_or_nested() {
        let long = Value::List((0..12).map(|i| Value::str(format!("item-{i}"))).collect());
        expect![[r#"
            [
              "item-0"
              "item-1"
              "item-2"
              "item-3"
              "item-4"
              "item-5"
              "item-6"
              "item-7"
              "item-8"
              "item-9"
              "item-10"
              "item-11"
            ]"#]]
        .assert_eq(&expression(&long, 0));
        let plugins = Value::List(vec![
            Value::code("pkgs.tmuxPlugins.sensible"),
            Value::code("lib.hm.dag.entryBefore [ \"b\" ] { }"),
        ]);
        expect![[r#"
            [
              pkgs.tmuxPlugins.sensible
              (lib.hm.dag.entryBefore [ "b" ] { })
            ]"#]]
        .assert_eq(&expression(&plugins, 0));
    }
}
