//! `/dashboard/dead-letters`: jobs that failed for good, with their error; an operator
//! retries each (after fixing the cause) or discards it with a reason.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{list_dead_letters, DeadLetter, DiscardDeadLetter, RetryDeadLetter};
use crate::components::layout::DashboardLayout;
use crate::components::ui::{ErrorPanel, Skeleton, BUTTON, BUTTON_OUTLINE, INPUT};

#[component]
pub fn DeadLettersPage() -> impl IntoView {
    let retry = ServerAction::<RetryDeadLetter>::new();
    let discard = ServerAction::<DiscardDeadLetter>::new();
    let letters = Resource::new(
        move || (retry.version().get(), discard.version().get()),
        |_| list_dead_letters(),
    );
    let failure = move || {
        [
            retry.value().get().and_then(Result::err),
            discard.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <ErrorPanel message=e.to_string()/> })
    };
    view! {
        <DashboardLayout>
            <h1 class="text-2xl font-semibold tracking-tight">"Dead-letter queue"</h1>
            <p class="mb-4 mt-1 text-sm text-neutral-500">
                "Jobs that failed for good. Fix the cause (the product, the category mapping, the shop connection), then retry; or discard with a reason."
            </p>
            <div class="mb-3">{failure}</div>
            <Transition fallback=|| view! { <Skeleton rows=6/> }>
                <ErrorBoundary fallback=|errors| view! {
                    <ErrorPanel message=errors.get().into_iter().next().map(|(_, e)| e.to_string()).unwrap_or_default()/>
                }>
                    {move || Suspend::new(async move {
                        letters.await.map(|list| {
                            if list.is_empty() {
                                return view! {
                                    <div class="rounded-xl border border-dashed border-neutral-300 bg-white p-10 text-center text-sm text-neutral-500" data-testid="dead-letters-empty">
                                        "No failed jobs."
                                    </div>
                                }.into_any();
                            }
                            view! {
                                <ul class="space-y-3" data-testid="dead-letters">
                                    {list.into_iter().map(|letter| view! { <Letter letter retry discard/> }).collect_view()}
                                </ul>
                            }.into_any()
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </DashboardLayout>
    }
}

#[component]
fn Letter(
    letter: DeadLetter,
    retry: ServerAction<RetryDeadLetter>,
    discard: ServerAction<DiscardDeadLetter>,
) -> impl IntoView {
    let product = format!("/dashboard/products/{}", letter.product_id);
    let batch = format!("/dashboard/batches/{}", letter.batch_id);
    let (job_a, job_b) = (letter.job_id.clone(), letter.job_id.clone());
    let logs = format!(
        "/dashboard/sync-logs?product={}&platform={}",
        letter.product_id,
        letter.platform.as_str()
    );
    view! {
        <li class="rounded-xl border border-neutral-200 bg-white p-4" data-job=letter.job_id.clone()>
            <div class="flex flex-wrap items-baseline gap-x-3 gap-y-1">
                <A href=product attr:class="font-medium hover:underline">{letter.title.clone()}</A>
                <span class="text-xs text-neutral-500">"#" {letter.product_id} " · " {letter.sku.clone()}</span>
                <span class="text-sm">{letter.platform.label()}</span>
                <span class="text-xs text-neutral-500">{format!("{} attempts", letter.attempts)}</span>
            </div>
            <p class="mt-2 text-sm text-red-700" data-testid="dead-letter-error">
                <span class="font-semibold">{letter.error_code.clone().unwrap_or_default()}</span>
                " " {letter.error_message.clone().unwrap_or_default()}
            </p>
            <p class="mt-1 text-xs text-neutral-500">
                "Failed " {letter.failed_at.replace('T', " ").replace('Z', " UTC")} " · "
                <A href=batch attr:class="underline-offset-4 hover:underline">"batch"</A> " · "
                <A href=logs attr:class="underline-offset-4 hover:underline">"sync logs"</A>
            </p>
            <div class="mt-3 flex flex-col gap-2 sm:flex-row sm:items-center">
                <ActionForm action=retry attr:class="inline">
                    <input type="hidden" name="job_id" value=job_a/>
                    <button type="submit" class=BUTTON data-action="retry">"Retry"</button>
                </ActionForm>
                <ActionForm action=discard attr:class="flex flex-1 gap-2">
                    <input type="hidden" name="job_id" value=job_b/>
                    <input type="text" name="reason" required maxlength="500" placeholder="Reason for discarding" aria-label="Reason for discarding" class=INPUT/>
                    <button type="submit" class=BUTTON_OUTLINE data-action="discard">"Discard"</button>
                </ActionForm>
            </div>
        </li>
    }
}
