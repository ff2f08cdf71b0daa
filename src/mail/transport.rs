//! Where mail goes: an SMTP server (`smtp://` with optional STARTTLS, `smtps://`), or, with
//! none configured, `.eml` files in `<data-dir>/outbox/` for development.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::store::QueuedMail;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// A message that can never be sent (a malformed address), as opposed to a delivery failure.
#[derive(Debug, thiserror::Error)]
#[error("undeliverable: {0}")]
pub struct Undeliverable(String);

impl Transport {
    pub fn smtp(url: &str) -> anyhow::Result<Self> {
        refuse_clear_text(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("invalid SMTP URL")?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self::Smtp(transport))
    }

    pub async fn send(&self, from: &Mailbox, m: &QueuedMail) -> anyhow::Result<()> {
        let to: Mailbox = m
            .recipient
            .parse()
            .map_err(|e| Undeliverable(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&m.subject)
            .message_id(Some(format!("<{}@latchkey>", m.id)))
            .multipart(MultiPart::alternative_plain_html(
                m.text_body.clone(),
                m.html_body.clone(),
            ))
            .map_err(|e| Undeliverable(e.to_string()))?;
        match self {
            Self::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Self::Files(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let path = dir.join(format!("{}.eml", m.id));
                tokio::fs::write(&path, message.formatted()).await?;
            }
        }
        Ok(())
    }
}

/// Mail carries reset and confirmation links, so it leaves this machine only over TLS (ASVS
/// V2.5.1): plain `smtp://` is for a relay on loopback. lettre reads `tls=required` as
/// STARTTLS-or-fail; `tls=opportunistic` would let anyone on the path strip it.
fn refuse_clear_text(raw: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(raw).context("invalid SMTP URL")?;
    if url.scheme() != "smtp" {
        return Ok(());
    }
    let loopback = match url.host() {
        // `smtp` is not a scheme `url` knows, so an IPv4 address arrives as a domain.
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let tls_required = url
        .query_pairs()
        .any(|(k, v)| k == "tls" && v == "required");
    if loopback || tls_required {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to send mail in clear text to {}: use smtps://, or smtp://…?tls=required for \
         STARTTLS",
        url.host_str().unwrap_or("the SMTP server")
    )
}

#[cfg(test)]
mod tests {
    use super::refuse_clear_text;

    #[test]
    fn plain_smtp_leaves_the_machine_only_with_tls() {
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://localhost:25",
            "smtp://[::1]:25",
            "smtp://mail.example.com:587?tls=required",
            "smtps://user:pass@mail.example.com",
        ] {
            assert!(refuse_clear_text(ok).is_ok(), "{ok}");
        }
        for bad in [
            "smtp://mail.example.com:25",
            "smtp://10.0.0.5:25?tls=opportunistic",
            "smtp://user:pass@mail.example.com:587?tls=none",
        ] {
            let e = refuse_clear_text(bad).unwrap_err().to_string();
            assert!(e.contains("tls=required"), "{bad}: {e}");
            assert!(
                !e.contains("pass"),
                "the error must not echo credentials: {e}"
            );
        }
    }
}
