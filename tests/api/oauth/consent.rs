//! The CLI's browser step belongs to the browser that opened it: another browser holding its
//! address, signed in to another account or to none, sees neither the machine's name nor a way
//! to answer, and is told the step does not exist, as for anything else of someone else's.
//! ASVS 4.0.3 V4.2.1 (no insecure direct object references), 5.0 V8.2.2 (access to a data
//! item only with permission for it).

use super::{exchange, location, open_consent, query_param};
use crate::helpers::{
    browser_like_client, page, signed_in_browser, spawn_app, submit, submit_here,
};

#[tokio::test]
async fn another_browser_can_neither_see_nor_answer_a_cli_sign_in() {
    let app = spawn_app().await;
    app.signup("ada").await;
    app.signup("eve").await;
    let ada = signed_in_browser(&app, "ada").await;
    let (verifier, consent) = open_consent(&app, &ada).await;
    let made_up = format!("/oauth/consent/{}", uuid::Uuid::now_v7());

    let eve = signed_in_browser(&app, "eve").await;
    let signed_out = browser_like_client();
    for (who, browser) in [("Eve", &eve), ("a signed-out browser", &signed_out)] {
        let (status, html) = page(browser, &app, &consent).await;
        assert_eq!(status, 404, "{who}: {html}");
        assert!(
            !html.contains("build-box"),
            "{who} sees the machine: {html}"
        );
        // Word for word what a sign-in request that never was gets.
        assert_eq!(page(browser, &app, &made_up).await, (status, html), "{who}");
    }
    // Eve answers it with a CSRF token of her own, as her browser would send the form.
    for decision in ["approve", "skip"] {
        let fields = [("decision", decision)];
        let res = submit(&eve, &app, "/settings/profile", &consent, &fields).await;
        assert_eq!(res.status(), 404, "Eve's {decision}");
    }

    // Ada's step is untouched: she approves, and the grant is hers.
    let res = submit_here(&ada, &app, &consent, &[("decision", "approve")]).await;
    let code = query_param(&location(&res), "code").expect("approved");
    let (status, body) = exchange(&app, &code, &verifier).await;
    assert_eq!(status, 200, "{body}");
    let me = app
        .get_json("/api/v1/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["username"], "ada");
}
