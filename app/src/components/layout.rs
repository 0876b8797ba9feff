//! The dashboard frame: top bar with navigation and the signed-in user.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{list_shops, whoami};

#[component]
fn NavLinks() -> impl IntoView {
    view! {
        <A href="/dashboard/products" attr:class="hover:text-neutral-900">"Products"</A>
        <A href="/dashboard/batches" attr:class="hover:text-neutral-900">"Batches"</A>
        <A href="/dashboard/dead-letters" attr:class="hover:text-neutral-900">"Dead letters"</A>
        <A href="/dashboard/sync-logs" attr:class="hover:text-neutral-900">"Sync logs"</A>
        <A href="/dashboard/reports/pilot" attr:class="hover:text-neutral-900">"Pilot report"</A>
        <A href="/dashboard/validation" attr:class="hover:text-neutral-900">"Validation"</A>
        <A href="/dashboard/rollout" attr:class="hover:text-neutral-900">"Rollout"</A>
        <A href="/dashboard/audit" attr:class="hover:text-neutral-900">"Audit log"</A>
        <A href="/dashboard/settings" attr:class="hover:text-neutral-900">"Settings"</A>
    }
}

/// Says which shop needs reconnecting, on every page, until it is connected again.
#[component]
fn ShopBanner() -> impl IntoView {
    let shops = Resource::new(|| (), |_| list_shops());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let lost: Vec<_> = shops
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|s| !s.status.usable())
                    .collect();
                lost.into_iter().map(|s| view! {
                    <div class="border-b border-red-200 bg-red-50" role="alert" data-testid="shop-banner">
                        <p class="mx-auto max-w-7xl px-4 py-2 text-sm text-red-900">
                            {format!("{} is {}: syncs to it are paused. ", s.platform.label(), s.status.as_str())}
                            <a class="font-medium underline underline-offset-4" href="/dashboard/settings">
                                {format!("Reconnect {}", s.platform.label())}
                            </a>
                        </p>
                    </div>
                }).collect_view()
            })}
        </Suspense>
    }
}

#[component]
pub fn DashboardLayout(children: Children) -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    view! {
        <div class="min-h-screen bg-neutral-50">
            <header class="border-b border-neutral-200 bg-white">
                <div class="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
                    <A href="/dashboard/products" attr:class="text-base font-semibold tracking-tight">
                        "SyncStore"
                    </A>
                    // Wide screens: one row of links. Phones: a menu that opens below the bar.
                    <nav class="hidden flex-wrap gap-x-4 gap-y-1 text-sm text-neutral-600 md:flex">
                        <NavLinks/>
                    </nav>
                    <details class="order-last w-full md:hidden" data-testid="phone-menu">
                        <summary class="cursor-pointer list-none py-1 text-sm font-medium text-neutral-700">"Menu"</summary>
                        <nav class="grid grid-cols-2 gap-x-4 gap-y-2 py-2 text-sm text-neutral-700">
                            <NavLinks/>
                        </nav>
                    </details>
                    <div class="ml-auto flex items-center gap-3 text-sm">
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                user.await.ok().flatten().map(|u| view! {
                                    <span class="hidden text-neutral-600 sm:inline" data-testid="current-user">
                                        {u.email} " · " {u.role.as_str()}
                                    </span>
                                })
                            })}
                        </Suspense>
                        <form method="post" action="/logout">
                            <button type="submit" class="text-neutral-600 underline-offset-4 hover:underline">
                                "Log out"
                            </button>
                        </form>
                    </div>
                </div>
            </header>
            <ShopBanner/>
            <main class="mx-auto max-w-7xl px-4 py-6">{children()}</main>
        </div>
    }
}
