//! An endpoint as the local gateway serves it and the spec describes it. The list of
//! them, `crate::endpoints::all`, is generated from the route table.

use futures::future::BoxFuture;
use lambda_http::{Body, Request, Response};
use shared::routes::Route;
use shared::{App, Endpoint};

use crate::openapi::{self, Describe};

pub type Handler = for<'a> fn(&'a App, Request) -> BoxFuture<'a, Response<Body>>;

pub struct Mount {
    pub route: Route,
    pub handler: Handler,
    pub operation: Describe,
}

pub fn mount<E: Endpoint>() -> Mount {
    Mount { route: E::ROUTE, handler: handler::<E>, operation: openapi::operation::<E> }
}

fn handler<E: Endpoint>(app: &App, req: Request) -> BoxFuture<'_, Response<Body>> {
    Box::pin(shared::http::run::<E>(app, req))
}
