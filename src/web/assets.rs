//! The stylesheet and scripts, compiled into the binary.

use axum::http::header;
use axum::response::IntoResponse;

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

pub async fn script() -> impl IntoResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    )
}

pub async fn captcha_script() -> impl IntoResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/captcha.js"),
    )
}

pub async fn stylesheet() -> impl IntoResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    )
}
