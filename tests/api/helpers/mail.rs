//! The mail a test server sends, caught by a real SMTP server (aiosmtpd) in a Maildir.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TestApp, free_port, link_token};

impl TestApp {
    /// Waits for the confirmation mail to `to` and returns the token from its link.
    pub async fn verification_token(&self, to: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .smtp
                .all()
                .into_iter()
                .find(|m| m.to.eq_ignore_ascii_case(to) && m.text.contains("/verify/"));
            if let Some(mail) = found {
                return link_token(&mail.text, "/verify/");
            }
            assert!(Instant::now() < deadline, "no confirmation mail to {to}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
}

/// A real SMTP server (aiosmtpd) writing what it receives to a Maildir.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    child: Option<Child>,
}

impl SmtpServer {
    pub fn start(maildir: &Path) -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            maildir: maildir.to_path_buf(),
            child: None,
        };
        server.restart();
        server
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts (again) on the same port and Maildir.
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{}", self.port),
            ])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn all(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return vec![];
        };
        let mut mails: Vec<(std::time::SystemTime, Mail)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let raw = std::fs::read(e.path()).ok()?;
                let modified = e.metadata().ok()?.modified().ok()?;
                let msg = mail_parser::MessageParser::default().parse(&raw)?;
                let to = msg.to()?.first()?.address()?.to_owned();
                Some((
                    modified,
                    Mail {
                        to,
                        subject: msg.subject().unwrap_or_default().to_owned(),
                        text: msg.body_text(0).unwrap_or_default().into_owned(),
                        html: msg.body_html(0).unwrap_or_default().into_owned(),
                        message_id: msg.message_id().unwrap_or_default().to_owned(),
                    },
                ))
            })
            .collect();
        mails.sort_by_key(|(t, _)| *t);
        mails.into_iter().map(|(_, m)| m).collect()
    }

    /// Waits (up to 30 s) for a message to `to` with this subject.
    pub async fn wait_for_subject(&self, to: &str, subject: &str) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(m) = self
                .all()
                .into_iter()
                .find(|m| m.to.eq_ignore_ascii_case(to) && m.subject == subject)
            {
                return m;
            }
            assert!(Instant::now() < deadline, "no mail \"{subject}\" to {to}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to 30 s) until `count` messages to `to` have arrived; returns them oldest first.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails: Vec<Mail> = self
                .all()
                .into_iter()
                .filter(|m| m.to.eq_ignore_ascii_case(to))
                .collect();
            if mails.len() >= count {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mail(s) to {to}, got {}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
