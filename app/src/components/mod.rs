pub mod layout;
pub mod report;
pub mod rollback;
pub mod ui;
