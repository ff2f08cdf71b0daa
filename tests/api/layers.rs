//! Imports run one way (docs/architecture.md, "The layering rule"). Every `crate::`, `self::`
//! and `super::` path under `src/` (outside `#[cfg(test)]` items and comments) is resolved to
//! the file that defines it, and this test fails with the list of offenders when
//!
//! - a module uses a module of a higher layer than its own (`LAYERS`), or a top-level module is
//!   missing from `LAYERS`;
//! - files use each other in a circle. A parent's references to its own child modules (its
//!   `mod x;` declarations, `pub use x::…` re-exports, route tables) are the normal Rust module
//!   pattern and do not count; sibling circles such as `a/x.rs` ↔ `a/y.rs` do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// Every top-level module of `src/` with its layer, bottom to top. A module may use modules of
/// its own layer and of lower ones. A new module must be placed here before the test passes.
const LAYERS: &[(&str, u32)] = &[
    ("domain", 1),
    ("clock", 1),
    ("config", 1),
    ("telemetry", 1),
    ("keys", 2),
    ("store", 3),
    ("error", 4),
    ("auth", 5),
    ("mail", 5),
    ("captcha", 5),
    ("state", 5),
    ("accounts", 6),
    ("teams", 6),
    ("mfa", 7),
    ("oauth", 7),
    ("http", 8),
    ("web", 9),
    ("app", 10),
    ("client", 11),
    ("bench", 11),
    // `latchkey rotate-key`: reseals what auth, mfa and the store sealed.
    ("rotate", 11),
    ("cli", 12),
];

/// Top-level modules left out of the circle check (not the layer check): none.
const CIRCLE_CHECK_SKIPS: &[&str] = &[];

#[test]
fn imports_run_one_way() {
    let files = read_sources();
    let mut problems = String::new();
    layer_problems(&files, &mut problems);
    circle_problems(&files, &mut problems);
    assert!(
        problems.is_empty(),
        "imports that break the layering rule (docs/architecture.md):\n{problems}"
    );
}

/// The scanner itself, on the cases the real sources may not happen to contain.
#[test]
fn the_import_scanner_reads_paths_as_rustc_does() {
    let code = r##"
        // use crate::commented::Out;
        /* crate::block /* nested crate::x */ still::comment */
        use crate::{a::{self, B}, c::D as E};
        use super::{sibling::F, G};
        use crate::p::q as renamed;
        const S: &str = "crate::in_a_string";
        const R: &str = r#"crate::in_a_raw "string""#;
        const C: char = '{';
        fn f<'a>(x: &'a str) { crate::h::i(x); self::child::j(); a::deeper::l(); }
        #[cfg(test)]
        #[allow(unused)]
        mod tests { use crate::only_in_tests::X; }
        #[cfg(test)]
        use crate::test_only_import;
        #[cfg(test)]
        mod tests_in_a_file;
        pub(crate) fn g() { super::super::up::k(); renamed::r(); }
    "##;
    let (text, test_modules) = blank_test_items(&blank_comments_and_literals(code));
    assert_eq!(test_modules, ["tests_in_a_file"]);
    let module = |path: &str| -> Vec<String> { path.split('/').map(str::to_owned).collect() };
    let file = Source {
        shown: "src/m/n.rs".to_owned(),
        module: module("m/n"),
        text,
    };
    let mut modules = BTreeMap::new();
    for (i, path) in ["m/n", "a", "a/deeper", "p/q", "m/sibling"]
        .iter()
        .enumerate()
    {
        modules.insert(module(path), i);
    }
    modules.insert(vec![], 99);
    let found: Vec<(String, String)> = file_paths(&file, &modules)
        .into_iter()
        .map(|p| (p.written, p.absolute.join("/")))
        .collect();
    let expected = [
        ("crate::a", "a"),
        ("crate::a::B", "a/B"),
        ("crate::c::D", "c/D"),
        ("super::sibling::F", "m/sibling/F"),
        ("super::G", "m/G"),
        ("crate::p::q", "p/q"),
        ("crate::h::i", "h/i"),
        ("self::child::j", "m/n/child/j"),
        ("super::super::up::k", "up/k"),
        ("a::deeper::l", "a/deeper/l"),
        ("renamed::r", "p/q/r"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(w, a)| ((*w).to_owned(), (*a).to_owned()))
        .collect();
    assert_eq!(found, expected);
}

/// The circle check on a made-up crate: a parent using its own children is how modules are
/// built, siblings using each other are a circle.
#[test]
fn the_circle_check_tells_parents_from_siblings() {
    let source = |shown: &str, module: &str, code: &str| Source {
        shown: shown.to_owned(),
        module: module
            .split('/')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        text: code.chars().collect(),
    };
    let files = [
        source("src/lib.rs", "", "pub mod a;"),
        source(
            "src/a/mod.rs",
            "a",
            "mod x; mod y; pub use x::X; fn f() { self::y::g(); crate::a::x::h(); }",
        ),
        source(
            "src/a/x.rs",
            "a/x",
            "use super::y::Y; use crate::a::helper;",
        ),
        source("src/a/y.rs", "a/y", "use super::x::X;"),
    ];
    let mut problems = String::new();
    circle_problems(&files, &mut problems);
    assert_eq!(
        problems,
        "files in a circle: src/a/x.rs, src/a/y.rs\n  \
         src/a/x.rs:1: a/x.rs -> a/y.rs: super::y::Y\n  \
         src/a/y.rs:1: a/y.rs -> a/x.rs: super::x::X\n"
    );
}

/// One `src/` file: where it is, the module path it defines and its code with comments,
/// literals and `#[cfg(test)]` items blanked out (lines keep their numbers).
struct Source {
    /// `src/http/api.rs`
    shown: String,
    /// `["http", "api"]`; empty for `lib.rs`.
    module: Vec<String>,
    text: Vec<char>,
}

impl Source {
    fn top(&self) -> Option<&str> {
        self.module.first().map(String::as_str)
    }
}

fn read_sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let paths = crate::helpers::rust_files(&root.join("src"));
    let mut sources = Vec::new();
    let mut test_only = Vec::new();
    for path in paths {
        let rel = path.strip_prefix(root.join("src")).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        // The binary is a separate crate: its paths go through `latchkey::`.
        if parts == ["main.rs"] {
            continue;
        }
        let mut module: Vec<String> = parts.clone();
        let last = module.pop().unwrap();
        let stem = last.trim_end_matches(".rs");
        if parts != ["lib.rs"] && stem != "mod" {
            module.push(stem.to_owned());
        }
        let code = std::fs::read_to_string(&path).unwrap();
        let (text, test_modules) = blank_test_items(&blank_comments_and_literals(&code));
        for name in test_modules {
            let mut child = module.clone();
            child.push(name);
            test_only.push(child);
        }
        sources.push(Source {
            shown: format!("src/{}", parts.join("/")),
            module,
            text,
        });
    }
    // Files of `#[cfg(test)] mod x;` are test code too.
    sources.retain(|s| !test_only.iter().any(|t| s.module.starts_with(t)));
    assert!(sources.len() > 50, "the scan found the sources");
    sources
}

fn layer_of(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// (a) Uses of a higher layer, and top-level modules the table does not place.
fn layer_problems(files: &[Source], problems: &mut String) {
    let tops: BTreeSet<&str> = files.iter().filter_map(Source::top).collect();
    for file in files {
        if let [top] = &file.module[..]
            && layer_of(top).is_none()
        {
            let _ = writeln!(
                problems,
                "{}: `{top}`, a top-level module LAYERS in tests/api/layers.rs does not place: \
                 give it a layer",
                file.shown
            );
        }
    }
    for (module, _) in LAYERS {
        if !tops.contains(module) {
            let _ = writeln!(
                problems,
                "LAYERS in tests/api/layers.rs names `{module}`, which src/ does not have"
            );
        }
    }
    let modules = module_files(files);
    for file in files {
        let Some(from) = file.top() else { continue };
        let Some(from_layer) = layer_of(from) else {
            continue;
        };
        for path in file_paths(file, &modules) {
            let (target, _) = resolve(&modules, &path.absolute);
            // Items of the crate root (`lib.rs`) are below every layer.
            let Some(to) = target.first() else { continue };
            match layer_of(to) {
                Some(to_layer) if to_layer <= from_layer => {}
                Some(to_layer) => {
                    let _ = writeln!(
                        problems,
                        "{}:{}: {from} (layer {from_layer}) -> {to} (layer {to_layer}): {}",
                        file.shown, path.line, path.written
                    );
                }
                None => {
                    let _ = writeln!(
                        problems,
                        "{}:{}: {from} -> {to}, which LAYERS does not place: {}",
                        file.shown, path.line, path.written
                    );
                }
            }
        }
    }
}

/// (b) Circles between files, outside `CIRCLE_CHECK_SKIPS`.
fn circle_problems(files: &[Source], problems: &mut String) {
    let modules = module_files(files);
    let skipped = |f: &Source| f.top().is_some_and(|t| CIRCLE_CHECK_SKIPS.contains(&t));
    // from file -> to file -> (line, path as written) of the first use.
    let mut edges: BTreeMap<usize, BTreeMap<usize, (usize, String)>> = BTreeMap::new();
    for (from, file) in files.iter().enumerate() {
        if skipped(file) {
            continue;
        }
        for path in file_paths(file, &modules) {
            let (_, to) = resolve(&modules, &path.absolute);
            let target = &files[to];
            let own_child =
                target.module.len() > file.module.len() && target.module.starts_with(&file.module);
            if to == from || own_child || skipped(target) {
                continue;
            }
            edges
                .entry(from)
                .or_default()
                .entry(to)
                .or_insert((path.line, path.written));
        }
    }
    for component in strongly_connected(files.len(), &edges) {
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let names: Vec<&str> = component.iter().map(|&i| files[i].shown.as_str()).collect();
        let _ = writeln!(problems, "files in a circle: {}", names.join(", "));
        for &from in &component {
            for (to, (line, written)) in &edges[&from] {
                if members.contains(to) {
                    let _ = writeln!(
                        problems,
                        "  {}:{line}: {} -> {}: {written}",
                        files[from].shown,
                        files[from].shown.trim_start_matches("src/"),
                        files[*to].shown.trim_start_matches("src/"),
                    );
                }
            }
        }
    }
}

/// Tarjan's algorithm; only the components of more than one file, each sorted.
fn strongly_connected(
    n: usize,
    edges: &BTreeMap<usize, BTreeMap<usize, (usize, String)>>,
) -> Vec<Vec<usize>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<usize, BTreeMap<usize, (usize, String)>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            let targets: Vec<usize> = self
                .edges
                .get(&v)
                .map(|m| m.keys().copied().collect())
                .unwrap_or_default();
            for w in targets {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(i) if self.on_stack[w] => self.low[v] = self.low[v].min(i),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort_unstable();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if walk.index[v].is_none() {
            walk.visit(v);
        }
    }
    walk.found.sort();
    walk.found
}

/// Every module path that has its own file, and every inline module, mapped to its file.
fn module_files(files: &[Source]) -> BTreeMap<Vec<String>, usize> {
    let mut modules = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        modules.insert(file.module.clone(), i);
        for (_, _, inline) in inline_modules(&file.text) {
            let mut path = file.module.clone();
            path.extend(inline);
            modules.insert(path, i);
        }
    }
    modules
}

/// The module an absolute path names (its longest prefix that is a module) and its file.
fn resolve(modules: &BTreeMap<Vec<String>, usize>, absolute: &[String]) -> (Vec<String>, usize) {
    (0..=absolute.len())
        .rev()
        .find_map(|n| {
            modules
                .get(&absolute[..n])
                .map(|&file| (absolute[..n].to_vec(), file))
        })
        .expect("lib.rs is the module of every path")
}

/// A path as found in a file, made absolute.
struct FoundPath {
    line: usize,
    written: String,
    absolute: Vec<String>,
}

fn file_paths(file: &Source, modules: &BTreeMap<Vec<String>, usize>) -> Vec<FoundPath> {
    let inline = inline_modules(&file.text);
    // Inside `mod x { … }`, `self` and `super` start from `x`.
    let here_at = |at: usize| {
        let mut here = file.module.clone();
        for (start, end, names) in &inline {
            if (*start..*end).contains(&at) && file.module.len() + names.len() > here.len() {
                here = file.module.clone();
                here.extend(names.iter().cloned());
            }
        }
        here
    };
    let mut found = Vec::new();
    // Modules brought in by `use`, by the name they have here.
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (paths, spans) = paths_in(&file.text, &|s| matches!(s, "crate" | "self" | "super"));
    for p in paths {
        let Some(absolute) = absolute(&p.raw, &here_at(p.at)) else {
            continue;
        };
        if let Some(name) = &p.binds
            && resolve(modules, &absolute).0 == absolute
        {
            aliases.insert(name.clone(), absolute.clone());
        }
        found.push(FoundPath {
            line: p.line,
            written: p.written,
            absolute,
        });
    }
    // Paths through those: `use crate::mfa;` then `mfa::codes::grouped(…)`, outside the paths
    // read already (`use crate::{a::{self, b}}`).
    let (paths, _) = paths_in(&file.text, &|s| aliases.contains_key(s));
    for p in paths {
        if spans.iter().any(|span| span.contains(&p.at)) {
            continue;
        }
        let mut absolute = aliases[&p.raw[0]].clone();
        absolute.extend(p.raw[1..].iter().filter(|s| *s != "self").cloned());
        found.push(FoundPath {
            line: p.line,
            written: p.written,
            absolute,
        });
    }
    found
}

/// `crate::a::b`, `self::a`, `super::super::a` from inside module `here`, as a path from the
/// crate root; a `self` inside a use group names the group's prefix.
fn absolute(raw: &[String], here: &[String]) -> Option<Vec<String>> {
    let (mut path, rest) = match raw.first()?.as_str() {
        "crate" => (Vec::new(), &raw[1..]),
        "self" => (here.to_vec(), &raw[1..]),
        "super" => {
            let ups = raw.iter().take_while(|s| *s == "super").count();
            (
                here.get(..here.len().checked_sub(ups)?)?.to_vec(),
                &raw[ups..],
            )
        }
        _ => return None,
    };
    path.extend(rest.iter().filter(|s| *s != "self").cloned());
    Some(path)
}

/// A path from one of the roots looked for, one per leaf of a use tree.
struct RawPath {
    /// Character offset of its first segment.
    at: usize,
    /// Line of its last segment.
    line: usize,
    raw: Vec<String>,
    written: String,
    /// In a `use`, the name it brings into scope (`a` for `a::{self}`, `c` for `b as c`).
    binds: Option<String>,
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// (token, character offset, line)
type Tokens = [(Token, usize, usize)];

fn tokens(text: &[char]) -> Vec<(Token, usize, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < text.len() && (text[i].is_alphanumeric() || text[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(text[start..i].iter().collect()), start, line));
        } else if c == ':' && text.get(i + 1) == Some(&':') {
            out.push((Token::PathSep, i, line));
            i += 2;
        } else {
            out.push((Token::Punct(c), i, line));
            i += 1;
        }
    }
    out
}

/// Every path whose first segment `root` accepts (and is not itself after a `::`), and the
/// stretches of text they cover.
fn paths_in(
    text: &[char],
    root: &dyn Fn(&str) -> bool,
) -> (Vec<RawPath>, Vec<std::ops::Range<usize>>) {
    let tokens = tokens(text);
    let mut found = Vec::new();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let starts = matches!(&tokens[i].0, Token::Ident(s) if root(s))
            && tokens.get(i + 1).is_some_and(|t| t.0 == Token::PathSep)
            && (i == 0 || tokens[i - 1].0 != Token::PathSep);
        if starts {
            let in_use = i > 0 && tokens[i - 1].0 == Token::Ident("use".to_owned());
            let tree = Tree {
                tokens: &tokens,
                at: tokens[i].1,
                in_use,
            };
            let start = tokens[i].1;
            i = tree.read(i, &[], &mut found);
            spans.push(start..tokens.get(i).map_or(text.len(), |t| t.1));
        } else {
            i += 1;
        }
    }
    (found, spans)
}

/// A path or use tree being read.
struct Tree<'a> {
    tokens: &'a Tokens,
    at: usize,
    in_use: bool,
}

impl Tree<'_> {
    /// Reads the path (or group) at `i` under `prefix`; returns the index after it.
    fn read(&self, mut i: usize, prefix: &[String], found: &mut Vec<RawPath>) -> usize {
        let tokens = self.tokens;
        let mut segments = prefix.to_vec();
        let mut line = tokens[i].2;
        loop {
            match tokens.get(i).map(|t| &t.0) {
                Some(Token::Ident(s)) => {
                    segments.push(s.clone());
                    line = tokens[i].2;
                    i += 1;
                    if tokens.get(i).is_some_and(|t| t.0 == Token::PathSep) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                Some(Token::Punct('{')) => {
                    i += 1;
                    while i < tokens.len() && tokens[i].0 != Token::Punct('}') {
                        i = self.read(i, &segments, found);
                        // Past an `as name`, to the next tree or the end of the group.
                        while i < tokens.len() && !matches!(tokens[i].0, Token::Punct(',' | '}')) {
                            i += 1;
                        }
                        if tokens.get(i).is_some_and(|t| t.0 == Token::Punct(',')) {
                            i += 1;
                        }
                    }
                    return i + 1;
                }
                // `*`, generics or the end of the path.
                _ => break,
            }
        }
        let glob = tokens.get(i).is_some_and(|t| t.0 == Token::Punct('*'));
        if segments.is_empty() {
            return i;
        }
        let renamed = match (tokens.get(i), tokens.get(i + 1)) {
            (Some((Token::Ident(as_), ..)), Some((Token::Ident(name), ..))) if as_ == "as" => {
                Some(name.clone())
            }
            _ => None,
        };
        // `a::{self, B}` names `a` and `a::B`.
        let named: Vec<&str> = segments
            .iter()
            .enumerate()
            .filter(|(n, s)| *n == 0 || *s != "self")
            .map(|(_, s)| s.as_str())
            .collect();
        let binds = (self.in_use && !glob)
            .then(|| renamed.unwrap_or_else(|| named[named.len() - 1].to_owned()));
        found.push(RawPath {
            at: self.at,
            line,
            written: named.join("::"),
            raw: segments,
            binds,
        });
        i
    }
}

/// `mod name { … }` blocks: (start, end, names from the file's module), nested ones too.
fn inline_modules(text: &[char]) -> Vec<(usize, usize, Vec<String>)> {
    let tokens = tokens(text);
    let mut found = Vec::new();
    for w in tokens.windows(3) {
        if let (Token::Ident(m), Token::Ident(name), Token::Punct('{')) =
            (&w[0].0, &w[1].0, &w[2].0)
            && m == "mod"
        {
            let start = w[2].1;
            let end = matching_brace(text, start);
            found.push((start, end, name.clone()));
        }
    }
    found
        .iter()
        .map(|(start, end, name)| {
            let mut names: Vec<String> = found
                .iter()
                .filter(|(s, e, _)| s < start && end < e)
                .map(|(_, _, n)| n.clone())
                .collect();
            names.push(name.clone());
            (*start, *end, names)
        })
        .collect()
}

fn matching_brace(text: &[char], open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in text.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// Comments, string and character literals become spaces; line breaks stay.
fn blank_comments_and_literals(code: &str) -> Vec<char> {
    let src: Vec<char> = code.chars().collect();
    let mut out = src.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(src.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < src.len() {
        let next = src.get(i + 1).copied();
        if src[i] == '/' && next == Some('/') {
            let end = src[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(src.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if src[i] == '/' && next == Some('*') {
            let mut depth = 0;
            let mut j = i;
            while j < src.len() {
                if src[j] == '/' && src.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if src[j] == '*' && src.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if src[i] == 'r'
            && (i == 0 || !ident(src[i - 1]) || src[i - 1] == 'b' && (i < 2 || !ident(src[i - 2])))
            && {
                let hashes = src[i + 1..].iter().take_while(|&&c| c == '#').count();
                src.get(i + 1 + hashes) == Some(&'"')
            }
        {
            let hashes = src[i + 1..].iter().take_while(|&&c| c == '#').count();
            let body = i + 2 + hashes;
            let mut j = body;
            while j < src.len() {
                if src[j] == '"'
                    && src[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&c| c == '#')
                        .count()
                        == hashes
                {
                    break;
                }
                j += 1;
            }
            blank(&mut out, body, j);
            i = j + 1 + hashes;
        } else if src[i] == '"' {
            let mut j = i + 1;
            while j < src.len() && src[j] != '"' {
                j += if src[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else if src[i] == '\'' && (next == Some('\\') || src.get(i + 2) == Some(&'\'')) {
            // A character literal; a lifetime (`'a`) has no closing quote two places on.
            let mut j = i + 1;
            while j < src.len() && src[j] != '\'' {
                j += if src[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Items under `#[cfg(test)]` become spaces: test modules may reach anywhere. Also returns the
/// names of test modules in files of their own (`#[cfg(test)] mod x;`).
fn blank_test_items(text: &[char]) -> (Vec<char>, Vec<String>) {
    let mut out = text.to_vec();
    let mut test_modules = Vec::new();
    let mut i = 0;
    while i < out.len() {
        let Some(attr_end) = attribute_end(&out, i) else {
            i += 1;
            continue;
        };
        let attr: String = out[i..attr_end]
            .iter()
            .filter(|c| !c.is_whitespace())
            .collect();
        if attr != "#[cfg(test)]" {
            i = attr_end;
            continue;
        }
        // Further attributes, then the item up to its `;` or its closing brace.
        let mut j = attr_end;
        loop {
            while j < out.len() && out[j].is_whitespace() {
                j += 1;
            }
            match attribute_end(&out, j) {
                Some(end) => j = end,
                None => break,
            }
        }
        let item = j;
        let mut depth = 0i32;
        while j < out.len() {
            match out[j] {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                ';' if depth == 0 => break,
                '{' if depth == 0 => {
                    j = matching_brace(&out, j);
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let words: String = out[item..(j + 1).min(out.len())].iter().collect();
        let words: Vec<&str> = words
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty() && *w != "pub")
            .collect();
        if let ["mod", name] = words[..] {
            test_modules.push(name.to_owned());
        }
        for c in &mut out[i..(j + 1).min(text.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = j + 1;
    }
    (out, test_modules)
}

/// The end (exclusive) of an outer attribute `#[…]` starting at `i`.
fn attribute_end(text: &[char], i: usize) -> Option<usize> {
    if text.get(i) != Some(&'#') {
        return None;
    }
    let mut j = i + 1;
    while j < text.len() && text[j].is_whitespace() {
        j += 1;
    }
    if text.get(j) != Some(&'[') {
        return None;
    }
    let mut depth = 0;
    for (k, c) in text.iter().enumerate().skip(j) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}
