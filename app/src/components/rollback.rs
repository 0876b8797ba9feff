//! The owner's rollback, as the batch and product pages offer it: choose the platforms,
//! see the plan (a dry run), confirm, then follow the rollback's progress on its own batch
//! page. Operators never see it; the server refuses them anyway.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::{whoami, PlanRollback, Role, RollbackAction, RollbackPlanItem, StartRollback};
use crate::components::ui::{ErrorPanel, BUTTON, BUTTON_OUTLINE, INPUT};

/// `batch_id` rolls back that batch; `product_ids` ("12" or "12,15") those products' most
/// recent syncs.
#[component]
pub fn RollbackPanel(
    #[prop(optional, into)] batch_id: Option<String>,
    #[prop(optional, into)] product_ids: Option<String>,
) -> impl IntoView {
    let user = Resource::new(|| (), |_| whoami());
    let batch_id = batch_id.unwrap_or_default();
    let product_ids = product_ids.unwrap_or_default();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let (batch_id, product_ids) = (batch_id.clone(), product_ids.clone());
                Suspend::new(async move {
                    let owner = matches!(user.await, Ok(Some(u)) if u.role == Role::Owner);
                    owner.then(|| view! { <RollbackForm batch_id product_ids/> })
                })
            }}
        </Suspense>
    }
}

#[component]
fn RollbackForm(batch_id: String, product_ids: String) -> impl IntoView {
    let plan = ServerAction::<PlanRollback>::new();
    let start = ServerAction::<StartRollback>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(created)) = start.value().get() {
            navigate(
                &format!("/dashboard/batches/{}", created.rollback_id),
                Default::default(),
            );
        }
    });
    let what = if batch_id.is_empty() {
        "Undo this product's most recent sync: a listing the sync created is deleted, one it updated goes back to how it was before (title, description, prices, stock, images, variants), and the mapping is restored."
    } else {
        "Undo this batch: listings it created are deleted, listings it updated go back to how they were before it (title, description, prices, stock, images, variants), and the mappings are restored."
    };
    let (batch_id, product_ids) = (StoredValue::new(batch_id), StoredValue::new(product_ids));
    let hidden = move || hidden_fields(batch_id.get_value(), product_ids.get_value());
    let platform = RwSignal::new("both".to_string());
    view! {
        <section class="mt-6 rounded-xl border border-amber-200 bg-amber-50/40 p-4" data-testid="rollback-panel">
            <h2 class="font-semibold">"Roll back"</h2>
            <p class="mt-1 text-sm text-neutral-600">{what}</p>
            <ActionForm action=plan attr:class="mt-3 flex flex-wrap items-end gap-2">
                {hidden()}
                <label class="text-sm">
                    <span class="block text-neutral-600">"Platforms"</span>
                    <select name="platform" class=format!("{INPUT} w-44") data-testid="rollback-platform"
                        on:change=move |e| platform.set(event_target_value(&e))>
                        <option value="both">"Shopee and TikTok"</option>
                        <option value="shopee">"Shopee only"</option>
                        <option value="tiktok">"TikTok only"</option>
                    </select>
                </label>
                <button type="submit" class=BUTTON_OUTLINE disabled=move || plan.pending().get()>
                    {move || if plan.pending().get() { "Working out the plan…" } else { "Show rollback plan" }}
                </button>
            </ActionForm>
            {move || {
                plan.value().get().map(move |answer| match answer {
                Err(e) => view! { <div class="mt-3"><ErrorPanel message=e.to_string()/></div> }.into_any(),
                Ok(answer) => {
                    let todo = answer.plan.iter().filter(|r| r.action != RollbackAction::None).count();
                    let chosen = plan.input().get().map(|i| i.platform).unwrap_or_else(|| platform.get());
                    let plan_hash = answer.plan_hash.clone();
                    view! {
                        <PlanTable plan=answer.plan/>
                        {if todo == 0 {
                            view! { <p class="mt-3 text-sm text-neutral-600">"Nothing to undo: no sync of these products changed a listing."</p> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=start attr:class="mt-3">
                                    {hidden()}
                                    <input type="hidden" name="platform" value=chosen/>
                                    <input type="hidden" name="plan_hash" value=plan_hash/>
                                    <button type="submit" class=BUTTON data-testid="rollback-confirm"
                                        disabled=move || start.pending().get()>
                                        {format!("Roll back {todo} listing{}", if todo == 1 { "" } else { "s" })}
                                    </button>
                                </ActionForm>
                            }.into_any()
                        }}
                    }.into_any()
                }
            })}}
            {move || start.value().get().and_then(Result::err).map(|e| view! {
                <div class="mt-3"><ErrorPanel message=e.to_string()/></div>
            })}
        </section>
    }
}

/// The scope of the rollback, sent with both the dry run and the real run.
fn hidden_fields(batch_id: String, product_ids: String) -> impl IntoView {
    view! {
        <input type="hidden" name="batch_id" value=batch_id/>
        <input type="hidden" name="ids" value=product_ids/>
    }
}

#[component]
fn PlanTable(plan: Vec<RollbackPlanItem>) -> impl IntoView {
    view! {
        <div class="mt-3 overflow-x-auto rounded-lg border border-neutral-200 bg-white">
            <table class="w-full text-sm" data-testid="rollback-plan">
                <thead class="border-b border-neutral-200 text-left text-neutral-500">
                    <tr>
                        <th class="h-9 px-3 font-medium">"Product"</th>
                        <th class="h-9 px-3 font-medium">"Platform"</th>
                        <th class="h-9 px-3 font-medium">"Listing"</th>
                        <th class="h-9 px-3 font-medium">"What happens"</th>
                    </tr>
                </thead>
                <tbody>
                    {plan.into_iter().map(|r| view! {
                        <tr class="border-b border-neutral-100" data-action=r.action.as_str()>
                            <td class="px-3 py-2">
                                <a class="hover:underline" href=format!("/dashboard/products/{}", r.product_id)>"#" {r.product_id}</a>
                            </td>
                            <td class="px-3 py-2">{r.platform.label()}</td>
                            <td class="px-3 py-2 font-mono text-xs">{r.external_id.unwrap_or_else(|| "—".into())}</td>
                            <td class="px-3 py-2">{r.action.label()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
