use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    let res = app.client.get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.client.get(app.at("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn the_openapi_spec_describes_the_api_and_docs_are_browsable() {
    let app = spawn_app().await;
    let spec = app.openapi().await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/signup",
        "/api/v1/login",
        "/api/v1/me",
        "/api/v1/me/sessions/{id}",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from the spec"
        );
    }
    let docs = app.client.get(app.at("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

/// What JSON Schema can say of a field's rule is in the document (src/http/openapi/rules.rs
/// holds the patterns to the parsers), and restricting a field to a few words keeps its words.
#[tokio::test]
async fn the_openapi_spec_states_the_rules_of_request_fields() {
    let app = spawn_app().await;
    let spec = app.openapi().await;
    let schemas = &spec["components"]["schemas"];
    let signup = &schemas["SignupRequest"]["properties"];
    assert_eq!(signup["email"]["format"], "email");
    assert_eq!(signup["email"]["maxLength"], 254);
    assert_eq!(signup["username"]["maxLength"], 39);
    assert!(signup["username"]["pattern"].is_string());
    assert_eq!(signup["password"]["minLength"], 12);
    assert_eq!(signup["accept_terms"]["enum"], serde_json::json!([true]));
    assert!(signup["accept_terms"]["description"].is_string());
    let team = &schemas["CreateTeamRequest"]["properties"];
    assert_eq!(team["slug"]["pattern"], "^[a-z0-9](?:-?[a-z0-9])*$");
    assert!(team["name"]["pattern"].as_str().unwrap().contains("{0,58}"));
    assert_eq!(
        schemas["CodeRequest"]["properties"]["code"]["pattern"],
        "^[0-9]{6}$"
    );
    let role = &schemas["ProfileRequest"]["properties"]["role"];
    assert!(role["enum"].as_array().unwrap().len() > 2);
    assert!(role["description"].as_str().unwrap().contains("developer"));
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    let res = app.client.get(app.at("/login")).send().await.unwrap();
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(!h["x-request-id"].is_empty());
    // Plain HTTP on loopback: no HSTS (it would pin a scheme the server does not serve).
    assert!(h.get("strict-transport-security").is_none());
}

/// The document is what schemathesis (tests/schemathesis/run) checks the server against, so
/// its own consistency is checked here too: links name real operations, and every error the
/// API answers with is described as problem+json.
#[tokio::test]
async fn the_openapi_links_name_real_operations_and_errors_are_problem_json() {
    let app = spawn_app().await;
    let spec = app.openapi().await;
    let operations: Vec<(&String, &serde_json::Value)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().values().map(move |op| (path, op)))
        .collect();
    let ids: Vec<&str> = operations
        .iter()
        .map(|(_, op)| op["operationId"].as_str().unwrap())
        .collect();
    let mut links = 0;
    for (path, op) in &operations {
        for (status, response) in op["responses"].as_object().unwrap() {
            for link in response["links"]
                .as_object()
                .into_iter()
                .flat_map(|l| l.values())
            {
                let target = link["operationId"].as_str().unwrap();
                assert!(
                    ids.contains(&target),
                    "{path} {status} links to unknown {target}"
                );
                links += 1;
            }
            if path.starts_with("/api/v1/") && status.starts_with('4') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{path} {status} is not described as problem+json"
                );
            }
        }
        let public = op["security"].as_array().is_some_and(|s| s.is_empty());
        if !public {
            assert!(
                op["responses"]["401"].is_object(),
                "{path} does not describe 401"
            );
        }
    }
    assert!(links >= 10, "the document lost its links");
    let sessions = &spec["paths"]["/api/v1/me/sessions/{id}"]["delete"];
    assert!(sessions["responses"]["401"].is_object());

    let res = app
        .client
        .post(app.at("/api/v1/signup"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert!(spec["paths"]["/api/v1/signup"]["post"]["responses"]["400"].is_object());
}

/// `/docs` reads as documentation: every operation has a summary and a description, and is
/// grouped under a tag the document declares and describes.
#[tokio::test]
async fn every_operation_is_described_and_tagged_with_a_declared_tag() {
    let app = spawn_app().await;
    let spec = app.openapi().await;
    let declared: Vec<&str> = spec["tags"]
        .as_array()
        .expect("the document declares its tags")
        .iter()
        .map(|tag| {
            let name = tag["name"].as_str().unwrap();
            let description = tag["description"].as_str().unwrap_or_default();
            assert!(
                !description.trim().is_empty(),
                "tag {name} has no description"
            );
            name
        })
        .collect();
    let mut problems = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !methods.contains(&method.as_str()) {
                continue;
            }
            let here = format!("{} {path}", method.to_uppercase());
            for field in ["summary", "description"] {
                if op[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                    problems.push(format!("{here}: no {field}"));
                }
            }
            let tags = op["tags"].as_array().map(Vec::as_slice).unwrap_or_default();
            if tags.is_empty() {
                problems.push(format!("{here}: no tag"));
            }
            for tag in tags {
                let tag = tag.as_str().unwrap_or_default();
                used.insert(tag.to_owned());
                if !declared.contains(&tag) {
                    problems.push(format!("{here}: tag {tag:?} is not declared"));
                }
            }
        }
    }
    for tag in &declared {
        if !used.contains(*tag) {
            problems.push(format!("tag {tag:?} is declared but no operation uses it"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
