pub mod audit;
pub mod batches;
pub mod dead_letters;
pub mod login;
pub mod not_found;
pub mod product;
pub mod products;
pub mod reports;
pub mod rollout;
pub mod settings;
pub mod sync_logs;
pub mod validation;

/// Routes whose page arrives in its own piece of WASM the first time it is visited
/// (`cargo leptos build --split`), so that the products page, where operators start,
/// does not make a phone download every other page first. Built without `--split`, the
/// same routes are simply part of the one WASM file.
pub mod lazy {
    use leptos::prelude::*;

    macro_rules! lazy_page {
        ($($route:ident => $page:path),* $(,)?) => {$(
            pub struct $route;

            #[leptos_router::lazy_route]
            impl leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(_this: Self) -> AnyView {
                    $page().into_any()
                }
            }
        )*};
    }

    lazy_page! {
        Product => super::product::ProductPage,
        Batches => super::batches::BatchesPage,
        Batch => super::batches::BatchPage,
        BatchReport => super::reports::BatchReportPage,
        DeadLetters => super::dead_letters::DeadLettersPage,
        SyncLogs => super::sync_logs::SyncLogsPage,
        PilotReport => super::reports::PilotReportPage,
        CompletionReport => super::reports::CompletionReportPage,
        Validation => super::validation::ValidationPage,
        Rollout => super::rollout::RolloutPage,
        Audit => super::audit::AuditPage,
        Settings => super::settings::SettingsPage,
    }
}
