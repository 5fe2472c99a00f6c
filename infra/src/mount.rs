//! An endpoint as the local gateway serves it and the spec describes it. The list of
//! them, `crate::endpoints::all`, is generated from the route table.

use futures::future::BoxFuture;
use lambda_http::{Body, Request, Response};
use shared::routes::Route;
use shared::{App, Endpoint};

use crate::openapi::Generators;

pub type Handler = for<'a> fn(&'a App, Request) -> BoxFuture<'a, Response<Body>>;

pub struct Mount {
    pub route: Route,
    pub handler: Handler,
    pub operation: fn(&mut Generators) -> serde_json::Value,
}

pub fn mount<E: Endpoint>() -> Mount {
    Mount { route: E::ROUTE, handler: handler::<E>, operation: crate::openapi::operation::<E> }
}

fn handler<E: Endpoint>(app: &App, req: Request) -> BoxFuture<'_, Response<Body>> {
    Box::pin(shared::http::run::<E>(app, req))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_in_the_shared_table_has_exactly_one_mounted_endpoint() {
        let mounted: Vec<_> = crate::endpoints::all().into_iter().map(|m| m.route).collect();
        assert_eq!(mounted.len(), shared::routes::ALL.len());
        for route in shared::routes::ALL {
            assert_eq!(mounted.iter().filter(|r| **r == route).count(), 1, "{}", route.name);
        }
    }
}
