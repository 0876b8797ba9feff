//! `/login`: a plain HTML form, so signing in works before (and without) hydration.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::ui::{BUTTON, INPUT};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(|code| match code.as_str() {
            "rate_limited" => "Too many sign-in attempts. Wait a few minutes and try again.",
            "invalid_input" => "Enter your email and password.",
            _ => "Email or password is wrong.",
        })
    };
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <div class="flex min-h-screen items-center justify-center bg-neutral-50 px-4">
            <div class="w-full max-w-sm rounded-xl border border-neutral-200 bg-white p-6 shadow-sm">
                <h1 class="text-2xl font-semibold tracking-tight">"SyncStore"</h1>
                <p class="mt-1 text-sm text-neutral-500">"Sign in to manage your Shopee and TikTok Shop catalog."</p>
                {move || error().map(|e| view! {
                    <div role="alert" class="mt-4 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800">{e}</div>
                })}
                <form method="post" action="/login" class="mt-6 space-y-4">
                    <input type="hidden" name="next" prop:value=next/>
                    <label class="block text-sm font-medium">
                        "Email"
                        <input type="email" name="email" required autocomplete="username" class=format!("mt-1 {INPUT}")/>
                    </label>
                    <label class="block text-sm font-medium">
                        "Password"
                        <input type="password" name="password" required autocomplete="current-password" class=format!("mt-1 {INPUT}")/>
                    </label>
                    <button type="submit" class=format!("{BUTTON} w-full")>"Sign in"</button>
                </form>
            </div>
        </div>
    }
}
