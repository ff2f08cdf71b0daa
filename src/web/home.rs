//! `/` (the signed-in start page) and `/terms`.

use askama::Template;

use super::{Layout, MyPage, Page, PageResult, render};

#[derive(Template)]
#[template(path = "web/home.html")]
struct HomePage {
    layout: Layout,
    display_name: String,
    username: String,
    email: String,
    verified: bool,
    created_at: String,
}

pub async fn home(page: MyPage) -> PageResult {
    let u = &page.me.user;
    let display_name = if u.name.is_empty() {
        u.username.clone()
    } else {
        u.name.clone()
    };
    let home = HomePage {
        display_name,
        username: u.username.clone(),
        email: u.email.clone(),
        verified: u.email_verified_at.is_some(),
        created_at: super::dates::day(u.created_at),
        layout: page.layout,
    };
    render(page.jar, &home)
}

#[derive(Template)]
#[template(path = "web/terms.html")]
struct TermsPage {
    layout: Layout,
}

pub async fn terms(page: Page) -> PageResult {
    render(
        page.jar,
        &TermsPage {
            layout: page.layout,
        },
    )
}
