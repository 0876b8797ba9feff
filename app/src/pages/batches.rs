//! `/dashboard/batches` and `/dashboard/batches/{id}`: every batch, and one batch live —
//! a progress bar, counts by state and a row per job, updated as workers report.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{
    get_batch, list_batches, BatchSnapshot, BatchSummary, CancelBatch, JobDto, JobState,
};
use crate::components::layout::DashboardLayout;
use crate::components::rollback::RollbackPanel;
use crate::components::ui::{BatchBadge, ErrorPanel, JobBadge, Skeleton, BUTTON_OUTLINE};
use crate::pages::not_found::NotFoundBody;

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

fn bar_tone(failed: i64) -> &'static str {
    if failed > 0 {
        "h-full bg-red-600 transition-all"
    } else {
        "h-full bg-emerald-600 transition-all"
    }
}

fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

#[component]
pub fn BatchesPage() -> impl IntoView {
    let batches = Resource::new(|| (), |_| list_batches());
    view! {
        <DashboardLayout>
            <div class="mb-4 flex flex-wrap items-center justify-between gap-2">
                <h1 class="text-2xl font-semibold tracking-tight">"Batches"</h1>
                <A href="/dashboard/products" attr:class=BUTTON_OUTLINE>"Select products for a batch"</A>
            </div>
            <Suspense fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        batches.await.map(|list| view! { <BatchList list/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </DashboardLayout>
    }
}

#[component]
fn BatchList(list: Vec<BatchSummary>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <div class="rounded-xl border border-dashed border-neutral-300 bg-white p-10 text-center text-sm text-neutral-500">
                "No batch yet. Select products on the Products page and sync them in one go."
            </div>
        }
        .into_any();
    }
    view! {
        <ul class="space-y-2" data-testid="batch-list">
            {list.into_iter().map(|b| {
                let href = format!("/dashboard/batches/{}", b.batch_id);
                view! {
                    <li class="flex flex-wrap items-center gap-3 rounded-xl border border-neutral-200 bg-white p-4">
                        <A href=href attr:class="font-mono text-sm font-medium hover:underline">{short(&b.batch_id)}</A>
                        <BatchBadge status=b.status/>
                        {(b.kind == "rollback").then(|| view! {
                            <span class="rounded-md bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-900">"Rollback"</span>
                        })}
                        <span class="text-sm text-neutral-600">{b.platform.clone()}</span>
                        <span class="text-sm tabular-nums text-neutral-600">
                            {format!("{} of {} done · {} failed", b.completed + b.failed, b.total, b.failed)}
                        </span>
                        <div class="h-2 w-full overflow-hidden rounded-full bg-neutral-100 sm:ml-auto sm:w-40">
                            <div class="h-full bg-neutral-900" style=format!("width: {}%", b.percent)></div>
                        </div>
                        <span class="text-xs text-neutral-400">{b.created_at.replace('T', " ").replace('Z', " UTC")}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn BatchPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let batch = Resource::new(id, get_batch);
    let live = RwSignal::new(None::<BatchSnapshot>);
    // Browser only: follow the batch's server-sent events until its final one.
    Effect::new(move |_| follow(id(), live));
    view! {
        <DashboardLayout>
            <A href="/dashboard/batches" attr:class="text-sm text-neutral-500 hover:text-neutral-900">"← Batches"</A>
            <Suspense fallback=|| view! { <Skeleton rows=8/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        batch.await.map(|found| match found {
                            Some(first) => {
                                // After moving to another batch (a rollback's, say), the last
                                // event may still be the previous batch's until its stream
                                // is replaced.
                                let snapshot = Signal::derive(move || {
                                    live.get()
                                        .filter(|l| l.batch_id == first.batch_id)
                                        .unwrap_or_else(|| first.clone())
                                });
                                view! { <BatchView snapshot/> }.into_any()
                            }
                            None => view! { <NotFoundBody what="batch"/> }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </DashboardLayout>
    }
}

/// Subscribes to `/api/sync/batch/{id}/events`; every event is a whole snapshot.
fn follow(batch_id: String, live: RwSignal<Option<BatchSnapshot>>) {
    #[cfg(feature = "hydrate")]
    {
        use send_wrapper::SendWrapper;
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;

        if batch_id.is_empty() {
            return;
        }
        let Ok(source) = web_sys::EventSource::new(&format!("/api/sync/batch/{batch_id}/events"))
        else {
            return;
        };
        let show = move |e: &web_sys::MessageEvent| {
            if let Some(s) = e
                .data()
                .as_string()
                .and_then(|t| serde_json::from_str(&t).ok())
            {
                live.set(Some(s));
            }
        };
        let on_snapshot =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                show(&e)
            });
        let closing = source.clone();
        let on_finished =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                show(&e);
                // Otherwise the browser would reconnect and receive the final event forever.
                closing.close();
            });
        let _ = source
            .add_event_listener_with_callback("snapshot", on_snapshot.as_ref().unchecked_ref());
        let _ = source
            .add_event_listener_with_callback("finished", on_finished.as_ref().unchecked_ref());
        let held = SendWrapper::new((source, on_snapshot, on_finished));
        on_cleanup(move || held.0.close());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (batch_id, live);
}

#[component]
fn BatchView(snapshot: Signal<BatchSnapshot>) -> impl IntoView {
    let s = move || snapshot.get();
    let count = move |label: &'static str,
                      testid: &'static str,
                      value: fn(&BatchSnapshot) -> i64| {
        view! {
            <div class="rounded-lg border border-neutral-200 bg-white p-3">
                <dt class="text-xs font-medium uppercase tracking-wide text-neutral-500">{label}</dt>
                <dd class="mt-1 text-xl font-semibold tabular-nums" data-testid=testid>{move || value(&s())}</dd>
            </div>
        }
    };
    let report_href = move || format!("/dashboard/batches/{}/report", s().batch_id);
    let cancel = ServerAction::<CancelBatch>::new();
    let first = snapshot.get_untracked();
    let rollback = first.is_rollback();
    let batch_id = first.batch_id.clone();
    // Only a change of this flag re-renders the rollback panel, not every progress event.
    let finished = Memo::new(move |_| s().status.is_finished());
    let undoes = first.rollback_of.clone().map(|of| {
        view! {
            <p class="mt-1 text-sm text-neutral-600" data-testid="rollback-of">
                "Rolls back batch " <A href=format!("/dashboard/batches/{of}") attr:class="font-mono underline underline-offset-4">{short(&of)}</A>
            </p>
        }
    });
    // Each part's view type is erased: one nested type for the whole page overflows the
    // compiler's query depth.
    let header = view! {
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold tracking-tight">{if rollback { "Rollback " } else { "Batch " }} <span class="font-mono">{move || short(&s().batch_id)}</span></h1>
            {move || view! { <BatchBadge status=s().status/> }}
            <span class="text-sm text-neutral-500">{move || format!("{} · {} jobs", s().platform, s().total)}</span>
        </div>
        {undoes}
    }
    .into_any();
    view! {
        {header}
        <div class="mt-4">
            <div class="mb-1 flex justify-between text-sm">
                <span class="text-neutral-600">"Progress"</span>
                <span class="font-medium tabular-nums" data-testid="batch-percent">{move || format!("{}%", s().percent)}</span>
            </div>
            <div
                class="h-3 w-full overflow-hidden rounded-full bg-neutral-100"
                role="progressbar"
                aria-label="Batch progress"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || s().percent.to_string()
                data-testid="batch-progress"
            >
                <div
                    class=move || bar_tone(s().failed)
                    style=move || format!("width: {}%", s().percent)
                ></div>
            </div>
        </div>
        {view! { <dl class="mt-4 grid grid-cols-2 gap-2 sm:grid-cols-5">
            {count("Completed", "count-completed", |s| s.completed)}
            {count("Failed", "count-failed", |s| s.failed)}
            {count("Retrying", "count-retrying", |s| s.retrying)}
            {count("Waiting", "count-waiting", |s| s.waiting)}
            {count("Syncing", "count-active", |s| s.active)}
        </dl> }.into_any()}
        <div class="mt-4 flex flex-wrap gap-2">
            {(!rollback).then(|| view! { <A href=report_href attr:class=BUTTON_OUTLINE>"Batch test report"</A> })}
            {move || (s().failed > 0).then(|| view! {
                <A href="/dashboard/dead-letters" attr:class=BUTTON_OUTLINE>"Review failed jobs"</A>
            })}
            {move || (!s().status.is_finished()).then(|| view! {
                <ActionForm action=cancel attr:class="inline">
                    <input type="hidden" name="id" value=s().batch_id/>
                    <button type="submit" class=BUTTON_OUTLINE disabled=move || cancel.pending().get()>
                        "Cancel batch"
                    </button>
                </ActionForm>
            })}
        </div>
        {move || cancel.value().get().and_then(Result::err).map(|e| view! {
            <p class="mt-2 text-sm text-red-700" role="alert">{e.to_string()}</p>
        })}
        {view! { <div class="mt-4 overflow-x-auto rounded-xl border border-neutral-200 bg-white">
            <table class="w-full text-sm" data-testid="batch-jobs">
                <thead class="border-b border-neutral-200 text-left text-neutral-500">
                    <tr>
                        <th class="h-10 px-3 font-medium">"Product"</th>
                        <th class="h-10 px-3 font-medium">"Platform"</th>
                        {rollback.then(|| view! { <th class="h-10 px-3 font-medium">"Rollback"</th> })}
                        <th class="h-10 px-3 font-medium">"State"</th>
                        <th class="h-10 px-3 text-right font-medium">"Attempts"</th>
                        <th class="h-10 px-3 text-right font-medium">"Time"</th>
                        <th class="h-10 px-3 font-medium">"Error"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || s().jobs key=|j| (j.job_id.clone(), j.state, j.attempts) let:job>
                        <JobRow job rollback/>
                    </For>
                </tbody>
            </table>
        </div> }.into_any()}
        {move || (finished.get() && !rollback).then(|| view! { <RollbackPanel batch_id=batch_id.clone()/> })}
    }
}

#[component]
fn JobRow(job: JobDto, rollback: bool) -> impl IntoView {
    let href = format!("/dashboard/products/{}", job.product_id);
    let error = match (&job.error_code, &job.error_message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.clone(),
        _ => String::new(),
    };
    view! {
        <tr class="border-b border-neutral-100" data-job=job.job_id.clone()>
            <td class="px-3 py-2"><A href=href attr:class="hover:underline">"#" {job.product_id} " " {job.sku.clone()}</A></td>
            <td class="px-3 py-2">{job.platform.label()}</td>
            {rollback.then(|| view! {
                <td class="px-3 py-2" data-testid="rollback-step">
                    {job.plan_action.map(|a| a.as_str()).unwrap_or_default()}
                    {job.action.clone().filter(|_| job.state == JobState::Completed).map(|done| format!(" → {}", done.replace('_', " ")))}
                </td>
            })}
            <td class="px-3 py-2"><JobBadge state=job.state/></td>
            <td class="px-3 py-2 text-right tabular-nums">{job.attempts}</td>
            <td class="px-3 py-2 text-right tabular-nums">{seconds(job.duration_ms)}</td>
            <td class="max-w-md px-3 py-2 text-xs text-red-700">{error}</td>
        </tr>
    }
}
