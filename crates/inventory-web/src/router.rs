//! Each route declared once. A handler's `#[utoipa::path(...)]` names its method and path;
//! [`routes!`](crate::routes) turns a list of handlers into both the actix routes (numeric
//! path parameters, the contract's 405 for other methods) and the OpenAPI operations with the
//! schemas they use. The server and the document cannot disagree: a route is in both or in
//! neither.

use std::collections::BTreeMap;

use actix_web::dev::Handler;
use actix_web::http::Method;
use actix_web::{web, FromRequest, Responder, Route};
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::{OpenApi, Paths};

/// Where a route list goes: the server's routing, or the OpenAPI document.
pub trait Sink {
    fn add<P, F, Args>(&mut self, handler: F)
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences,
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static;
}

/// The actix path of an OpenAPI path: every `{param}` of ours is a number.
pub fn actix_path(openapi_path: &str) -> String {
    let mut out = String::with_capacity(openapi_path.len() + 8);
    let mut rest = openapi_path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&format!("{{{name}:\\d+}}"));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn method_of(m: &HttpMethod) -> Method {
    match m {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// The `Allow` value of each documented path (GET implies HEAD; every path has OPTIONS), for
/// answering OPTIONS without a route per path.
pub fn allowed_methods(api: &OpenApi) -> Vec<(actix_web::dev::ResourceDef, String)> {
    api.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut methods = vec![];
            let ops = [
                ("GET", item.get.is_some()),
                ("HEAD", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
                ("OPTIONS", true),
            ];
            for (m, present) in ops {
                if present {
                    methods.push(m);
                }
            }
            (
                actix_web::dev::ResourceDef::new(actix_path(path)),
                methods.join(", "),
            )
        })
        .collect()
}

/// Routes gathered by path, then registered one resource a path.
#[derive(Default)]
pub struct Server {
    resources: BTreeMap<String, Vec<Route>>,
    /// (method, path) of every route, for the check against the document.
    pub declared: Vec<(String, String)>,
}

impl Sink for Server {
    fn add<P, F, Args>(&mut self, handler: F)
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences,
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let path = P::path();
        for m in P::methods() {
            let method = method_of(&m);
            self.declared.push((method.to_string(), path.clone()));
            self.resources
                .entry(actix_path(&path))
                .or_default()
                .push(web::route().method(method).to(handler.clone()));
        }
    }
}

impl Server {
    /// The routes of a table.
    pub fn of(table: impl FnOnce(&mut Server)) -> Server {
        let mut s = Server::default();
        table(&mut s);
        s
    }

    /// Registers every gathered resource (unknown methods answer the contract's 405).
    pub fn configure(self, cfg: &mut web::ServiceConfig) {
        for (path, routes) in self.resources {
            let mut resource = crate::api::resource(&path);
            for r in routes {
                resource = resource.route(r);
            }
            cfg.service(resource);
        }
    }
}

/// The document's operations, the schemas they refer to, and how a caller proves who it is.
#[derive(Default)]
pub struct Document {
    pub paths: Paths,
    pub schemas: Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
    pub security: Vec<(String, utoipa::openapi::security::SecurityScheme)>,
}

impl Sink for Document {
    fn add<P, F, Args>(&mut self, _handler: F)
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences,
        F: Handler<Args> + Clone,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.paths
            .add_path_operation(P::path(), P::methods(), P::operation());
        P::schemas(&mut self.schemas);
    }
}

impl Document {
    /// The operations of a table.
    pub fn of(table: impl FnOnce(&mut Document)) -> Document {
        let mut d = Document::default();
        table(&mut d);
        d
    }

    /// Declares how callers of these operations sign their requests; every operation then
    /// asks for it, except the public ones ([`crate::openapi::PUBLIC`]).
    pub fn secured_by(
        mut self,
        name: &str,
        scheme: utoipa::openapi::security::SecurityScheme,
    ) -> Document {
        self.security.push((name.to_owned(), scheme));
        self
    }

    /// Puts the operations, their schemas and the security schemes into `api`.
    pub fn merge_into(self, api: &mut OpenApi) {
        api.paths.merge(self.paths);
        let components = api.components.get_or_insert_with(Default::default);
        for (name, schema) in self.schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        for (name, scheme) in self.security {
            components
                .security_schemes
                .insert(name.clone(), utoipa::openapi::RefOr::T(scheme));
            let requirement =
                utoipa::openapi::security::SecurityRequirement::new(name, Vec::<String>::new());
            api.security.get_or_insert_with(Vec::new).push(requirement);
        }
    }
}

/// Adds handlers (`module::handler`, the module in scope) to a [`Sink`], each under the
/// method and path its `#[utoipa::path]` declares.
#[macro_export]
macro_rules! routes {
    ($sink:expr; $($module:ident :: $handler:ident),* $(,)?) => {{
        $(
            $crate::__paste! {
                $crate::router::Sink::add::<$module :: [<__path_ $handler>], _, _>(
                    $sink,
                    $module :: $handler,
                );
            }
        )*
    }};
}

#[cfg(test)]
mod tests {
    use super::{actix_path, Document, Server};
    use std::collections::BTreeSet;

    #[test]
    fn the_server_routes_what_the_document_lists() {
        let server = Server::of(crate::api::table);
        let doc = Document::of(crate::api::table);
        let routed: BTreeSet<(String, String)> = server.declared.iter().cloned().collect();
        assert_eq!(
            routed.len(),
            server.declared.len(),
            "a route declared twice"
        );
        let documented: BTreeSet<(String, String)> = doc
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                let ops = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                ops.into_iter()
                    .filter(|(_, present)| *present)
                    .map(|(m, _)| (m.to_owned(), path.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(routed, documented);
        assert!(routed.len() > 80, "{} routes", routed.len());
    }

    #[test]
    fn parameters_become_numeric_segments() {
        assert_eq!(actix_path("/api/products"), "/api/products");
        assert_eq!(actix_path("/api/products/{id}"), r"/api/products/{id:\d+}");
        assert_eq!(
            actix_path("/api/products/{id}/suppliers/{supplier_id}"),
            r"/api/products/{id:\d+}/suppliers/{supplier_id:\d+}"
        );
    }
}
