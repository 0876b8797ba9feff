//! Our own small components with shadcn/ui's look: neutral palette, 0.5rem radius,
//! the same anatomy for cards, badges, buttons and tables.

use leptos::prelude::*;

use crate::api::{BatchStatus, JobState, SyncStatus};

pub const BUTTON: &str = "inline-flex items-center justify-center gap-2 whitespace-nowrap rounded-md text-sm font-medium h-9 px-4 py-2 bg-neutral-900 text-neutral-50 shadow hover:bg-neutral-900/90 disabled:pointer-events-none disabled:opacity-50 focus-visible:outline-none focus-visible:ring-1 focus-visible:ring-neutral-950";
pub const BUTTON_OUTLINE: &str = "inline-flex items-center justify-center gap-2 whitespace-nowrap rounded-md text-sm font-medium h-9 px-4 py-2 border border-neutral-200 bg-white shadow-sm hover:bg-neutral-100 disabled:pointer-events-none disabled:opacity-50";
pub const INPUT: &str = "flex h-9 w-full rounded-md border border-neutral-200 bg-transparent px-3 py-1 text-sm shadow-sm placeholder:text-neutral-500 focus-visible:outline-none focus-visible:ring-1 focus-visible:ring-neutral-950";

#[component]
pub fn Card(children: Children, #[prop(optional, into)] title: Option<String>) -> impl IntoView {
    view! {
        <section class="rounded-xl border border-neutral-200 bg-white text-neutral-950 shadow-sm">
            {title.map(|t| view! { <h2 class="px-6 pt-6 font-semibold leading-none tracking-tight">{t}</h2> })}
            <div class="p-6">{children()}</div>
        </section>
    }
}

#[component]
pub fn StatusBadge(status: SyncStatus) -> impl IntoView {
    let tone = match status {
        SyncStatus::Synced => "border-transparent bg-emerald-600 text-white",
        SyncStatus::Error => "border-transparent bg-red-600 text-white",
        SyncStatus::Syncing => "border-transparent bg-amber-500 text-white",
        SyncStatus::NotSynced => "border-neutral-200 text-neutral-700",
    };
    view! {
        <span
            data-status=format!("{status:?}")
            class=format!("inline-flex shrink-0 items-center whitespace-nowrap rounded-md border px-2.5 py-0.5 text-xs font-semibold {tone}")
        >
            {status.label()}
        </span>
    }
}

/// A skeleton block shown while data loads.
#[component]
pub fn Skeleton(#[prop(default = 6)] rows: usize) -> impl IntoView {
    view! {
        <div class="space-y-2" aria-busy="true" aria-label="Loading">
            {(0..rows)
                .map(|_| view! { <div class="h-8 animate-pulse rounded-md bg-neutral-100"></div> })
                .collect_view()}
        </div>
    }
}

#[component]
pub fn ErrorPanel(message: String) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800">
            {message}
        </div>
    }
}

#[component]
pub fn Field(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div>
            <dt class="text-xs font-medium uppercase tracking-wide text-neutral-500">{label}</dt>
            <dd class="mt-1 text-sm text-neutral-900 break-words">{children()}</dd>
        </div>
    }
}

#[component]
pub fn BatchBadge(status: BatchStatus) -> impl IntoView {
    let tone = match status {
        BatchStatus::Completed => "border-transparent bg-emerald-600 text-white",
        BatchStatus::CompletedWithErrors => "border-transparent bg-red-600 text-white",
        BatchStatus::Running => "border-transparent bg-amber-500 text-white",
        BatchStatus::Queued | BatchStatus::Cancelled => "border-neutral-200 text-neutral-700",
    };
    view! {
        <span
            data-testid="batch-status"
            data-status=format!("{status:?}")
            class=format!("inline-flex shrink-0 items-center whitespace-nowrap rounded-md border px-2.5 py-0.5 text-xs font-semibold {tone}")
        >
            {status.label()}
        </span>
    }
}

#[component]
pub fn JobBadge(state: JobState) -> impl IntoView {
    let tone = match state {
        JobState::Completed => "border-transparent bg-emerald-600 text-white",
        JobState::Failed => "border-transparent bg-red-600 text-white",
        JobState::Active | JobState::Retrying => "border-transparent bg-amber-500 text-white",
        JobState::Waiting | JobState::Discarded => "border-neutral-200 text-neutral-700",
    };
    view! {
        <span
            data-state=format!("{state:?}")
            class=format!("inline-flex shrink-0 items-center whitespace-nowrap rounded-md border px-2.5 py-0.5 text-xs font-semibold {tone}")
        >
            {state.label()}
        </span>
    }
}

/// Previous and Next links around "Page n of m", keeping the page's filters (`keep`, read
/// from the current URL) in every link.
#[component]
pub fn Pagination(
    base: &'static str,
    keep: &'static [&'static str],
    current: u32,
    pages: u32,
) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let href = move |n: u32| {
        let q = query.read_untracked();
        let kept: Vec<String> = keep
            .iter()
            .filter_map(|k| q.get(k).map(|v| format!("{k}={}", urlencoding::encode(&v))))
            .collect();
        format!("{base}?page={n}&{}", kept.join("&"))
    };
    view! {
        <nav class="mt-4 flex items-center justify-between" aria-label="Pagination">
            {(current > 1).then(|| view! { <leptos_router::components::A href=href(current - 1) attr:class=BUTTON_OUTLINE>"Previous"</leptos_router::components::A> })}
            <span class="text-sm text-neutral-500">{format!("Page {current} of {pages}")}</span>
            {(current < pages).then(|| view! { <leptos_router::components::A href=href(current + 1) attr:class=BUTTON_OUTLINE>"Next"</leptos_router::components::A> })}
        </nav>
    }
}
