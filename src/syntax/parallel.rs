//! Parsing a big file on two cores.
//!
//! Big Nix files are mostly one big attribute set (all-packages.nix is one
//! set of 10 000 members). A run of whole members parses the same on its
//! own, as `{ ... }`, as in context (see `reparse.rs`), so the file is cut in
//! two: the run of members in the middle of the biggest set, parsed on a
//! second thread, and the rest (the "skeleton": the file with that run taken
//! out), parsed here. The run's members are then spliced into the
//! skeleton's set. The coarse lexer only suggests where the run may start and
//! end; the two parses prove it (the run must parse as complete members, and
//! in the skeleton the `;` before the run must end a member of a set that
//! goes on), and anything unproven falls back to one sequential parse.

use rnix::{ParseError, SyntaxElement, SyntaxKind::*, SyntaxNode};
use rowan::{GreenNode, NodeOrToken, TextRange, TextSize};

use super::guard::{self, MemberEnd};
use super::{reparse, token_at, with_tree, Parse, MAX_TREE_DEPTH};

/// Below this, one thread is faster than two.
pub const PARALLEL_MIN: usize = 128 << 10;

/// Whether this process may run on more than one core (`taskset`, cgroup
/// limits): on one, the two halves would only take turns, and the split
/// and the join are pure cost.
pub fn two_cores() -> bool {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// Stack for the helper thread: what the parse guard asks for, and more.
const THREAD_STACK: usize = 64 << 20;

/// One long-lived helper thread that parses the runs. Long-lived, so that
/// a parse pays neither a thread start nor fresh stack pages; one, because
/// the machines this runs on have two cores. When it is busy (two parses at
/// once, as in `cim-nix check`), callers parse on their own.
mod helper {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::sync::{Mutex, OnceLock};

    type Parsed = (rowan::GreenNode, Vec<rnix::ParseError>, u32);
    type Job = (String, Sender<Parsed>);

    static JOBS: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    static BUSY: AtomicBool = AtomicBool::new(false);

    /// Starts parsing `text` on the helper; `None` if it is busy (unless
    /// told to wait for it) or cannot start.
    pub(super) fn parse(text: String, wait: bool) -> Option<Receiver<Parsed>> {
        while BUSY.swap(true, Ordering::AcqRel) {
            if !wait {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let jobs = JOBS.get_or_init(|| {
            let (tx, rx) = channel::<Job>();
            std::thread::Builder::new()
                .name("cim-nix-parse".into())
                .stack_size(super::THREAD_STACK)
                .spawn(move || {
                    for (text, reply) in rx {
                        let parsed = std::panic::catch_unwind(|| super::sequential(&text));
                        BUSY.store(false, Ordering::Release);
                        if let Ok(parsed) = parsed {
                            let _ = reply.send(parsed);
                        }
                    }
                })
                .ok()
                .map(|_| Mutex::new(tx))
        });
        let (reply, result) = channel();
        let sent = jobs
            .as_ref()
            .and_then(|jobs| jobs.lock().ok())
            .is_some_and(|jobs| jobs.send((text, reply)).is_ok());
        if !sent {
            BUSY.store(false, Ordering::Release);
            return None;
        }
        Some(result)
    }
}

/// Parses `text` on two threads if it can prove the result equals a
/// sequential parse. `member_ends` come from the nesting check; the run
/// taken out ends at or before `split_before`, the start of the region an
/// edit changed (the structure after it is unknown).
pub fn try_parse(
    text: &str,
    member_ends: &[MemberEnd],
    split_before: usize,
    wait_for_helper: bool,
) -> Option<Parse> {
    let (a, b) = choose_run(text, member_ends, split_before)?;
    parse_split(text, a, b, wait_for_helper, &mut false)
}

/// What [`try_parse_whole`] did.
pub enum Whole {
    Parsed(Parse),
    /// The halves were parsed but hold errors whose effect the join could
    /// not prove local (a set closed early, say): another split would not
    /// do better, one thread must parse.
    Broken,
    /// No split was tried, or it did not prove out: try another.
    Unproven,
}

/// [`try_parse`] for a file parsed whole (as when it is opened), without
/// the nesting estimate: the run is guessed from the layout of the lines
/// (a member starting on its own line after the middle, the last line
/// ending in `;`). The
/// estimate reads the whole file before either thread starts (a tenth of
/// the time of the parse); its only use here would be to suggest the run,
/// which the two parses prove anyway. `None` when the guess does not prove
/// out: the caller then takes the estimated path.
pub fn try_parse_whole(text: &str, wait_for_helper: bool) -> Whole {
    let Some((a, b)) = guess_run(text) else {
        return Whole::Unproven;
    };
    let mut had_errors = false;
    match parse_split(text, a, b, wait_for_helper, &mut had_errors) {
        Some(parse) => Whole::Parsed(parse),
        None if had_errors => Whole::Broken,
        None => Whole::Unproven,
    }
}

/// Parses the run from after the `;` at `a` to the `;` at `b` (inclusive)
/// on the helper thread and the rest here, and joins them if the two
/// parses prove the join equal to a sequential parse. `had_errors` says
/// whether the two parses found errors.
fn parse_split(
    text: &str,
    a: usize,
    b: usize,
    wait_for_helper: bool,
    had_errors: &mut bool,
) -> Option<Parse> {
    let run = a + 1..b + 1;
    let run_text = format!("{{{}}}", &text[run.clone()]);
    let mut skeleton_text = String::with_capacity(text.len() - run.len());
    skeleton_text.push_str(&text[..run.start]);
    skeleton_text.push_str(&text[run.end..]);

    let pending = helper::parse(run_text, wait_for_helper)?;
    let (skeleton_green, skeleton_errors, skeleton_depth) = sequential(&skeleton_text);
    let (run_green, run_errors, run_depth) = pending.recv().ok()?;
    *had_errors = !skeleton_errors.is_empty() || !run_errors.is_empty();

    // The run must be complete members only, the last ending with its `;`.
    let run_root = SyntaxNode::new_root(run_green);
    let run_set = run_root.first_child()?;
    if run_root.children_with_tokens().count() != 1 || run_set.kind() != NODE_ATTR_SET {
        return None;
    }
    let parts: Vec<SyntaxElement> = run_set.children_with_tokens().collect();
    let [open, inner @ .., close] = parts.as_slice() else {
        return None;
    };
    // A run parsed without errors balances its brackets and strings by
    // construction (each opened inside a member closes inside it), so only
    // a run with errors is walked to check that.
    let members = if run_errors.is_empty() {
        reparse::whole_members(inner)
    } else {
        reparse::members_only(inner)
    };
    if open.kind() != TOKEN_L_BRACE || close.kind() != TOKEN_R_BRACE || !members {
        return None;
    }
    // Recovery's stops depend on what is around a broken member (see
    // `reparse.rs`): the run's first line and the line after it must be
    // the ones they are in the file.
    if !run_errors.is_empty() && !reparse::begins_a_line(inner) {
        return None;
    }
    let run_range = TextRange::new(
        TextSize::from(run.start as u32),
        TextSize::from(run.end as u32),
    );
    if !(skeleton_errors.is_empty() || reparse::line_kept_around(text, run_range)) {
        return None;
    }

    // In the skeleton, the `;` before the run must end a member of a set or
    // `let` that goes on after it.
    let skeleton_root = SyntaxNode::new_root(skeleton_green);
    let semicolon = token_at(&skeleton_root, TextSize::from(a as u32))?;
    let member = semicolon.parent()?;
    let set = member.parent()?;
    let boundary = TextSize::from(run.start as u32);
    if semicolon.kind() != TOKEN_SEMICOLON
        || !matches!(member.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT)
        || member.text_range().end() != boundary
        || !matches!(set.kind(), NODE_ATTR_SET | NODE_LET_IN)
        || set.text_range().end() <= boundary
    {
        return None;
    }
    // A member around the set reports a stop after it only when it has no
    // error yet, and the skeleton did not see the run's.
    if !run_errors.is_empty() && !reparse::members_around_took_their_semicolons(&set) {
        return None;
    }
    // rnix counts nested expressions from the root; the run was parsed from
    // depth 0, so it must not come near that limit in context either.
    let ancestors = set.ancestors().count() as u32;
    if ancestors + run_depth >= 500
        || ancestors + run_depth > MAX_TREE_DEPTH
        || skeleton_depth > MAX_TREE_DEPTH
    {
        return None;
    }

    let errors = combine_errors(skeleton_errors, run_errors, run.start, run.len())?;
    let index = member.index() + 1;
    let run_children = inner.iter().map(|c| match c {
        NodeOrToken::Node(n) => NodeOrToken::Node(n.green().to_owned()),
        NodeOrToken::Token(t) => NodeOrToken::Token(t.green().to_owned()),
    });
    let new_set = set.green().splice_children(index..index, run_children);
    Some(with_tree(set.replace_with(new_set), errors))
}

/// A parse on the current thread: green tree, raw errors, depth. Our
/// parser bounds its own recursion, so text that has not passed the
/// nesting estimate is safe to give it.
fn sequential(text: &str) -> (GreenNode, Vec<ParseError>, u32) {
    let give_up = || {
        // Too deep: give up on parallel; the sequential parse will refuse
        // the file properly.
        let empty = rnix::Root::parse("").syntax().green().to_owned();
        (empty, Vec::new(), u32::MAX)
    };
    // Our parser knows the depth of its tree: no walk to measure it.
    match guard::with_parse_stack(|| super::parser::parse_recovering(text)) {
        Some((green, depth, _)) if depth > MAX_TREE_DEPTH => {
            guard::dismantle(green);
            give_up()
        }
        Some((green, depth, errors)) => (green, errors, depth),
        None => give_up(),
    }
}

/// The offsets of the `;` before and at the end of the run to take out: in
/// the set with the most members, about half the file, ending before
/// `split_before`. `None` when no run is worth it.
pub(super) fn choose_run(
    text: &str,
    ends: &[MemberEnd],
    split_before: usize,
) -> Option<(usize, usize)> {
    let len = text.len();
    // The set with the most members.
    let members: Vec<&MemberEnd> = ends
        .iter()
        .filter(|e| looks_like_member_start(text, e.semicolon as usize + 1))
        .collect();
    let mut counts: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for end in &members {
        *counts.entry(end.set).or_default() += 1;
    }
    let (set, _) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    let semicolons: Vec<usize> = members
        .iter()
        .filter(|e| e.set == set)
        .map(|e| e.semicolon as usize)
        .collect();
    // Keep the first member in the skeleton (the set's opening brace looks
    // two tokens ahead), and end the run before the edited region.
    let b = *semicolons
        .iter()
        .rev()
        .find(|&&s| s < split_before && s > semicolons[0])?;
    let a = *semicolons.iter().find(|&&s| s + len / 2 >= b && s < b)?;
    (b - a >= len / 4).then_some((a, b))
}

/// How many lines at the end of the file [`guess_run`] looks at for the
/// run's last member.
const GUESS_LINES: usize = 200;

/// The offsets of the `;` before and at the end of a run of about half the
/// file, guessed from its lines. `b` ends the file's last line that ends in
/// `;`, and that line's indentation is taken for the members'. Walking back
/// from there, every line that starts a member at that indentation (`name =`
/// or `inherit`) after a line ending in `;` is a place `a` to cut: the one
/// nearest after the middle is taken, unless a line indented less that
/// opens a bracket comes first (the members' set began there; a sloppy
/// indent alone, as in nixpkgs, does not stop the walk). Only a guess:
/// [`parse_split`] proves it or gives up.
pub(super) fn guess_run(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut lines = LinesBack::new(bytes, len);
    let (b, indent) = lines
        .by_ref()
        .take(GUESS_LINES)
        .filter(|l| !l.is_blank_or_comment())
        .find_map(|l| {
            let end = l.code_end();
            (bytes[end] == b';').then_some((end, l.indent()))
        })?;
    let mut a = None;
    // A line that starts a member, until the line before it is seen.
    let mut member_after = false;
    for line in lines {
        if line.is_blank_or_comment() {
            continue;
        }
        let (line_indent, last) = (line.indent(), line.code_end());
        if line_indent < indent && matches!(bytes[last], b'{' | b'[' | b'(') {
            break; // where the members' set (or what holds it) opens
        }
        if member_after && bytes[last] == b';' {
            a = Some(last);
            if line.start < len / 2 {
                break;
            }
        }
        // Read within the line: from every line of a long chain such as
        // `a.` / `a.` / ... the whole rest of the chain would be read.
        member_after = line_indent == indent
            && looks_like_member_start(&text[..line.end], line.start + line_indent);
    }
    let a = a?;
    (b > a && b - a >= len / 4).then_some((a, b))
}

/// One line of a text: `start..end`, without its newline.
struct Line<'t> {
    bytes: &'t [u8],
    start: usize,
    end: usize,
}

impl Line<'_> {
    fn content(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    fn indent(&self) -> usize {
        self.content()
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count()
    }

    fn is_blank_or_comment(&self) -> bool {
        let content = self.content().trim_ascii();
        content.is_empty() || content.starts_with(b"#")
    }

    /// Where its last character before trailing whitespace is (a line that
    /// is not blank).
    fn code_end(&self) -> usize {
        self.start + self.content().trim_ascii_end().len().max(1) - 1
    }
}

/// The lines of a text, last first, from the one `end` is on.
struct LinesBack<'t> {
    bytes: &'t [u8],
    end: Option<usize>,
}

impl<'t> LinesBack<'t> {
    fn new(bytes: &'t [u8], end: usize) -> LinesBack<'t> {
        LinesBack {
            bytes,
            end: Some(end),
        }
    }
}

impl<'t> Iterator for LinesBack<'t> {
    type Item = Line<'t>;

    fn next(&mut self) -> Option<Line<'t>> {
        let end = self.end?;
        let start = memchr::memrchr(b'\n', &self.bytes[..end]).map_or(0, |i| i + 1);
        self.end = start.checked_sub(1);
        Some(Line {
            bytes: self.bytes,
            start,
            end,
        })
    }
}

/// Whether a member (`name.path = ` or `inherit`) starts at `at`, skipping
/// whitespace and comments: a `;` before it ends a member, not a `with e;`.
fn looks_like_member_start(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let mut i = at;
    let skip_trivia = |mut i: usize| loop {
        match b.get(i) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => i += 1,
            Some(b'#') => i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |j| i + j),
            _ => return i,
        }
    };
    loop {
        i = skip_trivia(i);
        let start = i;
        if b.get(i) == Some(&b'"') {
            // A quoted attribute name: to its closing quote.
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'\'' | b'-'))
            {
                i += 1;
            }
            if &b[start..i] == b"inherit" {
                return true;
            }
        }
        if i == start || i > b.len() {
            return false;
        }
        i = skip_trivia(i);
        match b.get(i) {
            Some(b'.') => i += 1,
            Some(b'=') => return b.get(i + 1) != Some(&b'='),
            _ => return false,
        }
    }
}

/// The skeleton's errors, those after the run shifted past it, and the run's
/// errors moved to where the run is. `None` if an error crosses the cut or
/// the run has an error without a place.
fn combine_errors(
    skeleton: Vec<ParseError>,
    run: Vec<ParseError>,
    start: usize,
    len: usize,
) -> Option<Vec<ParseError>> {
    let start = TextSize::from(start as u32);
    let len = TextSize::from(len as u32);
    let mut errors = Vec::with_capacity(skeleton.len() + run.len());
    for e in skeleton {
        match reparse::error_range(&e) {
            Some(r) if r.end() <= start => errors.push(e),
            Some(r) if r.start() >= start => errors.push(reparse::with_range(
                &e,
                TextRange::new(r.start() + len, r.end() + len),
            )),
            Some(_) => return None,
            None => errors.push(e),
        }
    }
    // The run was parsed after an added `{`.
    let offset = start - TextSize::from(1);
    for e in run {
        let r = reparse::error_range(&e)?;
        errors.push(reparse::with_range(&e, r + offset));
    }
    Some(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guess_finds_the_members_after_the_middle() {
        let members: String = (0..40).map(|i| format!("  m{i} = {i};\n")).collect();
        let text = format!("{{\n{members}}}\n");
        let (a, b) = guess_run(&text).expect("a guess");
        assert_eq!(&text[b..b + 2], ";\n");
        assert!(text[b + 1..].trim() == "}", "b ends the last member");
        assert!(a >= text.len() / 2 - 20 && a < b, "a near the middle: {a}");
        assert!(text[a + 1..].starts_with("\n  m"), "a ends a member");
    }

    #[test]
    fn the_guess_reads_each_line_once() {
        // A select chain with one link per line: reading on past the end
        // of each line would read the rest of the chain from every line.
        let links = "  a.\n".repeat(200_000);
        let text = format!("{{ x =\n{links}  b;\n}}\n");
        let started = std::time::Instant::now();
        assert_eq!(guess_run(&text), None);
        // Linear: milliseconds. Reading on would take minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
