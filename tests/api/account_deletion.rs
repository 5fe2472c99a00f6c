//! `DELETE /api/client/account` (operations.md §6): the customer and its claims go, and the
//! phone and email are free again, also when a link races the deletion.

use std::sync::Arc;

use infra::devtoken::Persona;
use serde_json::json;

use crate::calls::{ACCOUNT, VERIFY, create_customer, link};
use crate::helpers::{phone, spawn_app, unique};

#[tokio::test]
async fn a_customer_deletes_their_account_then_verify_and_a_second_delete_answer_404() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, &uid).await;
    let token = app.anonymous_token(&uid);
    let deleted = app.public("DELETE", ACCOUNT, Some(&token), None).await;
    assert_eq!(deleted.assert_ok(200), &json!({ "id": id, "deleted": true }));
    app.public("POST", VERIFY, Some(&token), None).await.assert_error(404, "NOT_FOUND");
    app.public("DELETE", ACCOUNT, Some(&token), None).await.assert_error(404, "NOT_FOUND");
    assert!(app.app.customers().by_id(&id.parse().unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn account_deletion_needs_a_token_bound_to_a_customer() {
    let app = spawn_app().await;
    app.public("DELETE", ACCOUNT, None, None).await.assert_error(401, "UNAUTHORIZED");
    let stranger = app.anonymous_token(&unique("uid"));
    app.public("DELETE", ACCOUNT, Some(&stranger), None).await.assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn after_deletion_the_same_phone_and_email_register_again_with_a_new_customer() {
    let app = spawn_app().await;
    let (uid, phone) = (unique("uid"), phone());
    let first = create_customer(&app, &uid).await;
    link(&app, &app.phone_token(&uid, &phone), &first, &uid).await.assert_ok(200);
    let google = unique("uid");
    let email = format!("{}@example.com", unique("angin"));
    let with_email = create_customer(&app, &google).await;
    let google_token = app.token(Persona::GoogleCustomer { uid: google.clone(), email: email.clone() });
    link(&app, &google_token, &with_email, &google).await.assert_ok(200);

    // While they exist, the phone and the email belong to them.
    let (other, taken) = (unique("uid"), unique("uid"));
    let blocked = create_customer(&app, &other).await;
    link(&app, &app.phone_token(&other, &phone), &blocked, &other).await.assert_error(409, "ALREADY_REGISTERED");
    let blocked = create_customer(&app, &taken).await;
    let same_email = app.token(Persona::GoogleCustomer { uid: taken.clone(), email: email.clone() });
    link(&app, &same_email, &blocked, &taken).await.assert_error(409, "ALREADY_REGISTERED");

    app.public("DELETE", ACCOUNT, Some(&app.phone_token(&uid, &phone)), None).await.assert_ok(200);
    app.public("DELETE", ACCOUNT, Some(&google_token), None).await.assert_ok(200);
    // The same Firebase uid, phone and email make a new customer.
    let again = create_customer(&app, &uid).await;
    assert_ne!(again, first);
    let relinked = link(&app, &app.phone_token(&uid, &phone), &again, &uid).await;
    assert_eq!(relinked.assert_ok(200)["phone"], phone.as_str());
    let again = create_customer(&app, &google).await;
    assert_eq!(link(&app, &google_token, &again, &google).await.assert_ok(200)["email"], email.as_str());
}

#[tokio::test]
async fn concurrent_delete_and_link_on_one_customer_never_leave_a_half_deleted_customer() {
    let app = Arc::new(spawn_app().await);
    let customers = app.app.customers();
    let table = app.app.tables.customers.clone();
    for round in 0..8 {
        let (uid, phone) = (unique("uid"), phone());
        let id = create_customer(&app, &uid).await;
        let (anonymous, with_phone) = (app.anonymous_token(&uid), app.phone_token(&uid, &phone));
        let (a, b) = (app.clone(), app.clone());
        let delete = tokio::spawn(async move { a.public("DELETE", ACCOUNT, Some(&anonymous), None).await });
        let (id2, uid2) = (id.clone(), uid.clone());
        let linking = tokio::spawn(async move { link(&b, &with_phone, &id2, &uid2).await });
        let (deleted, linked) = (delete.await.unwrap(), linking.await.unwrap());
        assert!(matches!(deleted.status, 200 | 404), "round {round}: {}", deleted.body);
        assert!(matches!(linked.status, 200 | 404 | 409), "round {round}: {}", linked.body);

        let claim = |pk: String| {
            let (client, table) = (app.app.dynamo.clone(), table.clone());
            async move { shared::store::get(&client, &table, &pk).await.unwrap() }
        };
        let uid_claim = claim(format!("UID#{uid}")).await;
        let phone_claim = claim(format!("PHONE#{phone}")).await;
        match customers.by_id(&id.parse().unwrap()).await.unwrap() {
            // Gone: so are its claims, and the phone is free for a new customer.
            None => {
                assert_eq!(deleted.status, 200, "round {round}: the delete won");
                assert!(uid_claim.is_none() && phone_claim.is_none(), "round {round}: a claim outlived its customer");
                let next = unique("uid");
                let fresh = create_customer(&app, &next).await;
                link(&app, &app.phone_token(&next, &phone), &fresh, &next).await.assert_ok(200);
            }
            // Still there: whole, with a claim for what it holds and none for what it does not.
            Some(customer) => {
                assert!(uid_claim.is_some(), "round {round}: a customer without its uid claim");
                assert_eq!(customer.phone.is_some(), phone_claim.is_some(), "round {round}: {customer:?}");
                assert_eq!(customer.is_anonymous, customer.phone.is_none(), "round {round}: {customer:?}");
                let after = app.public("DELETE", ACCOUNT, Some(&app.anonymous_token(&uid)), None).await;
                after.assert_ok(200);
                assert!(claim(format!("PHONE#{phone}")).await.is_none(), "round {round}");
            }
        }
    }
}
