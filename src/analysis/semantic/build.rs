//! Building the model: one walk over the green tree with a stack of
//! frames (scopes and `with`s). The members of a big plain set are walked
//! in chunks that [`super::memo`] can reuse from the previous model.

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

use std::sync::Arc;

use rowan::{GreenNodeData, TextRange, TextSize};
use smol_str::SmolStr;

use super::memo::{self, Chunk, ChunkOwner, ChunkRef, ChunkWith, Marks, Memo};
use super::*;
use crate::syntax::green::{attr_name, ident_token, N, T};

type Names = Rc<HashMap<SmolStr, DefId>>;

enum Frame {
    Scope(Names),
    With(WithId),
}

struct Builder<'p> {
    model: SemanticModel,
    frames: Vec<Frame>,
    owner: Option<OwnerId>,
    /// The chunks of the previous model, to reuse.
    previous: Option<&'p Memo>,
    /// For each reference so far, its name and the innermost `with` around
    /// it: what a chunk keeps of the names it does not bind.
    ref_names: Vec<SmolStr>,
    ref_withs: Vec<Option<WithId>>,
}

impl SemanticModel {
    pub fn build(root: &SyntaxNode) -> SemanticModel {
        let green = root.green();
        SemanticModel::from_green(green)
    }

    /// The model of a tree, walked on its green nodes: no allocation per
    /// node, which makes the walk several times faster than over syntax
    /// nodes.
    pub fn from_green(root: &GreenNodeData) -> SemanticModel {
        SemanticModel::from_green_after(root, None)
    }

    /// [`SemanticModel::from_green`], reusing what `previous` (the model of
    /// an earlier text of the same file) walked of the members of big sets
    /// that did not change: equal to a model built from scratch.
    pub fn from_green_after(
        root: &GreenNodeData,
        previous: Option<&SemanticModel>,
    ) -> SemanticModel {
        let mut b = Builder {
            model: SemanticModel::default(),
            frames: Vec::new(),
            owner: None,
            previous: previous.map(|p| &p.memo),
            ref_names: Vec::new(),
            ref_withs: Vec::new(),
        };
        if let Some(p) = previous {
            // An edit changes a few names at most: sized like the previous
            // model, the vectors are allocated once instead of doubling
            // (which, for all-packages.nix, left megabytes of freed
            // copies for the allocator to hold at every keystroke).
            let m = &mut b.model;
            m.defs.reserve(p.defs.len() + 64);
            m.refs.reserve(p.refs.len() + 64);
            m.withs.reserve(p.withs.len() + 8);
            m.recs.reserve(p.recs.len() + 8);
            m.owners.reserve(p.owners.len() + 16);
            m.scopes.reserve(p.scopes.len() + 16);
            b.ref_names.reserve(p.refs.len() + 64);
            b.ref_withs.reserve(p.refs.len() + 64);
        }
        b.expr(&N {
            green: root,
            offset: TextSize::from(0),
        });
        let mut model = b.model;
        // In source order, so a reference can be found by its position.
        model.refs.sort_by_key(|r| r.range.start());
        model.uses = vec![Vec::new(); model.defs.len()];
        for (id, r) in model.refs.iter().enumerate() {
            if let Resolution::Def(d) = r.resolution {
                model.uses[d].push(id);
            }
        }
        model
    }
}

impl Builder<'_> {
    fn define(&mut self, name: SmolStr, kind: DefKind, range: TextRange, site: Site) -> DefId {
        self.model.defs.push(Def {
            name,
            kind,
            range,
            sites: vec![site],
            scope: None,
        });
        self.model.defs.len() - 1
    }

    fn record_scope(&mut self, kind: ScopeKind, range: TextRange, names: &HashMap<SmolStr, DefId>) {
        let mut defs: Vec<DefId> = names.values().copied().collect();
        defs.sort_unstable();
        self.model.scopes.push(Scope { kind, range, defs });
    }

    fn new_owner(&mut self, defs: Vec<DefId>) -> OwnerId {
        self.model.owners.push(Owner {
            defs,
            parent: self.owner,
        });
        self.model.owners.len() - 1
    }

    /// Walks `node` with `owner` as the owner of what it holds.
    fn owned(&mut self, owner: OwnerId, node: &N<'_>) {
        let saved = self.owner.replace(owner);
        self.expr(node);
        self.owner = saved;
    }

    fn resolve(&self, name: &str, skip_scopes: usize) -> Resolution {
        let usable = self.frames.len() - skip_scopes.min(self.frames.len());
        for frame in self.frames[..usable].iter().rev() {
            if let Frame::Scope(names) = frame {
                if let Some(&def) = names.get(name) {
                    return Resolution::Def(def);
                }
            }
        }
        if is_builtin(name) {
            return Resolution::Builtin;
        }
        // Any frame, skipped or not, may be a `with` around the name.
        match self.innermost_with() {
            Some(w) => Resolution::With(w),
            None => Resolution::Undefined,
        }
    }

    fn innermost_with(&self) -> Option<WithId> {
        self.frames.iter().rev().find_map(|f| match f {
            Frame::With(w) => Some(*w),
            Frame::Scope(_) => None,
        })
    }

    fn reference(&mut self, token: &T<'_>, skip_scopes: usize) {
        let resolution = self.resolve(token.text(), skip_scopes);
        self.model.refs.push(Ref {
            range: token.text_range(),
            resolution,
            owner: self.owner,
        });
        self.ref_names.push(SmolStr::new(token.text()));
        self.ref_withs.push(self.innermost_with());
    }

    fn children(&mut self, node: &N<'_>) {
        for child in node.children() {
            self.expr(&child);
        }
    }

    fn expr(&mut self, node: &N<'_>) {
        match node.kind() {
            NODE_IDENT => {
                if let Some(token) = ident_token(node) {
                    self.reference(&token, 0);
                }
            }
            NODE_LET_IN => self.let_in(node),
            NODE_LEGACY_LET => self.rec_set(node, None),
            NODE_ATTR_SET => {
                let rec = node
                    .children_with_tokens()
                    .find(|t| t.kind() == TOKEN_REC)
                    .map(|t| t.text_range());
                match rec {
                    Some(keyword) => self.rec_set(node, Some(keyword)),
                    None => self.plain_set(node),
                }
            }
            NODE_LAMBDA => self.lambda(node),
            NODE_WITH => self.with(node),
            NODE_SELECT => {
                // `e.a.${b} or d`: `e`, dynamic parts and `d` are expressions.
                for child in node.children() {
                    match child.kind() {
                        NODE_ATTRPATH => self.attrpath(&child),
                        _ => self.expr(&child),
                    }
                }
            }
            NODE_HAS_ATTR => {
                for child in node.children() {
                    match child.kind() {
                        NODE_ATTRPATH => self.attrpath(&child),
                        _ => self.expr(&child),
                    }
                }
            }
            NODE_ATTRPATH => self.attrpath(node),
            _ => self.children(node),
        }
    }

    /// The dynamic parts of an attribute path (`a.${b}."${c}"`).
    fn attrpath(&mut self, path: &N<'_>) {
        for attr in path.children() {
            if attr.kind() != NODE_IDENT {
                self.children(&attr);
            }
        }
    }

    /// The members of a set or `let` that define names in its scope:
    /// `(name, name range, member node)`; dotted paths define their first
    /// name.
    fn member_names(node: &N<'_>) -> Vec<(SmolStr, TextRange, Site, bool)> {
        let mut names = Vec::new();
        for member in node.children() {
            match member.kind() {
                NODE_ATTRPATH_VALUE => {
                    let first = member
                        .children()
                        .find(|c| c.kind() == NODE_ATTRPATH)
                        .and_then(|p| p.children().next());
                    if let Some(first) = first {
                        if let Some(name) = attr_name(&first) {
                            names.push((name, first.text_range(), Site::of(&member), false));
                        }
                    }
                }
                NODE_INHERIT => {
                    for attr in member.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                        if let Some(name) = attr_name(&attr) {
                            names.push((name, attr.text_range(), Site::of(&member), true));
                        }
                    }
                }
                _ => {}
            }
        }
        names
    }

    /// Defines the members of `node` in a new scope; merges repeated names
    /// (`a.b = 1; a.c = 2;`).
    fn define_members(&mut self, node: &N<'_>, kind: impl Fn(bool) -> DefKind) -> Names {
        let mut scope: HashMap<SmolStr, DefId> = HashMap::default();
        for (name, range, member, inherited) in Self::member_names(node) {
            match scope.get(&name) {
                Some(&def) => {
                    let sites = &mut self.model.defs[def].sites;
                    if !sites.contains(&member) {
                        sites.push(member);
                    }
                }
                None => {
                    let def = self.define(name.clone(), kind(inherited), range, member);
                    scope.insert(name, def);
                }
            }
        }
        Rc::new(scope)
    }

    /// The values of a set's or `let`'s members. With `scope` (a `let`),
    /// references in a binding's value belong to that binding (dead with
    /// it). `own_frame`: the top frame is the set's own scope, which a plain
    /// `inherit x;` looks past.
    fn member_values(&mut self, node: &N<'_>, scope: Option<&Names>, own_frame: bool) {
        for member in node.children() {
            match member.kind() {
                NODE_ATTRPATH_VALUE => {
                    let def = scope.and_then(|s| {
                        let first = member
                            .children()
                            .find(|c| c.kind() == NODE_ATTRPATH)?
                            .children()
                            .next()?;
                        s.get(&attr_name(&first)?).copied()
                    });
                    let owner = def.map(|d| self.new_owner(vec![d]));
                    for child in member.children() {
                        match (child.kind(), owner) {
                            (NODE_ATTRPATH, _) => self.attrpath(&child),
                            (_, Some(owner)) => self.owned(owner, &child),
                            (_, None) => self.expr(&child),
                        }
                    }
                }
                NODE_INHERIT => self.inherit(&member, scope, usize::from(own_frame)),
                _ => {}
            }
        }
    }

    /// `inherit a b;` looks the names up outside the scope being built
    /// (`skip` scopes up); `inherit (e) a;` evaluates `e` inside it.
    fn inherit(&mut self, member: &N<'_>, scope: Option<&Names>, skip: usize) {
        let from = member.children().find(|c| c.kind() == NODE_INHERIT_FROM);
        let names: Vec<N<'_>> = member
            .children()
            .filter(|c| c.kind() != NODE_INHERIT_FROM)
            .collect();
        let defs: Vec<DefId> = match scope {
            Some(s) => names
                .iter()
                .filter_map(|a| s.get(&attr_name(a)?).copied())
                .collect(),
            None => Vec::new(),
        };
        match from {
            Some(from) => {
                if defs.is_empty() {
                    self.children(&from);
                } else {
                    let owner = self.new_owner(defs);
                    let saved = self.owner.replace(owner);
                    self.children(&from);
                    self.owner = saved;
                }
                for attr in &names {
                    if attr.kind() != NODE_IDENT {
                        self.children(attr);
                    }
                }
            }
            None => {
                for attr in &names {
                    match attr.kind() {
                        NODE_IDENT => {
                            if let Some(token) = ident_token(attr) {
                                // `let inherit x;` uses the outer `x`; it is
                                // dead when the name it defines is.
                                let def = scope.and_then(|s| s.get(token.text()).copied());
                                let saved = self.owner;
                                if let Some(def) = def {
                                    self.owner = Some(self.new_owner(vec![def]));
                                }
                                self.reference(&token, skip);
                                self.owner = saved;
                            }
                        }
                        _ => self.children(attr),
                    }
                }
            }
        }
    }

    fn let_in(&mut self, node: &N<'_>) {
        let scope = self.define_members(node, |inherited| {
            if inherited {
                DefKind::LetInherit
            } else {
                DefKind::LetBinding
            }
        });
        for &def in scope.values() {
            self.model.defs[def].scope = Some(node.text_range());
        }
        self.record_scope(ScopeKind::Let, node.text_range(), &scope);
        self.frames.push(Frame::Scope(scope.clone()));
        self.member_values(node, Some(&scope), true);
        // The body: the expression after `in`.
        let mut after_in = false;
        for child in node.children_with_tokens() {
            if child.kind() == TOKEN_IN {
                after_in = true;
            } else if after_in {
                if let Some(body) = child.as_node() {
                    self.expr(body);
                }
            }
        }
        self.frames.pop();
    }

    fn rec_set(&mut self, node: &N<'_>, keyword: Option<TextRange>) {
        let scope = self.define_members(node, |_| DefKind::RecMember);
        let kind = match keyword {
            Some(_) => ScopeKind::Rec,
            None => ScopeKind::Let,
        };
        self.record_scope(kind, node.text_range(), &scope);
        if let Some(keyword) = keyword {
            self.model.recs.push(RecSet {
                range: node.text_range(),
                keyword,
                members: scope.values().copied().collect(),
            });
        }
        self.frames.push(Frame::Scope(scope.clone()));
        // Members of a `rec` set are attributes, never dead: their values
        // are not owned by them.
        self.member_values(node, None, true);
        self.frames.pop();
    }

    fn plain_set(&mut self, node: &N<'_>) {
        match memo::set_chunks(node) {
            // Members of a big set, in chunks the next model can reuse.
            Some(chunks) => {
                for (key, members) in chunks {
                    self.chunk(key, &members);
                }
            }
            None => self.member_values(node, None, false),
        }
    }

    /// One member of a plain set: what [`Builder::member_values`] does for
    /// it when the set has no scope of its own.
    fn plain_member(&mut self, member: &N<'_>) {
        match member.kind() {
            NODE_ATTRPATH_VALUE => {
                for child in member.children() {
                    match child.kind() {
                        NODE_ATTRPATH => self.attrpath(&child),
                        _ => self.expr(&child),
                    }
                }
            }
            NODE_INHERIT => self.inherit(member, None, 0),
            _ => {}
        }
    }

    /// Consecutive members of a big plain set: spliced in from the previous
    /// model when it walked exactly these, else walked and kept.
    fn chunk(&mut self, key: u64, members: &[N<'_>]) {
        let greens: Vec<&GreenNodeData> = members.iter().map(|m| m.green).collect();
        let start = members[0].offset;
        if let Some(chunk) = self.previous.and_then(|p| p.get(key, &greens)).cloned() {
            self.splice(&chunk, start);
            self.model.memo.insert(key, chunk, true);
            return;
        }
        let marks = self.marks();
        let around_owner = self.owner;
        let around_with = self.innermost_with();
        for member in members {
            self.plain_member(member);
        }
        let chunk = self.extract(marks, start, around_owner, around_with, members);
        self.model.memo.insert(key, Arc::new(chunk), false);
    }

    fn marks(&self) -> Marks {
        let m = &self.model;
        Marks {
            defs: m.defs.len(),
            refs: m.refs.len(),
            withs: m.withs.len(),
            recs: m.recs.len(),
            owners: m.owners.len(),
            scopes: m.scopes.len(),
        }
    }

    /// What the walk since `marks` added, as a chunk starting at `start`.
    fn extract(
        &self,
        marks: Marks,
        start: TextSize,
        around_owner: Option<OwnerId>,
        around_with: Option<WithId>,
        members: &[N<'_>],
    ) -> Chunk {
        let m = &self.model;
        let defs = m.defs[marks.defs..]
            .iter()
            .map(|d| Def {
                name: d.name.clone(),
                kind: d.kind,
                range: memo::unshift(d.range, start),
                sites: d
                    .sites
                    .iter()
                    .map(|s| Site {
                        range: memo::unshift(s.range, start),
                        kind: s.kind,
                    })
                    .collect(),
                scope: d.scope.map(|r| memo::unshift(r, start)),
            })
            .collect();
        let mut names: Vec<SmolStr> = Vec::new();
        let mut name_ids: HashMap<&str, u32> = HashMap::default();
        let refs = (marks.refs..m.refs.len())
            .map(|i| {
                let r = &m.refs[i];
                let (target, free, with_inside) = match r.resolution {
                    Resolution::Def(d) if d >= marks.defs => ((d - marks.defs) as u32, false, None),
                    _ => {
                        let name = &self.ref_names[i];
                        let id = *name_ids.entry(name.as_str()).or_insert_with(|| {
                            names.push(name.clone());
                            (names.len() - 1) as u32
                        });
                        let inside = self.ref_withs[i]
                            .filter(|&w| w >= marks.withs)
                            .map(|w| memo::Link::Local((w - marks.withs) as u32));
                        (id, true, inside)
                    }
                };
                ChunkRef {
                    range: memo::unshift(r.range, start),
                    target,
                    free,
                    with_inside: memo::Packed::of(with_inside),
                    owner: memo::Packed::of(memo::link(r.owner, marks.owners, around_owner)),
                }
            })
            .collect();
        let withs = m.withs[marks.withs..]
            .iter()
            .map(|w| ChunkWith {
                range: memo::unshift(w.range, start),
                body_start: w.body_start - start,
                env_is_builtins: w.env_is_builtins,
                keyword: memo::unshift(w.keyword, start),
                owner: memo::link(w.owner, marks.owners, around_owner),
                outer: memo::link(w.outer, marks.withs, around_with),
            })
            .collect();
        let recs = m.recs[marks.recs..]
            .iter()
            .map(|r| RecSet {
                range: memo::unshift(r.range, start),
                keyword: memo::unshift(r.keyword, start),
                members: r.members.iter().map(|d| d - marks.defs).collect(),
            })
            .collect();
        let owners = m.owners[marks.owners..]
            .iter()
            .map(|o| ChunkOwner {
                defs: o.defs.iter().map(|d| (d - marks.defs) as u32).collect(),
                parent: memo::link(o.parent, marks.owners, around_owner),
            })
            .collect();
        let scopes = m.scopes[marks.scopes..]
            .iter()
            .map(|s| Scope {
                kind: s.kind,
                range: memo::unshift(s.range, start),
                defs: s.defs.iter().map(|d| d - marks.defs).collect(),
            })
            .collect();
        Chunk {
            members: members.iter().map(|n| n.green.to_owned()).collect(),
            defs,
            refs,
            names: names.into(),
            withs,
            recs,
            owners,
            scopes,
        }
    }

    /// Adds a kept chunk at `start`, resolving the names it does not bind
    /// against the scopes around the set now.
    fn splice(&mut self, chunk: &Chunk, start: TextSize) {
        let marks = self.marks();
        let around_owner = self.owner;
        let around_with = self.innermost_with();
        for d in chunk.defs.iter() {
            self.model.defs.push(Def {
                name: d.name.clone(),
                kind: d.kind,
                range: memo::shift(d.range, start),
                sites: d
                    .sites
                    .iter()
                    .map(|s| Site {
                        range: memo::shift(s.range, start),
                        kind: s.kind,
                    })
                    .collect(),
                scope: d.scope.map(|r| memo::shift(r, start)),
            });
        }
        for w in chunk.withs.iter() {
            self.model.withs.push(With {
                range: memo::shift(w.range, start),
                body_start: w.body_start + start,
                env_is_builtins: w.env_is_builtins,
                keyword: memo::shift(w.keyword, start),
                owner: memo::unlink(w.owner, marks.owners, around_owner),
                outer: memo::unlink(w.outer, marks.withs, around_with),
            });
        }
        for r in chunk.recs.iter() {
            self.model.recs.push(RecSet {
                range: memo::shift(r.range, start),
                keyword: memo::shift(r.keyword, start),
                members: r.members.iter().map(|d| d + marks.defs).collect(),
            });
        }
        for o in chunk.owners.iter() {
            self.model.owners.push(Owner {
                defs: o.defs.iter().map(|&d| marks.defs + d as usize).collect(),
                parent: memo::unlink(o.parent, marks.owners, around_owner),
            });
        }
        for s in chunk.scopes.iter() {
            self.model.scopes.push(Scope {
                kind: s.kind,
                range: memo::shift(s.range, start),
                defs: s.defs.iter().map(|d| d + marks.defs).collect(),
            });
        }
        for r in chunk.refs.iter() {
            let (resolution, name, with) = if r.free {
                let name = &chunk.names[r.target as usize];
                let inside = match r.with_inside.link() {
                    Some(memo::Link::Local(w)) => Some(marks.withs + w as usize),
                    _ => None,
                };
                (self.resolve_free(name, inside), Some(name), inside)
            } else {
                (Resolution::Def(marks.defs + r.target as usize), None, None)
            };
            self.model.refs.push(Ref {
                range: memo::shift(r.range, start),
                resolution,
                owner: memo::unlink(r.owner.link(), marks.owners, around_owner),
            });
            // What an enclosing chunk being kept would need of it.
            self.ref_names.push(name.cloned().unwrap_or_default());
            self.ref_withs.push(with.or(around_with));
        }
    }

    /// A name a chunk does not bind, as the scopes around the set resolve
    /// it now; `inside` is the innermost `with` of the chunk around it.
    fn resolve_free(&self, name: &str, inside: Option<WithId>) -> Resolution {
        for frame in self.frames.iter().rev() {
            if let Frame::Scope(names) = frame {
                if let Some(&def) = names.get(name) {
                    return Resolution::Def(def);
                }
            }
        }
        if is_builtin(name) {
            return Resolution::Builtin;
        }
        match inside.or_else(|| self.innermost_with()) {
            Some(w) => Resolution::With(w),
            None => Resolution::Undefined,
        }
    }

    fn lambda(&mut self, node: &N<'_>) {
        let mut scope: HashMap<SmolStr, DefId> = HashMap::default();
        let param = node.children().next();
        let mut pattern = None;
        if let Some(param) = &param {
            match param.kind() {
                NODE_IDENT_PARAM => {
                    if let Some(ident) = param.children().find(|c| c.kind() == NODE_IDENT) {
                        if let Some(token) = ident_token(&ident) {
                            let def = self.define(
                                SmolStr::new(token.text()),
                                DefKind::LambdaArg,
                                token.text_range(),
                                Site::of(param),
                            );
                            scope.insert(SmolStr::new(token.text()), def);
                        }
                    }
                }
                NODE_PATTERN => {
                    let mut defaults = Vec::new();
                    for part in param.children() {
                        let (kind, ident) = match part.kind() {
                            NODE_PAT_ENTRY => (DefKind::PatternField, part.children().next()),
                            NODE_PAT_BIND => (
                                DefKind::PatternBind,
                                part.children().find(|c| c.kind() == NODE_IDENT),
                            ),
                            _ => continue,
                        };
                        let Some(token) = ident.as_ref().and_then(ident_token) else {
                            continue;
                        };
                        let name = SmolStr::new(token.text());
                        // A repeated name is an error (duplicate-param); the
                        // first definition is the one names resolve to.
                        let def =
                            self.define(name.clone(), kind, token.text_range(), Site::of(&part));
                        scope.entry(name).or_insert(def);
                        if kind == DefKind::PatternField {
                            if let Some(default) = part.children().nth(1) {
                                defaults.push((def, default));
                            }
                        }
                    }
                    pattern = Some(defaults);
                }
                _ => {}
            }
        }
        self.record_scope(ScopeKind::Lambda, node.text_range(), &scope);
        self.frames.push(Frame::Scope(Rc::new(scope)));
        for (def, default) in pattern.unwrap_or_default() {
            let owner = self.new_owner(vec![def]);
            self.owned(owner, &default);
        }
        if let Some(body) = node.children().nth(1) {
            self.expr(&body);
        }
        self.frames.pop();
    }

    fn with(&mut self, node: &N<'_>) {
        let keyword = node
            .children_with_tokens()
            .find(|t| t.kind() == TOKEN_WITH)
            .map_or(node.text_range(), |t| t.text_range());
        let mut parts = node.children();
        let env = parts.next();
        if let Some(env) = &env {
            self.expr(env);
        }
        let body_start = node
            .children()
            .last()
            .map_or(node.text_range().end(), |b| b.text_range().start());
        let outer = self.innermost_with();
        self.model.withs.push(With {
            range: node.text_range(),
            body_start,
            env_is_builtins: env.is_some_and(|e| e.ident_text() == Some("builtins")),
            keyword,
            owner: self.owner,
            outer,
        });
        let id = self.model.withs.len() - 1;
        self.frames.push(Frame::With(id));
        for body in parts {
            self.expr(&body);
        }
        self.frames.pop();
    }
}
