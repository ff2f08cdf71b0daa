//! The answers every operation can give besides its own: the ones its extractors produce
//! (a malformed body, a missing session, an unknown id) and the throttles. Written here once,
//! from the same facts the extractors use, so the document lists every status the server
//! sends; schemathesis holds us to it.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Content, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Type};

/// Operations anyone may call: they read no session.
const PUBLIC: &[&str] = &[
    "/api/v1/signup",
    "/api/v1/login",
    "/api/v1/login/mfa",
    "/api/v1/login/mfa/security-key",
    "/api/v1/email-verifications",
    "/api/v1/account-recovery",
    "/api/v1/password-resets",
    "/api/v1/email-changes/undo",
    "/api/v1/captcha",
    "/api/v1/users/{username}",
    "/oauth/token",
    "/oauth/device/code",
    "/oauth/revoke",
];

/// Operations that count failures against a throttle (429) or check a password, which waits
/// for an Argon2 worker and is refused with 503 when too many are already waiting.
const THROTTLED: &[(&str, &str)] = &[
    ("post", "/api/v1/signup"),
    ("post", "/api/v1/login"),
    ("post", "/api/v1/login/mfa"),
    ("post", "/api/v1/account-recovery"),
    ("post", "/api/v1/email-verifications/resend"),
    ("post", "/api/v1/me/password"),
    ("post", "/api/v1/me/email"),
    ("post", "/api/v1/me/reauthenticate"),
    ("delete", "/api/v1/me"),
    ("post", "/api/v1/me/mfa/totp/setup"),
    ("post", "/api/v1/me/mfa/recovery-codes"),
    ("delete", "/api/v1/me/mfa"),
    ("post", "/api/v1/me/mfa/security-keys/registration"),
    ("delete", "/api/v1/me/mfa/security-keys/{id}"),
];
const HASHES_PASSWORD: &[(&str, &str)] = &[
    ("post", "/api/v1/signup"),
    ("post", "/api/v1/login"),
    ("post", "/api/v1/password-resets"),
    ("post", "/api/v1/me/password"),
    ("post", "/api/v1/me/email"),
    ("post", "/api/v1/me/reauthenticate"),
    ("delete", "/api/v1/me"),
    ("post", "/api/v1/me/mfa/totp/setup"),
    ("post", "/api/v1/me/mfa/recovery-codes"),
    ("delete", "/api/v1/me/mfa"),
    ("post", "/api/v1/me/mfa/security-keys/registration"),
    ("delete", "/api/v1/me/mfa/security-keys/{id}"),
];

pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                complete(path, method, op);
            }
        }
    }
}

pub(super) fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("post", item.post.as_mut()),
        ("put", item.put.as_mut()),
        ("patch", item.patch.as_mut()),
        ("delete", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| Some((m, op?)))
    .collect()
}

fn complete(path: &str, method: &str, op: &mut Operation) {
    problem_media_type(op);
    if PUBLIC.contains(&path) {
        // An empty list overrides the document's default: no credentials needed.
        op.security = Some(Vec::new());
    } else {
        add(
            op,
            "401",
            "No valid session token was sent (`unauthenticated`).",
            None,
        );
    }
    if path.starts_with("/oauth/") {
        // RFC 6749 errors, described by each handler.
        return;
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_query = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    if has_path {
        add(
            op,
            "404",
            "No such resource, or not one the caller may see (`not_found`).",
            None,
        );
    }
    if has_query {
        add(
            op,
            "400",
            "A query parameter is missing or malformed (`invalid_query`).",
            None,
        );
    }
    if op.request_body.is_some() {
        add(op, "400", "The body is not JSON (`invalid_json`).", None);
        add(
            op,
            "413",
            "The body is larger than 64 KiB (`payload_too_large`).",
            None,
        );
        add(
            op,
            "415",
            "The body is not sent as `application/json` (`unsupported_media_type`).",
            None,
        );
        add(
            op,
            "422",
            "The body does not have the expected fields or values (`invalid_body`, or a field's own code).",
            None,
        );
    }
    if THROTTLED.contains(&(method, path)) {
        add(
            op,
            "429",
            "Too many attempts (`rate_limited`); `Retry-After` says when to retry.",
            Some("Retry-After"),
        );
    }
    if HASHES_PASSWORD.contains(&(method, path)) {
        add(
            op,
            "503",
            "Too many password checks are waiting (`overloaded`); `Retry-After` says when to retry.",
            Some("Retry-After"),
        );
    }
}

/// Adds a problem+json answer for `status` unless the operation already describes one; either
/// way the answer documents `header` (`Retry-After`) when given.
fn add(op: &mut Operation, status: &str, description: &str, header: Option<&str>) {
    let response = op
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM,
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .build(),
            )
        });
    if let (Some(name), RefOr::T(response)) = (header, response) {
        let seconds = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0));
        let header = HeaderBuilder::new()
            .schema(Some(seconds))
            .description(Some("Seconds to wait before trying again."))
            .build();
        response.headers.insert(name.to_owned(), RefOr::T(header));
    }
}

const PROBLEM: &str = "application/problem+json";

/// Problem bodies are served as `application/problem+json` (RFC 9457), not `application/json`.
fn problem_media_type(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        let RefOr::T(Response { content, .. }) = response else {
            continue;
        };
        let is_problem = content.get("application/json").is_some_and(|c| {
            matches!(c, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")))
        });
        if is_problem {
            let body = content
                .shift_remove("application/json")
                .expect("checked above");
            content.insert(PROBLEM.to_owned(), body);
        }
    }
}
