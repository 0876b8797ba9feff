//! `/dashboard/sync-logs`: every sync attempt, filtered by product, platform, status and
//! time, 50 per page, with the request and response payloads.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::{list_sync_logs, SyncLogEntry, SyncLogPage, LOGS_PER_PAGE};
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Pagination, Skeleton, BUTTON, INPUT};

#[component]
pub fn SyncLogsPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k);
    let logs = Resource::new(
        move || {
            (
                get("page"),
                get("product"),
                get("platform"),
                get("status"),
                get("hours"),
            )
        },
        |(page, product, platform, status, hours)| {
            list_sync_logs(page, product, platform, status, hours)
        },
    );
    let selected = move |k: &'static str, v: &'static str| get(k).as_deref() == Some(v);
    view! {
        <DashboardLayout>
            <h1 class="mb-4 text-2xl font-semibold tracking-tight">"Sync logs"</h1>
            <Form method="GET" action="/dashboard/sync-logs" attr:class="mb-4 grid grid-cols-2 gap-2 sm:flex sm:flex-wrap sm:items-end">
                <input type="text" inputmode="numeric" name="product" placeholder="Product ID" aria-label="Product ID"
                    class=format!("{INPUT} sm:w-32") prop:value=move || get("product").unwrap_or_default()/>
                <select name="platform" aria-label="Platform" class=format!("{INPUT} sm:w-40")>
                    <option value="">"All platforms"</option>
                    <option value="shopee" selected=move || selected("platform", "shopee")>"Shopee"</option>
                    <option value="tiktok" selected=move || selected("platform", "tiktok")>"TikTok Shop"</option>
                </select>
                <select name="status" aria-label="Status" class=format!("{INPUT} sm:w-36")>
                    <option value="">"Any status"</option>
                    <option value="success" selected=move || selected("status", "success")>"Success"</option>
                    <option value="error" selected=move || selected("status", "error")>"Error"</option>
                </select>
                <select name="hours" aria-label="Time" class=format!("{INPUT} sm:w-40")>
                    <option value="">"Any time"</option>
                    <option value="1" selected=move || selected("hours", "1")>"Last hour"</option>
                    <option value="24" selected=move || selected("hours", "24")>"Last 24 hours"</option>
                    <option value="168" selected=move || selected("hours", "168")>"Last 7 days"</option>
                </select>
                <button type="submit" class=BUTTON>"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <Skeleton rows=8/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move { logs.await.map(|page| view! { <LogTable page/> }) })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}

#[component]
fn LogTable(page: SyncLogPage) -> impl IntoView {
    let pages = (page.total.div_ceil(u64::from(LOGS_PER_PAGE)) as u32).max(1);
    let current = page.page;
    let empty = page.items.is_empty();
    view! {
        <p class="mb-2 text-sm text-neutral-500" data-testid="log-summary">{format!("{} attempts · page {current} of {pages}", page.total)}</p>
        {empty.then(|| view! { <div class="rounded-xl border border-dashed border-neutral-300 bg-white p-10 text-center text-sm text-neutral-500">"No sync attempts match."</div> })}
        <ul class="space-y-2" data-testid="sync-logs">
            {page.items.into_iter().map(|entry| view! { <LogRow entry/> }).collect_view()}
        </ul>
        <Pagination base="/dashboard/sync-logs" keep=&["product", "platform", "status", "hours"] current pages/>
    }
}

#[component]
fn LogRow(entry: SyncLogEntry) -> impl IntoView {
    let ok = entry.status == "success";
    let tone = if ok {
        "border-emerald-200"
    } else {
        "border-red-200"
    };
    let badge = if ok { "bg-emerald-600" } else { "bg-red-600" };
    view! {
        <li id=format!("log-{}", entry.id) class=format!("rounded-xl border bg-white p-3 text-sm {tone}")>
            <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
                <span class=format!("rounded-md px-2 py-0.5 text-xs font-semibold text-white {badge}")>{entry.status.clone()}</span>
                <span class="font-medium">{entry.platform.clone()}</span>
                <a class="underline underline-offset-4" href=format!("/dashboard/products/{}", entry.product_id)>{format!("product #{}", entry.product_id)}</a>
                <span class="text-neutral-500">{entry.created_at.clone()}</span>
                <span class="text-neutral-500">{format!("attempt {} · {} ms", entry.attempt, entry.duration_ms)}</span>
                {entry.batch_id.clone().map(|b| view! { <span class="text-neutral-500">{format!("batch {b}")}</span> })}
            </div>
            {entry.error_code.clone().map(|code| view! {
                <p class="mt-1 text-red-800">{format!("{code}: {}", entry.error_message.clone().unwrap_or_default())}</p>
            })}
            <details class="mt-2">
                <summary class="cursor-pointer text-neutral-600">"Request and response"</summary>
                <pre class="mt-2 max-h-64 overflow-auto rounded-md bg-neutral-100 p-2 text-xs">{entry.request_payload.clone()}</pre>
                <pre class="mt-2 max-h-64 overflow-auto rounded-md bg-neutral-100 p-2 text-xs">{entry.response_payload.clone()}</pre>
            </details>
        </li>
    }
}
