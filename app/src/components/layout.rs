//! The dashboard frame: top bar with navigation and the signed-in user.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::whoami;

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
                    <nav class="flex flex-wrap gap-x-4 gap-y-1 text-sm text-neutral-600">
                        <A href="/dashboard/products" attr:class="hover:text-neutral-900">"Products"</A>
                        <A href="/dashboard/batches" attr:class="hover:text-neutral-900">"Batches"</A>
                        <A href="/dashboard/dead-letters" attr:class="hover:text-neutral-900">"Dead letters"</A>
                        <A href="/dashboard/sync-logs" attr:class="hover:text-neutral-900">"Sync logs"</A>
                        <A href="/dashboard/reports/pilot" attr:class="hover:text-neutral-900">"Pilot report"</A>
                        <A href="/dashboard/validation" attr:class="hover:text-neutral-900">"Validation"</A>
                    </nav>
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
            <main class="mx-auto max-w-7xl px-4 py-6">{children()}</main>
        </div>
    }
}
