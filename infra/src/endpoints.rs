//! Every function's handler, keyed by its route, for the local gateway and the specs.

use futures::future::BoxFuture;
use lambda_http::{Body, Request, Response};
use shared::routes::Route;
use shared::{App, Endpoint};

use crate::openapi::Generators;

pub type Handler = for<'a> fn(&'a App, Request) -> BoxFuture<'a, Response<Body>>;

/// One endpoint as the gateway serves it and the spec describes it.
pub struct Mount {
    pub route: Route,
    pub handler: Handler,
    pub operation: fn(&mut Generators) -> serde_json::Value,
}

fn handler<E: Endpoint>(app: &App, req: Request) -> BoxFuture<'_, Response<Body>> {
    Box::pin(shared::http::run::<E>(app, req))
}

fn entry<E: Endpoint>() -> Mount {
    Mount { route: E::ROUTE, handler: handler::<E>, operation: crate::openapi::operation::<E> }
}

pub fn all() -> Vec<Mount> {
    vec![
        entry::<customer_anonymous::Function>(),
        entry::<customer_link::Function>(),
        entry::<client_auth_verify::Function>(),
        entry::<mitra_auth_verify::Function>(),
        entry::<public_anonymity_get::Function>(),
        entry::<internal_auth_verify::Function>(),
        entry::<mitras_create::Function>(),
        entry::<mitras_list::Function>(),
        entry::<mitras_status::Function>(),
        entry::<control_center_users_create::Function>(),
        entry::<control_center_users_list::Function>(),
        entry::<roles_list::Function>(),
        entry::<anonymity_get::Function>(),
        entry::<anonymity_patch::Function>(),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_in_the_shared_table_has_exactly_one_handler() {
        let handled: Vec<_> = super::all().into_iter().map(|m| m.route).collect();
        assert_eq!(handled.len(), shared::routes::ALL.len());
        for route in shared::routes::ALL {
            assert_eq!(handled.iter().filter(|r| **r == route).count(), 1, "{}", route.name);
        }
    }
}
