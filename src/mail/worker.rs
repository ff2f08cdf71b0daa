//! Delivers queued mail. Each message is leased before sending, retried with exponential
//! backoff (1 s doubling to 15 min) while the server is unreachable, and never dropped: an SMTP
//! outage delays mail, it does not lose it.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use tokio::sync::{Notify, watch};

use super::Transport;
use super::transport::Undeliverable;
use crate::store::{QueuedMail, Store};

/// How long a claimed message is ours before another worker may retry it.
const LEASE_SECS: i64 = 120;
const MAX_BACKOFF_SECS: i64 = 15 * 60;
/// Far enough ahead to mean "never": the message stays in the outbox for an operator to see.
const NEVER: i64 = i64::MAX / 4;

pub struct Worker {
    pub store: Store,
    pub transport: Transport,
    pub from: Mailbox,
    pub wake: Arc<Notify>,
    pub clock: crate::clock::Clock,
}

impl Worker {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut purged_at: Option<std::time::Instant> = None;
        loop {
            if let Err(e) = self.drain().await {
                tracing::warn!(error = %e, "mail worker could not read the outbox");
            }
            // Also hourly, so a quiet server forgets old mail too.
            if purged_at.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                match self.store.purge_sent_mail(self.clock.now()).await {
                    Ok(_) => purged_at = Some(std::time::Instant::now()),
                    Err(e) => tracing::warn!(error = %e, "mail worker could not purge the outbox"),
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
    }

    async fn drain(&self) -> anyhow::Result<()> {
        let mut delivered_any = false;
        loop {
            let now = self.clock.now();
            let due = self.store.due_mail(now, 32).await?;
            if due.is_empty() {
                // Old mail goes when new mail arrives: often enough, and free when idle.
                if delivered_any {
                    self.store.purge_sent_mail(now).await?;
                }
                return Ok(());
            }
            delivered_any = true;
            for m in due {
                if self.store.claim_mail(&m, now + LEASE_SECS).await? {
                    self.deliver(&m).await?;
                }
            }
        }
    }

    async fn deliver(&self, m: &QueuedMail) -> anyhow::Result<()> {
        // A body sealed under a key this server was not given is retried like an outage:
        // a server with the right key may take it, and an operator sees the error meanwhile.
        let sent = if m.unreadable {
            Err(anyhow::anyhow!(
                "sealed with a secret key this server does not have"
            ))
        } else {
            self.transport.send(&self.from, m).await
        };
        match sent {
            Ok(()) => {
                self.store.mail_sent(m.id, self.clock.now()).await?;
                tracing::info!(mail = %m.id, subject = %m.subject, "mail delivered");
            }
            Err(e) if e.is::<Undeliverable>() => {
                tracing::error!(mail = %m.id, error = %e, "mail undeliverable; left in the outbox");
                self.store.mail_failed(m.id, NEVER, &e.to_string()).await?;
            }
            Err(e) => {
                let attempts = i64::from(m.attempts) + 1;
                let backoff = (1_i64 << (attempts - 1).clamp(0, 20)).min(MAX_BACKOFF_SECS);
                tracing::warn!(mail = %m.id, attempts, retry_in_secs = backoff, error = %e, "mail delivery failed");
                self.store
                    .mail_failed(m.id, self.clock.now() + backoff, &format!("{e:#}"))
                    .await?;
            }
        }
        Ok(())
    }
}
