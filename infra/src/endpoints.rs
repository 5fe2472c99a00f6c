//! Every function's handler, keyed by its route, for the local gateway.

use futures::future::BoxFuture;
use lambda_http::{Body, Request, Response};
use shared::routes::Route;
use shared::{App, Endpoint};

pub type Handler = for<'a> fn(&'a App, Request) -> BoxFuture<'a, Response<Body>>;

fn handler<E: Endpoint + 'static>(app: &App, req: Request) -> BoxFuture<'_, Response<Body>> {
    Box::pin(shared::http::run::<E>(app, req))
}

fn entry<E: Endpoint + 'static>() -> (Route, Handler) {
    (E::ROUTE, handler::<E>)
}

pub fn all() -> Vec<(Route, Handler)> {
    vec![
        entry::<customer_anonymous::CreateAnonymousCustomer>(),
        entry::<customer_link::LinkCustomer>(),
        entry::<client_auth_verify::VerifyCustomer>(),
        entry::<mitra_auth_verify::VerifyMitra>(),
        entry::<public_anonymity_get::ReadAnonymity>(),
        entry::<internal_auth_verify::VerifyControlCenterUser>(),
        entry::<mitras_create::CreateMitra>(),
        entry::<mitras_list::ListMitras>(),
        entry::<mitras_status::SetMitraStatus>(),
        entry::<control_center_users_create::CreateControlCenterUser>(),
        entry::<control_center_users_list::ListControlCenterUsers>(),
        entry::<roles_list::ListRoles>(),
        entry::<anonymity_get::ReadAnonymitySetting>(),
        entry::<anonymity_patch::UpdateAnonymitySetting>(),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_in_the_shared_table_has_exactly_one_handler() {
        let handled: Vec<_> = super::all().into_iter().map(|(route, _)| route).collect();
        assert_eq!(handled.len(), shared::routes::ALL.len());
        for route in shared::routes::ALL {
            assert_eq!(handled.iter().filter(|r| **r == route).count(), 1, "{}", route.name);
        }
    }
}
