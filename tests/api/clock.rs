//! The server reads the time only from the `Clock` in its state, which tests move forward:
//! a use-case that asked the system instead would ignore the time a test lets pass, and expiry
//! would go untested. The CLI (`client/`) and the bench seeder run without a server, on the
//! system clock through `Clock::default()`; the server makes its one clock in `app.rs`.

use std::path::{Path, PathBuf};

const SYSTEM_TIME: &[&str] = &["now_utc()", "SystemTime::now", "Utc::now", "Local::now"];
const OWN_CLOCK_ALLOWED: &[&str] = &["src/app.rs", "src/clock.rs", "src/client/", "src/bench/"];

#[test]
fn the_server_reads_the_time_only_from_its_clock() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    assert!(
        files.len() > 50,
        "src/ not found from {:?}",
        std::env::current_dir()
    );
    let mut problems = String::new();
    for path in files {
        let shown = path.display().to_string().replace('\\', "/");
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let system = shown != "src/clock.rs" && SYSTEM_TIME.iter().any(|s| line.contains(s));
            let own = line.contains("Clock::default()")
                && !OWN_CLOCK_ALLOWED.iter().any(|a| shown.starts_with(a));
            if system || own {
                problems.push_str(&format!("{shown}:{}: {}\n", n + 1, line.trim()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "read the time from `state.clock` instead:\n{problems}"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
