//! Sealing in a hardware security module, ASVS 4.0.3 V6.4.2 (key material is not exposed to
//! the application; cryptographic operations happen in an isolated security module). The
//! module is Debian's SoftHSM2 behind its PKCS#11 library, set up fresh for each test with
//! `softhsm2-util`; `pkcs11-tool` (OpenSC) reads the token as an outsider would. SoftHSM reads
//! its configuration from the environment once per process, so these servers run as child
//! processes, each with its own token.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

use super::keys::{enable_2fa_a_step_early, rotate_key_with, same_database, sign_in_with};
use super::oathtool;
use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_process};
use crate::recovery::login_status;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PURPOSES: [&str; 3] = [
    "latchkey totp seal v1",
    "latchkey password pepper v1",
    "latchkey outbox v1",
];

/// A fresh SoftHSM2 token labelled `latchkey` in a directory of its own.
struct SoftHsm {
    dir: TempDir,
    conf: PathBuf,
    pin_file: PathBuf,
}

impl SoftHsm {
    const PIN: &str = "user-pin-4711";

    /// None, with a note, where SoftHSM2 is not installed (`.ci/run` installs it).
    fn new() -> Option<Self> {
        if Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipping: softhsm2-util is missing (apt install softhsm2)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", "latchkey"])
            .args(["--pin", Self::PIN, "--so-pin", "so-pin-0815"])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let pin_file = dir.path().join("pin");
        std::fs::write(&pin_file, format!("{}\n", Self::PIN)).unwrap();
        std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        Some(Self {
            dir,
            conf,
            pin_file,
        })
    }

    /// The settings that make a server seal in this token.
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("SOFTHSM2_CONF", self.conf.to_str().unwrap()),
            ("LATCHKEY_KEYS__PKCS11_MODULE", MODULE),
            ("LATCHKEY_KEYS__PKCS11_TOKEN_LABEL", "latchkey"),
            (
                "LATCHKEY_KEYS__PKCS11_PIN_FILE",
                self.pin_file.to_str().unwrap(),
            ),
        ]
    }

    /// `pkcs11-tool` signed in to the token.
    fn pkcs11_tool(&self, args: &[&str]) -> std::process::Output {
        Command::new("pkcs11-tool")
            .args(["--module", MODULE, "--token-label", "latchkey"])
            .args(["--login", "--pin", Self::PIN])
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .current_dir(self.dir.path())
            .output()
            .expect("pkcs11-tool (apt install opensc)")
    }
}

/// The first byte of the stored two-factor secret, in hex: `01` sealed here, `02` by a token.
async fn seed_version(app: &TestApp) -> String {
    let hex = if app.engine == "postgres" {
        "encode(secret_sealed, 'hex')"
    } else {
        "hex(secret_sealed)"
    };
    let sealed = app
        .query_text(&format!("SELECT {hex} FROM totp_credentials"))
        .await;
    sealed[..2].to_owned()
}

/// The first byte of `name`'s sealed password hash (`$latchkey-argon2id$…$<sealed>`).
async fn pepper_version(app: &TestApp, name: &str) -> u8 {
    let stored = app
        .query_text(&format!(
            "SELECT password_hash FROM users WHERE username_norm = '{name}'"
        ))
        .await;
    let sealed = stored.rsplit('$').next().unwrap();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(sealed)
        .unwrap()[0]
}

#[tokio::test]
async fn two_factor_works_with_seeds_sealed_in_an_hsm() {
    let Some(hsm) = SoftHsm::new() else { return };
    let app = spawn_app_process(None, &hsm.env()).await;

    let (secret, codes) = enable_2fa_a_step_early(&app, "sealed").await;
    let res = sign_in_with(&app, "sealed", json!({"code": oathtool(&secret, 0)})).await;
    assert_eq!(res.status(), 200);
    let res = sign_in_with(&app, "sealed", json!({"recovery_code": codes[0]})).await;
    assert_eq!(res.status(), 200);

    // The token sealed the seed and the password hash, and the mail in the outbox: the
    // confirmation link arrives, so the worker opened it there.
    assert_eq!(seed_version(&app).await, "02");
    assert_eq!(pepper_version(&app, "sealed").await, 2);
    let link = app.verification_token("sealed@example.com").await;
    assert!(link.starts_with("lkv_"), "{link}");

    // One key per purpose, which the token calls sensitive and never extractable, and will
    // not hand out.
    let listing = hsm.pkcs11_tool(&["--list-objects", "--type", "secrkey"]);
    let listing = String::from_utf8_lossy(&listing.stdout);
    for purpose in PURPOSES {
        let object = listing
            .split("Secret Key Object")
            .find(|o| o.contains(&format!("label:      latchkey/{purpose}\n")))
            .unwrap_or_else(|| panic!("no key for {purpose} in:\n{listing}"));
        assert!(object.contains("AES length 32"), "{object}");
        let access = object.lines().find(|l| l.contains("Access:")).unwrap();
        assert!(access.contains(" sensitive"), "{object}");
        assert!(access.contains("never extractable"), "{object}");
    }
    let read = hsm.pkcs11_tool(&[
        "--read-object",
        "--type",
        "secrkey",
        "--label",
        "latchkey/latchkey totp seal v1",
        "--output-file",
        "key.bin",
    ]);
    assert!(!read.status.success(), "{read:?}");
    assert!(!hsm.dir.path().join("key.bin").exists());

    // The server key file and the database without the token: the account's address (sealed
    // in the token too, ASVS V6.1.1) does not open, so the lookup fails closed with 500 and
    // not even the first step passes.
    let key = app.dir.path().join("data/secret.key");
    let without_token = same_database(&app, &key, &[]).await;
    assert_eq!(login_status(&without_token, "sealed", PASSWORD).await, 500);
    assert_eq!(login_status(&app, "sealed", PASSWORD).await, 200);
}

/// An existing deployment moves to a token: what `secret.key` sealed still opens, a sign-in
/// moves that account's password hash into the token, and `rotate-key` reseals the rest, after
/// which `secret.key` alone opens nothing.
#[tokio::test]
async fn locally_sealed_secrets_still_open_under_an_hsm_and_rotate_key_moves_them_in() {
    let Some(hsm) = SoftHsm::new() else { return };
    let local = spawn_app().await;
    let (secret, _) = enable_2fa_a_step_early(&local, "mover").await;
    local.signup("idle").await;
    assert_eq!(seed_version(&local).await, "01");
    assert_eq!(pepper_version(&local, "mover").await, 1);
    assert_eq!(pepper_version(&local, "idle").await, 1);

    let with_token = spawn_app_process(Some(&local), &hsm.env()).await;
    let res = sign_in_with(&with_token, "mover", json!({"code": oathtool(&secret, 0)})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(pepper_version(&local, "mover").await, 2, "moved at sign-in");

    let key = local.dir.path().join("data/secret.key");
    let report = rotate_key_with(&local, &key, &[], &hsm.env());
    assert!(report.contains("Resealed 1 two-factor secret "), "{report}");
    assert!(report.contains("PKCS#11 token \"latchkey\""), "{report}");
    assert!(report.contains("Resealed 1 password hash."), "{report}");
    assert_eq!(seed_version(&local).await, "02");
    assert_eq!(pepper_version(&local, "idle").await, 2);

    let res = sign_in_with(&with_token, "mover", json!({"code": oathtool(&secret, 30)})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(login_status(&with_token, "idle", PASSWORD).await, 200);

    // Without the token, the same key file opens neither.
    let report = rotate_key_with(&local, &key, &[], &[]);
    assert!(
        report.contains("1 two-factor secrets open with none of the keys given"),
        "{report}"
    );
    assert!(
        report.contains("2 password hashes open with none of the keys given"),
        "{report}"
    );
    // Nor the addresses, now in the token: 500, never a session.
    assert_eq!(login_status(&local, "mover", PASSWORD).await, 500);
    assert_eq!(login_status(&local, "idle", PASSWORD).await, 500);

    let report = rotate_key_with(&local, &key, &[], &hsm.env());
    assert!(report.contains("Resealed 0 two-factor secrets"), "{report}");
    assert!(report.contains("Resealed 0 password hashes."), "{report}");
}

/// A wrong PIN stops the server at start, naming the token and never the PIN.
#[test]
fn a_wrong_pin_stops_the_server_without_showing_the_pin() {
    let Some(hsm) = SoftHsm::new() else { return };
    let wrong = hsm.dir.path().join("wrong-pin");
    std::fs::write(&wrong, "guessed-9999\n").unwrap();
    std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut env = hsm.env();
    env.retain(|(k, _)| *k != "LATCHKEY_KEYS__PKCS11_PIN_FILE");
    let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .env_remove("LATCHKEY_DATABASE_URL")
        .envs(env)
        .env("LATCHKEY_KEYS__PKCS11_PIN_FILE", &wrong)
        .current_dir(hsm.dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr) + String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("PKCS#11 token \"latchkey\""), "{said}");
    assert!(!said.contains("guessed-9999"), "{said}");
}

/// A key already in the token under our label that could be read out of it (made by hand,
/// say) is never used: setting up 2FA fails and nothing is stored, rather than sealing under
/// a key that could leave the token.
#[tokio::test]
async fn a_key_that_could_leave_the_token_is_not_used() {
    let Some(hsm) = SoftHsm::new() else { return };
    let made = hsm.pkcs11_tool(&[
        "--keygen",
        "--key-type",
        "AES:32",
        "--extractable",
        "--label",
        "latchkey/latchkey totp seal v1",
    ]);
    assert!(made.status.success(), "{made:?}");
    let app = spawn_app_process(None, &hsm.env()).await;
    let token = app.signup("careful").await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let res = app
        .api(
            Method::POST,
            "/api/v1/me/mfa/totp/setup",
            Some(&token),
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), 500);
    let rows = app
        .query_text("SELECT CAST(COUNT(*) AS TEXT) FROM totp_credentials")
        .await;
    assert_eq!(rows, "0");
    let log = std::fs::read_to_string(app.dir.path().join("server.log")).unwrap();
    assert!(log.contains("could be read out of the token"), "{log}");
}

/// The blind index of addresses is keyed from `secret.key` even while the token seals them:
/// after a key change, `rotate-key` under the token still redoes it, so addresses sign in
/// once the old key is gone.
#[tokio::test]
async fn rotate_key_under_a_token_redoes_the_address_index() {
    let Some(hsm) = SoftHsm::new() else { return };
    let app = spawn_app_process(None, &hsm.env()).await;
    app.signup("ada").await;
    assert_eq!(login_status(&app, "ada@example.com", PASSWORD).await, 200);

    let old = app.dir.path().join("data/secret.key");
    let new = app.dir.path().join("new.key");
    std::fs::write(&new, format!("{}\n", "5a".repeat(32))).unwrap();
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o600)).unwrap();
    rotate_key_with(&app, &new, std::slice::from_ref(&old), &hsm.env());

    let mut env = hsm.env();
    env.push(("LATCHKEY_SECRET_KEY_FILE", new.to_str().unwrap()));
    let after = spawn_app_process(Some(&app), &env).await;
    assert_eq!(login_status(&after, "ada@example.com", PASSWORD).await, 200);
}
