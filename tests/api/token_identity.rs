//! Identity from the token at link (operations.md §7): phones normalised from any spelling,
//! and a link needs a phone or a verified email.

use infra::devtoken::Persona;
use serde_json::{Value, json};

use crate::calls::{VERIFY, create_customer, link};
use crate::helpers::{TestApp, phone, spawn_app, unique};

/// A token with exactly these identity claims besides the standard ones.
fn token_with(app: &TestApp, uid: &str, identity: Value) -> String {
    let mut claims = app.minter.claims(&Persona::Anonymous { uid: uid.into() });
    claims.as_object_mut().unwrap().extend(identity.as_object().unwrap().clone());
    app.minter.sign(&claims)
}

#[tokio::test]
async fn link_normalises_a_spaced_token_phone_and_takes_numbers_from_any_country() {
    let app = spawn_app().await;
    for (typed, stored) in [("+62 812-9999-0001", "+6281299990001"), ("+1 (555) 010.0123", "+15550100123")] {
        let uid = unique("uid");
        let id = create_customer(&app, &uid).await;
        let linked = link(&app, &app.phone_token(&uid, typed), &id, &uid).await;
        assert_eq!(linked.assert_ok(200)["phone"], stored, "{typed}");
    }
    for bad in ["+0 555 0100", "6281299990001", "+62 812 abc", "+1234"] {
        let uid = unique("uid");
        let id = create_customer(&app, &uid).await;
        let refused = link(&app, &app.phone_token(&uid, bad), &id, &uid).await;
        refused.assert_error(422, "VALIDATION_ERROR");
        assert_eq!(refused.body["error"]["details"][0]["field"], "phone_number", "{bad}");
    }
}

#[tokio::test]
async fn linking_needs_a_phone_or_a_verified_email_and_an_unverified_email_is_never_stored() {
    let app = spawn_app().await;
    let custom = json!({ "firebase": { "identities": {}, "sign_in_provider": "custom" } });
    let unverified = |email: &str| {
        json!({ "email": email, "email_verified": false,
                "firebase": { "identities": { "email": [email] }, "sign_in_provider": "password" } })
    };
    let squatted = format!("{}@example.com", unique("victim"));
    for identity in [custom, unverified(&squatted)] {
        let uid = unique("uid");
        let id = create_customer(&app, &uid).await;
        let refused = link(&app, &token_with(&app, &uid, identity.clone()), &id, &uid).await;
        refused.assert_error(422, "VALIDATION_ERROR");
        let still = app.public("POST", VERIFY, Some(&app.anonymous_token(&uid)), None).await;
        assert_eq!(still.assert_ok(200)["is_anonymous"], true, "{identity}");
    }

    // A phone sign-in that also carries an unverified email links by the phone alone.
    let uid = unique("uid");
    let id = create_customer(&app, &uid).await;
    let mut identity = unverified(&squatted);
    identity["phone_number"] = json!(phone());
    let linked = link(&app, &token_with(&app, &uid, identity), &id, &uid).await;
    assert!(linked.assert_ok(200).get("email").is_none(), "{}", linked.body);

    // So the address was not claimed: its owner, once verified, links with it.
    let owner = unique("uid");
    let id = create_customer(&app, &owner).await;
    let verified = json!({ "email": squatted, "email_verified": true,
                           "firebase": { "identities": { "email": [squatted] }, "sign_in_provider": "password" } });
    let linked = link(&app, &token_with(&app, &owner, verified), &id, &owner).await;
    assert_eq!(linked.assert_ok(200)["email"], squatted.as_str());
}
