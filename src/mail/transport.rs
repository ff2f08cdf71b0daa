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
