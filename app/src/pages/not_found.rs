use leptos::prelude::*;
use leptos_router::components::A;

/// The 404 body; also used when a product id is unknown. Sets the HTTP status on the server.
#[component]
pub fn NotFoundBody(#[prop(default = "page")] what: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="mx-auto my-16 max-w-md text-center" data-testid="not-found">
            <p class="text-sm font-semibold text-neutral-500">"404"</p>
            <h1 class="mt-2 text-2xl font-semibold tracking-tight">{format!("This {what} does not exist")}</h1>
            <p class="mt-2 text-sm text-neutral-500">"It may have been removed, or the link is mistyped."</p>
            <A href="/dashboard/products" attr:class="mt-6 inline-block text-sm font-medium underline underline-offset-4">
                "Back to products"
            </A>
        </div>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! { <div class="min-h-screen bg-neutral-50 px-4 py-6"><NotFoundBody/></div> }
}
