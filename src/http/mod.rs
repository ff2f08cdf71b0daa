//! HTTP: the JSON API, health checks, the OpenAPI document, and the middleware every route is
//! served inside. `app::router` joins the pages (`web`) to these routes before wrapping them.

mod account;
pub mod api;
pub mod cookies;
pub mod extract;
mod mfa;
pub mod middleware;
mod oauth;
mod openapi;
pub mod problem;
pub mod routes;
mod security_keys;
mod teams;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;
pub use oauth::TokenRequest;
use problem::ApiError;
use routes::Routes;

/// Request bodies larger than this are refused with 413 `payload_too_large`.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What the API serves: everything under `/api/v1`, and the OAuth endpoints.
pub fn table() -> Routes<AppState> {
    let api = api::routes()
        .merge(mfa::routes())
        .merge(security_keys::routes())
        .merge(account::routes())
        .merge(teams::routes())
        .with_router(|r| {
            r.fallback(|| async { ApiError::not_found() })
                .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        });
    Routes::new().nest("/api/v1", api).merge(oauth::routes())
}

/// The API, its documentation and the health checks (which only the tests of headers visit by
/// name: they are the two routes declared outside a table).
pub fn routes() -> Router<AppState> {
    table()
        .into_router()
        .merge(SwaggerUi::new("/docs").url("/api/v1/openapi.json", openapi::ApiDoc::openapi()))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

/// Serves `routes` inside the middleware: the body limit, the cross-site check, plain cookie
/// names, the redirect to HTTPS behind a proxy, the security headers, a 500 for a panic, and
/// the request id and log line.
pub fn wrap(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::csrf_origin,
        ))
        .layer(axum::middleware::from_fn(middleware::plain_cookie_names))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_https,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side.",
            )
            .into_response()
        }))
        .layer(axum::middleware::from_fn(middleware::observe))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    // The pool gives up within its acquire timeout; the bound here also covers a connection
    // that was handed out and then hangs.
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await;
    match ping {
        Ok(Ok(())) => Ok("ready"),
        failed => {
            tracing::warn!(error = ?failed, "database unreachable");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "The database is unreachable.",
            ))
        }
    }
}
