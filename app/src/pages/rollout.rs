//! `/dashboard/rollout`: the stage SyncStore is in, what the next approval needs (with
//! links to the evidence), the owner's approve button with a note, and the approvals so far.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::{get_rollout, whoami, ApproveRollout, Role, RolloutStatus, Stage};
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Skeleton, BUTTON, INPUT};

/// Where the owner finds the evidence for a stage's test.
fn evidence_links(stage: Stage) -> impl IntoView {
    let links: &[(&str, &str)] = match stage {
        Stage::Pilot => &[
            ("/dashboard/reports/pilot", "Pilot report"),
            ("/dashboard/products", "Products (sync and verify)"),
        ],
        Stage::Batch10 => &[
            ("/dashboard/batches", "Batches and their reports"),
            ("/dashboard/dead-letters", "Dead letters"),
            ("/dashboard/validation", "Validation"),
        ],
        Stage::Batch50 => &[
            ("/dashboard/batches", "Batches and their reports"),
            ("/dashboard/validation", "Validation"),
            ("/dashboard/reports/completion", "Completion report"),
        ],
        Stage::Complete => &[],
    };
    view! {
        <ul class="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-sm">
            {links.iter().map(|(href, label)| view! {
                <li><a class="underline underline-offset-4" href=*href>{*label}</a></li>
            }).collect_view()}
        </ul>
    }
}

fn stage_steps(current: Stage) -> impl IntoView {
    view! {
        <ol class="mb-4 grid grid-cols-2 gap-2 text-sm sm:grid-cols-4" data-testid="rollout-steps">
            {Stage::ALL.into_iter().map(|stage| {
                let tone = if stage < current {
                    "border-emerald-200 bg-emerald-50 text-emerald-900"
                } else if stage == current {
                    "border-neutral-900 bg-white font-semibold"
                } else {
                    "border-neutral-200 bg-white text-neutral-500"
                };
                view! {
                    <li class=format!("rounded-lg border px-3 py-2 {tone}")
                        aria-current=(stage == current).then_some("step")>
                        {stage.label()}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

fn status_view(
    status: RolloutStatus,
    owner: bool,
    approve: ServerAction<ApproveRollout>,
) -> impl IntoView {
    let stage = status.stage;
    let ready = status.ready;
    let limit = match stage.max_batch_products() {
        0 => "No batches yet: products are synced one at a time.".to_string(),
        n => format!("Batches of at most {n} products, one at a time."),
    };
    let missing = status
        .missing
        .into_iter()
        .map(|m| view! { <li class="py-1">{m}</li> })
        .collect_view();
    let approvals = status.approvals;
    let next = stage.next();
    view! {
        {stage_steps(stage)}
        <section class="rounded-xl border border-neutral-200 bg-white p-4">
            <div class="flex flex-wrap items-center gap-3">
                <h2 class="font-semibold" data-testid="rollout-stage">{stage.label()}</h2>
                <span class="text-sm text-neutral-500" data-testid="rollout-limit">{limit}</span>
            </div>
            {next.map(|next| view! {
                <p class="mt-2 text-sm">
                    {format!("To move to “{}”: ", next.label())} {stage.test()} "."
                </p>
                <p class="mt-2 text-sm font-medium" data-testid="rollout-ready">
                    {if ready { "This stage's test has passed: the owner may approve." } else { "Not ready yet. Missing:" }}
                </p>
                <ul class="list-disc pl-5 text-sm text-neutral-700" data-testid="rollout-missing">{missing}</ul>
                {evidence_links(stage)}
            })}
        </section>
        {(owner && next.is_some()).then(|| view! {
            <section class="mt-4 rounded-xl border border-neutral-200 bg-white p-4" data-testid="approve-form">
                <h2 class="font-semibold">"Approve"</h2>
                <ActionForm action=approve>
                    <label class="mt-2 block text-sm" for="approval-note">"What you checked"</label>
                    <textarea id="approval-note" name="note" rows="2" required maxlength="1000"
                        class=format!("{INPUT} h-auto mt-1")></textarea>
                    <button type="submit" class=format!("{BUTTON} mt-3")
                        disabled=move || !ready || approve.pending().get()>
                        "Approve this stage"
                    </button>
                </ActionForm>
            </section>
        })}
        <h2 class="mb-2 mt-6 font-semibold">"Approvals"</h2>
        {if approvals.is_empty() {
            view! { <p class="text-sm text-neutral-500">"None yet."</p> }.into_any()
        } else {
            view! {
                <ul data-testid="rollout-approvals">
                    {approvals.into_iter().map(|a| view! {
                        <li class="flex flex-col gap-1 border-t border-neutral-100 py-2 text-sm sm:flex-row sm:gap-3">
                            <span class="font-medium">{a.stage.label()}</span>
                            <span class="text-neutral-500">{format!("{} · {}", a.by.unwrap_or_default(), a.at)}</span>
                            <span class="min-w-0 flex-1 break-words">{a.note}</span>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
pub fn RolloutPage() -> impl IntoView {
    let approve = ServerAction::<ApproveRollout>::new();
    let status = Resource::new(move || approve.version().get(), |_| get_rollout());
    let user = Resource::new(|| (), |_| whoami());
    view! {
        <DashboardLayout>
            <h1 class="mb-1 text-2xl font-semibold tracking-tight">"Rollout"</h1>
            <p class="mb-4 text-sm text-neutral-500">
                "Pilot with 2 products, then batches of 10, then 50: each step is the owner's approval once the stage's test has passed."
            </p>
            {move || approve.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorPanel message=e.to_string()/> })}
            <Transition fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        let owner = matches!(user.await, Ok(Some(u)) if u.role == Role::Owner);
                        status.await.map(|s| status_view(s, owner, approve))
                    })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}
