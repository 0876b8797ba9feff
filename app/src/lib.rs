//! SyncStore's shared crate: pure domain rules, DTOs, server functions and the Leptos
//! dashboard. Compiles for the server (`ssr`) and for the browser (`hydrate`).

pub mod api;
pub mod components;
pub mod domain;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use pages::{
    batches::{BatchPage, BatchesPage},
    dead_letters::DeadLettersPage,
    login::LoginPage,
    not_found::NotFoundPage,
    product::ProductPage,
    products::ProductsPage,
    reports::{BatchReportPage, PilotReportPage},
    sync_logs::SyncLogsPage,
    validation::ValidationPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Lets end-to-end tests wait until the page is interactive; effects run only in the browser.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/syncstore.css"/>
        <Title text="SyncStore"/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view=|| view! { <Redirect path="/dashboard/products"/> }/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/dashboard") view=|| view! { <Redirect path="/dashboard/products"/> }/>
                <Route path=path!("/dashboard/products") view=ProductsPage/>
                <Route path=path!("/dashboard/products/:id") view=ProductPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/batches") view=BatchesPage/>
                <Route path=path!("/dashboard/batches/:id") view=BatchPage/>
                <Route path=path!("/dashboard/batches/:id/report") view=BatchReportPage/>
                <Route path=path!("/dashboard/dead-letters") view=DeadLettersPage/>
                <Route path=path!("/dashboard/sync-logs") view=SyncLogsPage/>
                <Route path=path!("/dashboard/reports/pilot") view=PilotReportPage/>
                <Route path=path!("/dashboard/validation") view=ValidationPage/>
            </Routes>
        </Router>
    }
}
