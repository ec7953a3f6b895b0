//! Attribute sets as the code writes them out, read without evaluating:
//! which set an expression is (`s`, `s.a`, `(import ./x.nix)`, `a // b`,
//! `let ... in { }`), and where each of its attributes is defined (nested
//! sets, dotted paths `a.b = 1;` merged, `inherit`, `inherit (e)`).
//! Navigation, references and completion read attribute paths with it.
//!
//! Names resolve through the semantic model, never by spelling. Every walk
//! is bounded: a budget of steps for the whole question, and a depth, so
//! `let a = a.b; in a` or a chain of imports ends.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;
use smol_str::SmolStr;

use super::{paths, Doc, World};
use crate::analysis::semantic::{DefKind, Resolution};
use crate::syntax::green::static_attr_name;

use SyntaxKind::*;

/// How many steps one question may take, and how deep it may go.
const BUDGET: u32 = 20_000;
const MAX_DEPTH: u32 = 48;

/// The entries of `node` (a set, a `let` or a legacy `let`) under the
/// attribute path `prefix`: the whole set when `prefix` is empty, `a`'s
/// set for the entries `a.b = ...;` and `a.c = ...;`.
#[derive(Clone)]
pub(crate) struct SetView {
    pub doc: Rc<Doc>,
    pub node: SyntaxNode,
    pub prefix: Vec<SmolStr>,
}

/// One place an attribute of a set is defined.
#[derive(Clone)]
pub(crate) struct Member {
    pub doc: Rc<Doc>,
    pub name: SmolStr,
    /// The attribute's name as this entry writes it.
    pub name_range: TextRange,
    /// The entry: `a.b = 1;` or `inherit a;`.
    pub entry: SyntaxNode,
    pub value: MemberValue,
}

#[derive(Clone)]
pub(crate) enum MemberValue {
    /// `name = value;`
    Expr(SyntaxNode),
    /// `name.more = ...;`: the set of the entries under this path.
    Nested(SetView),
    /// `inherit (from) name;`
    InheritFrom(SyntaxNode),
    /// `inherit name;`: the attribute node, a reference to the name
    /// outside.
    Inherit(SyntaxNode),
}

/// Answers questions about sets for one request: loads the files it
/// follows imports into once, and keeps to its budget.
pub(crate) struct Resolver<'w> {
    world: &'w dyn World,
    docs: RefCell<Vec<Rc<Doc>>>,
    steps: Cell<u32>,
    depth: Cell<u32>,
}

impl<'w> Resolver<'w> {
    pub fn new(world: &'w dyn World, current: Rc<Doc>) -> Resolver<'w> {
        Resolver {
            world,
            docs: RefCell::new(vec![current]),
            steps: Cell::new(BUDGET),
            depth: Cell::new(0),
        }
    }

    /// The file at `path`, read once per resolver.
    pub fn load(&self, path: &std::path::Path) -> Option<Rc<Doc>> {
        if let Some(doc) = self
            .docs
            .borrow()
            .iter()
            .find(|d| d.path.as_deref() == Some(path))
        {
            return Some(doc.clone());
        }
        let source = self.world.load(path)?;
        let doc = Rc::new(Doc::new(Some(path.to_path_buf()), source));
        self.docs.borrow_mut().push(doc.clone());
        Some(doc)
    }

    pub fn world(&self) -> &dyn World {
        self.world
    }

    /// Runs `f` one level deeper, unless the budget or the depth is spent.
    fn step<T: Default>(&self, f: impl FnOnce() -> T) -> T {
        let steps = self.steps.get();
        let depth = self.depth.get();
        if steps == 0 || depth >= MAX_DEPTH {
            return T::default();
        }
        self.steps.set(steps - 1);
        self.depth.set(depth + 1);
        let out = f();
        self.depth.set(depth);
        out
    }

    /// The sets `expr` (a node of `doc`) is, as written. Empty when that is
    /// not known without evaluating (a function's argument, `pkgs`).
    pub fn sets_of(&self, doc: &Rc<Doc>, expr: &SyntaxNode) -> Vec<SetView> {
        self.step(|| self.sets_of_inner(doc, expr))
    }

    fn sets_of_inner(&self, doc: &Rc<Doc>, expr: &SyntaxNode) -> Vec<SetView> {
        match expr.kind() {
            NODE_PAREN | NODE_ROOT => match expr.children().next() {
                Some(inner) => self.sets_of(doc, &inner),
                None => Vec::new(),
            },
            NODE_ATTR_SET => vec![SetView {
                doc: doc.clone(),
                node: expr.clone(),
                prefix: Vec::new(),
            }],
            NODE_LET_IN | NODE_WITH | NODE_ASSERT => match body(expr) {
                Some(body) => self.sets_of(doc, &body),
                None => Vec::new(),
            },
            NODE_IDENT => self.sets_of_name(doc, expr),
            NODE_SELECT => {
                let mut children = expr.children();
                let (Some(base), Some(path)) = (children.next(), children.next()) else {
                    return Vec::new();
                };
                let Some(names) = static_names(&path) else {
                    return Vec::new();
                };
                let mut sets = self.sets_of(doc, &base);
                for name in &names {
                    sets = self.member_sets(&sets, name);
                }
                sets
            }
            NODE_BIN_OP if is_update(expr) => {
                // `a // b`: b's attributes win, so b comes first.
                let mut children = expr.children();
                let (Some(left), Some(right)) = (children.next(), children.next()) else {
                    return Vec::new();
                };
                let mut sets = self.sets_of(doc, &right);
                sets.extend(self.sets_of(doc, &left));
                sets
            }
            NODE_APPLY => {
                if let Some(file) = self.imported_file(doc, expr) {
                    return match file.root().cloned() {
                        Some(root) => self.sets_of(&file, &root),
                        None => Vec::new(),
                    };
                }
                // A call: the set its function's body is.
                let Some(function) = expr.children().next() else {
                    return Vec::new();
                };
                let mut sets = Vec::new();
                for (doc, lambda) in self.functions_of(doc, &function) {
                    if let Some(body) = lambda.children().nth(1) {
                        sets.extend(self.sets_of(&doc, &body));
                    }
                }
                sets
            }
            _ => Vec::new(),
        }
    }

    /// The sets a name (an identifier node that is a reference) stands for.
    fn sets_of_name(&self, doc: &Rc<Doc>, ident: &SyntaxNode) -> Vec<SetView> {
        match self.resolve_ident(doc, ident) {
            Some(Binding::Members(members)) => {
                members.iter().flat_map(|m| self.value_sets(m)).collect()
            }
            Some(Binding::With(sets)) => sets,
            None => Vec::new(),
        }
    }

    /// What an identifier node refers to, as members of sets or `let`s.
    fn resolve_ident(&self, doc: &Rc<Doc>, ident: &SyntaxNode) -> Option<Binding> {
        let model = doc.model()?;
        let token = ident.first_token()?;
        let r = model.ref_at(token.text_range().start())?;
        let r = &model.refs[r];
        if r.range != token.text_range() {
            return None;
        }
        let name = SmolStr::new(token.text());
        match r.resolution {
            Resolution::Def(def) => Some(Binding::Members(self.def_members(doc, def))),
            Resolution::With(w) => {
                let root = doc.root()?;
                for w in model.with_chain(w) {
                    let with = root.covering_element(model.withs[w].range);
                    let Some(env) = with
                        .as_node()
                        .filter(|n| n.kind() == NODE_WITH)
                        .and_then(|n| n.children().next())
                    else {
                        continue;
                    };
                    let envs = self.sets_of(doc, &env);
                    let found = self.member_sets(&envs, &name);
                    if !found.is_empty() {
                        return Some(Binding::With(found));
                    }
                }
                None
            }
            Resolution::Builtin | Resolution::Undefined => None,
        }
    }

    /// The member entries that define `def` (a `let` binding, a `rec`
    /// member): empty for arguments and pattern fields.
    pub fn def_members(&self, doc: &Rc<Doc>, def: usize) -> Vec<Member> {
        let Some(model) = doc.model() else {
            return Vec::new();
        };
        let Some(root) = doc.root() else {
            return Vec::new();
        };
        let d = &model.defs[def];
        if !matches!(
            d.kind,
            DefKind::LetBinding | DefKind::LetInherit | DefKind::RecMember
        ) {
            return Vec::new();
        }
        let mut containers: Vec<SyntaxNode> = Vec::new();
        for site in &d.sites {
            if let Some(container) = site.node(root).and_then(|n| n.parent()) {
                if !containers.contains(&container) {
                    containers.push(container);
                }
            }
        }
        containers
            .into_iter()
            .flat_map(|node| {
                self.members_named(
                    &SetView {
                        doc: doc.clone(),
                        node,
                        prefix: Vec::new(),
                    },
                    &d.name,
                )
            })
            .collect()
    }

    /// The sets a member's value is.
    pub fn value_sets(&self, member: &Member) -> Vec<SetView> {
        self.step(|| match &member.value {
            MemberValue::Expr(value) => self.sets_of(&member.doc, value),
            MemberValue::Nested(view) => vec![view.clone()],
            MemberValue::InheritFrom(from) => {
                let sets = self.sets_of(&member.doc, from);
                self.member_sets(&sets, &member.name)
            }
            MemberValue::Inherit(attr) => self.sets_of_name(&member.doc, attr),
        })
    }

    /// The sets the attribute `name` of `sets` is.
    pub fn member_sets(&self, sets: &[SetView], name: &str) -> Vec<SetView> {
        let mut out: Vec<SetView> = Vec::new();
        for member in self.lookup(sets, name) {
            for set in self.value_sets(&member) {
                let known = out.iter().any(|o| {
                    Rc::ptr_eq(&o.doc, &set.doc) && o.node == set.node && o.prefix == set.prefix
                });
                if !known {
                    out.push(set);
                }
            }
        }
        out
    }

    /// Where the attribute `name` of `sets` is defined; the first set that
    /// has it wins (as `//` does).
    pub fn lookup(&self, sets: &[SetView], name: &str) -> Vec<Member> {
        for set in sets {
            let found = self.members_named(set, name);
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    fn members_named(&self, set: &SetView, name: &str) -> Vec<Member> {
        self.members(set)
            .into_iter()
            .filter(|m| m.name == name)
            .collect()
    }

    /// Every attribute entry of a set, in source order (a name defined in
    /// several entries comes once per entry).
    pub fn members(&self, set: &SetView) -> Vec<Member> {
        let mut out = Vec::new();
        let depth = set.prefix.len();
        for entry in set.node.children() {
            match entry.kind() {
                NODE_ATTRPATH_VALUE => {
                    let mut children = entry.children();
                    let (Some(path), value) = (children.next(), children.next()) else {
                        continue;
                    };
                    let attrs: Vec<SyntaxNode> = path.children().collect();
                    if attrs.len() <= depth {
                        continue;
                    }
                    let leads = attrs[..depth]
                        .iter()
                        .zip(&set.prefix)
                        .all(|(a, p)| static_attr_name(a).as_ref() == Some(p));
                    if !leads {
                        continue;
                    }
                    let Some(name) = static_attr_name(&attrs[depth]) else {
                        continue;
                    };
                    let value = if attrs.len() == depth + 1 {
                        match value {
                            Some(value) => MemberValue::Expr(value),
                            None => continue,
                        }
                    } else {
                        let mut prefix = set.prefix.clone();
                        prefix.push(name.clone());
                        MemberValue::Nested(SetView {
                            doc: set.doc.clone(),
                            node: set.node.clone(),
                            prefix,
                        })
                    };
                    out.push(Member {
                        doc: set.doc.clone(),
                        name,
                        name_range: attrs[depth].text_range(),
                        entry: entry.clone(),
                        value,
                    });
                }
                NODE_INHERIT if depth == 0 => {
                    let from = entry
                        .children()
                        .find(|c| c.kind() == NODE_INHERIT_FROM)
                        .and_then(|f| f.children().next());
                    for attr in entry.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                        let Some(name) = static_attr_name(&attr) else {
                            continue;
                        };
                        let value = match &from {
                            Some(from) => MemberValue::InheritFrom(from.clone()),
                            None => MemberValue::Inherit(attr.clone()),
                        };
                        out.push(Member {
                            doc: set.doc.clone(),
                            name,
                            name_range: attr.text_range(),
                            entry: entry.clone(),
                            value,
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The lambdas `expr` is, as written: a lambda, a name bound to one,
    /// an imported file that is one.
    pub fn functions_of(&self, doc: &Rc<Doc>, expr: &SyntaxNode) -> Vec<(Rc<Doc>, SyntaxNode)> {
        self.step(|| match expr.kind() {
            NODE_LAMBDA => vec![(doc.clone(), expr.clone())],
            NODE_PAREN | NODE_ROOT | NODE_LET_IN | NODE_WITH | NODE_ASSERT => {
                let inner = if expr.kind() == NODE_PAREN || expr.kind() == NODE_ROOT {
                    expr.children().next()
                } else {
                    body(expr)
                };
                match inner {
                    Some(inner) => self.functions_of(doc, &inner),
                    None => Vec::new(),
                }
            }
            NODE_IDENT => {
                let Some(Binding::Members(members)) = self.resolve_ident(doc, expr) else {
                    return Vec::new();
                };
                members
                    .iter()
                    .filter_map(|m| match &m.value {
                        MemberValue::Expr(value) => Some(self.functions_of(&m.doc, value)),
                        _ => None,
                    })
                    .flatten()
                    .collect()
            }
            NODE_SELECT => {
                let mut children = expr.children();
                let (Some(base), Some(path)) = (children.next(), children.next()) else {
                    return Vec::new();
                };
                let Some(mut names) = static_names(&path) else {
                    return Vec::new();
                };
                let Some(last) = names.pop() else {
                    return Vec::new();
                };
                let mut sets = self.sets_of(doc, &base);
                for name in &names {
                    sets = self.member_sets(&sets, name);
                }
                self.lookup(&sets, &last)
                    .iter()
                    .filter_map(|m| match &m.value {
                        MemberValue::Expr(value) => Some(self.functions_of(&m.doc, value)),
                        _ => None,
                    })
                    .flatten()
                    .collect()
            }
            NODE_APPLY => match self.imported_file(doc, expr) {
                Some(file) => match file.root().cloned() {
                    Some(root) => self.functions_of(&file, &root),
                    None => Vec::new(),
                },
                None => Vec::new(),
            },
            _ => Vec::new(),
        })
    }

    /// The file an `import ./x.nix` (or `callPackage ./x`, whose result
    /// is the file's function applied) reads, loaded.
    pub fn imported_file(&self, doc: &Rc<Doc>, apply: &SyntaxNode) -> Option<Rc<Doc>> {
        let path = imported_path(doc, apply, self.world)?;
        self.load(&path)
    }
}

/// What a name refers to.
enum Binding {
    /// Entries of `let`s or sets that define it.
    Members(Vec<Member>),
    /// It comes from a `with` whose set is known: that attribute's sets.
    With(Vec<SetView>),
}

/// The path an `import ./x.nix` or `callPackage ./x` (the application
/// node, without further arguments) names, resolved.
pub(crate) fn imported_path(doc: &Doc, apply: &SyntaxNode, world: &dyn World) -> Option<PathBuf> {
    if apply.kind() != NODE_APPLY {
        return None;
    }
    let mut children = apply.children();
    let function = children.next()?;
    let argument = children.next()?;
    let literal = paths::literal(&strip_parens(&argument))?;
    if !reads_a_file(doc, &function) {
        return None;
    }
    paths::resolve(doc.path.as_deref(), &literal, world)
}

/// Whether `function` is `import` (the builtin, however reached) or a
/// `callPackage`-like function (named so: nixpkgs' convention).
fn reads_a_file(doc: &Doc, function: &SyntaxNode) -> bool {
    let function = strip_parens(function);
    let last = match function.kind() {
        NODE_IDENT => function.first_token().map(|t| t.text().to_string()),
        NODE_SELECT => function
            .children()
            .nth(1)
            .and_then(|p| p.children().last())
            .and_then(|a| static_attr_name(&a))
            .map(|n| n.to_string()),
        _ => None,
    };
    match last.as_deref() {
        Some("callPackage" | "callPackages" | "callPackageWith") => true,
        Some("import") => is_builtin_import(doc, &function),
        _ => false,
    }
}

/// `import`, `builtins.import` or a name bound to it by `inherit
/// (builtins) import;`; not a local binding that shadows it.
fn is_builtin_import(doc: &Doc, function: &SyntaxNode) -> bool {
    match function.kind() {
        NODE_IDENT => {
            let Some(model) = doc.model() else {
                return false;
            };
            let Some(token) = function.first_token() else {
                return false;
            };
            let Some(r) = model.ref_at(token.text_range().start()) else {
                return false;
            };
            match model.refs[r].resolution {
                Resolution::Builtin => true,
                // `inherit (builtins) import;`
                Resolution::Def(d) => {
                    let def = &model.defs[d];
                    def.kind == DefKind::LetInherit
                        && def.sites.iter().any(|site| {
                            doc.root()
                                .and_then(|root| site.node(root))
                                .and_then(|n| n.children().find(|c| c.kind() == NODE_INHERIT_FROM))
                                .and_then(|from| from.children().next())
                                .is_some_and(|from| is_builtins(doc, &from))
                        })
                }
                _ => false,
            }
        }
        NODE_SELECT => function
            .children()
            .next()
            .is_some_and(|base| is_builtins(doc, &base)),
        _ => false,
    }
}

/// Whether `node` is the name `builtins` and means the builtins (not a
/// local binding of that name).
pub(crate) fn is_builtins(doc: &Doc, node: &SyntaxNode) -> bool {
    if node.kind() != NODE_IDENT || node.text() != "builtins" {
        return false;
    }
    let Some(model) = doc.model() else {
        return false;
    };
    model
        .ref_at(node.text_range().start())
        .is_some_and(|r| model.refs[r].resolution == Resolution::Builtin)
}

/// The expression after `in`, or the body of `with e;` / `assert c;`.
pub(crate) fn body(node: &SyntaxNode) -> Option<SyntaxNode> {
    node.children().last()
}

fn is_update(node: &SyntaxNode) -> bool {
    node.children_with_tokens()
        .any(|t| t.kind() == SyntaxKind::TOKEN_UPDATE)
}

pub(crate) fn strip_parens(node: &SyntaxNode) -> SyntaxNode {
    let mut node = node.clone();
    for _ in 0..MAX_DEPTH {
        match (node.kind(), node.children().next()) {
            (NODE_PAREN, Some(inner)) => node = inner,
            _ => break,
        }
    }
    node
}

/// The names of an attribute path when all are static.
pub(crate) fn static_names(path: &SyntaxNode) -> Option<Vec<SmolStr>> {
    path.children().map(|a| static_attr_name(&a)).collect()
}
