//! The OpenAPI spec of each surface, as the mounted endpoints describe themselves.

use serde_json::Value;
use shared::routes::Surface;

use crate::endpoints;
use crate::openapi::{self, Describe};

pub fn spec(surface: Surface) -> Value {
    openapi::spec(surface, &described())
}

/// The spec as committed in `openapi/<surface>.json` and served at `/openapi.json`.
pub fn to_json(surface: Surface) -> String {
    openapi::to_json(surface, &described())
}

fn described() -> Vec<(shared::routes::Route, Describe)> {
    endpoints::all().into_iter().map(|m| (m.route, m.operation)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::routes::Surface;

    use super::*;
    use crate::openapi::operations;

    #[test]
    fn every_mounted_route_is_in_its_surfaces_spec() {
        for surface in [Surface::Public, Surface::Internal] {
            let spec = spec(surface);
            let mounted = crate::endpoints::all().iter().filter(|m| m.route.surface == surface).count();
            assert_eq!(operations(&spec).len(), mounted);
        }
    }

    #[test]
    fn the_anonymous_create_route_alone_has_optional_security() {
        let spec = spec(Surface::Public);
        assert_eq!(
            spec["paths"]["/api/shared/customer/anonymous"]["post"]["security"],
            json!([{}, { "bearerAuth": [] }])
        );
        assert_eq!(spec["paths"]["/api/shared/customer/link"]["post"]["security"], json!([{ "bearerAuth": [] }]));
    }

    #[test]
    fn a_handlers_declared_refusals_appear_under_their_status() {
        let spec = spec(Surface::Internal);
        let conflict = &spec["paths"]["/internal/mitras"]["post"]["responses"]["409"];
        let codes = &conflict["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"];
        assert_eq!(codes["enum"], json!(["CONFLICT"]));
        assert!(spec["paths"]["/internal/mitras"]["get"]["responses"]["409"].is_null());
    }

    #[test]
    fn every_route_in_the_shared_table_has_exactly_one_mounted_endpoint() {
        let mounted: Vec<_> = crate::endpoints::all().into_iter().map(|m| m.route).collect();
        assert_eq!(mounted.len(), shared::routes::ALL.len());
        for route in shared::routes::ALL {
            assert_eq!(mounted.iter().filter(|r| **r == route).count(), 1, "{}", route.name);
        }
    }
}
