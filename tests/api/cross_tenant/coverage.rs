//! The guard of `cross_tenant`: every route needs an attempt in `ATTEMPTS` or a reason here.

use reqwest::Method;
use serde_json::Value;

use super::Attempt;
use crate::helpers::TestApp;
use crate::routes::{self, Route};

/// Routes that name nothing of anyone else's, grouped by why.
const NO_FOREIGN_RESOURCE: &[(&str, &[&str])] = &[
    (
        "acts on the caller's own account, which the credential picks: no id to change",
        &[
            "GET /api/v1/me",
            "DELETE /api/v1/me",
            "PATCH /api/v1/me/profile",
            "GET /api/v1/me/sessions",
            "DELETE /api/v1/me/sessions",
            "POST /api/v1/me/reauthenticate",
            "POST /api/v1/logout",
            "POST /api/v1/email-verifications/resend",
            "GET /api/v1/me/mfa",
            "DELETE /api/v1/me/mfa",
            "POST /api/v1/me/mfa/totp/setup",
            "POST /api/v1/me/mfa/totp/enable",
            "POST /api/v1/me/mfa/recovery-codes",
            "GET /api/v1/me/mfa/security-keys",
            "POST /api/v1/me/mfa/security-keys",
            "POST /api/v1/me/mfa/security-keys/registration",
            "POST /settings/account/security-keys/begin",
            "POST /settings/account/security-keys",
            "POST /api/v1/me/email",
            "POST /api/v1/me/password",
            "GET /",
            "POST /logout",
            "GET /welcome",
            "POST /welcome",
            "POST /verify/resend",
            "GET /settings/account",
            "POST /settings/account/email",
            "POST /settings/account/password",
            "POST /settings/account/delete",
            "GET /settings/account/2fa/setup",
            "POST /settings/account/2fa/setup",
            "POST /settings/account/2fa/enable",
            "POST /settings/account/2fa/recovery-codes",
            "POST /settings/account/2fa/disable",
            "GET /settings/profile",
            "POST /settings/profile",
            "GET /settings/sessions",
            "POST /settings/sessions/confirm",
            "POST /settings/sessions/revoke-others",
            "GET /welcome/team",
            "GET /teams",
            "GET /login/2fa",
            "POST /login/2fa",
        ],
    ),
    (
        "the secret the owner was sent is the credential, not an id",
        &[
            "POST /api/v1/email-verifications",
            "POST /api/v1/password-resets",
            "POST /api/v1/email-changes/undo",
            "POST /api/v1/login/mfa",
            "POST /api/v1/login/mfa/security-key",
            "GET /verify/{token}",
            "POST /verify/{token}",
            "GET /reset/{token}",
            "POST /reset/{token}",
            "GET /email-change/undo/{token}",
            "POST /email-change/undo/{token}",
            // The link shows the invitation to whoever holds it, signed out too, so that the
            // invitee can sign up through it; accepting it is an attempt above.
            "GET /invitations/{token}",
            // Declining needs only the link, as opening it does: the invitee may have no
            // account.
            "POST /invitations/{token}/decline",
        ],
    ),
    (
        "creates something new, or starts a flow, naming no existing account",
        &[
            "POST /api/v1/signup",
            "POST /api/v1/login",
            "POST /api/v1/teams",
            "POST /oauth/device/code",
            "POST /signup",
            "POST /login",
            "POST /teams/new",
            "GET /oauth/authorize",
        ],
    ),
    (
        "anyone may ask; the mail goes to the address's owner and the answer says nothing",
        &["POST /api/v1/account-recovery", "POST /forgot"],
    ),
    (
        "a user code belongs to no account until approved, and approving signs in the \
         approver's own account (RFC 8628 §5.4 names the phishing risk)",
        &["GET /device", "POST /device"],
    ),
    (
        "the same for everyone",
        &[
            "GET /api/v1/captcha",
            "GET /signup",
            "GET /login",
            "GET /terms",
            "GET /forgot",
            "GET /teams/new",
            "GET /static/app.css",
            "GET /static/app.js",
            "GET /static/captcha.js",
        ],
    ),
    (
        "another account's security key: keys need a browser and a server reached by a domain \
         name, so `security_keys::each_challenge_is_answered_once_and_a_removed_key_no_longer_signs_in` \
         has a stranger try these on a real key (404, and the key stays)",
        &[
            "DELETE /api/v1/me/mfa/security-keys/{id}",
            "POST /settings/account/security-keys/{id}/remove",
        ],
    ),
    (
        "development only: loopback without SMTP, not routed in this test",
        &["GET /_dev/mail"],
    ),
];

/// Fails when a route has neither an attempt nor a reason, when an attempt or a reason names
/// no route, or when the API's routers and its OpenAPI document disagree.
pub async fn every_route_is_attempted_or_excused(app: &TestApp, attempts: &[Attempt]) {
    let spec = app
        .api(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let spec: Value = spec.json().await.unwrap();
    let mut documented: Vec<Route> = Vec::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_ascii_uppercase();
            documented.push(Route {
                method,
                path: path.clone(),
            });
        }
    }
    documented.sort();
    let mut declared = routes::api();
    declared.sort();
    assert_eq!(
        documented, declared,
        "the API's routers and /api/v1/openapi.json differ"
    );

    let all: Vec<Route> = documented.into_iter().chain(routes::pages()).collect();
    let attempted: Vec<&Route> = attempts
        .iter()
        .map(|a| routes::serving(&all, a.method.as_str(), &a.path))
        .map(|r| r.expect("every attempt is on a route"))
        .collect();
    let excused: Vec<&str> = NO_FOREIGN_RESOURCE
        .iter()
        .flat_map(|(_, r)| r.iter().copied())
        .collect();
    for route in &excused {
        assert!(
            all.iter()
                .any(|r| format!("{} {}", r.method, r.path) == *route),
            "{route} is no route"
        );
    }
    let mut missing = Vec::new();
    for route in &all {
        let name = format!("{} {}", route.method, route.path);
        let (is_excused, is_attempted) =
            (excused.contains(&name.as_str()), attempted.contains(&route));
        assert!(
            !(is_excused && is_attempted),
            "{name} is both attempted and excused"
        );
        if !is_excused && !is_attempted {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "routes with no cross-tenant attempt and no reason: {missing:#?}"
    );
}
