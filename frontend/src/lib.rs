//! The browser entry point: hydrates the server-rendered SyncStore dashboard.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        // Waits for the visited page's own piece of WASM (a lazy route) before hydrating it.
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // Every part of the page now answers: end-to-end tests wait for this.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
