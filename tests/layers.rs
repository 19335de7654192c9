//! The shape ARCHITECTURE.md promises, checked on the source: dependencies between the
//! modules of `src/` point one way (no module reaches one that reaches back), and the rooms
//! of `routes/` do not import each other in a loop. A `use` or a path naming `crate::x` (or a
//! sibling room through `super::`) is an arrow; comments and unit tests are not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments and its unit tests.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `prefix` followed by an identifier: the identifiers.
fn named_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .filter(|(at, _)| {
            !code[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        })
        .filter_map(|(at, _)| {
            let rest = &code[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .collect()
}

/// A module that can reach itself again, if any (depth-first).
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn graphs() -> (Graph, Graph) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let (mut modules, mut rooms) = (Graph::new(), Graph::new());
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let parts: Vec<String> = relative
            .with_extension("")
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts == ["lib"] || parts == ["main"] || parts[0] == "cli" {
            continue;
        }
        let code = code(&std::fs::read_to_string(&file).unwrap());
        let module = parts[0].clone();
        let arrows = modules.entry(module.clone()).or_default();
        for named in named_after(&code, "crate::") {
            if named != module {
                arrows.insert(named.to_string());
            }
        }
        // The rooms of routes/: a file at routes/<room>.rs or inside routes/<room>/.
        if module == "routes" && parts.len() >= 2 && parts[1] != "mod" {
            let room = parts[1].clone();
            let into_parent = parts.len() == 2 || (parts.len() == 3 && parts[2] == "mod");
            let mut named = named_after(&code, "crate::routes::");
            if into_parent {
                named.extend(named_after(&code, "super::"));
            }
            let arrows = rooms.entry(room.clone()).or_default();
            for other in named {
                let is_room = src.join("routes").join(format!("{other}.rs")).exists()
                    || src.join("routes").join(other).is_dir();
                if other != room && is_room {
                    arrows.insert(other.to_string());
                }
            }
        }
    }
    (modules, rooms)
}

#[test]
fn modules_depend_one_way() {
    let (modules, _) = graphs();
    assert!(modules.len() > 15, "the modules of src/ were found");
    assert!(
        modules["routes"].contains("store") && modules["accounts"].contains("store"),
        "arrows are seen"
    );
    assert_eq!(cycle(&modules), None, "a loop between modules of src/");
}

#[test]
fn rooms_do_not_import_each_other_in_a_loop() {
    let (_, rooms) = graphs();
    assert!(rooms.contains_key("login") && rooms.contains_key("admin"));
    assert!(rooms["login"].contains("first_login"), "arrows are seen");
    assert_eq!(cycle(&rooms), None, "a loop between rooms of routes/");
}

#[test]
fn a_loop_is_found() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_string(), BTreeSet::from([to.to_string()])))
        .collect();
    assert_eq!(
        cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
