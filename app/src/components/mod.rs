pub mod layout;
pub mod rollback;
pub mod ui;
