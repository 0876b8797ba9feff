//! `/dashboard/validation`: run the Phase 2 checks (database only, or reading every
//! listing back), see each check pass or fail with its rows, and the runs before.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::{validation_runs, RunValidation, ValidationCheck, ValidationReport};
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Skeleton, BUTTON, BUTTON_OUTLINE};

fn badge(passed: bool) -> impl IntoView {
    let (label, tone) = if passed {
        ("Passed", "bg-emerald-600")
    } else {
        ("Failed", "bg-red-600")
    };
    view! {
        <span class=format!("inline-flex rounded-md px-2.5 py-0.5 text-xs font-semibold text-white {tone}")>{label}</span>
    }
}

fn check_label(name: &str) -> &'static str {
    match name {
        "pricing" => "Pricing",
        "seo_titles" => "SEO titles",
        "mappings" => "Mappings",
        "images" => "Images",
        _ => "Check",
    }
}

fn check_card(check: ValidationCheck) -> impl IntoView {
    let testid = format!("check-{}", check.name);
    let rows = check
        .failing
        .into_iter()
        .map(|row| {
            let platform = row.platform.clone().unwrap_or_default();
            let logs = format!(
                "/dashboard/sync-logs?product={}&platform={}",
                row.product_id, platform
            );
            view! {
                <li class="flex flex-col gap-1 border-t border-neutral-100 py-2 text-sm sm:flex-row sm:items-baseline sm:gap-3" data-testid="failing-row">
                    <a class="font-medium underline underline-offset-4" href=format!("/dashboard/products/{}", row.product_id)>
                        {format!("Product #{}", row.product_id)}
                    </a>
                    <span class="text-neutral-500">{row.platform.clone().unwrap_or_else(|| "both".into())}</span>
                    <span class="min-w-0 flex-1 break-words">{row.reason}</span>
                    <a class="text-neutral-500 underline underline-offset-4" href=logs>"Sync logs"</a>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="rounded-xl border border-neutral-200 bg-white p-4" data-testid=testid>
            <div class="flex items-center justify-between gap-3">
                <h2 class="font-semibold">{check_label(&check.name)}</h2>
                {badge(check.passed)}
            </div>
            <p class="mt-1 text-sm text-neutral-500">{format!("{} products checked", check.checked)}</p>
            <ul class="mt-2">{rows}</ul>
        </section>
    }
}

fn run_view(report: ValidationReport) -> impl IntoView {
    let scope = if report.live {
        "database and marketplaces"
    } else {
        "database only"
    };
    view! {
        <div class="mb-3 flex flex-wrap items-center gap-3" data-testid="validation-result">
            {badge(report.passed)}
            <span class="text-sm text-neutral-500">{format!("{} · {}", report.ran_at, scope)}</span>
        </div>
        <div class="grid gap-3 lg:grid-cols-2">
            {report.checks.into_iter().map(check_card).collect_view()}
        </div>
    }
}

#[component]
pub fn ValidationPage() -> impl IntoView {
    let run = ServerAction::<RunValidation>::new();
    let runs = Resource::new(move || run.version().get(), |_| validation_runs());
    view! {
        <DashboardLayout>
            <h1 class="mb-1 text-2xl font-semibold tracking-tight">"Validation"</h1>
            <p class="mb-4 text-sm text-neutral-500">
                "Prices against the markup rule, SEO titles, mappings on both platforms and images, for every synced product. The same checks as "
                <code>"syncstore validate"</code> "."
            </p>
            <div class="mb-4 flex flex-wrap gap-2">
                <ActionForm action=run>
                    <input type="hidden" name="live" value="false"/>
                    <button type="submit" class=BUTTON_OUTLINE disabled=move || run.pending().get() data-testid="run-database">
                        "Check the database"
                    </button>
                </ActionForm>
                <ActionForm action=run>
                    <input type="hidden" name="live" value="true"/>
                    <button type="submit" class=BUTTON disabled=move || run.pending().get() data-testid="run-live">
                        "Check live on the shops"
                    </button>
                </ActionForm>
            </div>
            {move || run.pending().get().then(|| view! {
                <p class="mb-3 text-sm text-neutral-600" data-testid="validation-running">"Checking every synced product…"</p>
            })}
            {move || run.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorPanel message=e.to_string()/> })}
            <Transition fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        runs.await.map(|runs| {
                            let mut runs = runs.into_iter();
                            match runs.next() {
                                None => view! {
                                    <p class="text-sm text-neutral-500" data-testid="validation-none">"No validation has run yet."</p>
                                }.into_any(),
                                Some(latest) => {
                                    let history = runs.map(|r| view! {
                                        <li class="flex flex-wrap items-center gap-3 border-t border-neutral-100 py-2 text-sm">
                                            {badge(r.passed)}
                                            <span>{r.ran_at.clone()}</span>
                                            <span class="text-neutral-500">{if r.live { "live" } else { "database" }}</span>
                                            <span class="text-neutral-500">{format!("{} failing rows", r.checks.iter().map(|c| c.failing.len()).sum::<usize>())}</span>
                                        </li>
                                    }).collect_view();
                                    view! {
                                        {run_view(latest)}
                                        <h2 class="mb-2 mt-6 font-semibold">"Earlier runs"</h2>
                                        <ul data-testid="validation-history">{history}</ul>
                                    }.into_any()
                                }
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}
