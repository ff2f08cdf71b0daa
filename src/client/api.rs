//! The CLI's one typed client for the server: OAuth endpoints and the JSON API, with access
//! tokens refreshed silently.

use anyhow::{Context, bail};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::store::Account;
use crate::oauth::CLIENT_ID;

#[derive(Debug, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

#[derive(Debug, Deserialize)]
pub struct OauthFailure {
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

#[derive(Debug, Deserialize)]
pub struct DeviceStart {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

pub struct Api {
    pub server: String,
    http: reqwest::Client,
}

/// Only HTTPS, or plain HTTP to this very machine: tokens must not cross a network in clear.
pub fn check_server(server: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(server)
        .context("The server must be an address like https://accounts.example.com.")?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            bail!("Refusing {server}: use https://, or http:// only for a server on this machine.")
        }
    }
    Ok(server.trim_end_matches('/').to_owned())
}

impl Api {
    /// Sends `req`; a server that cannot be reached is one plain sentence, not a chain.
    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        req.send().await.map_err(|e| {
            if e.is_connect() || e.is_timeout() || e.is_request() {
                anyhow::anyhow!(
                    "Could not reach {} — is the server running, and is the address right?",
                    self.server
                )
            } else {
                anyhow::anyhow!("The connection to {} broke off; try again.", self.server)
            }
        })
    }

    /// Whether the server answers at all, before anyone waits on it.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let res = self
            .send(self.http.get(format!("{}/healthz", self.server)))
            .await?;
        if !res.status().is_success() {
            bail!(
                "{} answered {} where a Latchkey server answers; check the address.",
                self.server,
                res.status()
            );
        }
        Ok(())
    }

    /// The server's own sentence for a refusal (problem+json `detail`), or a plain one.
    async fn refusal(res: reqwest::Response) -> anyhow::Error {
        let status = res.status();
        let problem: serde_json::Value = res.json().await.unwrap_or_default();
        match problem["detail"].as_str() {
            Some(detail) => anyhow::anyhow!("{detail}"),
            None => anyhow::anyhow!("The server refused ({status})."),
        }
    }

    pub fn new(server: &str) -> anyhow::Result<Self> {
        Ok(Self {
            server: check_server(server)?,
            http: reqwest::Client::builder()
                .user_agent(concat!("latchkey-cli/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }

    async fn token(&self, form: &[(&str, &str)]) -> anyhow::Result<Result<Tokens, OauthFailure>> {
        let mut form = form.to_vec();
        form.push(("client_id", CLIENT_ID));
        let res = self
            .send(
                self.http
                    .post(format!("{}/oauth/token", self.server))
                    .form(&form),
            )
            .await?;
        let success = res.status().is_success();
        let body = res.bytes().await?;
        let not_ours = || {
            anyhow::anyhow!(
                "{} did not answer like a Latchkey server; check the address.",
                self.server
            )
        };
        Ok(if success {
            Ok(serde_json::from_slice(&body).map_err(|_| not_ours())?)
        } else {
            Err(serde_json::from_slice(&body).map_err(|_| not_ours())?)
        })
    }

    pub async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> anyhow::Result<Tokens> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        self.token(&form).await?.map_err(|f| {
            anyhow::anyhow!(
                "The server refused the sign-in ({}); run `latchkey login` again.",
                f.error
            )
        })
    }

    pub async fn start_device(&self, device_name: &str) -> anyhow::Result<DeviceStart> {
        let form = [("client_id", CLIENT_ID), ("device_name", device_name)];
        let res = self
            .send(
                self.http
                    .post(format!("{}/oauth/device/code", self.server))
                    .form(&form),
            )
            .await?;
        if !res.status().is_success() {
            return Err(Self::refusal(res).await);
        }
        Ok(res.json().await?)
    }

    pub async fn poll_device(
        &self,
        device_code: &str,
    ) -> anyhow::Result<Result<Tokens, OauthFailure>> {
        self.token(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
        ])
        .await
    }

    pub async fn revoke(&self, token: &str) -> anyhow::Result<()> {
        let res = self
            .send(
                self.http
                    .post(format!("{}/oauth/revoke", self.server))
                    .form(&[("token", token)]),
            )
            .await?;
        if !res.status().is_success() {
            return Err(Self::refusal(res).await);
        }
        Ok(())
    }

    /// A fresh access token for `account`, refreshing (and updating the account) when needed.
    pub async fn fresh(&self, account: &mut Account) -> anyhow::Result<()> {
        if account.access_expires_at > crate::clock::Clock::default().now() + 60 {
            return Ok(());
        }
        match self
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &account.refresh_token),
            ])
            .await?
        {
            Ok(t) => {
                account.access_token = t.access_token;
                account.refresh_token = t.refresh_token;
                account.access_expires_at = crate::clock::Clock::default().now() + t.expires_in;
                Ok(())
            }
            Err(_) => bail!(
                "{} is signed out; run `latchkey login` again.",
                account.name()
            ),
        }
    }

    pub async fn get<T: DeserializeOwned>(&self, token: &str, path: &str) -> anyhow::Result<T> {
        let res = self
            .send(
                self.http
                    .get(format!("{}{path}", self.server))
                    .bearer_auth(token),
            )
            .await?;
        if res.status() == reqwest::StatusCode::UNAUTHORIZED {
            bail!("This account is signed out; run `latchkey login` again.");
        }
        if !res.status().is_success() {
            return Err(Self::refusal(res).await);
        }
        Ok(res.json().await?)
    }

    pub async fn delete(&self, token: &str, path: &str) -> anyhow::Result<()> {
        let res = self
            .send(
                self.http
                    .delete(format!("{}{path}", self.server))
                    .bearer_auth(token),
            )
            .await?;
        if res.status() == reqwest::StatusCode::FORBIDDEN {
            let problem: serde_json::Value = res.json().await.unwrap_or_default();
            if problem["code"] == "reauthentication_required" {
                // The CLI holds no password to re-enter, and a grant is only as fresh as the
                // browser session that approved it.
                bail!(
                    "Ending other sessions needs a sign-in within the last 15 minutes: sign in \
                     again in the browser, then run `latchkey login` and try again."
                );
            }
            bail!("{}", problem["detail"].as_str().unwrap_or("Not allowed."));
        }
        if res.status() == reqwest::StatusCode::NOT_FOUND {
            bail!("No session with that id; `latchkey sessions` lists them.");
        }
        if !res.status().is_success() {
            return Err(Self::refusal(res).await);
        }
        Ok(())
    }
}
