//! The documents that name tests stay true: every test SECURITY.md and
//! ARCHITECTURE.md cite as proof exists.

use std::path::Path;

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("node_modules") && !path.ends_with(".venv") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_test_the_documents_cite_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut code = String::new();
    sources(&root.join("src"), &mut code);
    sources(&root.join("tests"), &mut code);
    for doc in ["SECURITY.md", "ARCHITECTURE.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        // Test names are backticked snake_case with several words.
        let cited: Vec<&str> = text
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| {
                name.matches('_').count() >= 3
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .collect();
        assert!(
            !cited.is_empty() || doc != "SECURITY.md",
            "{doc} cites no tests"
        );
        let missing: Vec<&&str> = cited
            .iter()
            .filter(|name| !code.contains(&format!("fn {name}(")))
            .collect();
        assert!(
            missing.is_empty(),
            "{doc} cites tests that do not exist: {missing:?}"
        );
    }
}
