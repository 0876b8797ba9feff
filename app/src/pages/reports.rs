//! `/dashboard/reports/pilot`: the pilot test report, generated from recorded read-backs.

use leptos::prelude::*;

use crate::api::pilot_report;
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Skeleton};

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
                                <p class="mt-2 text-sm text-neutral-500">"The same Markdown as " <code>"syncstore report pilot"</code> "."</p>
                                <pre class="mt-3 overflow-x-auto rounded-xl border border-neutral-200 bg-white p-4 text-xs" data-testid="pilot-markdown">{r.markdown}</pre>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </DashboardLayout>
    }
}
