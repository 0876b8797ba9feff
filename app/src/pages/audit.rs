//! `/dashboard/audit`: who did what to the live shops and when, newest first, filtered by
//! action and user, 50 per page.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::{audit_log, AuditEntry, AuditPage, AUDIT_ACTIONS, AUDIT_PER_PAGE};
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Pagination, Skeleton, BUTTON, INPUT};

fn action_label(action: &str) -> String {
    AUDIT_ACTIONS
        .iter()
        .find(|(a, _)| *a == action)
        .map_or_else(|| action.to_string(), |(_, label)| label.to_string())
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k);
    let entries = Resource::new(
        move || (get("page"), get("action"), get("user")),
        |(page, action, user)| audit_log(page, action, user),
    );
    view! {
        <DashboardLayout>
            <h1 class="mb-1 text-2xl font-semibold tracking-tight">"Audit log"</h1>
            <p class="mb-4 text-sm text-neutral-500">
                "Batches started and cancelled, dead letters retried and discarded, rollout approvals: who, when and what."
            </p>
            <Form method="GET" action="/dashboard/audit" attr:class="mb-4 grid grid-cols-2 gap-2 sm:flex sm:flex-wrap sm:items-end">
                <select name="action" aria-label="Action" class=format!("{INPUT} sm:w-56")>
                    <option value="">"All actions"</option>
                    {AUDIT_ACTIONS.iter().map(|(action, label)| view! {
                        <option value=*action selected=move || get("action").as_deref() == Some(*action)>{*label}</option>
                    }).collect_view()}
                </select>
                <input type="text" name="user" placeholder="User email" aria-label="User"
                    class=format!("{INPUT} sm:w-56") prop:value=move || get("user").unwrap_or_default()/>
                <button type="submit" class=BUTTON>"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <Skeleton rows=8/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move { entries.await.map(|page| view! { <AuditTable page/> }) })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}

#[component]
fn AuditTable(page: AuditPage) -> impl IntoView {
    let pages = (page.total.div_ceil(u64::from(AUDIT_PER_PAGE)) as u32).max(1);
    let current = page.page;
    let empty = page.entries.is_empty();
    view! {
        <p class="mb-2 text-sm text-neutral-500" data-testid="audit-summary">{format!("{} entries · page {current} of {pages}", page.total)}</p>
        {empty.then(|| view! { <div class="rounded-xl border border-dashed border-neutral-300 bg-white p-10 text-center text-sm text-neutral-500">"Nothing matches."</div> })}
        <ul class="space-y-2" data-testid="audit-entries">
            {page.entries.into_iter().map(|entry| view! { <AuditRow entry/> }).collect_view()}
        </ul>
        <Pagination base="/dashboard/audit" keep=&["action", "user"] current pages/>
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    view! {
        <li class="rounded-xl border border-neutral-200 bg-white p-3 text-sm" data-action=entry.action.clone()>
            <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
                <span class="font-medium">{action_label(&entry.action)}</span>
                <span class="text-neutral-600">{entry.by.clone().unwrap_or_else(|| "command line".into())}</span>
                <span class="text-neutral-500">{entry.at.clone()}</span>
            </div>
            <pre class="mt-2 overflow-x-auto whitespace-pre-wrap break-all rounded-md bg-neutral-100 p-2 text-xs">{entry.detail.clone()}</pre>
        </li>
    }
}
