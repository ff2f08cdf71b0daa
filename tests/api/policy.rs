//! Rules about the code itself, checked on every run so a later change cannot quietly break
//! them: where randomness and the time come from, and which weak algorithms may be linked at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every `src/` file with its comment lines dropped, so prose may name what code must not.
fn sources() -> Vec<(PathBuf, String)> {
    crate::helpers::rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
        .into_iter()
        .map(|path| {
            let code = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            (path, code)
        })
        .collect()
}

/// ASVS 4.0.3 V3.2.4 and V6.3.1: session tokens, TOTP secrets, recovery codes, salts, nonces,
/// CSRF values, CAPTCHA salts and `secret.key` all come from `rand::fill`, which is rand's
/// thread generator: ChaCha12, seeded and periodically reseeded from the operating system.
/// Any other use of `rand`, or another generator, fails this test.
#[test]
fn secrets_come_only_from_the_thread_csprng() {
    let banned = [
        "SmallRng",
        "StdRng",
        "seed_from_u64",
        "from_seed",
        "fastrand",
        "rand::random",
        "thread_rng",
        "rand::rng",
        "oorandom",
        "nanorand",
    ];
    let mut uses_of_fill = 0;
    for (path, code) in sources() {
        for word in banned {
            assert!(!code.contains(word), "{} uses {word}", path.display());
        }
        let mut rest = code.as_str();
        while let Some(at) = rest.find("rand::") {
            rest = &rest[at + "rand::".len()..];
            assert!(
                rest.starts_with("fill("),
                "{} uses rand::{} instead of rand::fill",
                path.display(),
                rest.chars().take(20).collect::<String>()
            );
            uses_of_fill += 1;
        }
    }
    assert!(uses_of_fill >= 10, "the scan found the generators in use");
}

/// Which packages in `Cargo.lock` depend on each package, by name.
fn dependents() -> BTreeMap<String, Vec<String>> {
    let lock =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in lock.split("[[package]]").skip(1) {
        let name = package
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .unwrap()
            .trim_end_matches('"')
            .to_owned();
        out.entry(name.clone()).or_default();
        let Some((_, deps)) = package.split_once("dependencies = [") else {
            continue;
        };
        let deps = deps.split(']').next().unwrap();
        for dep in deps.split(',').map(|d| d.trim().trim_matches('"')) {
            if let Some(dep) = dep.split(' ').next().filter(|d| !d.is_empty()) {
                out.entry(dep.to_owned()).or_default().push(name.clone());
            }
        }
    }
    out
}

/// ASVS 4.0.3 V6.2.5: no ECB, no small-block or broken ciphers, no MD5 or SHA-1, except where a
/// protocol we must speak demands them, each named here with its reason.
#[test]
fn weak_algorithms_are_linked_only_where_a_protocol_demands_them() {
    let by = dependents();
    assert!(
        by.contains_key("chacha20poly1305"),
        "the lock file was read"
    );
    let allowed: &[(&str, &[&str])] = &[
        // PostgreSQL servers configured for `md5` password authentication.
        ("md-5", &["sqlx-postgres"]),
        // TOTP is HMAC-SHA1 in every authenticator app (RFC 6238); the WebSocket accept key
        // (RFC 6455) in `headers`; MySQL's native auth in `sqlx-mysql`, which is never built.
        // `crypto-glue` is webauthn-rs's one façade over RustCrypto and links every algorithm
        // some WebAuthn attestation format or its other users need (SHA-1 in TPM and U2F
        // attestation statements). Latchkey asks for no attestation and offers only ECDSA,
        // RSA-SHA256 and EdDSA credentials (`security_keys::register` checks the offer).
        // Below it, `x509-cert` computes RFC 5280 key identifiers with SHA-1 and `pkcs5` opens
        // PBES2-encrypted keys, which may be CBC; neither touches anything of ours.
        (
            "sha1",
            &[
                "totp-rs",
                "headers",
                "sqlx-mysql",
                "crypto-glue",
                "x509-cert",
            ],
        ),
        ("md5", &["crypto-glue"]),
        // The freedesktop Secret Service transfers secrets to the CLI's keyring with
        // AES-128-CBC (its `dh-ietf1024-sha256-aes128-cbc-pkcs7` algorithm); the rest as above.
        ("cbc", &["secret-service", "crypto-glue", "pkcs5"]),
        ("cts", &["crypto-glue"]),
    ];
    for (weak, only) in allowed {
        for user in by.get(*weak).into_iter().flatten() {
            assert!(only.contains(&user.as_str()), "{user} depends on {weak}");
        }
    }
    for never in [
        "md4",
        "md2",
        "des",
        "blowfish",
        "rc2",
        "rc4",
        "ecb",
        "cast5",
        "idea",
        "sha1_smol",
    ] {
        assert!(!by.contains_key(never), "{never} is in Cargo.lock");
    }
    for (path, code) in sources() {
        for name in [
            "Md5", "md5::", "Sha1", "sha1::", "Ecb", "ecb::", "Cbc", "cbc::",
        ] {
            assert!(!code.contains(name), "{} uses {name}", path.display());
        }
    }
}

const SYSTEM_TIME: &[&str] = &["now_utc()", "SystemTime::now", "Utc::now", "Local::now"];
const OWN_CLOCK_ALLOWED: &[&str] = &["src/app.rs", "src/clock.rs", "src/client/", "src/bench/"];

/// The server reads the time only from the `Clock` in its state, which tests move forward:
/// a use-case that asked the system instead would ignore the time a test lets pass, and expiry
/// would go untested. The CLI (`client/`) and the bench seeder run without a server, on the
/// system clock through `Clock::default()`; the server makes its one clock in `app.rs`.
#[test]
fn the_server_reads_the_time_only_from_its_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = String::new();
    for path in crate::helpers::rust_files(&root.join("src")) {
        let shown = path.strip_prefix(root).unwrap().display().to_string();
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

/// Issue 16: inside a transaction every query runs on that transaction. A use-case that holds
/// one and asks the pool for another connection (`state.store.…` before `commit`) deadlocks a
/// small pool under load, as the device-code polls once did. This reads each function of the
/// use-case layers from `….begin().await` to its `commit` (or `drop(tx)`) and fails on a call
/// through the store there. It reads lines, so it sees what rustfmt writes: `state.store.x(`
/// on one line, or `state` / `.store` / `.x(` on three.
#[test]
fn no_pool_query_while_a_transaction_is_open() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = String::new();
    for path in crate::helpers::rust_files(&root.join("src")) {
        let shown = path.strip_prefix(root).unwrap().display().to_string();
        if ["src/store/", "src/client/", "src/bench/"]
            .iter()
            .any(|skip| shown.starts_with(skip))
        {
            continue;
        }
        let mut open = false;
        for (n, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let code = line.trim();
            if code.starts_with("//") {
                continue;
            }
            let starts_fn = ["fn ", "async fn ", "pub fn ", "pub async fn "]
                .iter()
                .any(|p| code.starts_with(p))
                || code.starts_with("pub(crate) async fn ")
                || line.starts_with('}');
            if starts_fn {
                open = false;
            }
            if code.contains(".begin().await") {
                open = true;
                continue;
            }
            if open && (code.contains(".commit().await") || code.contains("drop(tx)")) {
                open = false;
                continue;
            }
            if open && (code.contains("store.") || code == ".store") && !code.contains("tx.") {
                problems.push_str(&format!("{shown}:{}: {code}\n", n + 1));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "a pool query while a transaction is open; run it on the transaction:\n{problems}"
    );
}
