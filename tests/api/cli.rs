//! The binary itself: `latchkey serve` with no setup, configuration layering, graceful
//! shutdown on SIGTERM, and `latchkey migrate`.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use reqwest::Method;

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// Starts `latchkey serve` in `cwd`; returns the child and the URL it printed.
fn serve(
    cwd: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .env_remove("LATCHKEY_DATABASE_URL")
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "printed: {line}");
    (child, url)
}

fn terminate(mut child: std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

#[tokio::test]
async fn serve_with_no_setup_creates_its_data_dir_and_secret_and_stops_on_sigterm() {
    let cwd = tempfile::tempdir().unwrap();
    let (child, url) = serve(cwd.path(), &["--listen", "127.0.0.1:0"], &[]);
    let res = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(res.status(), 200);
    let data = cwd.path().join("latchkey-data");
    assert!(data.join("latchkey.db").exists());
    let mode = std::fs::metadata(data.join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    terminate(child);
}

#[tokio::test]
async fn flags_beat_environment_which_beats_the_config_file() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        cwd.path().join("latchkey.toml"),
        "listen = \"127.0.0.1:0\"\ndata_dir = \"from-file\"\n",
    )
    .unwrap();

    let (child, _) = serve(cwd.path(), &[], &[]);
    terminate(child);
    assert!(cwd.path().join("from-file/latchkey.db").exists());

    let (child, _) = serve(cwd.path(), &[], &[("LATCHKEY_DATA_DIR", "from-env")]);
    terminate(child);
    assert!(cwd.path().join("from-env/latchkey.db").exists());

    let (child, _) = serve(
        cwd.path(),
        &["--data-dir", "from-flag"],
        &[("LATCHKEY_DATA_DIR", "from-env-2")],
    );
    terminate(child);
    assert!(cwd.path().join("from-flag/latchkey.db").exists());
    assert!(!cwd.path().join("from-env-2").exists());
}

#[test]
fn migrate_applies_migrations_and_exits() {
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["migrate", "--data-dir", "d"])
        .env_remove("LATCHKEY_DATABASE_URL")
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Migrations applied (sqlite)"));
    assert!(cwd.path().join("d/latchkey.db").exists());
}

/// Runs `latchkey bench seed --users <users>` with `args`, in an empty working directory.
fn bench_seed(users: u32, args: &[&str]) -> std::process::Output {
    let cwd = tempfile::tempdir().unwrap();
    Command::new(BIN)
        .args(["bench", "seed", "--users", &users.to_string()])
        .args(args)
        .env_remove("LATCHKEY_DATABASE_URL")
        .env_remove("LATCHKEY_DATA_DIR")
        .current_dir(cwd.path())
        .output()
        .unwrap()
}

/// ASVS 4.0.3 V2.5.4: no default accounts. `bench seed` makes accounts that all share a known
/// password, so it refuses a database where real people have signed up, and adds nobody there.
/// It still tops up a database that only it has filled.
#[tokio::test]
async fn bench_seed_refuses_a_database_with_real_accounts() {
    let app = crate::helpers::spawn_app().await;
    app.signup("real-person").await;
    let data_dir = app.dir.path().join("data");
    let target = match &app.database_url {
        Some(url) => ["--database-url", url.as_str()],
        None => ["--data-dir", data_dir.to_str().unwrap()],
    };
    let out = bench_seed(2, &target);
    assert!(!out.status.success(), "seeding a database in use must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not make"), "{stderr}");
    let res = app
        .api(
            Method::POST,
            "/api/v1/login",
            None,
            Some(&serde_json::json!({"login": "seed0", "password": "benchmark password"})),
        )
        .await;
    assert_eq!(res.status(), 401);

    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_str().unwrap();
    let out = bench_seed(2, &["--data-dir", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bench_seed(3, &["--data-dir", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 accounts added; 3 in all"));
}

/// Runs `latchkey serve` in `cwd` expecting it to refuse to start; returns what it printed.
fn refused(cwd: &std::path::Path, args: &[&str], env: &[(&str, &std::path::Path)]) -> String {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .env_remove("LATCHKEY_DATABASE_URL")
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("latchkey serve started with {args:?} {env:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    stderr
}

/// Writes `text` to `path` with `mode`.
fn write_with_mode(path: &std::path::Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// ASVS 4.0.3 V2.10.3: the files holding the service's secrets (the server key, previous
/// keys, the database and SMTP URLs, a configuration file with either URL) must be readable by
/// their owner only. A server given one that others can read refuses to start and says how to
/// fix it, rather than keep running with a secret that is no longer its own.
#[test]
fn secret_files_readable_by_others_are_refused() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = cwd.path();
    let key = "ab".repeat(32);
    let assert_names = |stderr: String, path: &std::path::Path| {
        let path = path.display().to_string();
        assert!(stderr.contains(&format!("chmod 600 {path}")), "{stderr}");
    };

    let data = dir.join("data");
    let data = ["--data-dir", data.to_str().unwrap()];
    std::fs::create_dir(dir.join("data")).unwrap();
    let secret_key = dir.join("data/secret.key");
    write_with_mode(&secret_key, &key, 0o644);
    assert_names(refused(dir, &data, &[]), &secret_key);
    write_with_mode(&secret_key, &key, 0o640);
    assert_names(refused(dir, &data, &[]), &secret_key);
    std::fs::set_permissions(&secret_key, std::fs::Permissions::from_mode(0o600)).unwrap();

    let previous = dir.join("old.key");
    write_with_mode(&previous, &"cd".repeat(32), 0o644);
    let env = [("LATCHKEY_PREVIOUS_SECRET_KEY_FILES", previous.as_path())];
    assert_names(refused(dir, &data, &env), &previous);

    let url_file = dir.join("database-url");
    write_with_mode(&url_file, "sqlite://other.db", 0o644);
    let env = [("LATCHKEY_DATABASE_URL_FILE", url_file.as_path())];
    assert_names(refused(dir, &data, &env), &url_file);

    let smtp_file = dir.join("smtp-url");
    write_with_mode(&smtp_file, "smtp://user:pass@127.0.0.1:25", 0o604);
    let env = [("LATCHKEY_SMTP_URL_FILE", smtp_file.as_path())];
    assert_names(refused(dir, &data, &env), &smtp_file);

    let toml = dir.join("latchkey.toml");
    let text = "data_dir = \"data\"\nsmtp_url = \"smtp://user:pass@127.0.0.1:25\"\n";
    write_with_mode(&toml, text, 0o644);
    let stderr = refused(dir, &["--config", toml.to_str().unwrap()], &[]);
    assert_names(stderr, &toml);
    assert!(
        !dir.join("data/latchkey.db").exists(),
        "refused before opening anything"
    );
}

/// ASVS 4.0.3 V6.4.1: a vault (or Kubernetes, or systemd credentials) can hand the server its
/// secrets as files outside the data directory, so they stay out of its backups; nothing is
/// then created or read in the data directory in their place.
#[tokio::test]
async fn secrets_can_come_from_files_a_vault_mounts() {
    let cwd = tempfile::tempdir().unwrap();
    let vault = cwd.path().join("vault");
    std::fs::create_dir(&vault).unwrap();
    let key = vault.join("secret.key");
    write_with_mode(&key, &"ef".repeat(32), 0o400);
    let db = cwd.path().join("other.db");
    let url_file = vault.join("database-url");
    write_with_mode(&url_file, &format!("sqlite://{}\n", db.display()), 0o400);

    let (child, url) = serve(
        cwd.path(),
        &["--listen", "127.0.0.1:0", "--data-dir", "data"],
        &[
            ("LATCHKEY_SECRET_KEY_FILE", key.to_str().unwrap()),
            ("LATCHKEY_DATABASE_URL_FILE", url_file.to_str().unwrap()),
        ],
    );
    let res = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(db.exists());
    let data = cwd.path().join("data");
    assert!(!data.join("latchkey.db").exists());
    assert!(!data.join("secret.key").exists());
    terminate(child);
}
