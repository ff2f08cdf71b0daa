//! The routes the server declares, as its route tables list them (`web::table`,
//! `http::table`), so the tables in `cross_tenant` and `headers` fail when someone adds a route
//! that neither lists.

/// A declared route: an upper-case method and a path template such as `/teams/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    pub path: String,
}

/// The pages' routes as the page router declares them, `/_dev/mail` included.
pub fn pages() -> Vec<Route> {
    listed(latchkey::web::table(true).list())
}

/// The JSON API's and the OAuth endpoints' routes, as the server mounts them.
pub fn api() -> Vec<Route> {
    listed(latchkey::http::table().list())
}

fn listed(routes: &[latchkey::http::routes::Route]) -> Vec<Route> {
    routes
        .iter()
        .map(|r| Route {
            method: r.method.to_owned(),
            path: r.path.clone(),
        })
        .collect()
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

/// Every route is declared through a table (`http::routes::Routes`), so the lists above are
/// complete: the only routes added to a router directly are the two health checks, which
/// `headers` visits by name. (`client/` is the CLI's side: its loopback listener is no route of
/// the server.)
#[test]
fn every_route_is_declared_in_a_table() {
    let mut direct = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("client") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("http/routes.rs")
            {
                let source = std::fs::read_to_string(&path).unwrap();
                for (at, _) in source.match_indices(".route(") {
                    let line = source[at..].lines().next().unwrap_or_default().to_owned();
                    direct.push(line);
                }
            }
        }
    }
    direct.sort();
    assert_eq!(
        direct,
        [
            ".route(\"/healthz\", get(|| async { \"ok\" }))",
            ".route(\"/readyz\", get(ready))",
        ]
    );
}

#[test]
fn the_tables_list_the_routes() {
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
