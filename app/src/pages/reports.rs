//! Reports generated from data: `/dashboard/reports/pilot` (the pilot test),
//! `/dashboard/reports/completion` (Phase 2) and
//! `/dashboard/batches/{id}/report` (a batch test).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{batch_report, completion_report, pilot_report, SpotCheckBatch};
use crate::components::layout::DashboardLayout;
use crate::components::report::Report;
use crate::components::ui::{ErrorPanel, Skeleton, BUTTON_OUTLINE};
use crate::pages::not_found::NotFoundBody;

#[component]
pub fn PilotReportPage() -> impl IntoView {
    let report = Resource::new(|| (), |_| pilot_report());
    view! {
        <DashboardLayout>
            <h1 class="mb-4 text-2xl font-semibold tracking-tight">"Pilot test report"</h1>
            <Suspense fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        report.await.map(|r| {
                            let (label, tone) = if r.passed {
                                ("Pilot passed", "bg-emerald-600")
                            } else {
                                ("Pilot not passed yet", "bg-amber-500")
                            };
                            view! {
                                <span data-testid="pilot-status" class=format!("inline-flex rounded-md px-2.5 py-0.5 text-xs font-semibold text-white {tone}")>{label}</span>
                                <p class="mt-2 text-sm text-neutral-500">"Generated from the recorded syncs and read-backs; the same report as " <code>"syncstore report pilot"</code> "."</p>
                                <Report markdown=r.markdown charts=Vec::new() download="/api/reports/pilot/markdown".to_string() testid="pilot-report"/>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </DashboardLayout>
    }
}

#[component]
pub fn CompletionReportPage() -> impl IntoView {
    let report = Resource::new(|| (), |_| completion_report());
    view! {
        <DashboardLayout>
            <h1 class="mb-4 text-2xl font-semibold tracking-tight">"Phase 2 completion report"</h1>
            <Suspense fallback=|| view! { <Skeleton rows=8/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        report.await.map(|r| {
                            let (label, tone) = match (&r.signed_off, r.ready) {
                                (Some(_), _) => ("Signed off", "bg-emerald-600"),
                                (None, true) => ("Ready for sign-off", "bg-sky-600"),
                                (None, false) => ("Not ready", "bg-amber-500"),
                            };
                            view! {
                                <span data-testid="completion-status" class=format!("inline-flex rounded-md px-2.5 py-0.5 text-xs font-semibold text-white {tone}")>{label}</span>
                                <p class="mt-2 text-sm text-neutral-500">
                                    "Generated from the recorded syncs, batches, validations and approvals; the same Markdown as "
                                    <code>"syncstore report completion"</code> ". The owner signs off on the "
                                    <a class="underline underline-offset-4" href="/dashboard/rollout">"Rollout page"</a> "."
                                </p>
                                <Report markdown=r.markdown charts=r.charts download="/api/reports/completion/markdown".to_string() testid="completion-report"/>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </DashboardLayout>
    }
}

#[component]
pub fn BatchReportPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let spot_check = ServerAction::<SpotCheckBatch>::new();
    let report = Resource::new(
        move || (id(), spot_check.version().get()),
        |(id, _)| batch_report(id),
    );
    view! {
        <DashboardLayout>
            <A href=move || format!("/dashboard/batches/{}", id()) attr:class="text-sm text-neutral-500 hover:text-neutral-900">"← Batch"</A>
            <h1 class="mb-4 mt-2 text-2xl font-semibold tracking-tight">"Batch test report"</h1>
            <ActionForm action=spot_check attr:class="mb-3">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class=BUTTON_OUTLINE disabled=move || spot_check.pending().get() data-testid="spot-check">
                    {move || if spot_check.pending().get() { "Reading back…" } else { "Spot-check random products" }}
                </button>
            </ActionForm>
            {move || spot_check.value().get().map(|r| match r {
                Ok(n) => view! { <p class="mb-3 text-sm text-neutral-600">{format!("Read back {n} products.")}</p> }.into_any(),
                Err(e) => view! { <ErrorPanel message=e.to_string()/> }.into_any(),
            })}
            <Transition fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        report.await.map(|found| match found {
                            Some(r) => {
                                let (label, tone) = if r.passed {
                                    ("Batch test passed", "bg-emerald-600")
                                } else {
                                    ("Batch test not passed", "bg-amber-500")
                                };
                                view! {
                                    <span data-testid="batch-report-status" class=format!("inline-flex rounded-md px-2.5 py-0.5 text-xs font-semibold text-white {tone}")>{label}</span>
                                    <p class="mt-2 text-sm text-neutral-500">"The same report as " <code>"syncstore report batch ID"</code> "."</p>
                                    <Report markdown=r.markdown charts=r.charts download=format!("/api/reports/batch/{}/markdown", id()) testid="batch-report"/>
                                }.into_any()
                            }
                            None => view! { <NotFoundBody what="batch"/> }.into_any(),
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}
