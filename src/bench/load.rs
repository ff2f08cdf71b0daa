//! `latchkey bench load`: starts a real `latchkey serve` in its own process and drives it over
//! loopback with many keep-alive connections, scenario by scenario, printing throughput and
//! latency percentiles, the ratios BENCHMARKS.md tracks, and the server's resident memory.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::percentile;
use super::seed::{PASSWORD, seed};
use crate::config::Argon2Config;

pub struct Options {
    pub database_url: Option<String>,
    pub users: u64,
    pub seconds: u64,
    pub connections: Vec<usize>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub errors: u64,
}

struct Server {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

async fn start(opts: &Options, argon: &Argon2Config) -> anyhow::Result<Server> {
    let dir =
        std::env::temp_dir().join(format!("latchkey-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    if opts.users > 0 {
        let mut config = crate::config::Config {
            data_dir: dir.clone(),
            ..Default::default()
        };
        config.database_url = opts.database_url.clone().map(Into::into);
        let store = crate::app::open_store(&config).await?;
        store.migrate().await?;
        seed(
            &store,
            opts.users,
            argon,
            &super::seed::server_pepper(&config)?,
        )
        .await?;
        store.close().await;
    }
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        // Benchmarks sign up and in from one address far beyond what throttling allows.
        .env("LATCHKEY_THROTTLE__SIGNUP_BURST", "1000000000")
        .env("LATCHKEY_THROTTLE__IP_BURST", "1000000000")
        .env("LATCHKEY_THROTTLE__ACCOUNT_BURST", "1000000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = &opts.database_url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.spawn().context("starting latchkey serve")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    if !url.starts_with("http") {
        bail!("the server did not start: {line}");
    }
    Ok(Server { child, url, dir })
}

/// Runs `conns` connections for `secs`, each sending what `request` builds, back to back.
async fn drive<F>(conns: usize, secs: u64, request: F) -> Stats
where
    F: Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let (request, counter) = (request.clone(), counter.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .http1_only()
                    .build()
                    .unwrap_or_default();
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    match request(&client, n).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                        }
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_unstable();
    #[allow(clippy::cast_precision_loss)]
    let per_sec = all.len() as f64 / secs;
    Stats {
        per_sec,
        p50_us: percentile(&all, 50.0),
        p99_us: percentile(&all, 99.0),
        errors,
    }
}

pub struct Report {
    pub rows: Vec<(String, Stats)>,
    pub rss_idle_kib: u64,
    pub rss_peak_kib: u64,
    pub hash_per_sec: f64,
}

pub async fn run(opts: &Options, argon: &Argon2Config) -> anyhow::Result<Report> {
    let server = start(opts, argon).await?;
    let url = server.url.clone();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle_kib = server.rss_kib();
    let http = reqwest::Client::new();
    let login = if opts.users > 0 {
        "seed0".to_owned()
    } else {
        "bench".to_owned()
    };
    if opts.users == 0 {
        http.post(format!("{url}/api/v1/signup"))
            .json(&json!({"email": "bench@bench.test", "username": "bench", "password": PASSWORD, "accept_terms": true}))
            .send()
            .await?
            .error_for_status()?;
    }
    let body: serde_json::Value = http
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"login": login, "password": PASSWORD, "remember_me": true}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = body["token"].as_str().context("no token")?.to_owned();

    let mut rows = Vec::new();
    let peak = Arc::new(AtomicU64::new(rss_idle_kib));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling, pid) = (peak.clone(), sampling.clone(), server.child.id());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find_map(|l| l.strip_prefix("VmRSS:"))
                            .and_then(|v| v.split_whitespace().next()?.parse().ok())
                    })
                    .unwrap_or(0);
                peak.fetch_max(rss, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    for &conns in &opts.connections {
        let u = url.clone();
        rows.push((
            format!("GET /healthz, {conns} conns"),
            drive(conns, opts.seconds, move |c, _| {
                c.get(format!("{u}/healthz"))
            })
            .await,
        ));
        let (u, t) = (url.clone(), token.clone());
        rows.push((
            format!("GET /api/v1/me, {conns} conns"),
            drive(conns, opts.seconds, move |c, _| {
                c.get(format!("{u}/api/v1/me")).bearer_auth(&t)
            })
            .await,
        ));
    }

    // The session check while 16 clients sign in without pause.
    let (u, l) = (url.clone(), login.clone());
    let flood = tokio::spawn(drive(16, opts.seconds, move |c, _| {
        c.post(format!("{u}/api/v1/login"))
            .json(&json!({"login": l, "password": PASSWORD}))
    }));
    let (u, t) = (url.clone(), token.clone());
    let during = drive(32, opts.seconds, move |c, _| {
        c.get(format!("{u}/api/v1/me")).bearer_auth(&t)
    })
    .await;
    rows.push((
        "GET /api/v1/me, 32 conns, during a login flood".to_owned(),
        during,
    ));
    rows.push((
        "POST /api/v1/login (the flood, 16 clients)".to_owned(),
        flood.await?,
    ));

    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let (u, l) = (url.clone(), login.clone());
    rows.push((
        format!("POST /api/v1/login, {} clients", 2 * cores),
        drive(2 * cores, opts.seconds, move |c, _| {
            c.post(format!("{u}/api/v1/login"))
                .json(&json!({"login": l, "password": PASSWORD}))
        })
        .await,
    ));
    let u = url.clone();
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    rows.push((
        format!("POST /api/v1/signup, {} clients", 2 * cores),
        drive(2 * cores, opts.seconds, move |c, n| {
            let name = format!("b{}-{n}", &run_id[..8]);
            c.post(format!("{u}/api/v1/signup")).json(&json!({
                "email": format!("{name}@bench.test"), "username": name, "password": PASSWORD, "accept_terms": true
            }))
        })
        .await,
    ));
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let hash = super::hash::measure(argon, cores, Duration::from_secs(opts.seconds.min(5)))?;
    Ok(Report {
        rows,
        rss_idle_kib,
        rss_peak_kib: peak.load(Ordering::Relaxed),
        hash_per_sec: hash.total_per_sec,
    })
}

/// The report as a Markdown table plus the ratios BENCHMARKS.md compares with its targets.
pub fn render(r: &Report) -> String {
    let mut out = String::from(
        "| scenario | req/s | p50 ms | p99 ms | errors |\n| --- | ---: | ---: | ---: | ---: |\n",
    );
    for (name, s) in &r.rows {
        #[allow(clippy::cast_precision_loss)]
        let (p50, p99) = (s.p50_us as f64 / 1000.0, s.p99_us as f64 / 1000.0);
        out.push_str(&format!(
            "| {name} | {:.0} | {p50:.2} | {p99:.2} | {} |\n",
            s.per_sec, s.errors
        ));
    }
    let find = |prefix: &str| {
        r.rows
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .map(|(_, s)| *s)
            .unwrap_or_default()
    };
    let health = find("GET /healthz, 32");
    let me = find("GET /api/v1/me, 32 conns");
    let during = find("GET /api/v1/me, 32 conns, during");
    let logins = find("POST /api/v1/login, ");
    #[allow(clippy::cast_precision_loss)]
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    #[allow(clippy::cast_precision_loss)]
    {
        out.push_str(&format!(
            "\n/api/v1/me ÷ /healthz throughput (32 conns): {:.2}\n/api/v1/me p99 (32 conns): {:.2} ms\n\
             /api/v1/me p99 during login flood ÷ idle: {:.2}\nsign-ins/s ÷ hash verifications/s: {:.2} ({:.1} ÷ {:.1})\n\
             resident memory idle / peak: {:.1} MB / {:.1} MB\n",
            ratio(me.per_sec, health.per_sec),
            me.p99_us as f64 / 1000.0,
            ratio(during.p99_us as f64, me.p99_us as f64),
            ratio(logins.per_sec, r.hash_per_sec),
            logins.per_sec,
            r.hash_per_sec,
            r.rss_idle_kib as f64 / 1024.0,
            r.rss_peak_kib as f64 / 1024.0,
        ));
    }
    out
}
