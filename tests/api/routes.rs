//! The routes the server declares, read from the routers' source, so the tables in
//! `cross_tenant` and `headers` fail when someone adds a route that neither lists. (Axum cannot
//! list a router's routes at run time; the source is the one place they are all written down.)

/// A declared route: an upper-case method and a path template such as `/teams/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    pub path: String,
}

/// The pages' routes as the page router declares them, `/_dev/mail` included.
pub fn pages() -> Vec<Route> {
    latchkey::web::table(true)
        .list()
        .iter()
        .map(|r| Route {
            method: r.method.to_owned(),
            path: r.path.clone(),
        })
        .collect()
}

/// The JSON API's and the OAuth endpoints' routes, as the server mounts them.
pub fn api() -> Vec<Route> {
    let mut all = Vec::new();
    for source in [
        include_str!("../../src/http/api.rs"),
        include_str!("../../src/http/account.rs"),
        include_str!("../../src/http/mfa.rs"),
        include_str!("../../src/http/security_keys.rs"),
        include_str!("../../src/http/teams.rs"),
        include_str!("../../src/http/teams/invitations.rs"),
    ] {
        all.extend(declared(source, "/api/v1"));
    }
    all.extend(declared(include_str!("../../src/http/oauth.rs"), ""));
    all
}

/// Every `.route("path", get(…).post(…))` in `source`, one entry per method.
fn declared(source: &str, prefix: &str) -> Vec<Route> {
    let mut routes = Vec::new();
    for (at, _) in source.match_indices(".route(") {
        let call = call_body(&source[at + ".route(".len()..]);
        let path = call
            .split('"')
            .nth(1)
            .expect("a route starts with its path");
        for method in ["get", "post", "put", "patch", "delete"] {
            if calls(call, method) {
                routes.push(Route {
                    method: method.to_ascii_uppercase(),
                    path: format!("{prefix}{path}"),
                });
            }
        }
    }
    assert!(!routes.is_empty(), "no routes found: has the router moved?");
    routes
}

/// The text up to the parenthesis that closes the call just opened.
fn call_body(rest: &str) -> &str {
    let mut depth = 1;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &rest[..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced route call")
}

/// Whether `call` contains `method(` as a method router (`get(…)`, `.post(…)`), not as the tail
/// of another name (`forget(`).
fn calls(call: &str, method: &str) -> bool {
    let needle = format!("{method}(");
    call.match_indices(&needle).any(|(i, _)| {
        call[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// Whether a concrete path (query ignored) fits a template: `{name}` matches one segment.
pub fn fits(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// The route among `routes` that serves `method path`: literal segments beat parameters, as
/// in axum (`/teams/new` is not `/teams/{slug}`).
pub fn serving<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<&'a Route> {
    routes
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case(method) && fits(&r.path, path))
        .min_by_key(|r| r.path.matches('{').count())
}

/// The routers `src/http/mod.rs` mounts, and the pages `src/app.rs` joins to them, are the
/// ones read here, so a new router file cannot hide its routes from the tables; the only routes
/// `http` adds itself are the health checks, which `headers` visits by name.
#[test]
fn every_mounted_router_is_read() {
    let own = declared(include_str!("../../src/http/mod.rs"), "");
    let own: Vec<&str> = own.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(own, ["/healthz", "/readyz"]);
    let mounted = |source: &'static str| -> Vec<&'static str> {
        let names: std::collections::BTreeSet<&str> = source
            .split("::routes(")
            .filter_map(|before| before.rsplit([' ', '(', '.', ':', '\n']).next())
            .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        names.into_iter().collect()
    };
    let read = ["account", "api", "mfa", "oauth", "teams"];
    assert_eq!(mounted(include_str!("../../src/http/mod.rs")), read);
    assert_eq!(mounted(include_str!("../../src/app.rs")), ["http", "web"]);
}

#[test]
fn the_router_source_reads_as_routes() {
    let pages = pages();
    for (method, path) in [
        ("GET", "/"),
        ("POST", "/login"),
        ("GET", "/teams/{slug}/settings"),
        ("POST", "/teams/{slug}/settings"),
        ("GET", "/_dev/mail"),
    ] {
        assert!(
            pages.iter().any(|r| r.method == method && r.path == path),
            "{method} {path} not found in {pages:?}"
        );
    }
    let api = api();
    assert!(
        api.iter()
            .any(|r| r.method == "DELETE" && r.path == "/api/v1/me/sessions/{id}")
    );
    assert!(
        api.iter()
            .any(|r| r.method == "POST" && r.path == "/oauth/revoke")
    );
    let r = serving(&pages, "GET", "/teams/new").unwrap();
    assert_eq!(r.path, "/teams/new");
    let r = serving(&pages, "GET", "/teams/acme?x=1").unwrap();
    assert_eq!(r.path, "/teams/{slug}");
}
