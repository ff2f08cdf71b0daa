//! Routers that can say what they serve. Axum cannot list a router's routes at run time, so
//! every route is declared through `Routes`, which keeps the list beside the router: the
//! route tables of the tests (cross-tenant access, security headers) read it from the program
//! itself and fail when a new route is in neither.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

/// A declared route: an upper-case method and a path template such as `/teams/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: &'static str,
    pub path: String,
}

/// A router and the list of what it serves.
pub struct Routes<S> {
    router: Router<S>,
    list: Vec<Route>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Self {
            router: Router::new(),
            list: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(mut self, method: &'static str, path: &str, route: MethodRouter<S>) -> Self {
        // Axum merges the methods of one path given in separate calls.
        self.router = self.router.route(path, route);
        self.list.push(Route {
            method,
            path: path.to_owned(),
        });
        self
    }

    pub fn get<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add("GET", path, get(handler))
    }

    pub fn post<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add("POST", path, post(handler))
    }

    pub fn put<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add("PUT", path, put(handler))
    }

    pub fn patch<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add("PATCH", path, patch(handler))
    }

    pub fn delete<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.add("DELETE", path, delete(handler))
    }

    /// Serves `other` under `prefix` (such as `/api/v1`).
    #[must_use]
    pub fn nest(mut self, prefix: &str, other: Self) -> Self {
        self.router = self.router.nest(prefix, other.router);
        self.list.extend(other.list.into_iter().map(|r| Route {
            method: r.method,
            path: format!("{prefix}{}", r.path),
        }));
        self
    }

    #[must_use]
    pub fn merge(mut self, other: Self) -> Self {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }

    /// Changes the router itself (a fallback, a layer); the list stays as it is.
    #[must_use]
    pub fn with_router(mut self, change: impl FnOnce(Router<S>) -> Router<S>) -> Self {
        self.router = change(self.router);
        self
    }

    pub fn list(&self) -> &[Route] {
        &self.list
    }

    pub fn into_router(self) -> Router<S> {
        self.router
    }
}
