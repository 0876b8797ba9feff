//! SyncStore's shared crate: pure domain rules, DTOs, server functions and the Leptos
//! dashboard. Compiles for the server (`ssr`) and for the browser (`hydrate`).

// The pages' view types nest deeply; the hydrate build's layout queries need the room.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod domain;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

use pages::{lazy, login::LoginPage, not_found::NotFoundPage, products::ProductsPage};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="id">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-neutral-50 text-neutral-950 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from this site or carrying this
/// response's nonce (Leptos puts it on the hydration and resource scripts it inlines), WASM
/// compilation allowed, no plugins, no framing, forms and fetches only to this site. Inline
/// `style` attributes (progress bars) stay allowed; they cannot run code.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use axum::http::{header, HeaderValue};
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/syncstore.css"/>
        <Title text="SyncStore"/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view=|| view! { <Redirect path="/dashboard/products"/> }/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/dashboard") view=|| view! { <Redirect path="/dashboard/products"/> }/>
                <Route path=path!("/dashboard/products") view=ProductsPage/>
                <Route path=path!("/dashboard/products/:id") view={Lazy::<lazy::Product>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/batches") view={Lazy::<lazy::Batches>::new()}/>
                <Route path=path!("/dashboard/batches/:id") view={Lazy::<lazy::Batch>::new()}/>
                <Route path=path!("/dashboard/batches/:id/report") view={Lazy::<lazy::BatchReport>::new()}/>
                <Route path=path!("/dashboard/dead-letters") view={Lazy::<lazy::DeadLetters>::new()}/>
                <Route path=path!("/dashboard/sync-logs") view={Lazy::<lazy::SyncLogs>::new()}/>
                <Route path=path!("/dashboard/reports/pilot") view={Lazy::<lazy::PilotReport>::new()}/>
                <Route path=path!("/dashboard/reports/completion") view={Lazy::<lazy::CompletionReport>::new()}/>
                <Route path=path!("/dashboard/validation") view={Lazy::<lazy::Validation>::new()}/>
                <Route path=path!("/dashboard/rollout") view={Lazy::<lazy::Rollout>::new()}/>
                <Route path=path!("/dashboard/audit") view={Lazy::<lazy::Audit>::new()}/>
                <Route path=path!("/dashboard/settings") view={Lazy::<lazy::Settings>::new()}/>
            </Routes>
        </Router>
    }
}
