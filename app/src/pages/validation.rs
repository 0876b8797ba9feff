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

/// While a run is pending, asks the server how far it has got, twice a second.
fn follow_progress(run: ServerAction<RunValidation>, progress: RwSignal<Option<(usize, usize)>>) {
    #[cfg(feature = "hydrate")]
    {
        use crate::api::validation_progress;
        use std::sync::{Arc, Mutex};
        use std::time::Duration;
        let pending = run.pending();
        let handle: Arc<Mutex<Option<IntervalHandle>>> = Arc::default();
        let stop = {
            let handle = handle.clone();
            move || {
                if let Some(h) = handle.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    h.clear();
                }
            }
        };
        let stop_on_leave = stop.clone();
        on_cleanup(stop_on_leave);
        Effect::new(move |_| {
            stop();
            if pending.get() {
                progress.set(None);
                let stop = stop.clone();
                let poll = move || {
                    // The page may be gone by the time an answer comes.
                    if pending.try_get_untracked() != Some(true) {
                        stop();
                        return;
                    }
                    leptos::task::spawn_local(async move {
                        if let Ok(p) = validation_progress().await {
                            if pending.try_get_untracked() == Some(true) {
                                progress.try_set(p);
                            }
                        }
                    })
                };
                if let Ok(h) = set_interval_with_handle(poll, Duration::from_millis(500)) {
                    *handle.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
                }
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (run, progress);
}

#[component]
pub fn ValidationPage() -> impl IntoView {
    let run = ServerAction::<RunValidation>::new();
    let runs = Resource::new(move || run.version().get(), |_| validation_runs());
    let progress = RwSignal::new(None::<(usize, usize)>);
    follow_progress(run, progress);
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
            {move || run.pending().get().then(|| {
                let (done, total) = progress.get().unwrap_or((0, 0));
                let percent = (done * 100).checked_div(total).unwrap_or(0);
                view! {
                    <div class="mb-3" data-testid="validation-running">
                        <p class="text-sm text-neutral-600">
                            {if total == 0 { "Checking every synced product…".to_string() } else { format!("Checked {done} of {total} products…") }}
                        </p>
                        <div class="mt-1 h-2 w-full max-w-md overflow-hidden rounded-full bg-neutral-100" role="progressbar"
                            aria-label="Validation progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
                            <div class="h-full bg-neutral-900 transition-all" style=format!("width: {percent}%")></div>
                        </div>
                    </div>
                }
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
