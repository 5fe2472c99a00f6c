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

    fn links(spec: &Value, path: &str) -> Vec<(String, Value)> {
        let links = &spec["paths"][path]["post"]["responses"]["201"]["links"];
        let mut links: Vec<(String, Value)> =
            links.as_object().into_iter().flatten().map(|(name, link)| (name.clone(), link.clone())).collect();
        links.sort_by(|a, b| a.0.cmp(&b.0));
        links
    }

    #[test]
    fn each_create_links_its_201_to_every_operation_that_takes_the_new_id() {
        let internal = spec(Surface::Internal);
        let id = json!({ "id": "$response.body#/data/id" });
        let mitra = links(&internal, "/internal/mitras");
        let names: Vec<&str> = mitra.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["mitras-delete", "mitras-get", "mitras-revoke-sessions", "mitras-status", "mitras-update"]);
        for (name, link) in &mitra {
            assert_eq!(link["operationId"], json!(name));
            assert_eq!(link["parameters"], id);
        }
        let users = links(&internal, "/internal/control-center-users");
        let names: Vec<&str> = users.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "control-center-users-delete",
                "control-center-users-get",
                "control-center-users-revoke-sessions",
                "control-center-users-update"
            ]
        );
        let public = spec(Surface::Public);
        let customer = links(&public, "/api/shared/customer/anonymous");
        assert_eq!(customer.len(), 1);
        assert_eq!(customer[0].1["operationId"], "customer-link");
        assert_eq!(customer[0].1["requestBody"], json!({ "customer_id": "$response.body#/data/id" }));
    }

    #[test]
    fn only_creates_have_links_and_only_on_their_201() {
        for surface in [Surface::Public, Surface::Internal] {
            let spec = spec(surface);
            for (path, item) in spec["paths"].as_object().unwrap() {
                for (method, operation) in item.as_object().unwrap() {
                    for (status, response) in operation["responses"].as_object().unwrap() {
                        let creates = method == "post" && status == "201";
                        assert!(creates || response.get("links").is_none(), "{method} {path} {status}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_creates_201_declares_a_location_when_what_it_creates_has_a_get_route() {
        let internal = spec(Surface::Internal);
        let location = &internal["paths"]["/internal/mitras"]["post"]["responses"]["201"]["headers"]["Location"];
        assert_eq!(location["required"], true);
        let pattern = location["schema"]["pattern"].as_str().unwrap();
        assert!(pattern.starts_with("^/internal/mitras/[0-9a-fA-F]{8}-"), "{pattern}");
        let users = &internal["paths"]["/internal/control-center-users"]["post"]["responses"]["201"]["headers"];
        assert!(users["Location"].is_object());
        let public = spec(Surface::Public);
        let customer = &public["paths"]["/api/shared/customer/anonymous"]["post"]["responses"];
        assert!(customer["201"]["headers"].get("Location").is_none(), "a customer has no GET route");
        assert!(internal["paths"]["/internal/mitras"]["get"]["responses"]["200"]["headers"].get("Location").is_none());
    }
}
