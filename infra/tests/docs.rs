//! The docs against the code: the README's configuration table names each environment
//! variable the functions read, once; every path a doc cites exists; the README's layout
//! names every script.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    infra::generate::default_root()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

// ---- the configuration table ----

/// The variables each row of the README's configuration table names, row by row.
fn configuration_rows(readme: &str) -> Vec<Vec<String>> {
    let section = readme.split("## Configuration").nth(1).expect("the README has a Configuration section");
    let rows = section.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|'));
    rows.filter_map(|row| row.split('|').nth(1).map(variable_names)).filter(|names| !names.is_empty()).collect()
}

/// `` `AWS_REGION` (else `AWS_DEFAULT_REGION`) `` → both names.
fn variable_names(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).filter(|s| is_variable_name(s)).map(str::to_owned).collect()
}

fn is_variable_name(s: &str) -> bool {
    s.len() > 1
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Variables named in more than one row.
fn named_twice(rows: &[Vec<String>]) -> Vec<String> {
    let mut rows_naming: BTreeMap<&str, usize> = BTreeMap::new();
    for name in rows.iter().flatten() {
        *rows_naming.entry(name).or_default() += 1;
    }
    rows_naming.into_iter().filter(|&(_, n)| n > 1).map(|(name, _)| name.to_owned()).collect()
}

/// What the functions' start-up asks its lookup closures for: the configuration on a local
/// stage, then the AWS settings with nothing set (the region lookups) and with everything set
/// (credentials and per-service endpoints, whose names are computed).
fn variables_looked_up() -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    let record = &asked;
    let lookup = move |answer: fn(&str) -> Option<String>| {
        move |name: &str| {
            record.borrow_mut().insert(name.to_owned());
            answer(name)
        }
    };
    let config = shared::config::Config::from_lookup(lookup(|name| (name == "STAGE").then(|| "local".into())))
        .expect("a local stage needs nothing but STAGE");
    let _ = shared::App::lambda_sdk_config(&config, lookup(|_| None));
    let set = |name: &str| match name {
        // Read as a PEM file at start-up.
        "EXTRA_CA_FILE" => {
            Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/auth/tests/fixtures/tls/ca.pem").into())
        }
        _ => Some("x".into()),
    };
    shared::App::lambda_sdk_config(&config, lookup(set)).expect("every variable set is enough");
    asked.into_inner()
}

/// Variables read straight from the process (`std::env::var("RUST_LOG")`, `is_set("SSL_CERT_DIR")`):
/// a call of a lower-case function whose first argument is an upper-case name with an
/// underscore, outside `#[cfg(test)]`, in the crates the functions are built from.
fn variables_read_directly() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for dir in crates_the_functions_build_from() {
        for file in rust_files(&dir.join("src")) {
            let text = read(&file);
            names.extend(env_reads(text.split("#[cfg(test)]").next().unwrap_or_default()));
        }
    }
    names
}

fn env_reads(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("(\"") {
        let before = &code[..at];
        let function = &before[before.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_').len()..];
        let called = function.starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
        let literal = code[at + 2..].split('"').next().unwrap_or_default();
        if called && is_variable_name(literal) && literal.contains('_') {
            names.push(literal.to_owned());
        }
    }
    names
}

/// The function crates and every workspace crate they depend on by path, from `cargo metadata`.
fn crates_the_functions_build_from() -> Vec<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let dir_of = |package: &Value| Path::new(package["manifest_path"].as_str().unwrap()).parent().unwrap().to_owned();
    let packages = metadata["packages"].as_array().unwrap();
    let mut todo: Vec<PathBuf> =
        packages.iter().map(dir_of).filter(|d| d.starts_with(root().join("functions"))).collect();
    assert!(!todo.is_empty(), "cargo metadata lists no function crate");
    let mut seen = BTreeSet::new();
    while let Some(dir) = todo.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        let package = packages.iter().find(|p| dir_of(p) == dir).expect("a workspace package");
        let normal = package["dependencies"].as_array().unwrap().iter().filter(|d| d["kind"].is_null());
        todo.extend(normal.filter_map(|d| d["path"].as_str().map(PathBuf::from)));
    }
    seen.into_iter().collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_readme_configuration_table_names_no_variable_in_two_rows() {
    let rows = configuration_rows(&read(&root().join("README.md")));
    assert!(rows.len() > 5, "the table was not found: {rows:?}");
    assert_eq!(
        named_twice(&rows),
        Vec::<String>::new(),
        "variables in more than one row of the README's Configuration"
    );
}

#[test]
fn the_readme_configuration_table_names_every_variable_the_functions_read_and_no_other() {
    let documented: BTreeSet<String> =
        configuration_rows(&read(&root().join("README.md"))).into_iter().flatten().collect();
    let read: BTreeSet<String> = variables_looked_up().into_iter().chain(variables_read_directly()).collect();
    let missing: Vec<_> = read.difference(&documented).collect();
    let unread: Vec<_> = documented.difference(&read).collect();
    assert!(missing.is_empty(), "the functions read these, the README's Configuration table lacks them: {missing:?}");
    assert!(unread.is_empty(), "the README's Configuration table names these, no function reads them: {unread:?}");
}

#[test]
fn the_table_checks_see_a_repeated_row_and_a_direct_read() {
    let rows = configuration_rows(
        "## Configuration\n\n| variable | x |\n|---|---|\n| `STAGE` | a |\n| `TABLE_PREFIX`, `STAGE` | b |\n",
    );
    assert_eq!(named_twice(&rows), ["STAGE"]);
    let code =
        r#"let f = log_filter(std::env::var("RUST_LOG").ok()); is_set("SSL_CERT_DIR"); Some("NOT_FOUND"); key("SSM")"#;
    assert_eq!(env_reads(code), ["RUST_LOG", "SSL_CERT_DIR"]);
}

// ---- cited paths ----

/// The top-level docs and those under infra/, bench/ and clients/.
fn docs() -> Vec<PathBuf> {
    let mut docs = Vec::new();
    for dir in [root(), root().join("infra"), root().join("bench"), root().join("clients")] {
        docs.extend(markdown_files(&dir, dir != root()));
    }
    assert!(docs.len() >= 4, "found only {docs:?}");
    docs
}

fn markdown_files(dir: &Path, recurse: bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && recurse && !["node_modules", "target"].contains(&name.as_ref()) {
            files.extend(markdown_files(&path, true));
        } else if name.ends_with(".md") {
            files.push(path);
        }
    }
    files
}

/// Paths a doc cites in code spans and links: those starting with a top-level entry of the
/// repository, and any other `a/b.ext` except crate-relative `src/…` (said of a named crate).
/// Templates (`functions/<route>/`), globs, absolute paths, URLs, the contract outside the
/// repository (`../shared/…`) and build output (`target/`, `.local/`, `.aws-sam/`) are not paths to check.
fn cited_paths(doc: &str, top_level: &BTreeSet<String>) -> Vec<String> {
    // Line by line, so a code fence's backticks do not pair with an inline span's.
    let prose = doc.lines().filter(|line| !line.trim_start().starts_with("```"));
    let spans = prose.flat_map(|line| line.split('`').skip(1).step_by(2));
    let links = doc.split("](").skip(1).filter_map(|rest| rest.split(')').next());
    let mut paths = Vec::new();
    for span in spans.chain(links) {
        let path = span.split('#').next().unwrap_or_default();
        let path = path.rsplit_once(':').filter(|(_, line)| line.parse::<u32>().is_ok()).map_or(path, |(p, _)| p);
        let template = path.contains(|c: char| c.is_whitespace() || "<>{}*…$|=@'\"".contains(c));
        let elsewhere = ["/", "../", "http:", "https:", "target/", ".local/", ".aws-sam/", "src/"]
            .iter()
            .any(|p| path.starts_with(p));
        if template || elsewhere || !path.contains('/') {
            continue;
        }
        let first = path.split('/').next().unwrap_or_default();
        let has_extension = path.rsplit('/').next().is_some_and(|file| file.contains('.') && !file.starts_with('.'));
        if top_level.contains(first) || has_extension {
            paths.push(path.to_owned());
        }
    }
    paths
}

fn top_level_entries() -> BTreeSet<String> {
    std::fs::read_dir(root()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn every_path_a_doc_cites_exists() {
    let top_level = top_level_entries();
    let mut missing = Vec::new();
    for doc in docs() {
        let dir = doc.parent().unwrap();
        for path in cited_paths(&read(&doc), &top_level) {
            if !root().join(&path).exists() && !dir.join(&path).exists() {
                missing.push(format!("{}: {path}", doc.strip_prefix(root()).unwrap().display()));
            }
        }
    }
    assert!(missing.is_empty(), "docs cite paths that do not exist:\n{}", missing.join("\n"));
}

#[test]
fn a_cited_path_is_found_in_a_code_span_or_a_link_and_templates_are_not() {
    let top_level = top_level_entries();
    let doc = "See `shared/src/store/staff.rs`, [the bench](bench/src/gone.rs#L3), `scripts/test.sh:12`, \
               `functions/<route>/src/lib.rs`, `src/lib.rs`, `openapi/*.json`, `text/plain` and `../shared/contract/x.md`.";
    assert_eq!(cited_paths(doc, &top_level), ["shared/src/store/staff.rs", "scripts/test.sh", "bench/src/gone.rs"]);
}

// ---- the layout ----

#[test]
fn the_readme_layout_names_every_script() {
    let readme = read(&root().join("README.md"));
    let row = readme.lines().find(|l| l.starts_with("| `scripts/` |")).expect("the README's layout has a scripts/ row");
    let scripts: Vec<String> = std::fs::read_dir(root().join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let unnamed: Vec<&String> = scripts.iter().filter(|s| !row.contains(&format!("`{s}`"))).collect();
    assert!(unnamed.is_empty(), "the README's layout does not name {unnamed:?}");
}
