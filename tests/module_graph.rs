//! The modules form no circle: each owns one concept and depends only on what lies below it
//! (issue 26: config, shard, resume, totals and tables were a circle of seven files, and the
//! generator one of four). The graph is read from the sources' paths (`crate::a::b`,
//! `super::c`, `self::d`, outside `#[cfg(test)]`), one node per file; a circle is named with
//! its files. The reader is textual: a path named in a comment counts as an edge (a false
//! circle fails loudly, it never hides one), and a file is read up to its first
//! `#[cfg(test)]`, where this project keeps its test modules.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Module path ("tables::kms_calls") -> source text without its tests.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(src)
                .expect("under src")
                .with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            let text = fs::read_to_string(&path).expect("readable source");
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
            // lib.rs mounts the generator's folder `gen` as `synth` (a reserved word).
            out.insert(parts.join("::"), code.replace("crate::synth", "crate::gen"));
        }
    }
    out
}

/// The longest module of `names` that `path` starts with.
fn owner(names: &BTreeSet<String>, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    while !parts.is_empty() {
        let m = parts.join("::");
        if names.contains(&m) {
            return Some(m);
        }
        parts.pop();
    }
    None
}

/// Every path after `prefix` in `code`, a `{a, b::c}` group expanded one level.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        if code[..at].chars().next_back().is_some_and(ident) {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let end = rest
            .find(|c: char| !(ident(c) || c == ':'))
            .unwrap_or(rest.len());
        let base = rest[..end].trim_end_matches(':').to_owned();
        out.push(base.clone());
        if rest[end..].starts_with('{') && rest[..end].ends_with("::") {
            let group = &rest[end + 1..];
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let item = item.trim().split([' ', '{']).next().unwrap_or("");
                if !item.is_empty() {
                    out.push(format!("{base}::{item}"));
                }
            }
        }
    }
    out
}

fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let names: BTreeSet<String> = mods.keys().cloned().collect();
    let mut g = BTreeMap::new();
    for (m, code) in &mods {
        let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
        let mut deps = BTreeSet::new();
        let mut add = |path: String| {
            if let Some(o) = owner(&names, &path).filter(|o| o != m) {
                deps.insert(o);
            }
        };
        for p in paths_after(code, "crate::") {
            add(p);
        }
        for p in paths_after(code, "super::") {
            add(if parent.is_empty() {
                p
            } else {
                format!("{parent}::{p}")
            });
        }
        for p in paths_after(code, "self::") {
            add(format!("{m}::{p}"));
        }
        g.insert(m.clone(), deps);
    }
    g
}

/// Strongly connected components of more than one module (Tarjan).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'g> {
        g: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(t: &mut T<'g>, v: &'g str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                c.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                c.sort();
                t.out.push(c);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let g = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(g.len() > 40, "read only {} modules", g.len());
    // The reader sees the edges it must: a guard against a parser that finds none.
    assert!(g["pipeline"].contains("tables"), "{:?}", g["pipeline"]);
    assert!(
        g["gen::truth"].contains("gen::rules"),
        "{:?}",
        g["gen::truth"]
    );
    let found = circles(&g);
    assert!(found.is_empty(), "modules in a circle: {found:?}");
}

#[test]
fn a_circle_is_found_and_named() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let edge = |g: &mut BTreeMap<String, BTreeSet<String>>, a: &str, b: &str| {
        g.entry(a.into()).or_default().insert(b.into());
        g.entry(b.into()).or_default();
    };
    edge(&mut g, "config", "shard");
    edge(&mut g, "shard", "resume");
    edge(&mut g, "resume", "config");
    edge(&mut g, "resume", "tables");
    assert_eq!(circles(&g), vec![vec!["config", "resume", "shard"]]);
}
