//! `template.yaml` against the code: every route of `shared::routes::ALL` is
//! exactly one function with exactly one API event (method, path, and the
//! right API: public or private) plus the CORS preflight of its path when it is the path's first route, nothing else is routed, each function builds
//! the binary of its name, and the tables are exactly `shared::store::schema::ALL`.
//! `sam validate --lint` (scripts/test.sh) checks the rest of the template's form.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_yaml_ng::Value;
use shared::routes::{self, Surface};
use shared::store::schema;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml exists");
    // SAM's short-form intrinsics (!Ref, !Sub, !GetAtt, !If, ...) parse as tagged values.
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

/// A value with its intrinsic tag, if any: `!Ref X` → (Some("Ref"), "X"); the long
/// form `{Ref: X}` / `{"Fn::Sub": ...}` reads the same.
fn intrinsic(value: &Value) -> (Option<String>, &Value) {
    match value {
        Value::Tagged(tagged) => (Some(tagged.tag.to_string().trim_start_matches('!').to_owned()), &tagged.value),
        Value::Mapping(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next().unwrap();
            match key.as_str() {
                Some(k @ "Ref") => (Some(k.to_owned()), inner),
                Some(k) if k.starts_with("Fn::") => (Some(k.trim_start_matches("Fn::").to_owned()), inner),
                _ => (None, value),
            }
        }
        _ => (None, value),
    }
}

/// `!Ref X` → "X".
fn reference(value: &Value) -> Option<&str> {
    match intrinsic(value) {
        (Some(tag), inner) if tag == "Ref" => inner.as_str(),
        _ => None,
    }
}

/// `!Sub "..."` → "...".
fn sub(value: &Value) -> Option<&str> {
    match intrinsic(value) {
        (Some(tag), inner) if tag == "Sub" => inner.as_str(),
        _ => None,
    }
}

fn str_of<'v>(value: &'v Value, what: &str) -> &'v str {
    value.as_str().unwrap_or_else(|| panic!("{what} is not a plain string: {value:?}"))
}

/// Each entry's `(AttributeName, <kind>)` of a table's `list` (a key schema or attribute definitions).
fn definitions(list: &Value, what: &str, kind: &str) -> Vec<(String, String)> {
    let entries = list.as_sequence().expect(what).iter();
    entries
        .map(|e| (str_of(&e["AttributeName"], "AttributeName").to_owned(), str_of(&e[kind], kind).to_owned()))
        .collect()
}

fn resources(t: &Value) -> BTreeMap<String, &Value> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().expect("logical id").to_owned(), v))
        .collect()
}

fn of_type<'t>(t: &'t Value, kind: &str) -> BTreeMap<String, &'t Value> {
    resources(t).into_iter().filter(|(_, r)| r["Type"].as_str() == Some(kind)).collect()
}

/// `control-center-users-create` → `ControlCenterUsersCreate`.
fn pascal(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[test]
fn every_route_is_exactly_one_function_with_one_event_on_the_right_api_and_nothing_else_is_routed() {
    let t = template();
    let functions = of_type(&t, "AWS::Serverless::Function");
    let globals = &t["Globals"]["Function"];
    let makefile = std::fs::read_to_string(root().join("Makefile")).expect("Makefile exists");

    let expected: BTreeSet<String> = routes::ALL.iter().map(|r| format!("{}Function", pascal(r.name))).collect();
    let actual: BTreeSet<String> = functions.keys().cloned().collect();
    assert_eq!(actual, expected, "one function per route, logical id <PascalCase route name>Function, and no others");

    for route in routes::ALL {
        let id = format!("{}Function", pascal(route.name));
        let function = functions[&id];
        let props = &function["Properties"];

        // The binary: CodeUri is the route's crate, built by the Makefile target that copies its bootstrap.
        assert_eq!(props["CodeUri"].as_str(), Some(format!("functions/{}", route.name).as_str()), "{id} CodeUri");
        let manifest = std::fs::read_to_string(root().join("functions").join(route.name).join("Cargo.toml"))
            .unwrap_or_else(|_| panic!("{id}: functions/{}/Cargo.toml exists", route.name));
        assert!(
            manifest.contains(&format!("name = \"{}\"", route.name)),
            "{id}: crate and binary are named {}",
            route.name
        );
        assert_eq!(function["Metadata"]["BuildMethod"].as_str(), Some("makefile"), "{id} is a makefile build");
        let target = format!("build-{id}:");
        let recipe = makefile
            .lines()
            .skip_while(|line| !line.starts_with(&target))
            .nth(1)
            .unwrap_or_else(|| panic!("Makefile has no target {target}"));
        assert_eq!(
            recipe.trim(),
            format!("$(call install,{})", route.name),
            "Makefile {target} copies the {} binary",
            route.name
        );
        let handler = props.get("Handler").unwrap_or(&globals["Handler"]);
        assert_eq!(handler.as_str(), Some("bootstrap"), "{id} Handler");
        let runtime = props.get("Runtime").unwrap_or(&globals["Runtime"]);
        assert_eq!(runtime.as_str(), Some("provided.al2023"), "{id} Runtime");

        // Exactly one event for the route (its method and path on its surface's API), and the
        // CORS preflight of its path when it is the path's first route in the table.
        let events = props["Events"].as_mapping().unwrap_or_else(|| panic!("{id} has Events"));
        let first_of_path = routes::ALL.iter().find(|r| r.path == route.path) == Some(&route);
        assert_eq!(events.len(), if first_of_path { 2 } else { 1 }, "{id}: its route's event, and Preflight if first");
        let event = &events[&Value::from("Api")];
        assert_eq!(event["Type"].as_str(), Some("Api"), "{id}: a REST API event");
        let event = &event["Properties"];
        assert_eq!(str_of(&event["Method"], "Method").to_ascii_uppercase(), route.method, "{id} method");
        assert_eq!(event["Path"].as_str(), Some(route.path), "{id} path");
        let api = match route.surface {
            Surface::Public => "PublicApi",
            Surface::Internal => "InternalApi",
        };
        assert_eq!(reference(&event["RestApiId"]), Some(api), "{id} is on {api}");
    }

    // The only routes are the functions' events: two APIs, no hand-written definitions or methods.
    let apis: BTreeSet<String> = of_type(&t, "AWS::Serverless::Api").into_keys().collect();
    assert_eq!(apis, BTreeSet::from(["InternalApi".to_owned(), "PublicApi".to_owned()]));
    for (id, api) in of_type(&t, "AWS::Serverless::Api") {
        for key in ["DefinitionBody", "DefinitionUri"] {
            assert!(
                api["Properties"].get(key).is_none(),
                "{id} defines routes in {key}; routes come from function events only"
            );
        }
    }
    for kind in [
        "AWS::Serverless::HttpApi",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Method",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Route",
        "AWS::Lambda::Url",
    ] {
        assert!(of_type(&t, kind).is_empty(), "no {kind}: every route is a function's Api event");
    }

    // The internal surface is a private REST API admitting only the VPC endpoint.
    let internal = &resources(&t)["InternalApi"]["Properties"];
    assert_eq!(internal["EndpointConfiguration"]["Type"].as_str(), Some("PRIVATE"));
    let endpoints = internal["EndpointConfiguration"]["VPCEndpointIds"].as_sequence().expect("VPCEndpointIds");
    assert_eq!(endpoints.iter().map(reference).collect::<Vec<_>>(), vec![Some("VpcEndpointId")]);
    let statements = internal["Auth"]["ResourcePolicy"]["CustomStatements"].as_sequence().expect("resource policy");
    let effects: BTreeMap<&str, &str> = statements
        .iter()
        .map(|s| {
            let (operator, condition) = s["Condition"].as_mapping().expect("condition").iter().next().unwrap();
            assert_eq!(reference(&condition["aws:SourceVpce"]), Some("VpcEndpointId"), "{s:?}");
            (str_of(&s["Effect"], "Effect"), operator.as_str().unwrap())
        })
        .collect();
    assert_eq!(effects, BTreeMap::from([("Allow", "StringEquals"), ("Deny", "StringNotEquals")]));
    let public = &resources(&t)["PublicApi"]["Properties"];
    assert_eq!(public["EndpointConfiguration"]["Type"].as_str(), Some("REGIONAL"));
}

#[test]
fn every_table_matches_the_schema_exactly() {
    let t = template();
    let tables = of_type(&t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), schema::ALL.len(), "exactly the schema's tables: {:?}", tables.keys());

    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(sub(&env["TABLE_PREFIX"]), Some("halobestie-${Stage}"), "functions' TABLE_PREFIX");

    for def in schema::ALL {
        let id = format!("{}Table", pascal(def.suffix));
        let table = tables.get(&id).unwrap_or_else(|| panic!("no {id} for table {}", def.suffix));
        let props = &table["Properties"];
        assert_eq!(
            sub(&props["TableName"]),
            Some(format!("halobestie-${{Stage}}-{}", def.suffix).as_str()),
            "{id} name"
        );
        assert_eq!(props["BillingMode"].as_str(), Some("PAY_PER_REQUEST"), "{id} billing");
        assert!(props.get("ProvisionedThroughput").is_none(), "{id} is on demand");
        assert!(props.get("LocalSecondaryIndexes").is_none(), "{id} has no LSIs");

        let keys = |schema: &Value| definitions(schema, "KeySchema", "KeyType");
        assert_eq!(keys(&props["KeySchema"]), vec![(def.partition_key.to_owned(), "HASH".to_owned())], "{id} key");

        let mut expected_attributes = BTreeSet::from([(def.partition_key.to_owned(), "S".to_owned())]);
        let mut expected_indexes = BTreeMap::new();
        for index in def.indexes {
            expected_attributes.insert((index.partition_key.to_owned(), "S".to_owned()));
            expected_attributes.insert((index.sort_key.to_owned(), "S".to_owned()));
            expected_indexes.insert(
                index.name.to_owned(),
                vec![
                    (index.partition_key.to_owned(), "HASH".to_owned()),
                    (index.sort_key.to_owned(), "RANGE".to_owned()),
                ],
            );
        }
        let attributes = definitions(&props["AttributeDefinitions"], "AttributeDefinitions", "AttributeType");
        assert_eq!(attributes.len(), expected_attributes.len(), "{id}: no duplicate or extra attribute definitions");
        assert_eq!(attributes.into_iter().collect::<BTreeSet<_>>(), expected_attributes, "{id} attributes");

        let mut indexes = BTreeMap::new();
        if let Some(gsis) = props.get("GlobalSecondaryIndexes") {
            for gsi in gsis.as_sequence().expect("GlobalSecondaryIndexes") {
                let name = str_of(&gsi["IndexName"], "IndexName").to_owned();
                assert_eq!(gsi["Projection"]["ProjectionType"].as_str(), Some("KEYS_ONLY"), "{id}.{name} projection");
                assert!(gsi["Projection"].get("NonKeyAttributes").is_none(), "{id}.{name} projects keys only");
                assert!(gsi.get("ProvisionedThroughput").is_none(), "{id}.{name} is on demand");
                assert!(indexes.insert(name.clone(), keys(&gsi["KeySchema"])).is_none(), "{id}: index {name} twice");
            }
        }
        assert_eq!(indexes, expected_indexes, "{id} indexes");
    }
}

#[test]
fn functions_get_the_configuration_the_code_reads_and_least_privilege() {
    let t = template();
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(reference(&env["STAGE"]), Some("Stage"));
    assert_eq!(reference(&env["FIREBASE_PROJECT_ID"]), Some("FirebaseProjectId"));
    assert_eq!(reference(&env["ANONYMITY_PARAMETER"]), Some("AnonymityParameter"));
    let parameter = &resources(&t)["AnonymityParameter"]["Properties"];
    // The same name shared::config derives for a stage when ANONYMITY_PARAMETER is unset.
    assert_eq!(sub(&parameter["Name"]), Some("/halobestie/${Stage}/anonymity_enabled"));
    assert_eq!(parameter["Value"].as_str(), Some("true"), "the Phase 1 default");
    let stages: Vec<&str> =
        t["Parameters"]["Stage"]["AllowedValues"].as_sequence().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(stages.iter().all(|s| !shared::config::Config::is_local_stage(s)), "deployed stages are never local ones");

    const WRITES: [&str; 4] = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "ssm:PutParameter"];
    // DeleteItem is allowed where a route deletes (a mitra, its claims), never on the audit log.
    const NEVER: [&str; 4] =
        ["dynamodb:Scan", "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:BatchWriteItem"];
    for route in routes::ALL {
        let id = format!("{}Function", pascal(route.name));
        let policies = resources(&t)[&id]["Properties"]["Policies"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{id} has Policies"))
            .clone();
        for policy in &policies {
            let statements = policy["Statement"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{id}: only inline statements, no broad SAM policy templates"));
            for statement in statements {
                assert_eq!(statement["Effect"].as_str(), Some("Allow"));
                let actions: Vec<&str> =
                    statement["Action"].as_sequence().expect("Action list").iter().filter_map(Value::as_str).collect();
                let targets: Vec<&Value> = match &statement["Resource"] {
                    Value::Sequence(list) => list.iter().collect(),
                    one => vec![one],
                };
                for action in &actions {
                    assert!(!action.contains('*'), "{id}: wildcard action {action}");
                    assert!(!NEVER.contains(action), "{id}: needs no {action}");
                    // Only a DELETE route deletes items (its entity and claims), and a mitra's phone
                    // change releases the old phone's claim; never an audit record (below).
                    let deletes = route.method == "DELETE" || route.name == "mitras-update";
                    assert!(*action != "dynamodb:DeleteItem" || deletes, "{id}: needs no {action}");
                    if route.method == "GET" || route.name == "client-auth-verify" {
                        assert!(!WRITES.contains(action), "{id} only reads, yet may {action}");
                    }
                }
                for resource in targets {
                    assert_ne!(resource.as_str(), Some("*"), "{id}: a Resource of *");
                    // The audit log is append-only: records are put, never changed or removed.
                    let on_audit_log = matches!(intrinsic(resource), (Some(tag), inner)
                        if tag == "GetAtt" && inner.as_str().is_some_and(|a| a.starts_with("AuditLogTable")));
                    if on_audit_log {
                        let changes = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"];
                        assert!(actions.iter().all(|a| !changes.contains(a)), "{id}: {actions:?} on the audit log");
                    }
                    let is_index = sub(resource).is_some_and(|s| s.ends_with("/index/*"));
                    // Query is the only action on indexes, and indexes get nothing else.
                    assert_eq!(is_index, actions == ["dynamodb:Query"], "{id}: {actions:?} on {resource:?}");
                }
            }
        }
    }
}

/// Audit records are immutable by IAM: no function may update or delete one, the audit
/// table's writers may only add (`PutItem`, which the code conditions on a new key), and
/// only the audit-log route reads it.
#[test]
fn no_function_may_update_or_delete_an_audit_record() {
    let t = template();
    let mut writers = Vec::new();
    for route in routes::ALL {
        let id = format!("{}Function", pascal(route.name));
        let policies = resources(&t)[&id]["Properties"]["Policies"].as_sequence().unwrap().clone();
        for statement in policies.iter().flat_map(|p| p["Statement"].as_sequence().unwrap().clone()) {
            let targets: Vec<Value> = match &statement["Resource"] {
                Value::Sequence(list) => list.clone(),
                one => vec![one.clone()],
            };
            let on_audit = targets.iter().any(|r| serde_yaml_ng::to_string(r).unwrap().contains("AuditLogTable"));
            if !on_audit {
                continue;
            }
            let actions: Vec<&str> =
                statement["Action"].as_sequence().unwrap().iter().filter_map(Value::as_str).collect();
            for action in &actions {
                assert!(
                    ![
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:BatchWriteItem",
                        "dynamodb:PartiQLUpdate",
                        "dynamodb:PartiQLDelete"
                    ]
                    .contains(action),
                    "{id} may {action} on the audit table"
                );
                let allowed: &[&str] = if route.name == "audit-log-list" {
                    &["dynamodb:Query", "dynamodb:BatchGetItem"]
                } else {
                    &["dynamodb:PutItem"]
                };
                assert!(allowed.contains(action), "{id} may {action} on the audit table");
            }
            if actions.contains(&"dynamodb:PutItem") {
                writers.push(route.name);
            }
        }
    }
    // Every internal mutation records itself, so every internal writer writes the log.
    for name in [
        "internal-auth-verify",
        "control-center-users-create",
        "control-center-users-update",
        "control-center-users-delete",
        "control-center-users-revoke-sessions",
        "anonymity-patch",
    ] {
        assert!(writers.contains(&name), "{name} cannot write its audit record");
    }
}

#[test]
fn the_anonymous_customer_route_is_rate_limited_per_client_and_the_public_stage_throttled() {
    let t = template();
    let r = resources(&t);
    let rules = r["PublicWebAcl"]["Properties"]["Rules"].as_sequence().expect("web ACL rules");
    let anonymous =
        rules.iter().find(|rule| rule["Name"].as_str() == Some("anonymous-customer-per-ip")).expect("rate rule");
    let rate = &anonymous["Statement"]["RateBasedStatement"];
    assert_eq!(rate["AggregateKeyType"].as_str(), Some("IP"));
    let scope = serde_yaml_ng::to_string(&rate["ScopeDownStatement"]).unwrap();
    assert!(scope.contains("SearchString: POST") && scope.contains("/api/shared/customer/anonymous"), "{scope}");
    assert!(anonymous["Action"].get("Block").is_some());
    let association = &r["PublicWebAclAssociation"]["Properties"];
    assert!(sub(&association["ResourceArn"]).is_some_and(|arn| arn.contains("${PublicApi}/stages/${PublicApi.Stage}")));
    let settings = r["PublicApi"]["Properties"]["MethodSettings"].as_sequence().expect("public MethodSettings");
    assert!(settings.iter().any(|s| s.get("ThrottlingRateLimit").is_some() && s.get("ThrottlingBurstLimit").is_some()));
}

#[test]
fn api_gateways_own_errors_answer_with_the_contract_envelope() {
    let t = template();
    for api in ["PublicApi", "InternalApi"] {
        gateway_responses_answer_with_the_contract_envelope(&t, api);
    }
}

fn gateway_responses_answer_with_the_contract_envelope(t: &Value, api: &str) {
    let responses = resources(t)[api]["Properties"]["GatewayResponses"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{api}.GatewayResponses"));
    for kind in [
        "MISSING_AUTHENTICATION_TOKEN",
        "ACCESS_DENIED",
        "THROTTLED",
        "REQUEST_TOO_LARGE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    ] {
        assert!(responses.contains_key(kind), "GatewayResponses.{kind}");
    }
    for (kind, response) in responses {
        let body = str_of(&response["ResponseTemplates"]["application/json"], "template");
        let body: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(body["success"], false, "{kind:?}");
        assert!(
            body["error"]["code"].as_str().is_some_and(|c| !c.is_empty() && c == c.to_ascii_uppercase()),
            "{kind:?}"
        );
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{kind:?}");
        assert_eq!(body.as_object().unwrap().len(), 2, "{kind:?}");
    }
    let status = |kind: &str| responses[kind]["StatusCode"].as_str().map(str::to_owned);
    assert_eq!(
        status("MISSING_AUTHENTICATION_TOKEN").as_deref(),
        Some("404"),
        "an unknown route is a 404, not API Gateway's 403"
    );
    assert_eq!(status("THROTTLED").as_deref(), Some("429"));
    assert_eq!(status("REQUEST_TOO_LARGE").as_deref(), Some("413"));
    assert!(responses.contains_key("WAF_FILTERED"), "{api}: WAF blocks in the envelope");
}

/// The parameter an API's allowed origins come from.
fn origins_parameter(surface: Surface) -> &'static str {
    match surface {
        Surface::Public => "PublicCorsAllowedOrigins",
        Surface::Internal => "InternalCorsAllowedOrigins",
    }
}

#[test]
fn on_aws_both_apis_answer_options_on_every_path_through_the_function_that_runs_the_cors_rules() {
    let t = template();
    let r = resources(&t);
    let mut preflights: BTreeSet<(String, String)> = BTreeSet::new();
    for route in routes::ALL {
        let id = format!("{}Function", pascal(route.name));
        let props = &r[&id]["Properties"];
        let origins = &props["Environment"]["Variables"]["CORS_ALLOWED_ORIGINS"];
        assert_eq!(reference(origins), Some(origins_parameter(route.surface)), "{id}: the allow-list of its API");
        if let Some(event) = props["Events"].get("Preflight") {
            let event = &event["Properties"];
            assert_eq!(str_of(&event["Method"], "Method").to_ascii_uppercase(), "OPTIONS", "{id}");
            assert_eq!(event["Path"].as_str(), Some(route.path), "{id}: the preflight of its own path");
            let api = reference(&event["RestApiId"]).unwrap().to_owned();
            assert!(preflights.insert((api, route.path.to_owned())), "{id}: a second OPTIONS on {}", route.path);
        }
    }
    let paths: BTreeSet<(String, String)> = routes::ALL
        .iter()
        .map(|r| {
            let api = if r.surface == Surface::Public { "PublicApi" } else { "InternalApi" };
            (api.to_owned(), r.path.to_owned())
        })
        .collect();
    assert_eq!(preflights, paths, "exactly one OPTIONS per path of each API");
}

#[test]
fn on_aws_the_allowed_origins_are_per_stage_parameters_never_a_wildcard_and_set_for_every_stage() {
    let t = template();
    let pattern_of = |name: &str| {
        let parameter = &t["Parameters"][name];
        assert_eq!(parameter["Type"].as_str(), Some("String"), "{name}");
        assert!(parameter.get("Default").is_none(), "{name}: each stage names its own origins");
        regex_lite::Regex::new(str_of(&parameter["AllowedPattern"], "AllowedPattern")).unwrap()
    };
    let samconfig = std::fs::read_to_string(root().join("samconfig.toml")).unwrap();
    for name in ["PublicCorsAllowedOrigins", "InternalCorsAllowedOrigins"] {
        let pattern = pattern_of(name);
        for refused in ["*", "https://a.example,*", "", "https://a.example/", "https://a.example, https://b.example"] {
            assert!(!pattern.is_match(refused), "{name} admits {refused:?}");
        }
        for allowed in ["https://control.halobestie.example", "https://a.example,http://localhost:5173"] {
            assert!(pattern.is_match(allowed), "{name} refuses {allowed:?}");
        }
        for stage in ["dev", "prod"] {
            let overrides = samconfig
                .split(&format!("[{stage}.deploy.parameters]"))
                .nth(1)
                .and_then(|section| section.lines().find(|l| l.starts_with("parameter_overrides")))
                .unwrap_or_else(|| panic!("samconfig.toml: {stage} has parameter_overrides"));
            let value = overrides
                .split_whitespace()
                .find_map(|kv| kv.trim_matches('"').strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("samconfig.toml: {stage} sets {name}"));
            assert!(pattern.is_match(value.trim_end_matches('"')), "{stage}: {name}={value}");
        }
    }
}

#[test]
fn on_aws_api_gateways_own_answers_carry_cors_for_the_apis_first_origin_and_the_headers_of_every_answer() {
    let t = template();
    for (api, surface) in [("PublicApi", Surface::Public), ("InternalApi", Surface::Internal)] {
        let responses = resources(&t)[api]["Properties"]["GatewayResponses"].as_mapping().unwrap();
        for (kind, response) in responses {
            let headers = &response["ResponseParameters"]["Headers"];
            let literal = |name: &str| headers[name].as_str().unwrap_or_else(|| panic!("{api} {kind:?}: {name}"));
            assert_eq!(literal("Cache-Control"), "'no-store'", "{api} {kind:?}");
            assert_eq!(literal("X-Content-Type-Options"), "'nosniff'", "{api} {kind:?}");
            assert_eq!(literal("Vary"), "'Origin'", "{api} {kind:?}");
            assert_eq!(literal("Access-Control-Expose-Headers"), "'x-request-id'", "{api} {kind:?}");
            assert_eq!(literal("x-request-id"), "context.requestId", "{api} {kind:?}");
            assert!(headers.get("Access-Control-Allow-Credentials").is_none(), "bearer tokens, no cookies");
            // !Sub ["'${Origin}'", {Origin: !Select [0, !Split [",", !Ref <the API's parameter>]]}]
            let (tag, sub) = intrinsic(&headers["Access-Control-Allow-Origin"]);
            assert_eq!(tag.as_deref(), Some("Sub"), "{api} {kind:?}");
            assert_eq!(sub[0].as_str(), Some("'${Origin}'"), "{api} {kind:?}: a quoted literal");
            let (tag, select) = intrinsic(&sub[1]["Origin"]);
            assert_eq!((tag.as_deref(), select[0].as_u64()), (Some("Select"), Some(0)), "{api} {kind:?}");
            let (tag, split) = intrinsic(&select[1]);
            assert_eq!((tag.as_deref(), split[0].as_str()), (Some("Split"), Some(",")), "{api} {kind:?}");
            assert_eq!(reference(&split[1]), Some(origins_parameter(surface)), "{api} {kind:?}");
        }
    }
}

/// `CargoLambda.toml`'s `[watch.router]` as (path, method, function) triples.
fn watch_routes() -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(root().join("CargoLambda.toml")).expect("CargoLambda.toml exists");
    let quoted = |s: &str, after: &str| -> Option<String> {
        let start = s.find(after)? + after.len();
        let rest = &s[start..];
        let rest = rest.strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_owned())
    };
    let mut routes = BTreeSet::new();
    let mut path = None;
    for line in text.lines().skip_while(|l| l.trim() != "[watch.router]").skip(1) {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.starts_with('[') {
            break;
        }
        if line.starts_with('"') {
            path = quoted(line, "");
        }
        let mut rest = line;
        while let Some(at) = rest.find("method = ") {
            rest = &rest[at..];
            let method = quoted(rest, "method = ").expect("method is a string");
            let function = quoted(rest, "function = ").expect("function is a string");
            assert!(
                routes.insert((path.clone().expect("a path before its methods"), method, function)),
                "duplicate watch route"
            );
            rest = &rest["method = ".len()..];
        }
    }
    routes
}

#[test]
fn cargo_lambda_watch_routes_every_contract_path_to_its_function() {
    let expected: BTreeSet<(String, String, String)> =
        routes::ALL.iter().map(|r| (r.path.to_owned(), r.method.to_owned(), r.name.to_owned())).collect();
    assert_eq!(watch_routes(), expected);
}

/// The alarms' subject: a metric by namespace, name and its dimension values (plain or
/// `!Ref`/`!Sub`), or the metrics of a math expression.
fn alarm_watches(alarm: &Value, namespace: &str, metric: &str, dimension: &str) -> bool {
    let stats: Vec<&Value> = match alarm["Properties"]["Metrics"].as_sequence() {
        Some(metrics) => metrics.iter().filter_map(|m| m.get("MetricStat").map(|s| &s["Metric"])).collect(),
        None => vec![&alarm["Properties"]],
    };
    stats.iter().any(|m| {
        m["Namespace"].as_str() == Some(namespace)
            && m["MetricName"].as_str() == Some(metric)
            && m["Dimensions"].as_sequence().into_iter().flatten().any(|d| {
                let value = &d["Value"];
                reference(value).or(sub(value)).or(value.as_str()) == Some(dimension)
            })
    })
}

#[test]
fn on_call_is_paged_for_5xx_latency_lambda_errors_and_throttles_dynamodb_trouble_and_key_fetch_failures() {
    let t = template();
    let alarms = of_type(&t, "AWS::CloudWatch::Alarm");
    let has = |namespace: &str, metric: &str, dimension: &str| {
        alarms.values().any(|a| alarm_watches(a, namespace, metric, dimension))
    };
    for api in ["public", "internal"] {
        let name = format!("halobestie-${{Stage}}-{api}");
        assert!(has("AWS/ApiGateway", "5XXError", &name), "5xx rate alarm on the {api} API");
        assert!(has("AWS/ApiGateway", "Latency", &name), "p99 latency alarm on the {api} API");
    }
    for route in routes::ALL {
        let function = format!("{}Function", pascal(route.name));
        assert!(has("AWS/Lambda", "Errors", &function), "errors alarm on {function}");
        assert!(has("AWS/Lambda", "Throttles", &function), "throttles alarm on {function}");
    }
    for table in schema::ALL {
        let table = format!("{}Table", pascal(table.suffix));
        assert!(has("AWS/DynamoDB", "WriteThrottleEvents", &table), "write throttles alarm on {table}");
        assert!(has("AWS/DynamoDB", "ReadThrottleEvents", &table), "read throttles alarm on {table}");
    }
    assert!(has(shared::metrics::NAMESPACE, "DynamoDBSystemErrors", "Stage"), "DynamoDB system errors alarm");
    assert!(has(shared::metrics::NAMESPACE, "KeyFetchFailures", "Stage"), "key-fetch failures alarm");

    for (id, alarm) in &alarms {
        let actions = alarm["Properties"]["AlarmActions"].as_sequence().unwrap_or_else(|| panic!("{id} notifies"));
        assert!(actions.iter().any(|a| reference(a) == Some("AlarmTopic")), "{id} notifies the alarm topic");
    }
    let subscription = &resources(&t)["AlarmEmailSubscription"];
    assert_eq!(reference(&subscription["Properties"]["Endpoint"]), Some("AlarmEmail"));
    assert_eq!(of_type(&t, "AWS::CloudWatch::Dashboard").len(), 1, "one dashboard");
    let logs = of_type(&t, "AWS::Logs::LogGroup");
    assert_eq!(logs.len(), routes::ALL.len(), "one log group per function");
    for (id, group) in logs {
        assert_eq!(reference(&group["Properties"]["RetentionInDays"]), Some("LogRetentionDays"), "{id} expires");
    }
}

#[test]
fn every_function_runs_the_architecture_parameter_which_defaults_to_arm64_as_the_makefile_builds() {
    let t = template();
    let parameter = &t["Parameters"]["Architecture"];
    assert_eq!(parameter["Default"].as_str(), Some("arm64"), "Graviton unless a stack says otherwise");
    let allowed: BTreeSet<&str> =
        parameter["AllowedValues"].as_sequence().expect("AllowedValues").iter().filter_map(Value::as_str).collect();
    assert_eq!(allowed, BTreeSet::from(["arm64", "x86_64"]), "the way back to x86_64");

    let globals = &t["Globals"]["Function"];
    let functions = of_type(&t, "AWS::Serverless::Function");
    assert_eq!(functions.len(), routes::ALL.len());
    for (id, function) in functions {
        let architectures = function["Properties"].get("Architectures").unwrap_or(&globals["Architectures"]);
        let architectures = architectures.as_sequence().unwrap_or_else(|| panic!("{id} has Architectures"));
        assert_eq!(
            architectures.iter().map(reference).collect::<Vec<_>>(),
            vec![Some("Architecture")],
            "{id} runs exactly the Architecture parameter"
        );
    }

    // SAM does not tell the Makefile the template's architecture: its default must be the same.
    let makefile = std::fs::read_to_string(root().join("Makefile")).expect("Makefile exists");
    let default_build = makefile
        .lines()
        .find_map(|line| line.strip_prefix("LAMBDA_ARCH ?="))
        .expect("Makefile: LAMBDA_ARCH ?= <default>")
        .trim();
    assert_eq!(default_build, "--arm64", "make lambdas / sam build build what the template runs by default");
}
