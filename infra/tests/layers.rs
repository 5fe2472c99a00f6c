//! The layers of ARCHITECTURE.md, held two ways. Between crates, Cargo refuses a circle and a
//! crate cannot name one it does not depend on, so the layer crates' manifests must list only
//! lower layers. Inside each crate, the files' own imports (`crate::…`, `super::…`) must form
//! no circle, which the compiler would allow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer crates, lowest first: each may depend only on those before it.
const LAYERS: [(&str, &str); 5] = [
    ("halo-domain", "shared/domain"),
    ("halo-telemetry", "shared/telemetry"),
    ("halo-store", "shared/store"),
    ("halo-auth", "shared/auth"),
    ("shared", "shared"),
];

fn root() -> PathBuf {
    infra::generate::default_root()
}

#[test]
fn layer_crates_depend_only_on_the_layers_below_them() {
    for (at, (name, dir)) in LAYERS.iter().enumerate() {
        let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
        for (above, _) in &LAYERS[at..] {
            let listed = manifest.lines().any(|line| line.trim_start().starts_with(&format!("{above}.")));
            assert!(!listed || above == name, "{name} depends on {above}, a layer above it");
        }
    }
}

#[test]
fn no_crate_has_an_import_circle_among_its_files() {
    let mut crates: Vec<PathBuf> = LAYERS.iter().map(|(_, dir)| root().join(dir)).collect();
    crates.extend(["infra", "devkit", "bench", "tests"].map(|dir| root().join(dir)));
    crates.extend(std::fs::read_dir(root().join("functions")).unwrap().map(|entry| entry.unwrap().path()));
    for dir in crates {
        let src = if dir.ends_with("tests") { dir.join("api") } else { dir.join("src") };
        let graph = imports(&src);
        if let Some(circle) = find_circle(&graph) {
            panic!("{}: files import each other in a circle: {}", dir.display(), circle.join(" -> "));
        }
    }
}

#[test]
fn the_circle_finder_finds_a_circle_and_passes_a_chain() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            g.entry(from.to_string()).or_default().insert(to.to_string());
        }
        g
    };
    assert_eq!(find_circle(&graph(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(find_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap().len(), 4);
}

/// Module path (`store::audit`) → the module paths its file names in code.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(src);
    let modules: BTreeMap<String, PathBuf> = files.iter().map(|f| (module_of(src, f), f.clone())).collect();
    let root_items = modules.get("").map(|root| defined_items(&code_only(&std::fs::read_to_string(root).unwrap())));
    let root_items = root_items.unwrap_or_default();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = code_only(&std::fs::read_to_string(file).unwrap());
        let mut named = BTreeSet::new();
        for path in referenced_paths(&text, module, &modules) {
            let target = match longest_module(&modules, &path) {
                // A path into the root names the root only for an item defined there, not for
                // what it re-exports from another crate.
                Some(root) if root.is_empty() => path.first().filter(|item| root_items.contains(*item)).map(|_| root),
                other => other,
            };
            named.extend(target.filter(|t| t != module));
        }
        graph.insert(module.clone(), named);
    }
    graph
}

/// The names of the items a file defines at its top level.
fn defined_items(code: &str) -> BTreeSet<String> {
    let keywords = ["struct", "enum", "fn", "type", "const", "trait", "static"];
    let words: Vec<&str> = code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    words.windows(2).filter(|w| keywords.contains(&w[0])).map(|w| w[1].to_owned()).collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && !path.starts_with(dir.join("bin")) {
            files.push(path);
        }
    }
    files
}

/// `src/lib.rs` and `src/main.rs` are the root (""), `src/a/mod.rs` and `src/a.rs` are `a`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<&str> = relative.iter().map(|p| p.to_str().unwrap()).collect();
    let parts = match parts.as_slice() {
        [only] if ["lib", "main"].contains(only) => &[][..],
        [rest @ .., "mod"] => rest,
        all => all,
    };
    parts.join("::")
}

/// The text without comments (doc links are not imports) and without string literals.
fn code_only(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or_default();
        let mut in_string = false;
        for c in line.chars() {
            if c == '"' {
                in_string = !in_string;
            } else if !in_string {
                code.push(c);
            }
        }
        code.push('\n');
    }
    code
}

/// Every `crate::a::b`, `super::a`, `use crate::{a, b::c}` and `child::x` (a submodule of this
/// file's, named relatively) in `text`, as absolute module paths.
fn referenced_paths(text: &str, module: &str, modules: &BTreeMap<String, PathBuf>) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let here: Vec<String> = module.split("::").filter(|p| !p.is_empty()).map(str::to_owned).collect();
    let mut prefixes =
        vec![("crate::".to_owned(), Vec::new()), ("super::".to_owned(), here[..here.len().saturating_sub(1)].to_vec())];
    for child in modules.keys().filter_map(|m| {
        let rest = if module.is_empty() { Some(m.as_str()) } else { m.strip_prefix(&format!("{module}::")) };
        rest.filter(|r| !r.is_empty() && !r.contains("::"))
    }) {
        let mut base = here.clone();
        base.push(child.to_owned());
        prefixes.push((format!("{child}::"), base));
    }
    for (prefix, base) in prefixes {
        for (at, _) in text.match_indices(prefix.as_str()) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &text[at + prefix.len()..];
            for tail in expand(rest) {
                let mut path = base.clone();
                path.extend(tail);
                paths.push(path);
            }
        }
    }
    paths
}

/// `a::b::X` → [[a, b, X]]; `{a, b::c}` → [[a], [b, c]] (one level of braces is enough here).
fn expand(rest: &str) -> Vec<Vec<String>> {
    let segment =
        |s: &str| -> Vec<String> { s.split("::").map(|p| p.trim().to_owned()).take_while(|p| is_ident(p)).collect() };
    if let Some(group) = rest.strip_prefix('{') {
        let inner = group.split('}').next().unwrap_or_default();
        return inner.split(',').map(segment).filter(|p| !p.is_empty()).collect();
    }
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
    let mut path = segment(rest[..end].trim_end_matches(':'));
    if rest[end..].starts_with('{') {
        for mut tail in expand(&rest[end..]) {
            let mut full = path.clone();
            full.append(&mut tail);
            return vec![full];
        }
    }
    if path.is_empty() { Vec::new() } else { vec![std::mem::take(&mut path)] }
}

fn is_ident(part: &str) -> bool {
    !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_') && part != "self"
}

/// The longest prefix of `path` that is a module of this crate.
fn longest_module(modules: &BTreeMap<String, PathBuf>, path: &[String]) -> Option<String> {
    (0..=path.len()).rev().map(|n| path[..n].join("::")).find(|m| modules.contains_key(m))
}

/// A circle of the graph as a path that starts and ends at the same module, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut circle = stack[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, stack, done) {
                return Some(circle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}
