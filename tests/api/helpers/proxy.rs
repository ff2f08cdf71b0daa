//! A TCP relay between a server and its PostgreSQL, which a test can cut and mend: a database
//! outage without stopping the PostgreSQL that every other test shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Relay {
    pub port: u16,
    up: Arc<AtomicBool>,
    /// Bumped on every cut: each relayed connection ends when it changes.
    cuts: watch::Sender<u64>,
}

impl Relay {
    /// Relays 127.0.0.1:{port} to `target` until dropped.
    pub async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0);
        let relay = Relay {
            port,
            up: up.clone(),
            cuts: cuts.clone(),
        };
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                // While cut, a new connection is closed at once, as a stopped server's would be.
                if !up.load(Ordering::SeqCst) {
                    continue;
                }
                let target = target.clone();
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        relay
    }

    /// The database goes away: open connections break and new ones are refused.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// The database is back.
    pub fn mend(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
