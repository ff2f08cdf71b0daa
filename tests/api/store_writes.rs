//! The session cache stays right by construction only while every write to `users` and
//! `sessions` goes through `src/store/writes/`, whose transactions evict the accounts they
//! change (see `src/store/cache.rs`). This reads every string literal in `src/` and fails on
//! SQL that writes either table anywhere else. Migrations (`migrations/`) are not in `src/`.
//!
//! What it cannot see: SQL assembled from pieces (`"UPDATE " + table`). A statement whose table
//! is a placeholder (`UPDATE {} SET`) must be listed in `DYNAMIC_WRITES` with the reason it
//! never changes what a session lookup reads.

use std::path::Path;

/// The one module allowed to write the tables.
const WRITES: &str = "src/store/writes/";

/// The tables a session lookup reads.
const TABLES: [&str; 2] = ["users", "sessions"];

/// Files whose SQL writes a table named at run time, and why that is no hole.
const DYNAMIC_WRITES: [(&str, &str); 1] = [(
    "src/store/sealing.rs",
    "reseals columns in place: the values a lookup opens stay the same",
)];

/// The string literals of Rust source `code` (plain, raw, byte and C strings), each with the
/// line it starts on; comments and character literals are skipped.
fn string_literals(code: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            let start = line;
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    // An escape (or a line continuation) separates words like a space.
                    text.push(' ');
                    i += 1;
                } else {
                    text.push(chars[i]);
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
            found.push((start, text));
        } else if c == '\'' {
            // A character literal ('x', '\'', '"'), or else a lifetime or label.
            if at(i + 1) == '\\' {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let begin = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[begin..i].iter().collect();
            let hashes = chars[i..].iter().take_while(|&&h| h == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                let start = line;
                i += hashes + 1;
                let mut text = String::new();
                loop {
                    if i >= chars.len() {
                        break;
                    }
                    if chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#') {
                        i += 1 + hashes;
                        break;
                    }
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    text.push(chars[i]);
                    i += 1;
                }
                found.push((start, text));
            }
        } else {
            i += 1;
        }
    }
    found
}

/// SQL's words, lower-cased, and `{` (a format placeholder) as a word of its own.
fn words(sql: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in sql.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.extend(c.to_lowercase());
        } else {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if c == '{' {
                words.push("{".to_owned());
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The tables `sql` writes: what follows `INSERT INTO` (and `REPLACE`/`MERGE INTO`), `UPDATE`
/// (`UPDATE OR REPLACE`), `DELETE FROM` or `TRUNCATE`, past `ONLY` and a `public.` schema.
/// A placeholder comes back as `{`.
fn written_tables(sql: &str) -> Vec<String> {
    let words = words(sql);
    let mut tables = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let after = match word.as_str() {
            "into" | "update" | "truncate" => i + 1,
            "delete" if words.get(i + 1).is_some_and(|w| w == "from") => i + 2,
            _ => continue,
        };
        let skip = [
            "only", "public", "table", "or", "replace", "rollback", "abort", "fail", "ignore",
        ];
        let table = words[after.min(words.len())..]
            .iter()
            .find(|w| !skip.contains(&w.as_str()));
        if let Some(table) = table {
            tables.push(table.clone());
        }
    }
    tables
}

/// Every write to a lookup's tables in `src/`, as `file:line: table`, and the files with a
/// write to a table named at run time.
fn writes_in_src() -> (Vec<String>, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = crate::helpers::rust_files(&root.join("src"));
    let (mut writes, mut dynamic) = (Vec::new(), Vec::new());
    for path in files {
        let name = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let code = std::fs::read_to_string(&path).unwrap();
        for (line, literal) in string_literals(&code) {
            for table in written_tables(&literal) {
                if TABLES.contains(&table.as_str()) {
                    writes.push(format!("{name}:{line}: {table}"));
                } else if table == "{" && !dynamic.contains(&name) {
                    dynamic.push(name.clone());
                }
            }
        }
    }
    (writes, dynamic)
}

/// Issue 14: SQL writing `users` or `sessions` lives in `src/store/writes/` only, so no write
/// can skip the eviction its transaction does at commit.
#[test]
fn only_the_store_writes_module_writes_users_or_sessions() {
    let (writes, dynamic) = writes_in_src();
    let (ours, stray): (Vec<_>, Vec<_>) = writes.into_iter().partition(|w| w.starts_with(WRITES));
    assert!(
        stray.is_empty(),
        "SQL writing `users` or `sessions` outside {WRITES}; move it there, where the \
         transaction evicts the accounts it changes:\n{}",
        stray.join("\n")
    );
    // The scan sees the writes that are there, so an empty list above means something.
    for table in TABLES {
        for sql in [
            format!("INSERT INTO {table} (id)"),
            format!("update {table} set"),
            format!("DELETE\n FROM {table}"),
        ] {
            assert_eq!(written_tables(&sql), [table], "{sql}");
        }
        assert!(
            ours.iter()
                .filter(|w| w.ends_with(&format!(": {table}")))
                .count()
                >= 3,
            "the scan finds the writes to {table} in {WRITES}: {ours:?}"
        );
    }
    let unexplained: Vec<_> = dynamic
        .iter()
        .filter(|f| !DYNAMIC_WRITES.iter().any(|(allowed, _)| allowed == f))
        .collect();
    assert!(
        unexplained.is_empty(),
        "SQL writing a table named at run time; if it can write `users` or `sessions`, move it \
         to {WRITES}, else list it in DYNAMIC_WRITES with the reason: {unexplained:?}"
    );
}

#[test]
fn the_scan_reads_every_kind_of_string_and_skips_comments() {
    let code = r####"
        // "UPDATE users SET x = 1" in a comment
        /* "DELETE FROM sessions" /* nested */ "INSERT INTO users" */
        let a = '"'; let b = '\''; fn f<'a>(x: &'a str) {}
        let c = "update
                 Users set x = 1";
        let d = r#"DELETE   FROM "sessions" WHERE id = $1"#;
        let e = b"insert into\tusers (id) values (1)";
        let f = "INSERT INTO users_archive (id) VALUES (1); UPDATE ONLY public.sessions SET a = 1";
        let g = format!("UPDATE {} SET a = 1", table);
    "####;
    let literals = string_literals(code);
    let written: Vec<(usize, Vec<String>)> = literals
        .iter()
        .map(|(line, sql)| (*line, written_tables(sql)))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let expect = |line: usize, tables: &[&str]| {
        (
            line,
            tables.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        written,
        [
            expect(5, &["users"]),
            expect(7, &["sessions"]),
            expect(8, &["users"]),
            expect(9, &["users_archive", "sessions"]),
            expect(10, &["{"]),
        ]
    );
}
